#!/usr/bin/env bash
# Runs AFL++ on one fuzz target and prints its numbers (mk/fuzz.mk).
#   fuzz/afl.sh TARGET SECONDS OUT_DIR
# The target binary is target/afl/release/TARGET (`make fuzz-afl`); the
# seeds are fuzz/corpus/TARGET. Fails when AFL++ saved a crash or a hang.
set -euo pipefail
target=$1 seconds=$2 out=$3
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/target/afl/release/$target
rm -rf "${out:?}/$target"
mkdir -p "$out"
echo "== AFL++ on $target for $seconds s (log: $out/$target.log) =="
# In a container: no CPU-governor tuning, no core_pattern change, no UI.
AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 \
  cargo afl fuzz -V "$seconds" -i "$root/fuzz/corpus/$target" -o "$out/$target" "$bin" \
  >"$out/$target.log" 2>&1 || { tail -40 "$out/$target.log"; exit 1; }
stats=$out/$target/default/fuzzer_stats
get() { sed -n "s/^$1 *: *//p" "$stats"; }
printf '   %-15s corpus %5s inputs (from %s seeds), %9s executions, %8s exec/s, crashes %s, hangs %s\n' \
  "$target" "$(get corpus_count)" "$(ls "$root/fuzz/corpus/$target" | wc -l)" \
  "$(get execs_done)" "$(get execs_per_sec)" "$(get saved_crashes)" "$(get saved_hangs)"
if [ "$(get saved_crashes)" != 0 ] || [ "$(get saved_hangs)" != 0 ]; then
  echo "AFL++ found crashing or hanging inputs for $target:"
  ls "$out/$target/default/crashes" "$out/$target/default/hangs"
  exit 1
fi
