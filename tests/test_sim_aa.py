"""The Artificial Analysis stand-in, driven by the real `requests` library over HTTP (hub-protocol.md §5)."""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from bot.sim.aa import AASim, fixture_models, serve

KEY = "aa-secret-key-123"
NEWER_EVALS = ("aime_25", "ifbench", "lcr", "terminalbench_hard", "tau2")
MEDIANS = ("median_output_tokens_per_second", "median_time_to_first_token_seconds")


@pytest.fixture
def sim() -> Iterator[AASim]:
    with AASim(api_key=KEY) as aa:
        yield aa


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def get(http: requests.Session, sim: AASim, path: str, key: str | None = KEY, **params: Any) -> requests.Response:
    headers = {"x-api-key": key} if key is not None else {}
    return http.get(f"{sim.url}{path}", headers=headers, params=params, timeout=5)


def by_slug(models: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["slug"]: m for m in models}


# -- the two response shapes ---------------------------------------------------------------------


def test_url_is_the_api_base(sim: AASim) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/v2", sim.url)


def test_data_api_returns_every_model(sim: AASim, http: requests.Session) -> None:
    r = get(http, sim, "/data/llms/models")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == {"status", "data"} and body["status"] == 200
    assert body["data"] == fixture_models() == sim.models
    assert len(body["data"]) >= 10


def test_language_models_pagination(sim: AASim, http: requests.Session) -> None:
    models = fixture_models()
    total = math.ceil(len(models) / 3)
    assert total >= 4 and len(models) % 3 != 0  # the fixture ends on a short last page
    seen: list[dict[str, Any]] = []
    for page in range(1, total + 1):
        body = get(http, sim, "/language/models", page=page).json()
        assert body["tier"] == "free" and body["intelligence_index_version"] == 4.3
        assert body["pagination"] == {"page": page, "page_size": 3, "total_pages": total, "has_more": page < total}
        assert len(body["data"]) == (3 if page < total else len(models) - 3 * (total - 1))
        seen += body["data"]
    assert seen == models


def test_language_models_page_defaults_to_1(sim: AASim, http: requests.Session) -> None:
    body = get(http, sim, "/language/models").json()
    assert body["pagination"]["page"] == 1 and body["pagination"]["has_more"] is True
    assert [m["slug"] for m in body["data"]] == [m["slug"] for m in fixture_models()[:3]]


def test_page_beyond_the_end_is_empty(sim: AASim, http: requests.Session) -> None:
    total = math.ceil(len(fixture_models()) / 3)
    for page in (total + 1, 999):
        r = get(http, sim, "/language/models", page=page)
        assert r.status_code == 200
        body = r.json()
        assert body["data"] == [] and body["pagination"] == {
            "page": page, "page_size": 3, "total_pages": total, "has_more": False,
        }  # fmt: skip


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "", " 2", "+2"])
def test_bad_page_is_400(sim: AASim, http: requests.Session, page: str) -> None:
    r = get(http, sim, "/language/models", page=page)
    assert r.status_code == 400
    assert set(r.json()) == {"error"} and "page" in r.json()["error"].lower()


def test_custom_models_and_page_size(http: requests.Session) -> None:
    models = [{"id": str(i), "name": f"M{i}", "slug": f"m-{i}"} for i in range(5)]
    with AASim(models, page_size=2) as aa:
        body = get(http, aa, "/language/models", key=aa.api_key, page=3).json()
        assert body["pagination"] == {"page": 3, "page_size": 2, "total_pages": 3, "has_more": False}
        assert body["data"] == [models[4]]
        assert get(http, aa, "/data/llms/models", key="aa-test-key").json()["data"] == models
    with AASim([], page_size=10) as empty:
        body = get(http, empty, "/language/models", key=empty.api_key).json()
        assert body["data"] == [] and body["pagination"]["has_more"] is False


def test_constructor_validation() -> None:
    with pytest.raises(ValueError):
        AASim(page_size=0)
    with pytest.raises(ValueError):
        AASim(api_key="")


def test_trailing_slash_is_accepted(sim: AASim, http: requests.Session) -> None:
    assert get(http, sim, "/data/llms/models/").status_code == 200


