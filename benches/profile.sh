#!/usr/bin/env bash
# Profiles one mutualsg run on a benchmark tree with perf and prints where the time goes, by
# pipeline stage (benches/perf-stages.py). Run benches/run.sh first: it writes the trees.
#
# Usage: benches/profile.sh [tree|huge] [check|generate|diff]   (default: tree check)
# Environment: BENCH_DIR [target/bench], FREQ [sampling Hz, 2999].
# Builds a release binary with debug info into target/profile (a separate target directory,
# so target/release is left alone). Samples cpu-clock: these VMs expose no hardware counters.
# DWARF call graphs, because glibc has no frame pointers (with fp, a third of the samples lose
# their callers in malloc and the syscall wrappers). perf.data and the report stay in BENCH_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TREE=${1:-tree}
COMMAND=${2:-check}
BENCH_DIR=${BENCH_DIR:-$ROOT/target/bench}
FREQ=${FREQ:-2999}

if ! command -v perf >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq linux-perf >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null; }
fi
[[ -d $BENCH_DIR/$TREE ]] || { echo "profile.sh: no $BENCH_DIR/$TREE: run benches/run.sh first" >&2; exit 2; }

echo "profile.sh: building with debug info (target/profile)" >&2
CARGO_PROFILE_RELEASE_DEBUG=true cargo build --release --quiet --target-dir target/profile --bin mutualsg
BIN=$ROOT/target/profile/release/mutualsg

cd "$BENCH_DIR"
"$BIN" "$COMMAND" "$TREE" >/dev/null 2>&1 || true # warm the page cache
DATA=perf-$TREE-$COMMAND.data
perf record -q -e cpu-clock -F "$FREQ" --call-graph dwarf,32768 -o "$DATA" -- \
    "$BIN" "$COMMAND" "$TREE" >/dev/null 2>&1 || true
perf script -i "$DATA" -F comm,ip,sym,dso 2>/dev/null |
    python3 "$ROOT/benches/perf-stages.py" | tee "profile-$TREE-$COMMAND.md"
echo >&2
echo "profile.sh: flat profile: perf report -i $BENCH_DIR/$DATA --no-children --sort dso,symbol" >&2
