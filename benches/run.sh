#!/usr/bin/env bash
# Measures mutualsg against the performance targets, on synthetic trees from
# `examples/monorepo.rs`:
#
#   1. `mutualsg check TREE` vs `rg -l mutual_rules TREE` (the floor), hyperfine medians in
#      one session: ratio <= 1.5 (2,000 modules, 20,000 .tf files, ~88 MB, 10% with rules);
#      with, for reference, examples/scan_floor.rs (a plain one-thread walk + read + memmem);
#   2. peak RSS of that check (/usr/bin/time -v): <= 64 MB;
#   3. one module with 100,000 connections: `generate` (file absent) < 1 s, and `check`;
#   4. the pre-commit case, `mutualsg generate TREE/<module>/<file>.tf`: < 10 ms;
#   5. quota warnings cost what they print, not what the file holds: `generate` of a 23 MB
#      module whose 100,000 connections raise 1,098 quota warnings (benches/quota.py) <= 1.2x
#      the same run on one of the same size raising none (hyperfine, one run side by side);
#   6. `audit`, `graph` and `migrate` of a monorepo where a tenth of the modules declare
#      groups and rules and the other files none (benches/sparse_tree.py) <= 2x
#      `rg -l mutual_rules` of it (medians, side by side).
#   7. `audit` and `graph` of two public trees of benches/corpus/repos.tsv, checked out by
#      benches/corpus/checkout.sh under CORPUS_DIR [/tmp/corpus] (each skipped when absent):
#      the largest (ministryofjustice/cloud-platform-environments: 12,469 .tf files, 19 MB)
#      and the one with the most security-group code (ministryofjustice/modernisation-platform-
#      environments: 4,099 files, 12 MB, 1,661 group and rule resources) <= 2x
#      `rg -l mutual_rules` of it (medians, side by side).
#
# Usage: benches/run.sh [--quick] [--strict]
#   --quick   a small tree and few runs: checks that the script works, not the targets
#   --strict  exit 1 when a target is missed
# Environment (defaults in brackets): BENCH_DIR [target/bench], MODULES [2000],
# FILES_PER_MODULE [10], RULES_FRACTION [0.1], CONNECTIONS [20], HUGE_CONNECTIONS [100000],
# SEED [1], RUNS [20], WARMUP [3], HUGE_RUNS [5], SMALL_RUNS [50].
# Trees are regenerated only when their flags change. Results: BENCH_DIR/results.md and
# the hyperfine JSON files beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=0
STRICT=0
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        --strict) STRICT=1 ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "run.sh: unknown argument $arg" >&2
            exit 2
            ;;
    esac
done
if ((QUICK)); then
    : "${MODULES:=200}" "${HUGE_CONNECTIONS:=10000}" "${RUNS:=3}" "${WARMUP:=1}"
    : "${HUGE_RUNS:=2}" "${SMALL_RUNS:=10}"
fi
BENCH_DIR=${BENCH_DIR:-$ROOT/target/bench}
MODULES=${MODULES:-2000}
FILES_PER_MODULE=${FILES_PER_MODULE:-10}
RULES_FRACTION=${RULES_FRACTION:-0.1}
CONNECTIONS=${CONNECTIONS:-20}
HUGE_CONNECTIONS=${HUGE_CONNECTIONS:-100000}
SEED=${SEED:-1}
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}
HUGE_RUNS=${HUGE_RUNS:-5}
SMALL_RUNS=${SMALL_RUNS:-50}

# --- tools --------------------------------------------------------------------------------
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v rg >/dev/null || missing+=(ripgrep)
command -v jq >/dev/null || missing+=(jq)
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]})); then
    echo "run.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi

echo "run.sh: building (release)" >&2
cargo build --release --quiet --bin mutualsg --example monorepo --example scan_floor
BIN=$ROOT/target/release/mutualsg
GEN=$ROOT/target/release/examples/monorepo
FLOOR=$ROOT/target/release/examples/scan_floor

