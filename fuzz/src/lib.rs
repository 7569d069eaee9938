//! sealbox's fuzz targets (issue 17) and the harness that runs them.
//!
//! Each target is a function of arbitrary bytes that panics only when it
//! finds a defect: a parser that panics, or a broken invariant (a round
//! trip that does not return its input, streaming decryption that
//! disagrees with one-shot decryption, a modified message that decrypts).
//!
//! With feature `afl` each binary in `src/bin/` is an AFL++ persistent-mode
//! harness (`make fuzz`). Without it, the same binary replays the files and
//! directories named on its command line and then, given `--seconds N`,
//! mutates them in a bounded random loop (`make test-fuzz-smoke`).

pub mod harness;
pub mod targets;

pub use harness::main;
