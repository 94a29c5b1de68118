#!/usr/bin/env python3
"""Checks that docs/architecture.md matches the tree.

Every file the "Where each concept lives" table names must exist in the folder of its row, and
every header of the four stages (config/, merge/, scraper/, gateway/ and their subfolders),
test-only helpers aside, must be named in the row of its folder: a newcomer who reads the map
finds each room, and a room added without its line in the map fails the test suite.

Usage: python3 tests/architecture_doc_check.py [REPO_ROOT]   (exit status 1 on a mismatch)
"""

import os
import re
import subprocess
import sys

STAGES = ("config", "merge", "scraper", "gateway")


def table_rows(doc):
    """Yields (folder, [file names]) for each row of the concept table."""
    in_table = False
    folder = None
    for line in doc.splitlines():
        if line.startswith("## Where each concept lives"):
            in_table = True
            continue
        if in_table and line.startswith("## "):
            return
        if not in_table or not line.startswith("|") or line.startswith("| ---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] == "folder":
            continue
        m = re.fullmatch(r"`([\w/]+)/`", cells[0])
        if m:
            folder = m.group(1)
        elif cells[0]:
            folder = None
        if folder is None:
            continue
        yield folder, re.findall(r"`([\w/]+\.(?:h|cc))`", cells[2])


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    doc = open(os.path.join(root, "docs/architecture.md"), encoding="utf-8").read()
    named = {}  # folder -> set of names
    errors = []
    for folder, names in table_rows(doc):
        for name in names:
            named.setdefault(folder, set()).add(name)
            if not os.path.isfile(os.path.join(root, folder, name)):
                errors.append(f"docs/architecture.md names {folder}/{name}, which does not exist")
    files = subprocess.run(["git", "-C", root, "ls-files", *STAGES], capture_output=True,
                           text=True, check=True).stdout.split()
    for path in files:
        folder, name = os.path.split(path)
        if not name.endswith(".h") or name.startswith("test_") or "_test" in name:
            continue
        if name not in named.get(folder, set()):
            errors.append(f"{path} is not named in docs/architecture.md (row of `{folder}/`)")
    if not named:
        errors.append("docs/architecture.md: no concept table found")
    for e in errors:
        print(e, file=sys.stderr)
    print(f"architecture_doc_check: {sum(map(len, named.values()))} files named, "
          f"{len(errors)} mismatches")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