# -- key check -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/data/llms/models", "/language/models"])
def test_missing_and_wrong_key_are_401(sim: AASim, http: requests.Session, path: str) -> None:
    for key in (None, ""):
        r = get(http, sim, path, key=key)
        assert r.status_code == 401 and r.json() == {"error": "API key is required"}
    r = get(http, sim, path, key="not-the-key")
    assert r.status_code == 401 and r.json() == {"error": "Invalid API key"}
    assert [present for _, _, present in sim.requests] == [False, False, True]


def test_key_is_never_echoed_or_logged(sim: AASim, http: requests.Session) -> None:
    responses = [
        get(http, sim, "/data/llms/models"),
        get(http, sim, "/language/models", page=KEY),  # 400 that would echo the page
        get(http, sim, f"/data/{KEY}/models"),  # 404 that would echo the path
        get(http, sim, "/language/models", key=KEY + "x"),
        http.get(f"{sim.url}/data/llms/models", params={"api_key": KEY}, timeout=5),
    ]
    assert [r.status_code for r in responses] == [200, 400, 404, 401, 401]
    for r in responses:
        assert KEY not in r.text and KEY not in json.dumps(dict(r.headers))
    assert KEY not in repr(sim.requests)
    assert [present for _, _, present in sim.requests] == [True, True, True, True, False]


def test_unknown_routes_are_404_json(sim: AASim, http: requests.Session) -> None:
    for path in ("/data/llms", "/data/media/text-to-image", "/language/models/free", "/nope"):
        r = get(http, sim, path)
        assert r.status_code == 404 and "error" in r.json()
    r = http.get(sim.url.removesuffix("/api/v2") + "/data/llms/models", headers={"x-api-key": KEY}, timeout=5)
    assert r.status_code == 404
    r = http.post(f"{sim.url}/data/llms/models", headers={"x-api-key": KEY}, json={"a": 1}, timeout=5)
    assert r.status_code == 404 and "error" in r.json()
    assert get(http, sim, "/data/llms/models").status_code == 200  # the connection is still in step


# -- faults --------------------------------------------------------------------------------------


def test_429_with_retry_after_then_success(sim: AASim, http: requests.Session) -> None:
    sim.inject(429, times=2, retry_after=7)
    for _ in range(2):
        r = get(http, sim, "/data/llms/models")
        assert r.status_code == 429 and r.headers["Retry-After"] == "7"
        assert r.json() == {"error": "Rate limit exceeded"}
    assert get(http, sim, "/data/llms/models").status_code == 200
    sim.inject("429")
    r = get(http, sim, "/language/models")
    assert r.status_code == 429 and "Retry-After" not in r.headers
    assert get(http, sim, "/language/models").status_code == 200


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors(sim: AASim, http: requests.Session, status: int) -> None:
    sim.inject(status)
    r = get(http, sim, "/language/models", page=2)
    assert r.status_code == status and "error" in r.json()
    assert get(http, sim, "/language/models", page=2).status_code == 200


def test_faults_queue_in_order_and_clear(sim: AASim, http: requests.Session) -> None:
    sim.inject(503)
    sim.inject(500)
    assert [get(http, sim, "/data/llms/models").status_code for _ in range(3)] == [503, 500, 200]
    sim.inject(500, times=None)
    assert [get(http, sim, "/data/llms/models").status_code for _ in range(3)] == [500, 500, 500]
    sim.clear_faults()
    assert get(http, sim, "/data/llms/models").status_code == 200


def test_inject_validation(sim: AASim) -> None:
    for bad in (404, "slow", 200):
        with pytest.raises(ValueError):
            sim.inject(bad)
    with pytest.raises(ValueError):
        sim.inject(500, times=0)


# -- request log ---------------------------------------------------------------------------------


def test_request_counting(sim: AASim, http: requests.Session) -> None:
    get(http, sim, "/data/llms/models")
    get(http, sim, "/language/models", page=1)
    get(http, sim, "/language/models", page=2)
    get(http, sim, "/language/models", key=None)
    assert sim.request_count() == 4
    assert sim.request_count("/api/v2/language/models") == 3
    assert sim.request_count("/api/v2/data/") == 1
    assert sim.requests[:2] == [
        ("GET", "/api/v2/data/llms/models", True),
        ("GET", "/api/v2/language/models?page=1", True),
    ]
    sim.reset_requests()
    assert sim.request_count() == 0 and sim.requests == []


# -- the fixture ---------------------------------------------------------------------------------


