"""The status page (templates/status.html.j2) and the /metrics text: exact fragments for an empty
and a populated store, escaping of hostile store text, a user's template override, metrics output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.config.settings import Settings
from bot.core.render import default_environment, make_environment
from bot.edges.hub import HubClient, RetryPolicy
from bot.edges.store import Store
from bot.serve.metrics import EventCounter, metrics_text, report_outcomes
from bot.serve.service import build_service
from bot.serve.status import render_status
from bot.sim.hub import HubSim

NOW = 1_780_000_000.0  # 2026-05-28 20:26:40 UTC
REPO = "acme/Ours-7B-Instruct"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "home", now=lambda: NOW) as opened:
        yield opened


def finish(store: Store, repo_id: str, *, result: dict[str, object] | None = None, error: str = "") -> int:
    """One job for `repo_id`, claimed and then completed with `result` or failed with `error`."""
    job_id = store.enqueue_job(repo_id, sources=("readme",), trigger_key=f"k-{repo_id}")
    claimed = store.claim_job("w", 60)
    assert claimed is not None and claimed.id == job_id
    if error:
        store.fail_job(job_id, "w", error, retry_in=None)
    else:
        store.complete_job(job_id, "w", result or {})
    return job_id


# --- the page ------------------------------------------------------------------------------------


def test_an_empty_store_shows_zero_counts_and_the_empty_rows(store: Store) -> None:
    page = render_status(default_environment(), store)
    assert page.startswith('<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>evalbot status')
    counts = "".join(f"<span>{s}: <b>0</b></span>" for s in ("queued", "running", "done", "failed"))
    assert f'<p class="counts">{counts}</p>' in page
    assert '<tr><td colspan="9">no jobs yet</td></tr>' in page
    assert '<tr><td colspan="6">none yet</td></tr>' in page
    assert "<h2>Failures</h2><ul>\n<li>none</li>\n</ul>" in page
    assert page.endswith("</body></html>\n")


def test_a_populated_store_shows_its_jobs_prs_and_failures(store: Store) -> None:
    done = finish(store, REPO, result={"reports": [{"source": "readme", "outcome": "created", "reason": "new"}]})
    failed = finish(store, "acme/broken", error="Server error '502 Bad Gateway'\nFor more information check: "
                    "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/502")  # fmt: skip
    store.record_pr(REPO, 1, source="readme", fingerprint="f", url=f"https://huggingface.co/{REPO}/discussions/1")
    page = render_status(default_environment(), store)
    assert "<span>done: <b>1</b></span><span>failed: <b>1</b></span>" in page
    assert (
        f'<tr class="done"><td>{done}</td><td>2026-05-28 20:26:40</td>\n'
        f"<td>{REPO}</td><td>run</td><td>readme</td><td>done</td>\n"
        "<td>1</td><td>readme: created — new</td><td></td></tr>"
    ) in page
    assert (
        f'<tr class="failed"><td>{failed}</td><td>2026-05-28 20:26:40</td>\n'
        "<td>acme/broken</td><td>run</td><td>readme</td><td>failed</td>\n"
        "<td>1</td><td></td><td>Server error &#39;502 Bad Gateway&#39;</td></tr>"
    ) in page
    assert (
        f"<tr><td>2026-05-28 20:26:40</td><td>{REPO}</td>"
        f'<td><a href="https://huggingface.co/{REPO}/discussions/1">#1</a></td>\n'
        "<td>readme</td><td>open</td><td>0</td></tr>"
    ) in page
    assert f"<li>2026-05-28 20:26:40 acme/broken (job {failed}): Server error &#39;502 Bad Gateway&#39;</li>" in page
    assert "no jobs yet" not in page and "none yet" not in page and "<li>none</li>" not in page
    assert "developer.mozilla.org" not in page


def test_hostile_repo_ids_errors_and_pr_urls_are_escaped(store: Store) -> None:
    hostile = "acme/<script>alert(1)</script>"
    finish(store, hostile, error='<script>alert("error")</script> & <img src=x onerror=alert(2)>')
    store.record_pr(hostile, 2, source="<b>readme</b>", fingerprint="f", url='x" onmouseover="alert(3)')
    page = render_status(default_environment(), store)
    assert "<script>" not in page and "<img" not in page and "<b>readme" not in page
    assert "<td>acme/&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page
    assert "&lt;script&gt;alert(&#34;error&#34;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(2)&gt;" in page
    assert '<a href="x&#34; onmouseover=&#34;alert(3)">#2</a>' in page


def test_markdown_and_yaml_templates_stay_unescaped() -> None:
    env = default_environment()
    assert env.autoescape("status.html.j2") is True
    for name in ("pr_body.md.j2", "model_index.yaml.j2", "pr_title.txt.j2", None):
        assert env.autoescape(name) is False


# --- a user's template folder --------------------------------------------------------------------


def test_a_user_status_template_overrides_the_built_in_one_and_is_still_escaped(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "status.html.j2").write_text(
        "<h1>ours</h1>{% for job in jobs %}<p>{{ job.repo_id }} {{ job.created_at | utc_time }}</p>{% endfor %}\n"
    )
    finish(store, "acme/<i>x</i>", result={})
    page = render_status(make_environment(folder), store)
    # (trim_blocks takes the newline after the closing tag, as in every built-in template)
    assert page == "<h1>ours</h1><p>acme/&lt;i&gt;x&lt;/i&gt; 2026-05-28 20:26:40</p>"


@contextmanager
def serve_client(tmp_path: Path, templates: dict[str, str]) -> Iterator[TestClient]:
    """`evalbot serve`'s app (no workers) with EVALBOT_TEMPLATES_DIR pointing at `templates`."""
    folder = tmp_path / "my-templates"
    folder.mkdir()
    for name, text in templates.items():
        (folder / name).write_text(text)
    sim = HubSim()
    sim.start()
    try:
        settings = Settings.from_env(
            {"HF_TOKEN": "evalbot-token", "HF_ENDPOINT": sim.url, "EVALBOT_HOME": str(tmp_path / "home"),
             "EVALBOT_TEMPLATES_DIR": str(folder)}
        )  # fmt: skip
        hub = HubClient(settings, retry=RetryPolicy(base_wait=0.0))
        service = build_service(settings, workers=0, env={"EVALBOT_WEBHOOK_SECRET": "s"}, hub=hub)
        try:
            with TestClient(service.app) as client:
                yield client
        finally:
            service.store.close()
    finally:
        sim.stop()


