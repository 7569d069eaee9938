//! The driver shared by every target binary.

#[cfg(not(feature = "afl"))]
use std::panic::{catch_unwind, AssertUnwindSafe};
#[cfg(not(feature = "afl"))]
use std::path::{Path, PathBuf};
#[cfg(not(feature = "afl"))]
use std::time::{Duration, Instant};

/// A fuzz target: panics on a defect.
pub type Target = fn(&[u8]);

/// A small deterministic generator (SplitMix64): chunk sizes, mutations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Runs `target` as the binary's main function.
#[cfg(feature = "afl")]
pub fn main(target: Target) {
    afl::fuzz!(|data: &[u8]| target(data));
}

/// Runs `target` as the binary's main function: replays the inputs named
/// on the command line, then mutates them for `--seconds N` (default 0).
#[cfg(not(feature = "afl"))]
pub fn main(target: Target) {
    let name = std::env::args().next().unwrap_or_default();
    let name = Path::new(&name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut seconds = 0u64;
    let mut seed = 0x5ea1_b0c5u64;
    let mut crash_dir = std::env::temp_dir();
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage(&name));
        match a.as_str() {
            "--seconds" => seconds = value().parse().unwrap_or_else(|_| usage(&name)),
            "--seed" => seed = value().parse().unwrap_or_else(|_| usage(&name)),
            "--crash-dir" => crash_dir = PathBuf::from(value()),
            _ if a.starts_with("--") => usage(&name),
            _ => paths.push(PathBuf::from(a)),
        }
    }
    // Panics are reported by the harness, with the input that caused them.
    std::panic::set_hook(Box::new(|_| {}));
    let mut corpus = Vec::new();
    for p in &paths {
        collect(p, &mut corpus);
    }
    for (path, data) in &corpus {
        if let Err(why) = run(target, data) {
            eprintln!("{name}: {} crashes the target: {why}", path.display());
            std::process::exit(1);
        }
    }
    let inputs: Vec<Vec<u8>> = corpus.into_iter().map(|(_, d)| d).collect();
    let (mut rng, start, mut execs) = (Rng::new(seed), Instant::now(), 0u64);
    while start.elapsed() < Duration::from_secs(seconds) {
        let input = mutate(&mut rng, &inputs);
        execs += 1;
        if let Err(why) = run(target, &input) {
            let file = crash_dir.join(format!("crash-{name}-{seed}-{execs}"));
            let _ = std::fs::write(&file, &input);
            eprintln!(
                "{name}: a mutated input crashes the target: {why}; input saved as {}",
                file.display()
            );
            std::process::exit(1);
        }
    }
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    println!(
        "{name}: replayed {} inputs; random loop: {execs} executions in {:.0} s ({:.0}/s), no crash",
        inputs.len(),
        secs,
        execs as f64 / secs
    );
}

#[cfg(not(feature = "afl"))]
fn usage(name: &str) -> ! {
    eprintln!("usage: {name} [--seconds N] [--seed S] [--crash-dir DIR] CORPUS_DIR_OR_FILE...");
    std::process::exit(2)
}

#[cfg(not(feature = "afl"))]
fn collect(path: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        entries.sort();
        for e in entries {
            collect(&e, out);
        }
    } else if let Ok(data) = std::fs::read(path) {
        out.push((path.to_path_buf(), data));
    } else {
        eprintln!("cannot read {}", path.display());
        std::process::exit(2);
    }
}

#[cfg(not(feature = "afl"))]
fn run(target: Target, data: &[u8]) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| target(data))).map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())
    })
}

/// One input for the random loop: a corpus entry (or nothing) with a few
/// byte-level mutations, or a splice of two entries.
#[cfg(not(feature = "afl"))]
fn mutate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let pick = |rng: &mut Rng| -> Vec<u8> {
        if corpus.is_empty() || rng.below(16) == 0 {
            (0..rng.below(64)).map(|_| rng.next() as u8).collect()
        } else {
            corpus[rng.below(corpus.len())].clone()
        }
    };
    let mut v = pick(rng);
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(8) {
            0 | 1 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                v[i] = [0, 1, 0x7f, 0x80, 0xff][rng.below(5)];
            }
            3 => {
                let i = rng.below(len + 1);
                v.insert(i, rng.next() as u8);
            }
            4 if len > 0 => {
                v.remove(rng.below(len));
            }
            5 => v.truncate(rng.below(len + 1)),
            6 => {
                let other = pick(rng);
                let (a, b) = (rng.below(len + 1), rng.below(other.len() + 1));
                v.truncate(a);
                v.extend_from_slice(&other[b..]);
            }
            _ if len >= 2 => {
                // A two-byte length field set to an interesting value.
                let i = rng.below(len - 1);
                let n: u16 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff][rng.below(7)];
                v[i..i + 2].copy_from_slice(&n.to_be_bytes());
            }
            _ => {}
        }
    }
    v
}
