//! `sealbox`: the command line of the sealbox key store and envelope
//! encryption. docs/CLI.md is the manual; `sealbox --help` the summary.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod access;
mod atomic;
mod audit;
mod cli;
mod config;
mod envelope;
mod error;
mod generate;
mod inplace;
mod input;
mod keys;
mod secrets;
mod store;

use std::io::Write;

use clap::FromArgMatches;

use crate::cli::{Cli, Command, KeyCommand};
use crate::error::{CliError, CliResult};

/// How results are shown: for people, or one JSON document for scripts.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub json: bool,
    pub quiet: bool,
}

impl Out {
    /// Prints `value` as JSON with `--json`, else the text for people.
    pub fn emit(&self, value: serde_json::Value, human: impl FnOnce() -> String) -> CliResult<()> {
        let mut stdout = std::io::stdout().lock();
        let r = if self.json {
            writeln!(stdout, "{value}")
        } else {
            let text = human();
            if text.is_empty() {
                Ok(())
            } else if text.ends_with('\n') {
                write!(stdout, "{text}")
            } else {
                writeln!(stdout, "{text}")
            }
        };
        r.and_then(|_| stdout.flush()).map_err(CliError::from)
    }

    /// The summary of a command whose data went to stdout: on stderr, so
    /// that it does not mix with the data.
    pub fn emit_aside(
        &self,
        value: serde_json::Value,
        human: impl FnOnce() -> String,
    ) -> CliResult<()> {
        if self.json {
            eprintln!("{value}");
        } else if !self.quiet {
            eprintln!("{}", human());
        }
        Ok(())
    }
}

fn run(cli: Cli) -> CliResult<()> {
    let g = &cli.global;
    let out = Out {
        json: g.json,
        quiet: g.quiet,
    };
    let resolve = || {
        config::resolve(
            g.store.as_deref(),
            g.config.as_deref(),
            g.root_key_file.as_deref(),
            g.principal.as_deref(),
        )
    };
    match cli.command {
        Command::Init(a) => keys::init(&resolve()?, a, out),
        Command::Key(k) => {
            let r = resolve()?;
            match k {
                KeyCommand::Create(a) => keys::create(&store::open(&r)?, a, out),
                KeyCommand::List => keys::list(&store::open(&r)?, out),
                KeyCommand::Describe(a) => keys::describe(&store::open(&r)?, &a.key, out),
                KeyCommand::Rotate(a) => keys::rotate(&store::open(&r)?, a, out),
                KeyCommand::Enable(a) => keys::enable(&store::open(&r)?, &a.key, out),
                KeyCommand::Disable(a) => keys::disable(&store::open(&r)?, &a.key, out),
                KeyCommand::ScheduleDeletion(a) => {
                    keys::schedule_deletion(&store::open(&r)?, a, out)
                }
                KeyCommand::CancelDeletion(a) => {
                    keys::cancel_deletion(&store::open(&r)?, &a.key, out)
                }
                KeyCommand::Alias(a) => keys::alias(&store::open(&r)?, a, out),
                KeyCommand::Import(a) => keys::import(&store::open(&r)?, a, out),
                KeyCommand::ImportMaterial(a) => keys::import_material(&store::open(&r)?, a, out),
                KeyCommand::GenerateDataKey(a) => {
                    keys::generate_data_key(&store::open(&r)?, a, out)
                }
                KeyCommand::Decrypt(a) => keys::decrypt_for_recipient(&store::open(&r)?, a, out),
                KeyCommand::DeleteImportedMaterial(a) => {
                    keys::delete_imported_material(&store::open(&r)?, &a.key, out)
                }
                KeyCommand::PublicKey(a) => keys::public_key(&store::open(&r)?, a, out),
                KeyCommand::Policy(c) => access::policy(&store::open(&r)?, c, out),
            }
        }
        Command::Encrypt(a) => envelope::encrypt(&resolve, a, out),
        Command::Decrypt(a) => envelope::decrypt(&resolve, a, out),
        Command::Rewrap(a) => envelope::rewrap(&resolve, a, out),
        Command::Sign(a) => keys::sign(&store::open(&resolve()?)?, a, out),
        Command::Verify(a) => keys::verify(&store::open(&resolve()?)?, a, out),
        Command::Mac(a) => keys::mac(&store::open(&resolve()?)?, a, out),
        Command::PqKeygen(a) => envelope::pq_keygen(a, out),
        Command::DeriveSharedSecret(a) => {
            keys::derive_shared_secret(&store::open(&resolve()?)?, a, out)
        }
        Command::Grant(c) => access::grant(&store::open(&resolve()?)?, c, out),
        Command::Audit(cli::AuditCommand::Tail(a)) => audit::tail(&resolve()?, a, out),
        Command::Audit(cli::AuditCommand::Export(a)) => audit::export(&resolve()?, a, out),
        Command::Audit(cli::AuditCommand::Verify) => {
            let r = resolve()?;
            audit::verify(&store::open(&r)?, out)
        }
        Command::Audit(cli::AuditCommand::NewSegment(a)) => {
            let ks = store::open_new_audit_segment(&resolve()?, &a.reason)?;
            audit::verify(&ks, out)
        }
        Command::Secret(c) => secrets::run(&store::open(&resolve()?)?, c, out),
        Command::ExitCodes => {
            error::print_exit_codes(out.json);
            Ok(())
        }
        Command::Completions(a) => generate::completions(a.shell),
        Command::Man(a) => generate::man_pages(&a.out_dir, out),
    }
}

fn main() -> std::process::ExitCode {
    let cli = match Cli::from_arg_matches(&cli::command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let json = cli.global.json;
    if let Err(e) = atomic::install_signal_cleanup() {
        eprintln!("sealbox: {e}");
        return std::process::ExitCode::from(e.exit as u8);
    }
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            if json {
                eprintln!(
                    "{}",
                    serde_json::json!({"error": {
                        "code": e.exit.name(),
                        "exit_code": e.exit as u8,
                        "message": e.message,
                    }})
                );
            } else {
                eprintln!("sealbox: {}", e.message);
            }
            std::process::ExitCode::from(e.exit as u8)
        }
    }
}
