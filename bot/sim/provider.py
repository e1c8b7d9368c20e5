"""A local OpenAI-compatible endpoint over real HTTP: the stand-in for an Inference Provider.

Clients point their base URL at `OpenAISim.url` (`http://127.0.0.1:PORT/v1`); nothing in the client
is patched. Routes:

* `POST /v1/chat/completions` — a chat completion for `model`, as one JSON answer, or as
  server-sent events (`stream: true`: one content chunk, a final chunk with `finish_reason` and
  `usage`, then `data: [DONE]`);
* `GET /v1/models` — the served models.

Both need `Authorization: Bearer <api_key>` (401 otherwise). A model it does not serve is a 404
(`{"error": {"message", "type", "code": "model_not_found"}}`). The reply text comes from
`answer(prompt)` (default: `ANSWER: A` when the prompt asks for an `ANSWER:` line, else `4`), so
scores are known in advance. Every request body is recorded (`requests`), never the key, so a test
can check exactly what the client sent (temperature, max_tokens, model).

    with OpenAISim(models=["acme/tiny-llama"]) as provider:   # bot.sim.provider
        openai.OpenAI(base_url=provider.url, api_key=provider.api_key).chat.completions.create(...)
"""

from __future__ import annotations

import contextlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from bot.sim._http import StandIn, StandInHandler, StandInServer

__all__ = ["DEFAULT_API_KEY", "OpenAISim", "default_answer"]

DEFAULT_API_KEY = "provider-test-key"


def default_answer(prompt: str) -> str:
    """`ANSWER: A` for a multiple-choice prompt (it asks for an `ANSWER:` line), else `4`."""
    return "ANSWER: A" if "ANSWER:" in prompt else "4"


class OpenAISim(StandIn[dict[str, Any]]):
    """The endpoint; `start`/`stop` or use it as a context manager. `url` is `http://127.0.0.1:PORT/v1`."""

    thread_name = "openai-sim"
    url_path = "/v1"

    def __init__(
        self,
        models: Sequence[str],
        *,
        api_key: str = DEFAULT_API_KEY,
        answer: Callable[[str], str] = default_answer,
        port: int = 0,
    ) -> None:
        self.models = tuple(models)
        self.api_key = api_key
        self.answer = answer
        super().__init__(StandInServer(port, _Handler, self))

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The JSON bodies of the chat completion requests so far, in order (copies)."""
        return [dict(r) for r in self.recorded()]

    def _authorized(self, header: str | None) -> bool:
        scheme, _, key = (header or "").partition(" ")
        return scheme.lower() == "bearer" and bool(key) and hmac.compare_digest(key.encode(), self.api_key.encode())

    def _complete(self, body: dict[str, Any]) -> tuple[int, dict[str, Any] | None, str]:
        """(status, JSON answer or None when streaming, the reply text)."""
        self.record(body)
        model = body.get("model")
        if model not in self.models:
            error = {"message": f"model {model!r} is not served here", "type": "invalid_request_error"}
            return 404, {"error": {**error, "code": "model_not_found"}}, ""
        messages = body.get("messages") or []
        prompt = "\n".join(_text(m.get("content")) for m in messages if isinstance(m, dict))
        text = self.answer(prompt)
        if body.get("stream"):
            return 200, None, text
        return 200, _completion(str(model), text, prompt), text


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _usage(prompt: str, text: str) -> dict[str, int]:
    prompt_tokens, completion_tokens = len(prompt.split()), len(text.split())
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _completion(model: str, text: str, prompt: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{time.time_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop", "logprobs": None}
        ],
        "usage": _usage(prompt, text),
    }


def _chunks(model: str, text: str) -> list[dict[str, Any]]:
    base = {"id": f"chatcmpl-{time.time_ns()}", "object": "chat.completion.chunk", "created": int(time.time())}
    return [
        {**base, "model": model, "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}}]},
        {
            **base,
            "model": model,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "usage": _usage("", text),
        },
    ]


class _Handler(StandInHandler[OpenAISim]):
    methods = frozenset({"GET", "POST"})
    wbufsize = 0  # unbuffered: a client gone before the answer is ignored (see `_send`)
    disable_nagle_algorithm = False

    def answer(self) -> None:
        if self.command == "GET":
            self._get()
        else:
            self._post()

    def _get(self) -> None:
        sim = self.owner
        if not sim._authorized(self.headers.get("Authorization")):
            self._json(401, {"error": {"message": "invalid api key", "type": "authentication_error"}})
        elif self.path.split("?", 1)[0] == "/v1/models":
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "evalbot-sim"} for m in sim.models]
            self._json(200, {"object": "list", "data": data})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def _post(self) -> None:
        sim = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not sim._authorized(self.headers.get("Authorization")):
            self._json(401, {"error": {"message": "invalid api key", "type": "authentication_error"}})
            return
        if self.path.split("?", 1)[0] != "/v1/chat/completions":
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._json(400, {"error": {"message": "the body is not JSON", "type": "invalid_request_error"}})
            return
        if not isinstance(body, dict):
            self._json(400, {"error": {"message": "expected a JSON object", "type": "invalid_request_error"}})
            return
        status, answer, text = sim._complete(body)
        if answer is not None:
            self._json(status, answer)
            return
        events = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in _chunks(str(body["model"]), text))
        self._send(200, (events + "data: [DONE]\n\n").encode(), "text/event-stream")

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        with contextlib.suppress(OSError):
            self.send_body(status, body, content_type)
