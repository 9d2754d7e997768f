#!/usr/bin/env python3
"""Writes the two modules of the quota-warning benchmark (benches/run.sh, section 5).

    benches/quota.py OUT [--connections 100000]

OUT/warn/: `mutual_rules` with CONNECTIONS connections between 997 source groups and 101
target groups: every source gets about 100 outbound rules and every target about 990
inbound, over the default quota of 60, so `generate` raises 1,098 quota warnings (one per
group and direction).

OUT/calm/: as many connections, in a rules.tf of the same size in bytes, between 2,000 sources and 2,000
targets, 50 rules a group: no warning.

The two files differ only in the group names, so the difference between the two runs is
the cost of the warnings. The output depends only on the arguments.
"""

import argparse
import os


def connection(source, target, port):
    return (
        "    {\n"
        f"      source_sg_id     = aws_security_group.{source}.id\n"
        f"      target_sg_id     = aws_security_group.{target}.id\n"
        f"      destination_port = {port}\n"
        '      protocol         = "tcp"\n'
        f'      description      = "Allow {source} to {target}"\n'
        "    },\n"
    )


def write_module(directory, pairs, sources, targets):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "groups.tf"), "w") as out:
        for name in sources + targets:
            out.write(f'resource "aws_security_group" "{name}" {{\n  name = "{name}"\n}}\n\n')
    with open(os.path.join(directory, "rules.tf"), "w") as out:
        out.write("locals {\n  mutual_rules = [\n")
        for source, target in pairs:
            out.write(connection(sources[source], targets[target], 443))
        out.write("  ]\n}\n")
    generated = os.path.join(directory, "mutual_rules.gen.tf")
    if os.path.exists(generated):
        os.remove(generated)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--connections", type=int, default=100_000)
    args = parser.parse_args()
    n = args.connections

    # 997 x 101 > 100,000: pair i is (i mod 997, i div 997), all distinct.
    sources = [f"src_{i:04d}" for i in range(997)]
    targets = [f"dst_{i:04d}" for i in range(101)]
    pairs = [(i % 997, (i // 997) % 101) for i in range(n)]
    write_module(os.path.join(args.out, "warn"), pairs, sources, targets)

    # 2,000 sources, 2,000 targets, 50 rules each: source s talks to s, s+1, ... s+49.
    groups = max(2000, -(-n // 50))
    sources = [f"src_{i:04d}" for i in range(groups)]
    targets = [f"dst_{i:04d}" for i in range(groups)]
    pairs = [(i % groups, (i % groups + i // groups) % groups) for i in range(n)]
    write_module(os.path.join(args.out, "calm"), pairs, sources, targets)


if __name__ == "__main__":
    main()
