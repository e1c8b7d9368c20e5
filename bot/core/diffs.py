"""Unified diffs of proposed file changes, for --dry-run output (pure)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping


def files_diff(old: Mapping[str, str], new: Mapping[str, str]) -> str:
    """The unified diff of every file in `new` against `old` (missing = empty), README.md first."""
    chunks = []
    for path in sorted(new, key=lambda p: (p != "README.md", p)):
        lines = difflib.unified_diff(
            old.get(path, "").splitlines(keepends=True),
            new[path].splitlines(keepends=True),
            f"a/{path}",
            f"b/{path}",
        )
        chunks.append(
            "".join(line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n" for line in lines)
        )
    return "".join(chunks)