def test_serve_renders_the_status_page_from_the_users_templates_dir(tmp_path: Path) -> None:
    with serve_client(tmp_path, {"status.html.j2": "queued={{ counts.queued }} <{{ '&' }}>\n"}) as client:
        answer = client.get("/")
        assert (answer.status_code, answer.text) == (200, "queued=0 <&amp;>\n")
        assert answer.headers["content-type"].startswith("text/html")


def test_a_user_status_template_that_fails_is_a_one_line_500(tmp_path: Path) -> None:
    with serve_client(tmp_path, {"status.html.j2": "{{ no_such_thing }}"}) as client:
        answer = client.get("/")
        assert answer.status_code == 500
        assert answer.text == (
            "the status page did not render: template 'status.html.j2': UndefinedError: 'no_such_thing' is undefined"
        )


# --- /metrics ------------------------------------------------------------------------------------


def test_metrics_text_is_the_exact_exposition_format() -> None:
    text = metrics_text(
        events={"queued": 3, "ignored": 1},
        jobs={"queued": 2, "running": 1, "done": 5, "failed": 0},
        reports={"unchanged": 2, "created": 3, 'we"ird\n': 1},
        hub={"requests": 17},
    )
    assert text == (
        "# HELP evalbot_webhook_events_total Webhook deliveries by outcome.\n"
        "# TYPE evalbot_webhook_events_total counter\n"
        'evalbot_webhook_events_total{outcome="queued"} 3\n'
        'evalbot_webhook_events_total{outcome="duplicate"} 0\n'
        'evalbot_webhook_events_total{outcome="ignored"} 1\n'
        'evalbot_webhook_events_total{outcome="rejected"} 0\n'
        "# HELP evalbot_jobs Jobs in the queue by state.\n"
        "# TYPE evalbot_jobs gauge\n"
        'evalbot_jobs{state="done"} 5\n'
        'evalbot_jobs{state="failed"} 0\n'
        'evalbot_jobs{state="queued"} 2\n'
        'evalbot_jobs{state="running"} 1\n'
        "# HELP evalbot_reports_total Pipeline outcomes of finished jobs.\n"
        "# TYPE evalbot_reports_total counter\n"
        'evalbot_reports_total{outcome="created"} 3\n'
        'evalbot_reports_total{outcome="unchanged"} 2\n'
        'evalbot_reports_total{outcome="we\\"ird\\n"} 1\n'
        "# HELP evalbot_hub_requests_total Hub requests made (retries included).\n"
        "# TYPE evalbot_hub_requests_total counter\n"
        "evalbot_hub_requests_total 17\n"
    )


def test_report_outcomes_count_every_report_of_every_result() -> None:
    results = [{"reports": [{"outcome": "created"}, {"outcome": "unchanged"}]}, None, {}, {"reports": [{}]},
               {"reports": [{"outcome": "created"}]}]  # fmt: skip
    assert report_outcomes(results) == {"created": 2, "unchanged": 1, "None": 1}


def test_the_event_counter_snapshot_is_a_copy() -> None:
    counter = EventCounter()
    counter.count("queued")
    snapshot = counter.snapshot()
    counter.count("queued")
    assert snapshot == {"queued": 1} and counter.snapshot() == {"queued": 2}
