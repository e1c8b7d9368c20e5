"""Artificial Analysis (AA): the API client, model matching, and AA evaluations as Scores.

The free API allows 1,000 requests a day and returns every model in one listing, so the client
fetches each endpoint page at most once per TTL (default 12 h) and keeps it on disk; concurrent
callers in one process share one fetch. Both response shapes are read: the Data API
(`/data/llms/models`, `{"data": [...]}`) and the paginated `/language/models` envelope
(`{"pagination": {"has_more": ...}, "data": [...]}`) — reference/hub-protocol.md §5.

Matching never guesses: an AA model id (stable, preferred), a `creator/slug`, a slug, or the
`aa:` mapping in evalbot.yaml; with none of those the error lists the closest AA models.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

import requests
import yaml

from bot.config.settings import Secret
from bot.core import benchmarks
from bot.core.benchmarks import slug as dataset_slug
from bot.core.scores import Dataset, Metric, Score, Source, Task, Unit
from bot.edges._http import (
    ErrorTable,
    Failed,
    Failure,
    RetryPolicy,
    error_for,
    failure_of,
    retry_after,
    retryable,
    retrying,
)
from bot.errors import ArtificialAnalysisError, ArtificialAnalysisKeyError, ArtificialAnalysisRateLimited, InputError

logger = logging.getLogger(__name__)

DEFAULT_BASE = "https://artificialanalysis.ai/api/v2"
DEFAULT_ENDPOINT = "/data/llms/models"
DEFAULT_TTL = 12 * 3600.0
SOURCE_KEY = "artificial_analysis"  # .eval_results/artificial_analysis.yaml
SOURCE_NAME = "Artificial Analysis"
MODEL_PAGE = "https://artificialanalysis.ai/models/{slug}"
_MAX_PAGES = 100
_TIMEOUT = (10.0, 60.0)


@dataclass(frozen=True)
class AAModel:
    """One model as AA lists it; `evaluations` is an open dict (fields come and go)."""

    id: str
    name: str
    slug: str
    creator_slug: str
    creator_name: str
    evaluations: Mapping[str, float | None] = field(default_factory=dict)
    release_date: str | None = None

    @property
    def page_url(self) -> str:
        return MODEL_PAGE.format(slug=self.slug)

    @property
    def label(self) -> str:
        return f"{self.creator_slug}/{self.slug} ({self.name}, id {self.id})"


@dataclass(frozen=True)
class AAListing:
    """Every model of an endpoint, and when AA sent it."""

    models: tuple[AAModel, ...]
    fetched_at: float


@dataclass(frozen=True)
class AASettings:
    api_key: Secret | None
    base_url: str = DEFAULT_BASE
    endpoint: str = DEFAULT_ENDPOINT
    cache_dir: Path | None = None
    ttl: float = DEFAULT_TTL
    attempts: int = 4
    base_wait: float = 1.0
    max_wait: float = 60.0


class AAClient:
    """Fetches AA's model listing with retries and a disk cache. Thread-safe."""

    def __init__(
        self, settings: AASettings, *, session: requests.Session | None = None, now: Callable[[], float] = time.time
    ) -> None:
        self._settings = settings
        self._session = session or requests.Session()
        self._now = now
        self._lock = threading.Lock()
        self._memory: AAListing | None = None
        self.requests = 0  # HTTP requests made, retries included

    def __repr__(self) -> str:
        return f"AAClient(base_url={self._settings.base_url!r}, api_key={'***' if self._settings.api_key else None})"

    def listing(self) -> AAListing:
        """All models of the configured endpoint: from memory, the disk cache, or AA (all pages)."""
        with self._lock:  # one fetch per process, however many workers ask at once
            now = self._now()
            if self._memory is not None and now - self._memory.fetched_at < self._settings.ttl:
                return self._memory
            cached = self._read_cache(now)
            if cached is None:
                cached = AAListing(tuple(self._fetch_all()), now)
                self._write_cache(cached)
            self._memory = cached
            return cached

    def _fetch_all(self) -> list[AAModel]:
        models: list[AAModel] = []
        page = 1
        while True:
            payload = self._get(page)
            models.extend(parse_models(payload))
            pagination = payload.get("pagination") if isinstance(payload, dict) else None
            if not (isinstance(pagination, dict) and pagination.get("has_more")) or page >= _MAX_PAGES:
                return models
            page += 1

    def _get(self, page: int) -> dict[str, Any]:
        key = self._settings.api_key
        if not key:
            raise ArtificialAnalysisKeyError(
                "AA_API_KEY missing or invalid: set AA_API_KEY to your Artificial Analysis key"
            )
        url = self._settings.base_url.rstrip("/") + self._settings.endpoint
        params = {"page": str(page)} if page > 1 or "/language/" in self._settings.endpoint else {}

        def get() -> dict[str, Any]:
            self.requests += 1  # listing() holds the lock while fetching
            response = self._session.get(url, params=params, headers={"x-api-key": key.reveal()}, timeout=_TIMEOUT)
            if response.status_code != 200:
                raise _Refused(response)
            try:
                data = response.json()
            except ValueError as e:
                raise ArtificialAnalysisError(f"Artificial Analysis API sent a body that is not JSON ({url})") from e
            if not isinstance(data, dict) or not isinstance(data.get("data"), list):
                raise ArtificialAnalysisError(
                    f"Artificial Analysis API sent an unexpected shape (no 'data' list) at {url}"
                )
            return data

        settings = self._settings
        loop = retrying(
            RetryPolicy(settings.attempts, settings.base_wait, settings.max_wait),
            retry_on=lambda e: retryable(_failure(e)),
            retry_after_of=lambda e: retry_after(e.response.headers) if isinstance(e, _Refused) else None,
        )
        try:
            return loop(get)
        except (_Refused, requests.ConnectionError, requests.Timeout) as e:
            status = e.response.status_code if isinstance(e, _Refused) else None
            asked = retry_after(e.response.headers) if isinstance(e, _Refused) else None
            failed = Failed(_failure(e), status, "fetch the model listing", url, type(e).__name__, asked)
            raise error_for(failed, _ERRORS, secrets=(key.reveal(),)) from e

    # ---- the disk cache ----------------------------------------------------------------

    def _cache_path(self) -> Path | None:
        if self._settings.cache_dir is None:
            return None
        key = self._settings.api_key
        if not key:  # no key: nothing cached may stand in for AA's answer
            return None
        # Keyed by the API key's hash too: a listing is only ever written after AA accepted that key,
        # so a cached answer is used only for a key AA accepted (a wrong or missing key is refused).
        key_hash = hashlib.sha256(key.reveal().encode()).hexdigest()
        identity = f"{self._settings.base_url}|{self._settings.endpoint}|{key_hash}"
        name = hashlib.sha256(identity.encode()).hexdigest()[:24]
        return self._settings.cache_dir / f"{name}.json"

    def _read_cache(self, now: float) -> AAListing | None:
        path = self._cache_path()
        if path is None or not path.is_file():
            return None
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            fetched_at = float(stored["fetched_at"])
            if now - fetched_at >= self._settings.ttl:
                return None
            return AAListing(tuple(parse_models({"data": stored["data"]})), fetched_at)
        except (OSError, ValueError, KeyError, TypeError):
            logger.warning("ignoring a damaged Artificial Analysis cache file %s", path)
            return None

    def _write_cache(self, listing: AAListing) -> None:
        path = self._cache_path()
        if path is None:
            return
        data = [_model_json(m) for m in listing.models]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"fetched_at": listing.fetched_at, "data": data}), encoding="utf-8")
        tmp.replace(path)  # atomic: a reader never sees half a file


