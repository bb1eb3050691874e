//! `stratus man`: the manual page from the command-line definition (clap_mangen), with the
//! exit statuses added.

use std::path::Path;

use anyhow::Context as _;

/// Renders the page of `command` (its subcommands listed) with an EXIT STATUS section.
pub(crate) fn render(command: clap::Command, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    if command.has_subcommands() {
        man.render_subcommands_section(out)?;
    }
    if command.get_after_long_help().is_some() || command.get_after_help().is_some() {
        man.render_extra_section(out)?;
    }
    out.write_all(crate::exit::man_section().as_bytes())?;
    man.render_version_section(out)?;
    Ok(())
}

/// Writes `stratus.1` and one page per subcommand (`stratus-server.1`, ...) into `dir`.
pub(crate) fn write_pages(command: clap::Command, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    clap_mangen::generate_to(command.clone(), dir)
        .with_context(|| format!("cannot write manual pages into {}", dir.display()))?;
    // The top page again, with the exit statuses every command shares.
    let path = dir.join("stratus.1");
    let mut page = Vec::new();
    render(command, &mut page)?;
    std::fs::write(&path, page).with_context(|| format!("cannot write {}", path.display()))
}
