//! `sealbox rewrap --in-place` when only the header changes (an unsigned
//! suite, and a new header of the old header's length: the same kind of
//! keys): the new header is written over the old one, so a file of any size
//! is rewrapped in milliseconds. A journal beside the file makes it safe
//! against a crash: before the file is touched, the journal holds the old
//! and the new header and is flushed to disk; after the new header is on
//! disk, the journal goes. The next `rewrap --in-place` of the file finds
//! a journal left by a crash and finishes or undoes what it describes
//! first, so the file ends with one whole header, the old or the new, never
//! a torn one.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::{CliError, CliResult};

const MAGIC: &[u8] = b"sealbox rewrap journal v1\n";

/// `DIR/.NAME.sealbox-rewrap-journal` for `DIR/NAME`.
pub fn journal_path(file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    dir.join(format!(".{name}.sealbox-rewrap-journal"))
}

fn sync_dir(file: &Path) {
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The old and the new header a journal holds, or `None` for a journal
/// that was not written to the end (a crash before it was flushed: the
/// file was not touched then).
fn parse(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let len = u64::from_be_bytes(rest.get(..8)?.try_into().ok()?) as usize;
    let rest = &rest[8..];
    if rest.len() != len.checked_mul(2)? {
        return None;
    }
    Some(rest.split_at(len))
}

/// Finishes or undoes an in-place rewrap of `file` that a crash cut short;
/// says what it did, or `None` when there was nothing to do.
pub fn recover(file: &Path) -> CliResult<Option<&'static str>> {
    let jpath = journal_path(file);
    let bytes = match std::fs::read(&jpath) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CliError::io(&jpath, e)),
    };
    let what = match parse(&bytes) {
        None => "discarded an unfinished journal (the file had not been touched)",
        Some((old, new)) => {
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .open(file)
                .map_err(|e| CliError::io(file, e))?;
            let mut now = vec![0u8; new.len()];
            let got = f.read_at(&mut now, 0).map_err(|e| CliError::io(file, e))?;
            if got == now.len() && now == new {
                "found the new header complete"
            } else {
                f.write_all_at(old, 0).map_err(|e| CliError::io(file, e))?;
                f.sync_data().map_err(|e| CliError::io(file, e))?;
                "put the old header back"
            }
        }
    };
    std::fs::remove_file(&jpath).map_err(|e| CliError::io(&jpath, e))?;
    sync_dir(file);
    Ok(Some(what))
}

/// Reads the first bytes of `file` until `need` says it has enough: `need`
/// returns how many bytes it wants, or `None` when the bytes it has do.
pub fn read_prefix(
    file: &Path,
    mut need: impl FnMut(&[u8]) -> CliResult<Option<usize>>,
) -> CliResult<Vec<u8>> {
    let mut f = File::open(file).map_err(|e| CliError::io(file, e))?;
    let mut buf = Vec::new();
    let mut want = 64 * 1024;
    loop {
        let have = buf.len();
        (&mut f)
            .take((want - have) as u64)
            .read_to_end(&mut buf)
            .map_err(|e| CliError::io(file, e))?;
        match need(&buf)? {
            None => return Ok(buf),
            Some(n) if n > buf.len() && buf.len() == want => want = n,
            // The file ends before the header does.
            Some(_) => return Err(sealbox::Error::DecryptionFailed.into()),
        }
    }
}

/// Replaces the first `old.len()` bytes of `file`, which must be `old`,
/// with `new` (of the same length), through the journal.
pub fn replace_header(file: &Path, old: &[u8], new: &[u8]) -> CliResult<()> {
    if old.len() != new.len() {
        return Err(CliError::failure("in-place header of another length"));
    }
    let jpath = journal_path(file);
    {
        let mut j = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&jpath)
            .map_err(|e| CliError::io(&jpath, e))?;
        j.write_all(MAGIC)
            .and_then(|()| j.write_all(&(old.len() as u64).to_be_bytes()))
            .and_then(|()| j.write_all(old))
            .and_then(|()| j.write_all(new))
            .and_then(|()| j.sync_all())
            .map_err(|e| CliError::io(&jpath, e))?;
    }
    sync_dir(&jpath);
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(file)
        .map_err(|e| CliError::io(file, e))?;
    let mut now = vec![0u8; old.len()];
    let got = f.read_at(&mut now, 0).map_err(|e| CliError::io(file, e))?;
    if got != now.len() || now != old {
        let _ = std::fs::remove_file(&jpath);
        return Err(CliError::failure(format!(
            "{} changed while it was being rewrapped; nothing was written",
            file.display()
        )));
    }
    f.write_all_at(new, 0)
        .and_then(|()| f.sync_data())
        .map_err(|e| CliError::io(file, e))?;
    std::fs::remove_file(&jpath).map_err(|e| CliError::io(&jpath, e))?;
    sync_dir(file);
    Ok(())
}
