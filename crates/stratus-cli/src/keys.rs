//! `stratus keys create|ls|show|rm`.

use clap::Subcommand;
use stratus_client::keys::{CreateKey, Key, KeyList};

use crate::client::{NativeClient, Target, shown_time};

#[derive(Subcommand)]
pub(crate) enum KeysCommand {
    /// Create an access key; the project is created with its first key.
    Create {
        #[arg(long)]
        project: String,
        /// admin, member or read-only.
        #[arg(long, default_value = "member")]
        role: String,
        /// Print the key as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List access keys (secrets are never shown again).
    #[command(name = "ls", visible_alias = "list")]
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one access key (never its secret).
    #[command(visible_aliases = ["get", "describe"])]
    Show {
        access_key_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete an access key; it stops working at once.
    #[command(name = "rm", visible_aliases = ["delete", "remove"])]
    Delete { access_key_id: String },
}

pub(crate) async fn run(target: &Target, command: KeysCommand) -> anyhow::Result<()> {
    let client = NativeClient::new(target)?;
    match command {
        KeysCommand::Create {
            project,
            role,
            json,
        } => {
            let request = CreateKey {
                project,
                role: Some(role),
            };
            let key: Key = client
                .request(http::Method::POST, "/v1/keys", Some(&request))
                .await?;
            if json {
                println!("{}", serde_json::to_string(&key)?);
            } else {
                println!("access key id:     {}", key.access_key_id);
                println!(
                    "secret access key: {}",
                    key.secret_access_key.unwrap_or_default()
                );
                println!("project:           {}", key.project);
                println!("role:              {}", key.role);
            }
        }
        KeysCommand::List { json } => {
            let listing: KeyList = client.get("/v1/keys").await?;
            if json {
                println!("{}", serde_json::to_string(&listing.keys)?);
            } else {
                println!("{:<22} {:<24} ROLE", "ACCESS KEY ID", "PROJECT");
                for key in &listing.keys {
                    println!("{:<22} {:<24} {}", key.access_key_id, key.project, key.role);
                }
            }
        }
        KeysCommand::Show {
            access_key_id,
            json,
        } => {
            let key: Key = client.get(&format!("/v1/keys/{access_key_id}")).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&key)?);
            } else {
                println!("access key id: {}", key.access_key_id);
                println!("project:       {}", key.project);
                println!("role:          {}", key.role);
                println!("created:       {}", shown_time(key.created_ms));
            }
        }
        KeysCommand::Delete { access_key_id } => {
            client
                .call(
                    http::Method::DELETE,
                    &format!("/v1/keys/{access_key_id}"),
                    None,
                )
                .await?;
            println!("deleted {access_key_id}");
        }
    }
    Ok(())
}