class _Refused(Exception):
    """AA answered, but not 200: carries the answer to the retry loop and to `_ERRORS`."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def _failure(error: BaseException) -> Failure:
    if isinstance(error, _Refused):
        return failure_of(error.response.status_code)
    return "unreachable" if isinstance(error, (requests.ConnectionError, requests.Timeout)) else "other"


def _key_error(f: Failed) -> ArtificialAnalysisError:
    return ArtificialAnalysisKeyError(f"AA_API_KEY missing or invalid (the API answered {f.status})")


# What each kind of failed request becomes (`_http.error_for`).
_ERRORS: ErrorTable = {
    "unauthorized": _key_error,
    "forbidden": _key_error,
    "rate_limited": lambda f: ArtificialAnalysisRateLimited(f.retry_after),
    "transient": lambda f: ArtificialAnalysisError(
        f"Artificial Analysis API kept failing ({f.status}); try again later"
    ),
    "unreachable": lambda f: ArtificialAnalysisError(
        f"cannot reach Artificial Analysis at {f.where}; check AA_API_BASE"
    ),
    "other": lambda f: ArtificialAnalysisError(f"Artificial Analysis API answered {f.status} for {f.where}"),
}


def _model_json(model: AAModel) -> dict[str, Any]:
    return {
        "id": model.id,
        "name": model.name,
        "slug": model.slug,
        "release_date": model.release_date,
        "model_creator": {"slug": model.creator_slug, "name": model.creator_name},
        "evaluations": dict(model.evaluations),
    }


# Artificial Analysis rates LLMs (text in, text out; some take images too). A card that declares
# another pipeline (speech recognition, translation, image classification, ...) is not such a model.
LLM_PIPELINES = frozenset({"text-generation", "text2text-generation", "image-text-to-text", "any-to-any"})


def pipeline_mismatch(card_data: Mapping[str, Any]) -> str | None:
    """Why AA's scores do not fit this card (its `pipeline_tag` is not an LLM's), or None.

    >>> pipeline_mismatch({"pipeline_tag": "automatic-speech-recognition"})[:60]
    'Artificial Analysis rates LLMs; this card declares pipeline_'
    >>> pipeline_mismatch({"pipeline_tag": "text-generation"}) is None
    True
    """
    tag = card_data.get("pipeline_tag")
    if not isinstance(tag, str) or not tag.strip() or tag.strip() in LLM_PIPELINES:
        return None
    return (
        f"Artificial Analysis rates LLMs; this card declares pipeline_tag: {tag.strip()} "
        "(import anyway with --force if the model really is an LLM)"
    )


def parse_models(payload: Mapping[str, Any]) -> list[AAModel]:
    """Models from either response shape; entries without an id or slug are skipped."""
    models = []
    for item in payload.get("data") or ():
        if not isinstance(item, dict) or not item.get("id") or not item.get("slug"):
            continue
        creator = _mapping(item.get("model_creator"))
        evaluations = _mapping(item.get("evaluations"))
        models.append(
            AAModel(
                id=str(item["id"]),
                name=str(item.get("name") or item["slug"]),
                slug=str(item["slug"]),
                creator_slug=str(creator.get("slug") or ""),
                creator_name=str(creator.get("name") or ""),
                evaluations={str(k): _number(v) for k, v in evaluations.items()},
                release_date=str(item["release_date"]) if item.get("release_date") else None,
            )
        )
    return models


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


# ---- matching --------------------------------------------------------------------------


def find_model(
    models: Sequence[AAModel],
    *,
    repo_id: str,
    model: str | None = None,
    creator_slug: str | None = None,
    model_name: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> AAModel:
    """The AA model for `repo_id`: by id, `creator/slug`, slug, or the configured mapping.

    Raises:
        InputError: nothing names the model, or the name matches nothing / several models;
            the message lists the closest AA models.
    """
    wanted = model or (f"{creator_slug}/{model_name}" if creator_slug and model_name else model_name)
    how = "--aa-model" if model else "--creator-slug/--model-name"
    if wanted is None and mapping and repo_id in mapping:
        wanted, how = mapping[repo_id], "the aa: mapping in evalbot.yaml"
    if wanted is None:
        raise InputError(
            f"{repo_id}: which Artificial Analysis model is this? Pass --aa-model <id or creator/slug> or map it "
            f"under aa: in evalbot.yaml; closest by name: {_suggestions(models, repo_id)}"
        )
    by_id = [m for m in models if m.id == wanted]
    if by_id:
        return by_id[0]
    creator, _, slug = wanted.rpartition("/")
    found = [m for m in models if m.slug == slug and (not creator or m.creator_slug == creator)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        listed = "; ".join(m.label for m in found)
        raise InputError(f"{repo_id}: {wanted!r} ({how}) matches several AA models: {listed}; pass the AA model id")
    raise InputError(
        f"{repo_id}: no Artificial Analysis model {wanted!r} ({how}); closest by name: {_suggestions(models, slug)}"
    )


def _suggestions(models: Sequence[AAModel], name: str, n: int = 5) -> str:
    target = name.rsplit("/", 1)[-1].casefold().replace("_", "-").replace(".", "-")
    by_key = {m.slug.casefold(): m for m in models}
    by_key.update({m.name.casefold(): m for m in models})
    close = difflib.get_close_matches(target, list(by_key), n=n, cutoff=0.3)
    picked = list(dict.fromkeys(by_key[c].label for c in close))
    return "; ".join(picked) if picked else "none (check the AA model list)"


# ---- AA evaluations → Scores -------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    benchmark: str
    unit: Unit


@cache
def _fields() -> Mapping[str, _Field]:
    text = resources.files("bot.edges").joinpath("artificial_analysis.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)["fields"]
    return {key: _Field(str(v["benchmark"]), cast(Unit, v["unit"])) for key, v in raw.items()}


def scores_from_model(model: AAModel, *, fetched_at: float, task_type: str = "text-generation") -> list[Score]:
    """Every non-null evaluation of `model` as a Score, with AA as the attributed source."""
    scores = []
    source = Source(SOURCE_NAME, model.page_url)
    for key, value in sorted(model.evaluations.items(), key=lambda kv: _order(kv[0])):
        if value is None:
            continue
        spec = _fields().get(key) or _Field(key.replace("_", " ").title(), "fraction" if 0 <= value <= 1 else "raw")
        known = benchmarks.lookup_benchmark(spec.benchmark)
        if known is not None:
            dataset = benchmarks.dataset_of(known)
            metric_type = known.metric
        else:
            dataset = Dataset(name=spec.benchmark, type=dataset_slug(spec.benchmark))
            metric_type = "score"
        scores.append(
            Score(
                benchmark=dataset.name,
                dataset=dataset,
                task=Task(task_type),
                metric=Metric(
                    type=metric_type, value=value, name=f"{spec.benchmark} (Artificial Analysis)", unit=spec.unit
                ),
                source=source,
                provenance={"aa_model_id": model.id, "field": key, "fetched_at": _iso(fetched_at)},
            )
        )
    return scores


def _order(key: str) -> tuple[int, str]:
    known = list(_fields())
    return (known.index(key), key) if key in known else (len(known), key)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
