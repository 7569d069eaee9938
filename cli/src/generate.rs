//! Files made from the command-line grammar itself, so that they never
//! drift from it: shell completion scripts (`sealbox completions SHELL`)
//! and the man pages of the release archive (`sealbox man --out-dir DIR`,
//! hidden: `make dist` runs it).

use std::io::Write;
use std::path::Path;

use crate::cli::{self, Shell};
use crate::error::{CliError, CliResult};
use crate::Out;

/// Writes the completion script of `shell` to stdout.
pub fn completions(shell: Shell) -> CliResult<()> {
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cli::command(), "sealbox", &mut buf);
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&buf).and_then(|_| stdout.flush())?;
    Ok(())
}

/// Writes `sealbox.1` and one page per visible subcommand
/// (`sealbox-key-create.1`, ...) into `dir`.
pub fn man_pages(dir: &Path, out: Out) -> CliResult<()> {
    std::fs::create_dir_all(dir).map_err(|e| CliError::io(dir, e))?;
    clap_mangen::generate_to(cli::command(), dir).map_err(|e| CliError::io(dir, e))?;
    let mut pages: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| CliError::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".1"))
        .collect();
    pages.sort();
    out.emit_aside(
        serde_json::json!({"dir": dir.display().to_string(), "pages": pages}),
        || format!("wrote {} man pages into {}", pages.len(), dir.display()),
    )
}
