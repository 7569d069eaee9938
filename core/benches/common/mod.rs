//! Shared by the benches: reading criterion's results of this run.

use std::path::PathBuf;

/// Criterion's mean estimate (ns) for `group`/`id` from this run's
/// `target/criterion` (criterion writes `/` in group names as `_`).
pub fn mean_ns(group: &str, id: &str) -> Option<f64> {
    let path = result_dir(group, id).join("estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

/// The fastest of criterion's samples (ns per iteration) for `group`/`id`
/// from this run: for floors, what the machine does with nothing in the way.
/// (Each bench compiles this module; only the envelope bench has floors.)
#[allow(dead_code)]
pub fn min_ns(group: &str, id: &str) -> Option<f64> {
    let path = result_dir(group, id).join("sample.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let times = v["times"].as_array()?;
    let iters = v["iters"].as_array()?;
    times
        .iter()
        .zip(iters)
        .filter_map(|(t, n)| Some(t.as_f64()? / n.as_f64()?))
        .reduce(f64::min)
}

/// Where criterion keeps this run's results for `group`/`id` (it writes `/`
/// in group names as `_`).
fn result_dir(group: &str, id: &str) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("criterion")
        .join(group.replace('/', "_"))
        .join(id)
        .join("new")
}
