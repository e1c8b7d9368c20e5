"""A local Artificial Analysis API stand-in over real HTTP, for tests and offline runs.

Clients point their AA base URL at `AASim.url` (`http://127.0.0.1:PORT/api/v2`) and append the
endpoint path; nothing in the client is patched. It serves the two response shapes of
reference/hub-protocol.md §5:

* `GET /api/v2/data/llms/models` — the free "Data API": `{"status": 200, "data": [every model]}`;
* `GET /api/v2/language/models?page=N` — the newer paginated envelope
  `{"tier": "free", "intelligence_index_version": 4.3, "pagination": {"page", "page_size",
  "total_pages", "has_more"}, "data": [that page]}`; `page` defaults to 1, a page past the last
  answers `data: []` and `has_more: false`, a page that is not an integer ≥ 1 answers 400.

Both check the `x-api-key` header: missing (or empty) → 401 `{"error": "API key is required"}`,
wrong → 401 `{"error": "Invalid API key"}`. Any other path or method → 404 `{"error": ...}`
(no key check). Errors are `{"error": message}` JSON; no reply or log entry ever holds the key.

Faults (`inject(429 | 500 | 503, times=..., retry_after=...)`) fire on the next requests,
whatever their path, before the key check, as a gateway in front of the API would; queued
faults fire in the order they were injected.

Models default to the fixture `bot/sim/aa_models.json` (package data; see `fixture_models`).

    with AASim() as aa:
        requests.get(f"{aa.url}/data/llms/models", headers={"x-api-key": aa.api_key}).json()
"""

from __future__ import annotations

import contextlib
import copy
import hmac
import json
import math
import re
import threading
import traceback
from dataclasses import dataclass
from http import HTTPStatus
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from bot.sim._http import StandIn, StandInHandler, StandInServer, count_requests

__all__ = ["API_PREFIX", "DEFAULT_API_KEY", "AASim", "fixture_models", "serve"]

API_PREFIX = "/api/v2"
DEFAULT_API_KEY = "aa-test-key"
INTELLIGENCE_INDEX_VERSION = 4.3
FAULT_KINDS = (429, 500, 503)
_REDACTED = "<redacted>"
_PAGE = re.compile(r"[0-9]+")


def fixture_models() -> list[dict[str, Any]]:
    """A fresh copy of the shipped fixture, `bot/sim/aa_models.json`."""
    text = resources.files("bot.sim").joinpath("aa_models.json").read_text(encoding="utf-8")
    models = json.loads(text)
    if not isinstance(models, list) or not all(isinstance(m, dict) for m in models):
        raise ValueError("aa_models.json must hold a JSON list of objects")
    return models


@dataclass
class _Fault:
    status: int
    remaining: int | None  # None: until `clear_faults`
    retry_after: int | None


@dataclass
class _Reply:
    status: int
    payload: object
    headers: tuple[tuple[str, str], ...] = ()