# --- trees --------------------------------------------------------------------------------
mkdir -p "$BENCH_DIR"
cd "$BENCH_DIR"

# make_tree DIR FLAGS...: writes DIR with the generator unless it already holds those flags.
make_tree() {
    local dir=$1
    shift
    local want="$*"
    if [[ -f $dir/.bench-flags && "$(cat "$dir/.bench-flags")" == "$want" ]]; then
        echo "run.sh: reusing $BENCH_DIR/$dir" >&2
    else
        "$GEN" --out "$dir" "$@"
        echo "$want" >"$dir/.bench-flags"
    fi
}
make_tree tree --modules "$MODULES" --files-per-module "$FILES_PER_MODULE" \
    --rules-fraction "$RULES_FRACTION" --connections "$CONNECTIONS" --seed "$SEED"
make_tree huge --single-module-connections "$HUGE_CONNECTIONS" --seed "$SEED"
# manifest TREE KEY: the first value of KEY in the tree's manifest.
manifest() { awk -v key="$2=" 'index($0, key) == 1 {print substr($0, length(key) + 1); exit}' "$1/.monorepo-manifest"; }
RULES_MODULE=tree/$(manifest tree rules_module)
PLAIN_MODULE=tree/$(manifest tree plain_module)

# must COMMAND...: runs it quietly; on failure shows the end of its stderr and stops.
must() {
    local err status=0
    err=$("$@" 2>&1 >/dev/null) || status=$?
    if ((status)); then
        echo "run.sh: \`$*\` failed (exit $status):" >&2
        tail -n 20 <<<"$err" >&2
        exit 1
    fi
}
# Bring the generated files up to date; from here on `check` must be clean.
must "$BIN" generate tree
must "$BIN" generate huge
must "$BIN" check tree
sync

TF_FILES=$(find tree -name '*.tf' -not -name mutual_rules.gen.tf | wc -l)
TF_MB=$(find tree -name '*.tf' -not -name mutual_rules.gen.tf -printf '%s\n' | awk '{s += $1} END {printf "%.1f", s / 1e6}')
HUGE_IN_MB=$(awk '{printf "%.1f", $1 / 1e6}' <<<"$(stat -c %s huge/huge/rules.tf)")
HUGE_OUT_MB=$(awk '{printf "%.1f", $1 / 1e6}' <<<"$(stat -c %s huge/huge/mutual_rules.gen.tf)")

