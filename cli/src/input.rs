//! Reading inputs: data files or stdin, key files, `k=v` pairs.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use zeroize::{Zeroize, Zeroizing};

use crate::error::{CliError, CliResult};

/// A data input: a file (with its size, for the progress bar) or stdin.
pub struct Input {
    pub reader: Box<dyn Read>,
    pub size: Option<u64>,
    pub name: String,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input").field("name", &self.name).finish()
    }
}

impl Input {
    /// Reads what is there into `buf` (0 at the end), retrying an
    /// interrupted read; an error names the input.
    pub fn read_some(&mut self, buf: &mut [u8]) -> CliResult<usize> {
        loop {
            match self.reader.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r.map_err(|e| CliError::failure(format!("{}: {e}", self.name))),
            }
        }
    }
}

/// `-` is stdin.
pub fn open(path: &Path) -> CliResult<Input> {
    if path == Path::new("-") {
        return Ok(Input {
            reader: Box::new(io::stdin().lock()),
            size: None,
            name: "stdin".into(),
        });
    }
    let f = File::open(path).map_err(|e| CliError::io(path, e))?;
    let meta = f.metadata().map_err(|e| CliError::io(path, e))?;
    if meta.is_dir() {
        return Err(CliError::usage(format!(
            "{} is a directory",
            path.display()
        )));
    }
    Ok(Input {
        reader: Box::new(f),
        size: meta.is_file().then_some(meta.len()),
        name: path.display().to_string(),
    })
}

/// Reads at most `max` bytes; more is an error naming the limit.
pub fn read_bounded(path: &Path, max: usize) -> CliResult<Vec<u8>> {
    let input = open(path)?;
    let mut buf = Vec::new();
    input
        .reader
        .take(max as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| CliError::io(path, e))?;
    if buf.len() > max {
        return Err(CliError::usage(format!(
            "{} is larger than {max} bytes",
            input.name
        )));
    }
    Ok(buf)
}

/// Reads a file that holds secret material, refusing one that the group
/// or others may access (as ssh does), so a leaked key is noticed.
pub fn read_secret_file(path: &Path) -> CliResult<Zeroizing<Vec<u8>>> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| CliError::config(format!("key file {}: {e}", path.display())))?;
    if meta.mode() & 0o077 != 0 {
        return Err(CliError::config(format!(
            "key file {} has mode {:o}; it must not be accessible by group or others (chmod 600)",
            path.display(),
            meta.mode() & 0o777
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::config(format!("key file {}: {e}", path.display())))?;
    Ok(Zeroizing::new(bytes))
}

/// Symmetric key material: exactly one of the `lens` in raw bytes, or the
/// same as hex or base64 text.
pub fn decode_symmetric(raw: &[u8], lens: &[usize], what: &str) -> CliResult<Zeroizing<Vec<u8>>> {
    use base64::Engine;
    if lens.contains(&raw.len()) {
        return Ok(Zeroizing::new(raw.to_vec()));
    }
    let bad = || {
        CliError::config(format!(
            "{what}: expected {} bytes, raw or as hex or base64",
            lens.iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    };
    let text = std::str::from_utf8(raw).map_err(|_| bad())?.trim();
    let mut decoded = if text.len() % 2 == 0 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut v = Vec::with_capacity(text.len() / 2);
        for i in (0..text.len()).step_by(2) {
            v.push(u8::from_str_radix(&text[i..i + 2], 16).map_err(|_| bad())?);
        }
        v
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| bad())?
    };
    if !lens.contains(&decoded.len()) {
        decoded.zeroize();
        return Err(bad());
    }
    Ok(Zeroizing::new(decoded))
}

/// `KEY=VALUE` pairs into a map; a repeated key is an error.
pub fn pairs(items: &[String], what: &str) -> CliResult<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    for item in items {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| CliError::usage(format!("{what} {item:?} is not KEY=VALUE")))?;
        if k.is_empty() {
            return Err(CliError::usage(format!("{what} {item:?} has an empty key")));
        }
        if map.insert(k.to_owned(), v.to_owned()).is_some() {
            return Err(CliError::usage(format!("{what} key {k:?} given twice")));
        }
    }
    Ok(map)
}

/// Base64 (standard alphabet) text into bytes.
pub fn base64(text: &str, what: &str) -> CliResult<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| CliError::usage(format!("{what} is not valid base64")))
}

pub fn to_base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_forms() {
        let k = [7u8; 32];
        assert_eq!(&*decode_symmetric(&k, &[32], "k").unwrap(), &k);
        let hex: String = k.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            &*decode_symmetric(format!("{hex}\n").as_bytes(), &[32], "k").unwrap(),
            &k
        );
        assert_eq!(
            &*decode_symmetric(to_base64(&k).as_bytes(), &[32], "k").unwrap(),
            &k
        );
        assert!(decode_symmetric(&[1u8; 31], &[32], "k").is_err());
        assert!(decode_symmetric(b"not a key at all!", &[32], "k").is_err());
    }

    #[test]
    fn context_pairs() {
        let m = pairs(&["a=1".into(), "b=x=y".into(), "c=".into()], "context").unwrap();
        assert_eq!(m["b"], "x=y");
        assert_eq!(m["c"], "");
        assert!(pairs(&["novalue".into()], "context").is_err());
        assert!(pairs(&["=v".into()], "context").is_err());
        assert!(pairs(&["a=1".into(), "a=2".into()], "context").is_err());
    }
}
