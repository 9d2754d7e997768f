#!/usr/bin/env bash
# Measures `mutualsg suggest` on generated flow logs (examples/flowlogs.rs) against the floor
# of decompressing the same files (`zcat > /dev/null`), side by side in one hyperfine
# session, one run each: records/s, bytes/s (of the decompressed text, and of the files),
# the ratio to the floor (goal: within 1.5x), and peak RSS of both (goal: suggest under
# 256 MB), at a cardinality that follows busy clients: by default every connection lives one
# window and takes a new client port from the whole ephemeral range, and 2,000 internet
# clients each open a connection to the ALB in every window, so most records are distinct
# five-tuples (the data's count is in the results).
#
# Usage: benches/suggest.sh [--quick]
#   --quick   a small data set (about 30,000 records): checks that the script works (CI)
# Environment: BENCH_DIR [target/bench-suggest], WINDOWS [1292], CONCURRENT [55],
# LIFETIME [1], CARDINALITY [32767] (client ports per client), INTERNET_CLIENTS [2000]. The
# data is regenerated only when these change. Results:
# BENCH_DIR/results.md and the hyperfine JSON beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=0
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        *) echo "suggest.sh: unknown argument $arg" >&2; exit 2 ;;
    esac
done
if ((QUICK)); then
    : "${WINDOWS:=30}" "${CONCURRENT:=10}" "${INTERNET_CLIENTS:=20}" "${BENCH_DIR:=$ROOT/target/bench-suggest-quick}"
fi
BENCH_DIR=${BENCH_DIR:-$ROOT/target/bench-suggest}
WINDOWS=${WINDOWS:-1292}
CONCURRENT=${CONCURRENT:-55}
LIFETIME=${LIFETIME:-1}
CARDINALITY=${CARDINALITY:-32767}
INTERNET_CLIENTS=${INTERNET_CLIENTS:-2000}

missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v jq >/dev/null || missing+=(jq)
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]})); then
    echo "suggest.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi

echo "suggest.sh: building (release)" >&2
cargo build --release --quiet --bin mutualsg --example flowlogs
BIN=$ROOT/target/release/mutualsg
GEN=$ROOT/target/release/examples/flowlogs

mkdir -p "$BENCH_DIR"
cd "$BENCH_DIR"
FLAGS="--windows $WINDOWS --concurrent $CONCURRENT --lifetime $LIFETIME --cardinality $CARDINALITY --internet-clients $INTERNET_CLIENTS"
if [[ -f data/.bench-flags && "$(cat data/.bench-flags)" == "$FLAGS" ]]; then
    echo "suggest.sh: reusing $BENCH_DIR/data" >&2
else
    echo "suggest.sh: generating $FLAGS" >&2
    # shellcheck disable=SC2086
    "$GEN" --out data $FLAGS
    echo "$FLAGS" >data/.bench-flags
fi
cd data
RECORDS=$(sed -n 's/^records=//p' manifest.txt)
FILE_BYTES=$(sed -n 's/^file_bytes=//p' manifest.txt)
FIVE_TUPLES=$(sed -n 's/^five_tuples=//p' manifest.txt)
FILES=$(find logs -type f | wc -l)
TEXT_BYTES=$(( $(zcat logs/s3/*/*.gz | wc -c) + $(cat logs/cloudwatch/*.log | wc -c) ))
FORMAT=$(cat log-format.txt)
SUGGEST=("$BIN" suggest --flow-logs logs --log-format "$FORMAT" --interfaces interfaces.json --state state.json --format json)
FLOOR='zcat logs/s3/*/*.gz > /dev/null; cat logs/cloudwatch/*.log > /dev/null'
sync
hyperfine --style basic --runs 1 --export-json ../suggest-vs-zcat.json \
    -n suggest "$(printf '%q ' "${SUGGEST[@]}") > /dev/null 2>&1" \
    -n zcat "$FLOOR" >&2
seconds() { jq -r --arg name "$1" '.results[] | select(.command == $name) | .mean' ../suggest-vs-zcat.json; }
cpu() { jq -r --arg name "$1" '.results[] | select(.command == $name) | .user + .system' ../suggest-vs-zcat.json; }
T_SUGGEST=$(seconds suggest)
T_ZCAT=$(seconds zcat)
rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p'; }
RSS_KB=$(rss "${SUGGEST[@]}")
RSS_ZCAT_KB=$(rss sh -c "$FLOOR")
FLOWS=$("${SUGGEST[@]}" 2>/dev/null | jq '.flows')
fmt() { awk -v v="$1" 'BEGIN { if (v >= 1e6) printf "%.2f M", v / 1e6; else printf "%.0f", v }'; }
{
    echo "mutualsg $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores, $(hyperfine --version), $(zcat --version | sed -n 1p)."
    echo "Data: examples/flowlogs $FLAGS: $RECORDS records, $FILES files, $(awk -v b="$FILE_BYTES" 'BEGIN{printf "%.1f", b/1e6}') MB on disk (gzip), $(awk -v b="$TEXT_BYTES" 'BEGIN{printf "%.1f", b/1e6}') MB of text, $(fmt "$FIVE_TUPLES") distinct five-tuples, $FLOWS flows after client ports are folded."
    echo "Load average (1 min) after: $(cut -d ' ' -f 1 /proc/loadavg). One run each, side by side."
    echo
    echo "| measurement | suggest | zcat > /dev/null |"
    echo "|---|---|---|"
    echo "| wall time | $(awk -v t="$T_SUGGEST" 'BEGIN{printf "%.2f s", t}') (CPU $(awk -v t="$(cpu suggest)" 'BEGIN{printf "%.2f s", t}')) | $(awk -v t="$T_ZCAT" 'BEGIN{printf "%.2f s", t}') (CPU $(awk -v t="$(cpu zcat)" 'BEGIN{printf "%.2f s", t}')) |"
    echo "| records/s | $(fmt "$(awk -v r="$RECORDS" -v t="$T_SUGGEST" 'BEGIN{print r/t}')") | $(fmt "$(awk -v r="$RECORDS" -v t="$T_ZCAT" 'BEGIN{print r/t}')") |"
    echo "| text bytes/s | $(awk -v b="$TEXT_BYTES" -v t="$T_SUGGEST" 'BEGIN{printf "%.0f MB/s", b/t/1e6}') | $(awk -v b="$TEXT_BYTES" -v t="$T_ZCAT" 'BEGIN{printf "%.0f MB/s", b/t/1e6}') |"
    echo "| file bytes/s | $(awk -v b="$FILE_BYTES" -v t="$T_SUGGEST" 'BEGIN{printf "%.1f MB/s", b/t/1e6}') | $(awk -v b="$FILE_BYTES" -v t="$T_ZCAT" 'BEGIN{printf "%.1f MB/s", b/t/1e6}') |"
    echo "| time / zcat's | **$(awk -v a="$T_SUGGEST" -v b="$T_ZCAT" 'BEGIN{printf "%.2f", a/b}')** (goal <= 1.5) | 1 |"
    echo "| peak RSS | **$(awk -v k="$RSS_KB" 'BEGIN{printf "%.1f MB", k/1024}')** (goal < 256 MB) | $(awk -v k="$RSS_ZCAT_KB" 'BEGIN{printf "%.1f MB", k/1024}') |"
    if ((QUICK)); then
        echo
        echo "(--quick: a small data set; the figures are for the full run.)"
    fi
} >../results.md
cat ../results.md