class AASim(StandIn[tuple[str, str, bool]]):
    """A threaded HTTP server on 127.0.0.1 that answers like the Artificial Analysis API."""

    thread_name = "aa-sim"
    url_path = API_PREFIX  # `url` is the API base, e.g. `http://127.0.0.1:PORT/api/v2`; clients append the endpoint

    def __init__(
        self,
        models: list[dict[str, Any]] | None = None,
        *,
        api_key: str = DEFAULT_API_KEY,
        page_size: int = 3,
        port: int = 0,
    ) -> None:
        if not api_key:
            raise ValueError("api_key must not be empty")
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, not {page_size}")
        self._models = fixture_models() if models is None else copy.deepcopy(models)
        self.api_key = api_key
        self.page_size = page_size
        self._lock = threading.Lock()  # guards the faults
        self._faults: list[_Fault] = []
        super().__init__(StandInServer(port, _Handler, self))  # `requests`: (method, path with query, api_key_present)

    @property
    def models(self) -> list[dict[str, Any]]:
        """A copy of the models served, in order."""
        return copy.deepcopy(self._models)

    # -- faults ----------------------------------------------------------------------------------

    def inject(self, kind: int | str, *, times: int | None = 1, retry_after: int | None = None) -> None:
        """Answer the next `times` requests (None: all, until `clear_faults`) with status `kind`.

        `kind` is 429, 500 or 503 (int or str); a 429 carries `Retry-After: retry_after` when given.
        """
        try:
            status = int(kind)
        except ValueError:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}, not {kind!r}") from None
        if status not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}, not {kind!r}")
        if times is not None and times < 1:
            raise ValueError(f"times must be at least 1 (or None), not {times}")
        if retry_after is not None and retry_after < 0:
            raise ValueError(f"retry_after must not be negative, not {retry_after}")
        with self._lock:
            self._faults.append(_Fault(status, times, retry_after))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self) -> _Fault | None:
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.pop(0)
            return fault

    # -- request log -----------------------------------------------------------------------------

    def request_count(self, path_prefix: str | None = None) -> int:
        """Requests seen whose path (with query) starts with `path_prefix`, e.g. `/api/v2/language`."""
        return count_requests(self.recorded(), None, path_prefix)

    def _log(self, method: str, path: str, key_present: bool) -> None:
        self.record((method, self._redact(path), key_present))

    def _redact(self, text: str) -> str:
        """`text` with the key (plain or URL-quoted) replaced, for anything logged or echoed."""
        for form in (self.api_key, quote(self.api_key, safe="")):
            text = text.replace(form, _REDACTED)
        return text

    # -- answers ---------------------------------------------------------------------------------

    def _answer(self, method: str, raw_path: str, key: str | None) -> _Reply:
        fault = self._take_fault()
        if fault is not None:
            return _fault_reply(fault)
        split = urlsplit(raw_path)
        path = split.path.rstrip("/")
        if method not in ("GET", "HEAD") or path not in (
            f"{API_PREFIX}/data/llms/models",
            f"{API_PREFIX}/language/models",
        ):
            return _error(HTTPStatus.NOT_FOUND, f"Not found: {method} {self._redact(split.path)}")
        if not key:
            return _error(HTTPStatus.UNAUTHORIZED, "API key is required")
        if not hmac.compare_digest(key.encode(), self.api_key.encode()):
            return _error(HTTPStatus.UNAUTHORIZED, "Invalid API key")
        if path.endswith("/data/llms/models"):
            return _Reply(200, {"status": 200, "data": self._models})
        return self._page(parse_qs(split.query, keep_blank_values=True).get("page", ["1"])[0])

    def _page(self, raw: str) -> _Reply:
        if not _PAGE.fullmatch(raw) or int(raw) < 1:
            return _error(HTTPStatus.BAD_REQUEST, f"Invalid page {self._redact(raw)!r}: must be an integer >= 1")
        page, size = int(raw), self.page_size
        total_pages = math.ceil(len(self._models) / size)
        data = self._models[(page - 1) * size : page * size] if page <= total_pages else []
        return _Reply(
            200,
            {
                "tier": "free",
                "intelligence_index_version": INTELLIGENCE_INDEX_VERSION,
                "pagination": {
                    "page": page,
                    "page_size": size,
                    "total_pages": total_pages,
                    "has_more": page < total_pages,
                },
                "data": data,
            },
        )


def _error(status: HTTPStatus, message: str, headers: tuple[tuple[str, str], ...] = ()) -> _Reply:
    return _Reply(status.value, {"error": message}, headers)


def _fault_reply(fault: _Fault) -> _Reply:
    status = HTTPStatus(fault.status)
    message = "Rate limit exceeded" if status == HTTPStatus.TOO_MANY_REQUESTS else status.phrase
    headers: tuple[tuple[str, str], ...] = ()
    if status == HTTPStatus.TOO_MANY_REQUESTS and fault.retry_after is not None:
        headers = (("Retry-After", str(fault.retry_after)),)
    return _error(status, message, headers)


class _Handler(StandInHandler[AASim]):
    def answer(self) -> None:
        sim = self.owner
        key = self.headers.get("x-api-key", "").strip() or None
        sim._log(self.command, self.path, key is not None)
        self._drain_body()
        try:
            reply = sim._answer(self.command, self.path, key)
        except Exception as e:  # a bug in the stand-in: answer 500 and say so on stderr
            traceback.print_exc()
            reply = _error(HTTPStatus.INTERNAL_SERVER_ERROR, f"AA stand-in error: {type(e).__name__}")
        self.send_json(reply.status, reply.payload, reply.headers)

    def _drain_body(self) -> None:
        """Read (and ignore) a request body so a kept-alive connection stays in step."""
        length = self.content_length()
        if length > 0:
            self.rfile.read(length)
        elif self.chunked():
            self.close_connection = True  # no route takes a body: don't parse it, end the connection


def serve(port: int, api_key: str) -> None:
    """Serve the fixture models on 127.0.0.1:`port` with `api_key` until Ctrl-C."""
    sim = AASim(api_key=api_key, port=port)
    print(f"Artificial Analysis stand-in listening on {sim.url} ({len(sim.models)} models)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sim.serve_forever()
