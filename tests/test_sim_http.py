"""The stand-ins' shared HTTP base (`bot.sim._http`), on a small echo stand-in over real HTTP."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from bot.sim._http import StandIn, StandInHandler, StandInServer, count_requests, json_object, parse_authorization


class EchoSim(StandIn[tuple[str, str]]):
    """Answers every request with what it read: the body as JSON, the bearer token; `/fail` is a 418."""

    thread_name = "echo-sim"
    url_path = "/api"

    def __init__(self) -> None:
        super().__init__(StandInServer(0, _EchoHandler, self))


class _EchoHandler(StandInHandler[EchoSim]):
    methods = frozenset({"GET", "HEAD", "POST"})

    def answer(self) -> None:
        self.owner.record((self.command, self.path))
        body = self.read_body()
        if self.path.startswith("/api/fail"):
            self.send_json(418, {"error": "I'm a teapot"}, [("X-Error-Code", "Teapot")])
            return
        try:
            payload: Any = json_object(body)
        except ValueError as e:
            self.send_json(400, {"error": str(e)})
            return
        self.send_json(200, {"token": self.authorization(), "body": payload})


@pytest.fixture
def sim() -> Iterator[EchoSim]:
    with EchoSim() as echo:
        yield echo


def test_url_lifecycle_and_thread_name(sim: EchoSim) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api", sim.url)
    assert "echo-sim" in {t.name for t in threading.enumerate()}
    assert requests.get(f"{sim.url}/x", timeout=5).status_code == 200


def test_stop_without_start_returns() -> None:
    EchoSim().stop()  # no thread to end: closes the socket, does not wait for `serve_forever`


def test_requests_are_recorded_and_counted(sim: EchoSim) -> None:
    with requests.Session() as http:
        http.get(f"{sim.url}/models?page=2", timeout=5)
        http.post(f"{sim.url}/models", json={"a": 1}, timeout=5)
        http.post(f"{sim.url}/jobs", json={}, timeout=5)
    assert sim.requests == [("GET", "/api/models?page=2"), ("POST", "/api/models"), ("POST", "/api/jobs")]
    assert count_requests(sim.recorded()) == 3
    assert count_requests(sim.recorded(), "POST") == 2
    assert count_requests(sim.recorded(), path_prefix="/api/models") == 2
    assert count_requests(sim.recorded(), "POST", "/api/jobs") == 1
    sim.reset_requests()
    assert sim.requests == [] and sim.recorded() == []


def test_json_reply_and_error_body_shape(sim: EchoSim) -> None:
    ok = requests.post(f"{sim.url}/x", json={"k": [1, "two"]}, timeout=5)
    assert ok.status_code == 200 and ok.headers["Content-Type"] == "application/json"
    assert ok.content == b'{"token": null, "body": {"k": [1, "two"]}}'
    assert ok.headers["Content-Length"] == str(len(ok.content))
    failed = requests.get(f"{sim.url}/fail", timeout=5)
    assert failed.status_code == 418 and failed.headers["X-Error-Code"] == "Teapot"
    assert failed.json() == {"error": "I'm a teapot"}
    bad = requests.post(f"{sim.url}/x", data=b"[1, 2]", timeout=5)
    assert bad.status_code == 400 and bad.json() == {"error": "request body must be a JSON object"}


def test_head_has_headers_and_no_body(sim: EchoSim) -> None:
    r = requests.head(f"{sim.url}/fail", timeout=5)
    assert r.status_code == 418 and r.content == b"" and int(r.headers["Content-Length"]) > 0


def test_chunked_body_is_read(sim: EchoSim) -> None:
    r = requests.post(f"{sim.url}/x", data=iter([b'{"a": ', b"1}"]), timeout=5)  # a generator: chunked
    assert r.json() == {"token": None, "body": {"a": 1}}


def test_method_not_served_answers_501_like_http_server(sim: EchoSim) -> None:
    r = requests.patch(f"{sim.url}/x", json={}, timeout=5)
    assert r.status_code == 501 and "Unsupported method ('PATCH')" in r.text
    assert sim.requests == []  # never reached `answer`


def test_bearer_token_reaches_the_handler(sim: EchoSim) -> None:
    r = requests.get(f"{sim.url}/x", headers={"Authorization": "Bearer  tok-1 "}, timeout=5)
    assert r.json()["token"] == "tok-1"
    r = requests.get(f"{sim.url}/x", headers={"Authorization": "token tok-1"}, timeout=5)
    assert r.json()["token"] is None  # not a bearer token


@pytest.mark.parametrize(
    ("header", "schemes", "expected"),
    [
        ("Bearer abc", ("bearer",), "abc"),
        ("bearer   abc  ", ("bearer",), "abc"),
        ("BEARER a b", ("bearer",), "a b"),
        ("Bearer", ("bearer",), None),
        ("Bearer   ", ("bearer",), None),
        ("", ("bearer",), None),
        ("Basic abc", ("bearer",), None),
        ("token abc", ("token", "bearer"), "abc"),
        ("Token abc", ("bearer",), None),
        ("abc", ("bearer",), None),
    ],
)
def test_parse_authorization(header: str, schemes: tuple[str, ...], expected: str | None) -> None:
    assert parse_authorization(header, schemes) == expected


def test_json_object() -> None:
    assert json_object(b"") == {} and json_object(b"  \n") == {}
    assert json_object(b'{"a": 1}') == {"a": 1}
    with pytest.raises(ValueError, match=r"^request body is not JSON: "):
        json_object(b"{nope")
    with pytest.raises(ValueError, match=r"^request body is not JSON: "):
        json_object(b'"\xff"')
    with pytest.raises(ValueError, match=r"^request body must be a JSON object$"):
        json_object(b"[1]")