def test_fixture_shape_and_ids() -> None:
    models = fixture_models()
    slugs = [m["slug"] for m in models]
    assert len(models) >= 10 and len(set(slugs)) == len(slugs)
    assert {
        "o3-mini", "gpt-4o", "llama-3-1-instruct-8b", "llama-3-1-instruct-70b", "llama-3-2-instruct-3b",
        "qwen2-5-72b-instruct", "qwen3-8b", "deepseek-r1", "gemma-2-9b", "mistral-small-3", "phi-4",
    } <= set(slugs)  # fmt: skip
    for m in models:
        uuid.UUID(m["id"])
        uuid.UUID(m["model_creator"]["id"])
        assert set(m["model_creator"]) == {"id", "name", "slug"}
        assert isinstance(m["evaluations"], dict) and isinstance(m["pricing"], dict)
        for name, value in m["evaluations"].items():
            if value is None:
                continue
            limit = 100 if name.startswith("artificial_analysis_") else 1
            assert 0 <= value <= limit, (m["slug"], name, value)
    o3 = by_slug(models)["o3-mini"]
    assert o3["id"] == "2dad8957-4c16-4e74-bf2d-8b21514e0ae9"  # the documented §5.1 example
    assert o3["evaluations"]["gpqa"] == 0.748 and o3["model_creator"]["slug"] == "openai"
    assert by_slug(models)["llama-3-1-instruct-8b"]["name"] == "Llama 3.1 Instruct 8B"
    assert by_slug(models)["qwen2-5-72b-instruct"]["name"] == "Qwen2.5 Instruct 72B"
    assert by_slug(models)["gemma-2-9b"]["name"] == "Gemma 2 9B"
    assert fixture_models() is not models and fixture_models() == models  # a fresh copy each call


def test_fixture_nulls_and_shape_drift(sim: AASim, http: requests.Session) -> None:
    models = by_slug(get(http, sim, "/data/llms/models").json()["data"])
    for slug in ("gpt-4o", "llama-3-1-instruct-8b", "llama-3-1-instruct-70b", "qwen2-5-72b-instruct"):
        evaluations = models[slug]["evaluations"]
        assert all(k in evaluations and evaluations[k] is None for k in NEWER_EVALS), slug
        assert evaluations["gpqa"] is not None
    # a model listed but not evaluated yet: every evaluation is null
    assert all(v is None for v in models["mistral-small-3"]["evaluations"].values())
    assert len(models["mistral-small-3"]["evaluations"]) >= 10
    # keys omitted entirely
    gemma = models["gemma-2-9b"]
    assert "release_date" not in gemma and "median_time_to_first_answer_token" not in gemma
    assert not {*NEWER_EVALS, "artificial_analysis_math_index"} & set(gemma["evaluations"])
    # shape drift: median_* under `performance`
    qwen3 = models["qwen3-8b"]
    assert not set(MEDIANS) & set(qwen3)
    assert all(isinstance(qwen3["performance"][k], float) for k in MEDIANS)
    assert [s for s, m in models.items() if "performance" in m] == ["qwen3-8b"]
    assert all(isinstance(m[k], float) for s, m in models.items() if s != "qwen3-8b" for k in MEDIANS)
    # the look-alike slug for matching tests
    assert models["llama-3-2-instruct-3b"]["model_creator"]["slug"] == "meta"
    assert models["llama-3-2-instruct-3b"]["id"] != models["llama-3-1-instruct-8b"]["id"]


# -- lifecycle -----------------------------------------------------------------------------------


def test_stop_ends_kept_alive_connections(http: requests.Session) -> None:
    aa = AASim().start()
    assert get(http, aa, "/data/llms/models", key="aa-test-key").status_code == 200
    started = time.monotonic()
    aa.stop()
    assert time.monotonic() - started < 2
    with pytest.raises(requests.ConnectionError):
        get(http, aa, "/data/llms/models", key="aa-test-key")


def test_serve_prints_banner_and_stops_on_ctrl_c(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(self: AASim) -> None:
        self._server.server_close()
        raise KeyboardInterrupt

    monkeypatch.setattr(AASim, "serve_forever", interrupted)
    serve(0, KEY)
    out = capsys.readouterr().out
    count = len(fixture_models())
    assert re.fullmatch(
        rf"Artificial Analysis stand-in listening on http://127\.0\.0\.1:\d+/api/v2 \({count} models\)\n", out
    )
    assert KEY not in out
