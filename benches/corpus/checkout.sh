#!/usr/bin/env bash
# Checks out every repository of benches/corpus/repos.tsv, at the commit listed there, into
# a target directory: TARGET/<owner>+<name>/. A developer script: it never fetches anything.
# The repositories must already be on this machine as bare git directories (what the search
# tool's `fetch` leaves under /work/.mirror/<owner>+<name>/repo), or under the directory
# given by CORPUS_MIRROR, one <owner>+<name>/ (or <owner>+<name>.git) per repository.
#
#   benches/corpus/checkout.sh [TARGET]      (default: $CORPUS_DIR, else /tmp/corpus)
#
# A tree already checked out at the listed commit is left as it is. Exits 1, after checking
# out all the others, when any listed repository or commit is missing, and names them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
list=$here/repos.tsv
mirror=${CORPUS_MIRROR:-/work/.mirror}
target=${1:-${CORPUS_DIR:-/tmp/corpus}}
mkdir -p "$target/.commits"

git_dir_of() { # the first candidate holding a git directory
    local base=$mirror/$1
    for candidate in "$base/repo/.git" "$base/repo" "$base/.git" "$base" "$base.git"; do
        if [[ -d $candidate ]] && git --git-dir="$candidate" rev-parse --git-dir >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

missing=() done_count=0 kept=0
while IFS=$'\t' read -r repo commit _why; do
    [[ -z $repo || $repo == repo || $repo == \#* ]] && continue
    name=${repo/\//+}
    if ! gd=$(git_dir_of "$name"); then
        missing+=("$repo (no git directory under $mirror/$name)")
        continue
    fi
    if ! git --git-dir="$gd" cat-file -e "$commit^{commit}" 2>/dev/null; then
        missing+=("$repo (fetched, but commit $commit is not in it: fetch a newer snapshot or update repos.tsv)")
        continue
    fi
    stamp=$target/.commits/$name
    if [[ -d $target/$name && -f $stamp && $(cat "$stamp") == "$commit" ]]; then
        kept=$((kept + 1))
        continue
    fi
    rm -rf "$target/$name" "$stamp"
    mkdir -p "$target/$name"
    # A snapshot may lack its largest blobs (and submodules are never in it): check out what
    # the commit's tree holds through a scratch index, less the blobs that are absent.
    index=$(mktemp)
    blobs=$(mktemp)
    git --git-dir="$gd" ls-tree -r --format='%(objecttype) %(objectname) %(path)' "$commit" |
        awk '$1 == "blob"' >"$blobs"
    # cat-file answers one line per object, in order: "SHA" when present, "SHA missing" not.
    absent=$(cut -d' ' -f2 "$blobs" | git --git-dir="$gd" cat-file --batch-check='%(objectname)' |
        paste -d' ' - "$blobs" | awk '$2 == "missing" { sub(/^[^ ]+ missing [^ ]+ [^ ]+ /, ""); print }')
    rm -f "$blobs"
    GIT_INDEX_FILE=$index git --git-dir="$gd" read-tree "$commit"
    if [[ -n $absent ]]; then
        printf '%s\n' "$absent" | GIT_INDEX_FILE=$index git --git-dir="$gd" update-index --force-remove --stdin
    fi
    GIT_INDEX_FILE=$index git --git-dir="$gd" --work-tree="$target/$name" checkout-index -a -f
    rm -f "$index"
    echo "$commit" >"$stamp"
    done_count=$((done_count + 1))
    n_absent=0
    [[ -n $absent ]] && n_absent=$(printf '%s\n' "$absent" | wc -l)
    echo "checked out $repo at ${commit:0:12} into $target/$name ($n_absent large files absent from the snapshot)" >&2
done <"$list"

echo "corpus in $target: $done_count checked out now, $kept already there, ${#missing[@]} missing" >&2
if ((${#missing[@]})); then
    echo "missing (fetch these into $mirror first; this script cannot fetch):" >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 1
fi
