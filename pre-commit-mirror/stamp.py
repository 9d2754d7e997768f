#!/usr/bin/env python3
"""Stamps a mutualsg version into this mirror: the package's version and its pin.

    python3 stamp.py            the version of ../Cargo.toml (this checkout's crate)
    python3 stamp.py 1.2.3      that version
    python3 stamp.py --check    exit 1, changing nothing, when the files are not stamped so

Publishing: stamp the released version, copy this directory to the root of the mirror
repository, commit, and tag it vVERSION (the `rev` users put in .pre-commit-config.yaml).
"""

import pathlib
import re
import sys
import tomllib

HERE = pathlib.Path(__file__).resolve().parent
PYPROJECT = HERE / "pyproject.toml"
# mutualsg releases are plain X.Y.Z, spelt the same by Cargo and by PEP 440.
VERSION = re.compile(r"\d+\.\d+\.\d+")


def stamped(text: str, version: str) -> str:
    text, versions = re.subn(r'(?m)^version = "[^"]*"$', f'version = "{version}"', text)
    text, pins = re.subn(r'"mutualsg==[^"]*"', f'"mutualsg=={version}"', text)
    if versions != 1 or pins != 1:
        sys.exit(f"stamp.py: {PYPROJECT} must hold one version line and one mutualsg pin")
    return text


def main(args: list[str]) -> int:
    check = "--check" in args
    args = [arg for arg in args if arg != "--check"]
    if args:
        version = args[0]
    else:
        cargo = tomllib.loads((HERE.parent / "Cargo.toml").read_text(encoding="utf-8"))
        version = cargo["package"]["version"]
    if len(args) > 1 or not VERSION.fullmatch(version):
        sys.exit(f"usage: stamp.py [--check] [X.Y.Z] (got {' '.join(args) or version!r})")
    old = PYPROJECT.read_text(encoding="utf-8")
    new = stamped(old, version)
    if check:
        if new != old:
            print(f"stamp.py: {PYPROJECT.name} is not stamped with {version}", file=sys.stderr)
            return 1
        return 0
    if new != old:
        PYPROJECT.write_text(new, encoding="utf-8")
    print(f"stamp.py: mutualsg=={version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
