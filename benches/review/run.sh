#!/usr/bin/env bash
# Reruns `mutualsg graph --since PARENT --format markdown` on every change of changes.tsv:
# clones each repository once (from the mirrors under /work/.mirror, or GitHub), checks the
# commit out (sparse: the .tf/.tofu files), and prints one tab-separated line per change
# (results.tsv holds the last run): repository, commit, the
# comment's summary line, its size in characters, its rows, and the seconds it took.
# Usage: [ONLY=REGEX] benches/review/run.sh [MUTUALSG_BINARY] [CLONES_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(realpath "${1:-$here/../../target/release/mutualsg}")"
clones="${2:-/tmp/review-clones}"
mkdir -p "$clones"
export GIT_CONFIG_NOSYSTEM=1
unset GITHUB_SERVER_URL GITHUB_REPOSITORY GITHUB_SHA MUTUALSG_HEAD_SHA
printf 'repository\tcommit\tsummary\tcharacters\trows\tseconds\n'
grep -v '^#' "$here/changes.tsv" | grep -E "${ONLY:-.}" | while IFS=$'\t' read -r repo commit _; do
  dir="$clones/${repo/\//+}"
  if [ ! -d "$dir" ]; then
    mirror="/work/.mirror/${repo/\//+}/repo"
    [ -d "$mirror" ] || mirror="https://github.com/$repo"
    git clone -q --no-checkout "$mirror" "$dir"
    # Only what mutualsg reads: the mirrors leave out some large data files.
    git -C "$dir" sparse-checkout set --no-cone '*.tf' '*.tofu' '.mutualsg.toml'
  fi
  git -C "$dir" checkout -q --force --detach "$commit"
  start=$(date +%s.%N)
  set +e
  out=$(cd "$dir" && "$bin" graph --since "$commit^1" --format markdown . 2>/dev/null)
  set -e
  end=$(date +%s.%N)
  summary=$(printf '%s\n' "$out" | grep -m1 '^\*\*' || echo '(no summary)')
  chars=$(printf '%s' "$out" | wc -m)
  rows=$(printf '%s\n' "$out" | grep -c '^| [^-c]' || true)
  printf '%s\t%s\t%s\t%s\t%s\t%.2f\n' "$repo" "$commit" "$summary" "$chars" "$rows" \
    "$(echo "$end - $start" | bc)"
done
