//! Output files that appear under their final name only when complete.
//!
//! Data is written to a temporary file in the destination directory,
//! fsync'd, and moved into place on success only. On an error the
//! temporary file is removed; on SIGINT, SIGTERM or SIGHUP a watcher
//! thread removes it before the process exits. After SIGKILL a
//! `.NAME.sealbox-partial-PID` file may remain, but never the final name.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{CliError, CliResult, Exit};

/// The temporary files of this process that a signal must remove.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts the thread that turns SIGINT/SIGTERM/SIGHUP into "remove the
/// temporary files, exit 128 + signal". Nothing runs inside the signal
/// handler itself except signal-hook's self-pipe write.
pub fn install_signal_cleanup() -> CliResult<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .map_err(|e| CliError::failure(format!("cannot install signal handlers: {e}")))?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                // Holding the lock keeps a rename from racing the removal:
                // either the file was committed, or it is removed here.
                let files = pending();
                for p in files.iter() {
                    let _ = std::fs::remove_file(p);
                }
                if files.is_empty() {
                    // Nothing half-written (`audit tail --follow`, a key
                    // command): the command simply stops.
                    eprintln!("sealbox: interrupted");
                } else {
                    eprintln!("sealbox: interrupted; no output was written");
                }
                std::process::exit(128 + sig);
            }
        })
        .map_err(|e| CliError::failure(format!("cannot start the signal thread: {e}")))?;
    Ok(())
}

/// Who may read the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privacy {
    /// Plaintext and signatures over it: 0600.
    Owner,
    /// Ciphertext: 0666 less the umask.
    Default,
}

/// A file being written; see the module docs.
#[derive(Debug)]
pub struct AtomicFile {
    file: Option<File>,
    temp: PathBuf,
    dest: PathBuf,
    overwrite: bool,
}

impl AtomicFile {
    /// Prepares to write `dest`. Refuses an existing `dest` unless
    /// `overwrite`.
    pub fn create(dest: &Path, privacy: Privacy, overwrite: bool) -> CliResult<Self> {
        if dest.exists() && !overwrite {
            return Err(CliError::new(
                Exit::AlreadyExists,
                format!("{} exists; pass --force to replace it", dest.display()),
            ));
        }
        if dest.is_dir() {
            return Err(CliError::usage(format!(
                "{} is a directory",
                dest.display()
            )));
        }
        let name = dest
            .file_name()
            .ok_or_else(|| CliError::usage(format!("{} is not a file name", dest.display())))?;
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".sealbox-partial-{}", std::process::id()));
        let temp = dir.join(temp_name);
        let mode = match privacy {
            Privacy::Owner => 0o600,
            Privacy::Default => 0o666,
        };
        // Register before creating, so that no instant exists in which the
        // file is there but a signal would not remove it.
        pending().push(temp.clone());
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp);
        let file = match file {
            Ok(f) => f,
            Err(e) => {
                pending().retain(|p| p != &temp);
                return Err(CliError::io(&temp, e));
            }
        };
        Ok(AtomicFile {
            file: Some(file),
            temp,
            dest: dest.to_path_buf(),
            overwrite,
        })
    }

    /// Gives the file being written these permissions (an in-place
    /// rewrite keeps the original's).
    pub fn set_permissions(&self, perm: std::fs::Permissions) -> CliResult<()> {
        match &self.file {
            Some(f) => f
                .set_permissions(perm)
                .map_err(|e| CliError::io(&self.temp, e)),
            None => Err(CliError::failure("output already committed")),
        }
    }

    /// fsyncs the data and moves it to its final name.
    pub fn commit(mut self) -> CliResult<()> {
        let file = self
            .file
            .take()
            .ok_or_else(|| CliError::failure("output already committed"))?;
        file.sync_all().map_err(|e| CliError::io(&self.temp, e))?;
        drop(file);
        let mut files = pending();
        let moved = if self.overwrite {
            std::fs::rename(&self.temp, &self.dest)
        } else {
            // A hard link fails if the name was taken meanwhile, where a
            // rename would replace it silently.
            match std::fs::hard_link(&self.temp, &self.dest) {
                Ok(()) => std::fs::remove_file(&self.temp),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
                // File systems without hard links.
                Err(_) if !self.dest.exists() => std::fs::rename(&self.temp, &self.dest),
                Err(e) => Err(e),
            }
        };
        let r = match moved {
            Ok(()) => {
                files.retain(|p| p != &self.temp);
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(CliError::new(
                Exit::AlreadyExists,
                format!("{} exists; pass --force to replace it", self.dest.display()),
            )),
            Err(e) => Err(CliError::io(&self.dest, e)),
        };
        drop(files);
        if r.is_ok() {
            // Make the new directory entry durable too.
            if let Some(dir) = self.dest.parent().filter(|p| !p.as_os_str().is_empty()) {
                if let Ok(d) = File::open(dir) {
                    let _ = d.sync_all();
                }
            }
        }
        r
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => f.write(buf),
            None => Err(io::Error::other("output already committed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let mut files = pending();
            let _ = std::fs::remove_file(&self.temp);
            files.retain(|p| p != &self.temp);
        }
    }
}

/// Where a command's data output goes: a file (atomically) or stdout.
#[derive(Debug)]
pub enum Sink {
    File(AtomicFile),
    Stdout(io::StdoutLock<'static>),
}

impl Sink {
    /// `-` (or no path) is stdout.
    pub fn open(path: Option<&Path>, privacy: Privacy, overwrite: bool) -> CliResult<Self> {
        match path {
            None => Ok(Sink::Stdout(io::stdout().lock())),
            Some(p) if p == Path::new("-") => Ok(Sink::Stdout(io::stdout().lock())),
            Some(p) => Ok(Sink::File(AtomicFile::create(p, privacy, overwrite)?)),
        }
    }

    pub fn is_stdout(&self) -> bool {
        matches!(self, Sink::Stdout(_))
    }

    pub fn commit(self) -> CliResult<()> {
        match self {
            Sink::File(f) => f.commit(),
            Sink::Stdout(mut s) => s.flush().map_err(CliError::from),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::File(f) => f.write(buf),
            Sink::Stdout(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::File(f) => f.flush(),
            Sink::Stdout(s) => s.flush(),
        }
    }
}
