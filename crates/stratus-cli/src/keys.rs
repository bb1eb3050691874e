//! `stratus keys create|list|delete`.

use clap::Subcommand;
use serde_json::json;

use crate::client::{NativeClient, Target};

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
            let key = client
                .call(
                    http::Method::POST,
                    "/v1/keys",
                    Some(json!({ "project": project, "role": role })),
                )
                .await?;
            if json {
                println!("{key}");
            } else {
                println!(
                    "access key id:     {}",
                    key["access_key_id"].as_str().unwrap_or_default()
                );
                println!(
                    "secret access key: {}",
                    key["secret_access_key"].as_str().unwrap_or_default()
                );
                println!(
                    "project:           {}",
                    key["project"].as_str().unwrap_or_default()
                );
                println!(
                    "role:              {}",
                    key["role"].as_str().unwrap_or_default()
                );
            }
        }
        KeysCommand::List { json } => {
            let listing = client.call(http::Method::GET, "/v1/keys", None).await?;
            if json {
                println!("{}", listing["keys"]);
            } else {
                println!("{:<22} {:<24} ROLE", "ACCESS KEY ID", "PROJECT");
                for key in listing["keys"].as_array().into_iter().flatten() {
                    println!(
                        "{:<22} {:<24} {}",
                        key["access_key_id"].as_str().unwrap_or_default(),
                        key["project"].as_str().unwrap_or_default(),
                        key["role"].as_str().unwrap_or_default()
                    );
                }
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
