#!/usr/bin/env bash
# Checks out the public repositories of tests/data/corpus.tsv at their commits (from local
# mirrors when MIRRORS names a directory of `<owner>+<name>/repo` bare clones, else from
# GitHub), then runs tests/corpus.rs on them: every module migrated on a copy, its rules
# compared before and after, and the pairs found / migrated / left printed by reason.
# Nothing of those repositories is committed here.
#
#   benches/corpus-migrate.sh [DIR]             # DIR: where the checkouts go (default /tmp/mutualsg-corpus)
#   benches/corpus-migrate.sh --lockdown [DIR]  # the trees of tests/data/lockdown.tsv; its
#                                               # `--add-egress` pass prints the coverage, and
#                                               # tests/corpus_plan plans each migrated module
#                                               # with real Terraform (the offline stand-in
#                                               # provider on PATH: ../shared/tools/terraform)
set -euo pipefail
cd "$(dirname "$0")/.."
LIST=tests/data/corpus.tsv
TESTS=(--test corpus)
if [ "${1:-}" = "--lockdown" ]; then
  LIST=tests/data/lockdown.tsv
  TESTS=(--test corpus --test corpus_plan)
  shift
fi
DIR="${1:-/tmp/mutualsg-corpus}"
mkdir -p "$DIR"
tail -n +2 "$LIST" | while IFS=$'\t' read -r repo commit _; do
  [ -n "$repo" ] || continue
  target="$DIR/${repo/\//+}"
  if [ -d "$target" ] && [ "$(cat "$target/.corpus-commit" 2>/dev/null)" = "$commit" ]; then
    continue
  fi
  rm -rf "$target"
  mkdir -p "$target"
  mirror="${MIRRORS:-}/${repo/\//+}/repo"
  if [ -n "${MIRRORS:-}" ] && [ -d "$mirror" ]; then
    # Some blobs (binaries, large data) may be missing from a mirror: the .tf files are not.
    git --git-dir="$mirror" --work-tree="$target" checkout -f "$commit" -- . 2>/dev/null || true
  else
    git clone --quiet --filter=blob:none "https://github.com/$repo" "$target"
    git -C "$target" checkout --quiet "$commit"
  fi
  echo "$commit" >"$target/.corpus-commit"
done
MUTUALSG_CORPUS_LIST="$LIST" MUTUALSG_CORPUS_DIR="$DIR" cargo test --locked --no-fail-fast "${TESTS[@]}" -- --nocapture
