"""Pure helpers of the Hub stand-in: blob ids, the error type, commit payloads, YAML, diffs."""

from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

YAML_BLOCK = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")  # repocard.py


def git_blob_sha1(data: bytes) -> str:
    """The git blob id of `data`: what the Hub sends as a regular file's ETag."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def tree_sha1(files: Mapping[str, bytes]) -> str:
    """A content hash of a file snapshot (the seed repos' first commit id)."""
    digest = hashlib.sha1(usedforsecurity=False)
    for path in sorted(files):
        digest.update(f"{path}\0{git_blob_sha1(files[path])}\n".encode())
    return digest.hexdigest()


class HubFailure(Exception):
    """An error answer: HTTP status, `X-Error-Code`, message (and an optional JSON body)."""

    def __init__(
        self, status: int, code: str, message: str, *, body: dict[str, Any] | None = None, commit: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.body = body if body is not None else {"error": message}
        self.commit = commit  # sent as X-Repo-Commit when known (resolve of a missing file)


@dataclass(frozen=True)
class Op:
    """One commit operation: `file` (with data), `delete` or `delete_folder`."""

    kind: str
    path: str
    data: bytes = b""


def parse_commit_payload(body: bytes) -> tuple[dict[str, Any], list[Op]]:
    """Read the ndjson body of `POST .../commit/{rev}`: the header value and the operations."""
    header: dict[str, Any] | None = None
    ops: list[Op] = []
    for n, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            key, value = item["key"], item["value"]
            if key == "header":
                header = dict(value)
            elif key == "file":
                if value.get("encoding", "base64") != "base64":
                    raise ValueError(f"unsupported encoding {value.get('encoding')!r}")
                ops.append(Op("file", _path(value["path"]), base64.b64decode(value["content"], validate=True)))
            elif key == "deletedFile":
                ops.append(Op("delete", _path(value["path"])))
            elif key == "deletedFolder":
                ops.append(Op("delete_folder", _path(str(value["path"]).rstrip("/"))))
            else:
                raise ValueError(f"unsupported operation {key!r} (this stand-in stores regular files only)")
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as e:
            raise HubFailure(400, "BadRequest", f"commit payload line {n}: {e}") from None
    if header is None:
        raise HubFailure(400, "BadRequest", "commit payload has no header line")
    return header, ops


def validate_yaml(content: str) -> dict[str, Any]:
    """What `POST /api/validate-yaml` answers; 400 (HubFailure) when the front matter is broken."""
    match = YAML_BLOCK.search(content)
    if match is None:
        return {"errors": [], "warnings": [{"message": "Empty or missing yaml metadata in repo card"}]}
    try:
        data = yaml.safe_load(match.group(2))
    except yaml.YAMLError as e:
        message = "Invalid YAML in the metadata: " + " ".join(str(e).split())
        raise HubFailure(400, "InvalidYaml", message, body={"error": message, "errors": [{"message": message}]}) from e
    if data is not None and not isinstance(data, dict):
        message = "The metadata must be a YAML mapping"
        raise HubFailure(400, "InvalidYaml", message, body={"error": message, "errors": [{"message": message}]})
    return {"errors": [], "warnings": []}


def unified_diff(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> str:
    """A git-style unified diff between two snapshots."""
    chunks = []
    for path in sorted(changed_paths(old, new)):
        a, b = old.get(path), new.get(path)
        chunks.append(f"diff --git a/{path} b/{path}\n")
        if a is None:
            chunks.append(f"new file mode 100644\nindex 0000000..{git_blob_sha1(b or b'')[:7]}\n")
        elif b is None:
            chunks.append(f"deleted file mode 100644\nindex {git_blob_sha1(a)[:7]}..0000000\n")
        else:
            chunks.append(f"index {git_blob_sha1(a)[:7]}..{git_blob_sha1(b)[:7]} 100644\n")
        try:
            old_lines = (a or b"").decode().splitlines(keepends=True)
            new_lines = (b or b"").decode().splitlines(keepends=True)
        except UnicodeDecodeError:
            chunks.append(f"Binary files a/{path} and b/{path} differ\n")
            continue
        lines = difflib.unified_diff(
            old_lines,
            new_lines,
            "/dev/null" if a is None else f"a/{path}",
            "/dev/null" if b is None else f"b/{path}",
        )
        chunks.extend(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
    return "".join(chunks)


def apply_ops(files: Mapping[str, bytes], ops: list[Op]) -> dict[str, bytes]:
    out = dict(files)
    for op in ops:
        if op.kind == "file":
            out[op.path] = op.data
        elif op.kind == "delete":
            if op.path not in out:
                raise HubFailure(404, "EntryNotFound", f"A file with this name doesn't exist: {op.path}")
            del out[op.path]
        else:
            doomed = [p for p in out if p.startswith(op.path + "/")]
            if not doomed:
                raise HubFailure(404, "EntryNotFound", f"A folder with this name doesn't exist: {op.path}")
            for p in doomed:
                del out[p]
    return out


def changed_paths(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> set[str]:
    return {p for p in old.keys() | new.keys() if old.get(p) != new.get(p)}


def _path(value: object) -> str:
    path = str(value)
    if not path or path.startswith("/") or any(part in ("", ".", "..") for part in path.split("/")):
        raise ValueError(f"invalid path {path!r}")
    return path


def front_matter(readme: bytes) -> object:
    match = YAML_BLOCK.search(readme.decode("utf-8-sig", errors="replace"))
    if match is None:
        return None
    try:
        return yaml.safe_load(match.group(2))
    except yaml.YAMLError:
        return None
