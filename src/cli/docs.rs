//! `pgssl completions` and `pgssl man`: generated from the clap definitions, so they
//! cannot drift from what the binary takes.

use std::io::Write;

use clap::CommandFactory;

use super::Cli;
use crate::ops::OpsError;

/// Completions for `shell`, on `out`. Generated into memory first: clap_complete panics
/// on a write error, and `pgssl completions bash | head` closes the pipe early.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    let mut cmd = Cli::command();
    let mut text = Vec::new();
    clap_complete::generate(shell, &mut cmd, "pgssl", &mut text);
    // A reader that had enough is not an error.
    let _ = out.write_all(&text);
}

/// The manual page of pgssl, or of one of its commands (`["ssl", "enable"]`), as roff.
pub fn man(path: &[String], out: &mut dyn Write) -> Result<(), OpsError> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut name = String::from("pgssl");
    for word in path {
        let Some(sub) = cmd.find_subcommand(word).cloned() else {
            let known: Vec<String> = cmd
                .get_subcommands()
                .filter(|c| !c.is_hide_set() && c.get_name() != "help")
                .map(|c| c.get_name().to_string())
                .collect();
            return Err(OpsError::Usage(format!(
                "no command '{}' under `{}`: one of {}",
                crate::text::sanitize(word),
                name.replace('-', " "),
                known.join(", ")
            )));
        };
        name = format!("{name}-{}", sub.get_name());
        // Built: its display name is already `pgssl-ssl-enable`, which the page takes.
        cmd = sub;
    }
    let page = clap_mangen::Man::new(cmd)
        .source(format!("pgssl {}", env!("CARGO_PKG_VERSION")))
        .manual("pgssl manual");
    match page.render(out) {
        // `pgssl man | head`: the reader had enough.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(|e| OpsError::Failed(format!("cannot write the manual page ({e})"))),
    }
}
