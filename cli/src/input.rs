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

/// A time given on the command line: RFC 3339 in UTC
/// (`2027-06-30T00:00:00Z`), Unix seconds, or `+N` followed by `d`, `h`,
/// `m` or `s` from now. Unix seconds.
pub fn time_arg(text: &str) -> CliResult<i64> {
    let bad = || {
        CliError::usage(format!(
            "{text:?} is not a time: use RFC 3339 UTC (2027-06-30T00:00:00Z), Unix seconds, or +30d"
        ))
    };
    if let Some(rel) = text.strip_prefix('+') {
        let (n, unit) = rel.split_at(rel.len().saturating_sub(1));
        let n: i64 = n.parse().map_err(|_| bad())?;
        let per = match unit {
            "d" => 86_400,
            "h" => 3_600,
            "m" => 60,
            "s" => 1,
            _ => return Err(bad()),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| bad())?
            .as_secs();
        return n
            .checked_mul(per)
            .and_then(|d| i64::try_from(now).ok()?.checked_add(d))
            .ok_or_else(bad);
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_err(|_| bad());
    }
    // YYYY-MM-DDTHH:MM:SSZ (UTC only: a time zone offset is refused).
    let b = text.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> CliResult<i64> {
        let s = &text[r];
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m)
        || d < 1
        || d > month_days[(m - 1) as usize]
        || hh > 23
        || mm > 59
        || ss > 59
    {
        return Err(bad());
    }
    // Days from civil (Howard Hinnant's algorithm).
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(days * 86_400 + hh * 3_600 + mm * 60 + ss)
}

#[cfg(test)]
mod time_tests {
    use super::time_arg;

    #[test]
    fn times_parse_as_the_audit_log_writes_them() {
        for secs in [0i64, 951_782_400, 1_795_000_000, 4_102_444_799] {
            let text = sealbox::audit::rfc3339_millis(secs * 1000).replace(".000Z", "Z");
            assert_eq!(time_arg(&text).unwrap(), secs, "{text}");
        }
        assert_eq!(time_arg("1795000000").unwrap(), 1_795_000_000);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((time_arg("+30d").unwrap() - now - 30 * 86_400).abs() <= 2);
        for bad in [
            "2027-02-30T00:00:00Z",
            "2027-06-30T00:00:00+02:00",
            "2027-06-30",
            "tomorrow",
            "+3w",
            "+d",
            "-5",
        ] {
            assert!(time_arg(bad).is_err(), "{bad}");
        }
    }
}
