"""A local Hugging Face Hub stand-in over real HTTP, for tests and offline runs.

The real `huggingface_hub` client drives it through `HF_ENDPOINT` (or `HfApi(endpoint=...)`);
nothing in the client or in evalbot is patched. This first version serves the read paths
evalbot uses (reference/hub-protocol.md §1.1, §8 items 1, 3, 4): model info with and without a
revision, and README/file resolve (HEAD and GET) with `X-Repo-Commit` and `ETag`, plus the
Hub's error headers (`X-Error-Code`).

Repos are seeded from a directory laid out as `<dir>/<org>/<name>/<files...>`.

    with HubSim.from_directory(path) as hub:
        HfApi(endpoint=hub.url).model_info("org/name")
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit


def git_blob_sha1(data: bytes) -> str:
    """The git blob id of `data`: what the Hub sends as a regular file's ETag."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass
class SimRepo:
    """A model repo at one commit."""

    repo_id: str
    files: dict[str, bytes]
    private: bool = False
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha1(usedforsecurity=False)
        for path in sorted(self.files):
            digest.update(f"{path}\0{git_blob_sha1(self.files[path])}\n".encode())
        self.sha = digest.hexdigest()


class HubSim:
    """A threaded HTTP server on 127.0.0.1 that speaks enough of the Hub API for evalbot."""

    def __init__(self, repos: list[SimRepo], port: int = 0) -> None:
        self.repos = {repo.repo_id: repo for repo in repos}
        self.requests: list[tuple[str, str]] = []  # (method, path) log, for assertions
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._thread: threading.Thread | None = None

    @classmethod
    def from_directory(cls, root: Path, port: int = 0) -> HubSim:
        """Seed one repo per `<root>/<org>/<name>/` directory."""
        repos = []
        for repo_dir in sorted(p for p in root.glob("*/*") if p.is_dir()):
            files = {
                str(f.relative_to(repo_dir)).replace("\\", "/"): f.read_bytes()
                for f in sorted(repo_dir.rglob("*"))
                if f.is_file()
            }
            repos.append(SimRepo(f"{repo_dir.parent.name}/{repo_dir.name}", files))
        return cls(repos, port)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> HubSim:
        self._thread = threading.Thread(target=self._server.serve_forever, name="hub-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Run in the foreground (the `evalbot sim` command)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def __enter__(self) -> HubSim:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def _handler_for(hub: HubSim) -> type[BaseHTTPRequestHandler]:
    class Handler(_HubHandler):
        sim = hub

    return Handler


class _HubHandler(BaseHTTPRequestHandler):
    sim: HubSim
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read `sim.requests`
        return

    def do_GET(self) -> None:
        self._route(head=False)

    def do_HEAD(self) -> None:
        self._route(head=True)

    def _route(self, *, head: bool) -> None:
        path = urlsplit(self.path).path
        self.sim.requests.append(("HEAD" if head else "GET", self.path))
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:2] == ["api", "models"] and len(parts) >= 4:
            repo = self._repo(f"{parts[2]}/{parts[3]}")
            if repo is None:
                return
            if len(parts) == 4 or (len(parts) == 6 and parts[4] == "revision"):
                revision = parts[5] if len(parts) == 6 else "main"
                if self._check_revision(repo, revision):
                    self._json(HTTPStatus.OK, _model_info(repo))
                return
        if len(parts) >= 5 and parts[2] == "resolve":
            repo = self._repo(f"{parts[0]}/{parts[1]}")
            if repo is not None and self._check_revision(repo, parts[3]):
                self._resolve(repo, "/".join(parts[4:]), head=head)
            return
        self._error(HTTPStatus.NOT_FOUND, "NotFound", f"no route for {path}")

    def _repo(self, repo_id: str) -> SimRepo | None:
        repo = self.sim.repos.get(repo_id)
        if repo is None:
            self._error(HTTPStatus.NOT_FOUND, "RepoNotFound", f"Repository {repo_id} not found")
        return repo

    def _check_revision(self, repo: SimRepo, revision: str) -> bool:
        if revision in ("main", "refs/heads/main", repo.sha):
            return True
        self._error(HTTPStatus.NOT_FOUND, "RevisionNotFound", f"Invalid rev id: {revision}")
        return False

    def _resolve(self, repo: SimRepo, filename: str, *, head: bool) -> None:
        data = repo.files.get(filename)
        if data is None:
            self._error(HTTPStatus.NOT_FOUND, "EntryNotFound", f"{filename} does not exist on main")
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", f'"{git_blob_sha1(data)}"')
        self.send_header("X-Repo-Commit", repo.sha)
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _json(self, status: HTTPStatus, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: HTTPStatus, code: str, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _model_info(repo: SimRepo) -> dict[str, Any]:
    return {
        "id": repo.repo_id,
        "modelId": repo.repo_id,
        "sha": repo.sha,
        "private": repo.private,
        "siblings": [{"rfilename": name} for name in sorted(repo.files)],
    }
