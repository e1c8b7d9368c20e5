"""`evalbot serve`: Hub webhooks in, a durable queue, workers, a status page (DESIGN §8).

Starlette + uvicorn: a small, well-kept ASGI stack (what FastAPI itself is built on) with no
framework we do not need; the webhook handler only checks, records and queues — the work happens
in worker threads that lease jobs from the SQLite store, so an acknowledgement is fast and a
crash loses nothing (a leased job comes back when its lease expires). This module is the routing
and HTTP only: the page is `status.py` (a template), the Prometheus text `metrics.py`.

The webhook body is read as a stream and refused (413) as soon as it passes `MAX_BODY`, chunked
or not. The status surface (`/`, `/api/jobs`, `/metrics`) takes a bearer token when
`status_token` is set (`EVALBOT_STATUS_TOKEN`); without one it answers only on a loopback
interface (`public=False`), never unauthenticated on a public one. `/healthz` is always open.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.core import events
from bot.edges.store import Store
from bot.errors import PayloadError, TemplateError
from bot.serve import metrics, status
from bot.serve.worker import Worker

logger = logging.getLogger(__name__)

MAX_BODY = 1_000_000
MAX_JOBS_LIMIT = 1000
_JOB_STATES = ("queued", "running", "done", "failed")


@dataclass
class Routing:
    """Which events make which jobs (from evalbot.yaml; pure decisions)."""

    is_watched: Callable[[str], bool]
    sources_for: Callable[[str], tuple[str, ...]]
    new_repo_sources: tuple[str, ...] = ()
    bot_ids: frozenset[str] = frozenset()  # the bot's own Hub id(s): its events are ignored
    is_own_commit: Callable[[str, str], bool] = lambda repo_id, sha: False  # commits evalbot pushed itself


def decide_job(event: events.HubEvent, routing: Routing) -> tuple[str, dict[str, Any]] | str:
    """(job kind, enqueue arguments) for an event, or the reason it makes no job."""
    if not events.is_model_repo(event):
        return f"not a model repo ({event.repo_type})"
    if not routing.is_watched(event.repo_id):
        return "repo not watched"
    if events.author_ids(event) & routing.bot_ids:
        return "caused by evalbot itself"
    if events.is_comment(event) and event.comment is not None and event.discussion is not None:
        options = {"num": event.discussion.num, "comment_id": event.comment.id, "text": event.comment.content}
        return "chatops", {"sources": (), "options": options}
    if events.is_new_repo(event):
        if not routing.new_repo_sources:
            return "new repo: no sources configured for new repos"
        return "run", {"sources": routing.new_repo_sources, "revision": event.head_sha}
    sha = events.main_commit(event)
    if sha is not None and routing.is_own_commit(event.repo_id, sha):
        return "caused by evalbot itself (its own commit)"
    if sha is not None:
        sources = routing.sources_for(event.repo_id)
        if not sources:
            return "no sources configured for this repo"
        return "run", {"sources": sources, "revision": sha}
    return f"event {event.scope}/{event.action} makes no job"


def create_app(
    store: Store,
    *,
    secret: str,
    routing: Routing,
    workers: list[Worker],
    templates: jinja2.Environment,
    hub_stats: Callable[[], dict[str, int]] = dict,
    shutdown_grace: float = 30.0,
    status_token: str | None = None,
    public: bool = False,
) -> Starlette:
    """The ASGI app; `workers` are started with it and stopped (gracefully) when it stops.

    `templates`: the render environment the status page comes from (the App's, so a user's
    template folder may override `status.html.j2`);
    `status_token`: the bearer token `/`, `/api/jobs` and `/metrics` require (None: none);
    `public`: the server listens on a non-loopback interface, where those pages are only served
    with a token.
    """
    counter = metrics.EventCounter()

    def refused(request: Request) -> Response | None:
        """Why the status surface is not shown to this request, or None when it may be."""
        if status_token is None:
            if not public:
                return None
            return JSONResponse(
                {"error": "the status pages are off on a public interface; set EVALBOT_STATUS_TOKEN to enable them"},
                status_code=403,
            )
        scheme, _, supplied = request.headers.get("authorization", "").partition(" ")
        if scheme.casefold() == "bearer" and hmac.compare_digest(supplied.strip().encode(), status_token.encode()):
            return None
        return JSONResponse(
            {"error": "send the status token: Authorization: Bearer <EVALBOT_STATUS_TOKEN>"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="evalbot"'},
        )

    async def webhook(request: Request) -> Response:
        supplied = request.headers.get("x-webhook-secret") or request.query_params.get("secret")
        if supplied is None:
            counter.count("rejected")
            return JSONResponse({"error": "X-Webhook-Secret header not set"}, status_code=401)
        if not hmac.compare_digest(supplied.encode(), secret.encode()):
            counter.count("rejected")
            return JSONResponse({"error": "invalid webhook secret"}, status_code=403)
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY:
            counter.count("rejected")
            return JSONResponse({"error": f"payload larger than {MAX_BODY} bytes"}, status_code=413)
        body = await _read_at_most(request, MAX_BODY)
        if body is None:  # chunked, or a Content-Length that lied: stopped reading at the limit
            counter.count("rejected")
            return JSONResponse({"error": f"payload larger than {MAX_BODY} bytes"}, status_code=413)
        try:
            event = events.parse_webhook(body, max_bytes=MAX_BODY)
        except PayloadError as e:
            counter.count("rejected")
            return JSONResponse({"error": str(e)}, status_code=e.status)
        key = events.event_key(event)
        decision = decide_job(event, routing)
        if isinstance(decision, str):
            new = store.record_event(key, "ignored", event.repo_id, body.decode("utf-8"))
            counter.count("ignored" if new else "duplicate")
            return JSONResponse({"status": "ignored" if new else "duplicate", "reason": decision})
        kind, spec = decision
        # enqueue first: it is idempotent by key, so a crash before the event is logged loses nothing
        job_id = store.enqueue_job(event.repo_id, trigger_key=key, kind=kind, **spec)
        new = store.record_event(key, kind, event.repo_id, body.decode("utf-8"))
        counter.count("queued" if new else "duplicate")
        return JSONResponse({"status": "queued" if new else "duplicate", "job": job_id}, status_code=202)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def metrics_page(request: Request) -> Response:
        if (no := refused(request)) is not None:
            return no
        text = metrics.metrics_text(
            events=counter.snapshot(),
            jobs=store.job_counts(),
            reports=metrics.report_outcomes(job.result for job in store.list_jobs(limit=1000, state="done")),
            hub=hub_stats(),
        )
        return PlainTextResponse(text, media_type=metrics.CONTENT_TYPE)

    async def api_jobs(request: Request) -> Response:
        if (no := refused(request)) is not None:
            return no
        unknown = sorted(set(request.query_params) - {"limit", "state"})
        if unknown:
            listed = ", ".join(unknown)[:100]
            return JSONResponse({"error": f"unknown query parameter(s): {listed}; use limit, state"}, 400)
        limit_text = request.query_params.get("limit", "50")
        if not (limit_text.isascii() and limit_text.isdigit() and len(limit_text) <= 4) or not (
            1 <= int(limit_text) <= MAX_JOBS_LIMIT
        ):
            return JSONResponse({"error": f"limit must be a whole number from 1 to {MAX_JOBS_LIMIT}"}, 400)
        state = request.query_params.get("state")
        if state is not None and state not in _JOB_STATES:
            return JSONResponse({"error": f"state must be one of {', '.join(_JOB_STATES)}"}, 400)
        jobs = store.list_jobs(limit=int(limit_text), state=state)
        return JSONResponse({"counts": store.job_counts(), "jobs": [_job_json(j) for j in jobs]})

    async def status_page(request: Request) -> Response:
        if (no := refused(request)) is not None:
            return no
        try:
            page = status.render_status(templates, store)
        except TemplateError as e:  # a user's status.html.j2 that does not render
            logger.error("status page: %s", e)
            return PlainTextResponse(f"the status page did not render: {e}", status_code=500)
        return HTMLResponse(page)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        threads = [threading.Thread(target=w.run_forever, name=w.name, daemon=True) for w in workers]
        for thread in threads:
            thread.start()
        logger.info("evalbot serve: %d worker(s) started", len(threads))
        try:
            yield
        finally:  # SIGTERM: stop taking jobs, let the jobs in hand finish, release what does not
            for worker in workers:
                worker.stop.set()
            deadline = time.monotonic() + shutdown_grace
            for thread in threads:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
            for worker in workers:
                if worker.current is not None:
                    store.release_job(worker.current, worker.name)
            logger.info("evalbot serve: stopped")

    return Starlette(
        routes=[
            Route("/webhooks/hub", webhook, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/metrics", metrics_page),
            Route("/api/jobs", api_jobs),
            Route("/", status_page),
        ],
        lifespan=lifespan,
    )


async def _read_at_most(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as more than `limit` bytes arrived (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def is_loopback(host: str) -> bool:
    """Whether `serve --host` listens only on this machine (127.0.0.0/8, ::1, localhost)."""
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to a public address


def _job_json(job: Any) -> dict[str, Any]:
    data = asdict(job)
    data["sources"] = list(job.sources)
    return data