# --- measurements -------------------------------------------------------------------------
# hyperfine -N runs commands without a shell; outputs go to /dev/null (rg -l still reads
# every file then: it stops early per file, never per run).
hf() { hyperfine -N --style basic "$@" >&2; }
load() { cut -d ' ' -f 1 /proc/loadavg; }
LOAD_BEFORE=$(load)
median() { jq -r --arg name "$2" '.results[] | select(.command == $name) | .median' "$1"; }
# cpu FILE NAME: mean user + system time, which other load on the machine inflates less.
cpu() { jq -r --arg name "$2" '.results[] | select(.command == $name) | .user + .system' "$1"; }
ms() { awk '{printf "%.1f ms", $1 * 1000}' <<<"$1"; }
peak_rss_mb() { # the largest of 3 runs, in MB
    local max=0 kb
    for _ in 1 2 3; do
        kb=$(/usr/bin/time -v "$@" 2>&1 >/dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p')
        ((kb > max)) && max=$kb
    done
    awk '{printf "%.1f", $1 / 1024}' <<<"$max"
}
# met VALUE LIMIT: "yes" when VALUE <= LIMIT.
met() { if awk -v v="$1" -v t="$2" 'BEGIN {exit !(v <= t)}'; then echo yes; else echo "**no**"; fi; }

echo "run.sh: check vs rg on $TF_FILES files, $TF_MB MB" >&2
hf --warmup "$WARMUP" --runs "$RUNS" --export-json check-vs-rg.json \
    -n mutualsg "$BIN check tree" -n rg "rg -l mutual_rules tree" -n scan_floor "$FLOOR tree"
CHECK=$(median check-vs-rg.json mutualsg)
RG=$(median check-vs-rg.json rg)
SCAN_FLOOR=$(median check-vs-rg.json scan_floor)
RATIO=$(awk -v a="$CHECK" -v b="$RG" 'BEGIN {printf "%.2f", a / b}')
# The ratio of the fastest runs: steadier than the medians when other work shares the machine.
MIN_RATIO=$(jq -r '[.results[] | {(.command): .min}] | add | .mutualsg / .rg * 100 | round / 100' check-vs-rg.json)
CHECK_RSS=$(peak_rss_mb "$BIN" check tree)
RG_RSS=$(peak_rss_mb rg -l mutual_rules tree)

echo "run.sh: one module with $HUGE_CONNECTIONS connections" >&2
hf --warmup 1 --runs "$HUGE_RUNS" --export-json huge.json \
    --prepare "rm -f huge/huge/mutual_rules.gen.tf" -n generate "$BIN generate huge"
must "$BIN" generate huge
hf --warmup 1 --runs "$HUGE_RUNS" --export-json huge-check.json -n check "$BIN check huge"
HUGE_GEN=$(median huge.json generate)
HUGE_CHECK=$(median huge-check.json check)
HUGE_GEN_CPU=$(cpu huge.json generate)
HUGE_CHECK_CPU=$(cpu huge-check.json check)
HUGE_RSS=$(peak_rss_mb "$BIN" check huge)

echo "run.sh: quota warnings" >&2
# py_tree DIR SCRIPT ARGS...: writes DIR with a Python generator unless it holds those args.
py_tree() {
    local dir=$1 script=$2
    shift 2
    local want="$script $*"
    if [[ -f $dir/.bench-flags && "$(cat "$dir/.bench-flags")" == "$want" ]]; then
        echo "run.sh: reusing $BENCH_DIR/$dir" >&2
    else
        rm -rf "$dir"
        python3 "$ROOT/benches/$script" "$dir" "$@"
        echo "$want" >"$dir/.bench-flags"
    fi
}
py_tree quota quota.py --connections "$HUGE_CONNECTIONS"
QUOTA_MB=$(awk '{printf "%.1f", $1 / 1e6}' <<<"$(stat -c %s quota/warn/rules.tf)")
QUOTA_WARNINGS=$("$BIN" generate quota/warn 2>&1 >/dev/null | grep -c 'mutualsg::too_many_rules' || true)
hf --runs 1 --export-json quota.json \
    --prepare "rm -f quota/warn/mutual_rules.gen.tf quota/calm/mutual_rules.gen.tf" \
    -n warnings "$BIN generate quota/warn" -n none "$BIN generate quota/calm"
QUOTA_WARN=$(median quota.json warnings)
QUOTA_NONE=$(median quota.json none)
QUOTA_RATIO=$(awk -v a="$QUOTA_WARN" -v b="$QUOTA_NONE" 'BEGIN {printf "%.2f", a / b}')
QUOTA_CPU_RATIO=$(awk -v a="$(cpu quota.json warnings)" -v b="$(cpu quota.json none)" 'BEGIN {printf "%.2f", a / b}')

echo "run.sh: audit, graph, migrate vs rg on a sparse tree" >&2
py_tree sparse sparse_tree.py --modules "$MODULES" --files-per-module "$FILES_PER_MODULE" --fraction "$RULES_FRACTION"
must "$BIN" generate sparse
hf --warmup "$WARMUP" --runs "$RUNS" --export-json sparse.json \
    -n rg "rg -l mutual_rules sparse" -n audit "$BIN audit sparse" -n graph "$BIN graph sparse" \
    -n migrate "$BIN migrate sparse"
SPARSE_RG=$(median sparse.json rg)
sparse_ratio() { awk -v a="$(median sparse.json "$1")" -v b="$SPARSE_RG" 'BEGIN {printf "%.2f", a / b}'; }
AUDIT_RATIO=$(sparse_ratio audit)
GRAPH_RATIO=$(sparse_ratio graph)
MIGRATE_RATIO=$(sparse_ratio migrate)

# Public trees of benches/corpus/repos.tsv, where benches/corpus/checkout.sh has checked them
# out (nothing is fetched here): the largest, and the one with the most security-group code.
# Audit and graph side by side with rg; their exit status is ignored: rg exits 1 where no
# file has mutual_rules, audit where it finds open rules.
CORPUS_TREES=(
    "largest:ministryofjustice+cloud-platform-environments"
    "most groups:ministryofjustice+modernisation-platform-environments"
)
CORPUS_ROWS=()
MET_CORPUS=
for entry in "${CORPUS_TREES[@]}"; do
    what=${entry%%:*}
    tree=${CORPUS_DIR:-/tmp/corpus}/${entry#*:}
    [[ -d $tree ]] || continue
    echo "run.sh: audit, graph vs rg on $tree" >&2
    json="corpus-${entry#*:}.json"
    hf --ignore-failure --warmup "$WARMUP" --runs "$RUNS" --export-json "$json" \
        -n rg "rg -l mutual_rules $tree" -n audit "$BIN audit $tree" -n graph "$BIN graph $tree"
    tree_rg=$(median "$json" rg)
    for command in audit graph; do
        ratio=$(awk -v a="$(median "$json" "$command")" -v b="$tree_rg" 'BEGIN {printf "%.2f", a / b}')
        MET_CORPUS+=" $(met "$ratio" 2)"
        CORPUS_ROWS+=("| $command, corpus tree ($what) | \`mutualsg $command $tree\` / \`rg -l mutual_rules\` of it | $(ms "$(median "$json" "$command")") / $(ms "$tree_rg") = **$ratio** | <= 2 | $(met "$ratio" 2) |")
    done
done

echo "run.sh: pre-commit, one file in the large tree" >&2
hf --warmup 5 --runs "$SMALL_RUNS" --export-json one-file.json \
    -n rules "$BIN generate $RULES_MODULE/rules.tf" \
    -n plain "$BIN generate $PLAIN_MODULE/main.tf"
ONE_RULES=$(median one-file.json rules)
ONE_PLAIN=$(median one-file.json plain)

# --- report -------------------------------------------------------------------------------
MET_RATIO=$(met "$RATIO" 1.5)
MET_RSS=$(met "$CHECK_RSS" 64)
MET_HUGE=$(met "$HUGE_GEN" 1)
MET_ONE_RULES=$(met "$ONE_RULES" 0.010)
MET_ONE_PLAIN=$(met "$ONE_PLAIN" 0.010)
MET_QUOTA=$(met "$QUOTA_RATIO" 1.2)
MET_AUDIT=$(met "$AUDIT_RATIO" 2)
MET_GRAPH=$(met "$GRAPH_RATIO" 2)
MET_MIGRATE=$(met "$MIGRATE_RATIO" 2)
FAILED=0
[[ "$MET_RATIO $MET_RSS $MET_HUGE $MET_ONE_RULES $MET_ONE_PLAIN $MET_QUOTA $MET_AUDIT $MET_GRAPH $MET_MIGRATE $MET_CORPUS" == *no* ]] && FAILED=1
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=
if [[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no -- src Cargo.toml 2>/dev/null)" ]]; then
    DIRTY=+dirty
fi
{
    echo "mutualsg $COMMIT$DIRTY, $(nproc) cores, $(hyperfine --version), $(rg --version | sed -n 1p)."
    echo "Tree: $MODULES modules, $TF_FILES .tf files, $TF_MB MB, $(manifest tree rules_files) with $CONNECTIONS-connection mutual_rules (seed $SEED)."
    echo "Huge module: $HUGE_CONNECTIONS connections, rules.tf $HUGE_IN_MB MB, generated $HUGE_OUT_MB MB."
    echo "Paths relative to $BENCH_DIR; medians of hyperfine runs; RSS the peak of 3 runs."
    LOAD_AFTER=$(load)
    echo -n "Load average (1 min): $LOAD_BEFORE before, $LOAD_AFTER after"
    if awk -v a="$LOAD_BEFORE" -v b="$LOAD_AFTER" -v n="$(nproc)" 'BEGIN {exit !(a > 1 || b > n)}'; then
        echo " (other work shared the $(nproc) cores: absolute times are inflated, ratios less so)."
    else
        echo "."
    fi
    echo
    echo "| measurement | command | result | target | met |"
    echo "|---|---|---|---|---|"
    echo "| check vs rg (median ratio) | \`mutualsg check tree\` / \`rg -l mutual_rules tree\` | $(ms "$CHECK") / $(ms "$RG") = **$RATIO** (fastest runs: $MIN_RATIO) | <= 1.5 | $MET_RATIO |"
    echo "| reference: walk + read + memmem, 1 thread | \`scan_floor tree\` (examples/scan_floor.rs) | $(ms "$SCAN_FLOOR") = $(awk -v a="$SCAN_FLOOR" -v b="$RG" 'BEGIN {printf "%.2f", a / b}') x rg | - | - |"
    echo "| check peak RSS | \`mutualsg check tree\` | $CHECK_RSS MB (rg: $RG_RSS MB) | <= 64 MB | $MET_RSS |"
    echo "| $HUGE_CONNECTIONS connections, generate (file absent) | \`mutualsg generate huge\` | $(ms "$HUGE_GEN") (CPU $(ms "$HUGE_GEN_CPU")) | < 1000 ms | $MET_HUGE |"
    echo "| $HUGE_CONNECTIONS connections, check | \`mutualsg check huge\` | $(ms "$HUGE_CHECK") (CPU $(ms "$HUGE_CHECK_CPU"), peak RSS $HUGE_RSS MB) | - | - |"
    echo "| pre-commit, module with rules | \`mutualsg generate $RULES_MODULE/rules.tf\` | $(ms "$ONE_RULES") | < 10 ms | $MET_ONE_RULES |"
    echo "| pre-commit, module without rules | \`mutualsg generate $PLAIN_MODULE/main.tf\` | $(ms "$ONE_PLAIN") | < 10 ms | $MET_ONE_PLAIN |"
    echo "| $QUOTA_WARNINGS quota warnings, $QUOTA_MB MB module (one run each) | \`mutualsg generate quota/warn\` / \`generate quota/calm\` | $(ms "$QUOTA_WARN") / $(ms "$QUOTA_NONE") = **$QUOTA_RATIO** (CPU $QUOTA_CPU_RATIO) | <= 1.2 | $MET_QUOTA |"
    echo "| audit, sparse tree | \`mutualsg audit sparse\` / \`rg -l mutual_rules sparse\` | $(ms "$(median sparse.json audit)") / $(ms "$SPARSE_RG") = **$AUDIT_RATIO** | <= 2 | $MET_AUDIT |"
    echo "| graph, sparse tree | \`mutualsg graph sparse\` | $(ms "$(median sparse.json graph)") = **$GRAPH_RATIO** x rg | <= 2 | $MET_GRAPH |"
    echo "| migrate, sparse tree | \`mutualsg migrate sparse\` | $(ms "$(median sparse.json migrate)") = **$MIGRATE_RATIO** x rg | <= 2 | $MET_MIGRATE |"
    for row in "${CORPUS_ROWS[@]}"; do
        echo "$row"
    done
} >results.md
if ((QUICK)); then
    echo >>results.md
    echo "(--quick: a small tree and few runs; the targets are for the full-size run.)" >>results.md
fi
echo >&2
cat results.md
if ((STRICT && FAILED)); then
    exit 1
fi
