#!/usr/bin/env python3
"""Reads `perf script -F comm,ip,sym,dso` output of a mutualsg run (with call graphs) on stdin
and prints, as a markdown table, the share of samples spent in each pipeline stage and how much
of that was in the kernel (syscalls, page faults). Used by benches/profile.sh.

A sample belongs to the first stage in STAGES any of whose frames matches: nested stages
(parsing inside the lint, say) are listed before the stages that call them. The patterns name
product functions: update them when those move.
"""
import collections
import re
import sys

STAGES = [
    ("syntax layer (full parse)", r"mutualsg::syntax::parser::"),
    ("lint: parse other files", r"mutualsg::generate::lint::warnings"),
    ("parse rules file (fast reader)", r"mutualsg::generate::parse::parse_rules_file|mutualsg::generate::parse::fast::"),
    ("validate", r"mutualsg::generate::validate::validate"),
    ("naming", r"mutualsg::generate::naming::"),
    ("render (incl. hclfmt)", r"mutualsg::generate::render::render"),
    ("plan: read generated file + compare", r"mutualsg::generate::output::plan"),
    ("diff (similar)", r"similar::|Change::diff"),
    ("write (output::apply)", r"mutualsg::generate::output::apply"),
    ("config lookup", r"ConfigFinder::config_for"),
    ("discover: walkdir", r"walkdir::"),
    ("discover: read_module, stat", r"mutualsg::workspace::discover::"),
    ("report", r"mutualsg::report::"),
    ("read + prefilter (generate_module)", r"mutualsg::generate_module|read_source"),
    ("run: other", r"mutualsg::generate::run"),
    ("main: other (arguments, drop)", r"mutualsg::commands::|mutualsg::main"),
]
OUTSIDE = "outside main (exec, exit, broken stacks)"
# What a sample inside a stage was doing, by the first matching frame.
ACTIVITIES = [
    ("openat", r"__x64_sys_openat"),
    ("read", r"__x64_sys_read\b|ksys_read"),
    ("close", r"__x64_sys_close"),
    ("stat", r"__x64_sys_statx|__x64_sys_newfstatat|do_statx"),
    ("getdents", r"__x64_sys_getdents64"),
    ("page faults", r"asm_exc_page_fault"),
    ("other syscalls", r"do_syscall_64"),
    ("malloc/free", r"malloc|cfree|_int_free|realloc|tcache"),
    ("syntax parser", r"mutualsg::syntax::"),
    ("memchr/memmem", r"memchr::"),
    ("hclfmt", r"mutualsg::hclfmt::"),
    ("sorting", r"::sort::"),
]


def samples(lines):
    frames = []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if frames:
                yield frames
            frames = []
        elif line[0] in " \t":
            parts = line.split(None, 1)
            frames.append(parts[1] if len(parts) > 1 else "?")
        else:
            frames = []
    if frames:
        yield frames


def main():
    stage_rx = [(name, re.compile(rx)) for name, rx in STAGES]
    activity_rx = [(name, re.compile(rx)) for name, rx in ACTIVITIES]
    per_stage = collections.Counter()
    in_kernel = collections.Counter()
    activity = collections.defaultdict(collections.Counter)
    total = 0
    for frames in samples(sys.stdin):
        total += 1
        stage = next(
            (name for name, rx in stage_rx if any(rx.search(f) for f in frames)), OUTSIDE
        )
        per_stage[stage] += 1
        if "kernel" in frames[0]:
            in_kernel[stage] += 1
        what = next(
            (name for name, rx in activity_rx if any(rx.search(f) for f in frames)),
            "other",
        )
        activity[stage][what] += 1
    if not total:
        sys.exit("perf-stages: no samples with call graphs on stdin")
    print(f"{total} samples\n")
    print("| stage | samples | in the kernel | mostly |")
    print("|---|---:|---:|---|")
    for stage, n in per_stage.most_common():
        top = ", ".join(
            f"{what} {100 * k / n:.0f}%" for what, k in activity[stage].most_common(3)
        )
        print(f"| {stage} | {100 * n / total:.1f}% | {100 * in_kernel[stage] / n:.0f}% | {top} |")


if __name__ == "__main__":
    main()
