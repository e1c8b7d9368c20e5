"""Artificial Analysis import: the client against the AA stand-in over HTTP, matching, units,
attribution, and the aa source through the dedupe gate against the local Hub."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from bot.app.compose import build_app
from bot.app.pipeline import AAOptions, App, Job, run_many
from bot.cli import main
from bot.config.settings import Secret, Settings
from bot.core.card import parse_card
from bot.core.plan import parse_markers
from bot.edges.artificial_analysis import AAClient, AAModel, AASettings, find_model, scores_from_model
from bot.edges.hub import HubClient, RetryPolicy
from bot.edges.store import Store
from bot.errors import ArtificialAnalysisKeyError, ArtificialAnalysisRateLimited, InputError
from bot.sim.aa import AASim
from bot.sim.hub import HubSim

KEY = "aa-test-key"
O3 = "2dad8957-4c16-4e74-bf2d-8b21514e0ae9"
REPO = "acme/llama-8b"
CARD = "---\nlicense: llama3.1\n---\n# Llama 3.1 8B Instruct, fine-tuned\n"


@pytest.fixture
def aa() -> AASim:
    with AASim(api_key=KEY, page_size=3) as sim:
        yield sim


def client(
    aa: AASim, tmp_path: Path, *, key: str | None = KEY, endpoint: str = "/data/llms/models", **kw: object
) -> AAClient:
    settings = AASettings(
        api_key=Secret(key) if key else None,
        base_url=aa.url,
        endpoint=endpoint,
        cache_dir=tmp_path / "aa-cache",
        attempts=3,
        base_wait=0.0,
        **kw,  # type: ignore[arg-type]
    )
    return AAClient(settings)


def test_data_api_shape_is_one_request(aa: AASim, tmp_path: Path) -> None:
    listing = client(aa, tmp_path).listing()
    assert len(listing.models) == 11 and aa.request_count() == 1
    o3 = next(m for m in listing.models if m.id == O3)
    assert (o3.slug, o3.creator_slug, o3.evaluations["gpqa"]) == ("o3-mini", "openai", 0.748)


def test_paginated_shape_reads_every_page(aa: AASim, tmp_path: Path) -> None:
    listing = client(aa, tmp_path, endpoint="/language/models").listing()
    assert len(listing.models) == 11 and aa.request_count() == 4  # 3 + 3 + 3 + 2


def test_listing_is_cached_in_memory_and_on_disk_until_the_ttl(aa: AASim, tmp_path: Path) -> None:
    first = client(aa, tmp_path)
    first.listing()
    first.listing()
    assert aa.request_count() == 1
    assert client(aa, tmp_path).listing().models == first.listing().models  # a new process: the disk cache
    assert aa.request_count() == 1
    later = AAClient(
        AASettings(api_key=Secret(KEY), base_url=aa.url, cache_dir=tmp_path / "aa-cache", attempts=1),
        now=lambda: time.time() + 13 * 3600,  # past the 12 h TTL
    )
    later.listing()
    assert aa.request_count() == 2


def test_missing_key_fails_before_any_request(aa: AASim, tmp_path: Path) -> None:
    with pytest.raises(ArtificialAnalysisKeyError, match=r"^AA_API_KEY missing or invalid"):
        client(aa, tmp_path, key=None).listing()
    assert aa.request_count() == 0


def test_wrong_key_is_a_one_line_config_error(aa: AASim, tmp_path: Path) -> None:
    with pytest.raises(ArtificialAnalysisKeyError) as error:
        client(aa, tmp_path, key="wrong").listing()
    assert str(error.value) == "AA_API_KEY missing or invalid (the API answered 401)"


def test_429_is_retried_honouring_retry_after(aa: AASim, tmp_path: Path) -> None:
    aa.inject(429, times=1, retry_after=1)
    started = time.monotonic()
    assert len(client(aa, tmp_path).listing().models) == 11
    assert time.monotonic() - started >= 1.0 and aa.request_count() == 2


def test_429_after_retries_says_how_long_to_wait(aa: AASim, tmp_path: Path) -> None:
    aa.inject(429, times=None, retry_after=0)
    with pytest.raises(ArtificialAnalysisRateLimited, match=r"\(1,000 requests/day on the free tier\); retry in 0 s"):
        client(aa, tmp_path).listing()
    assert aa.request_count() == 3


def test_5xx_is_retried(aa: AASim, tmp_path: Path) -> None:
    aa.inject(503, times=2)
    assert len(client(aa, tmp_path).listing().models) == 11


# ---- matching -----------------------------------------------------------------------------

MODELS = [
    AAModel("id-1", "Llama 3.1 Instruct 8B", "llama-3-1-instruct-8b", "meta", "Meta"),
    AAModel("id-2", "Llama 3.2 Instruct 3B", "llama-3-2-instruct-3b", "meta", "Meta"),
    AAModel("id-3", "Tiny", "tiny", "acme", "Acme"),
    AAModel("id-4", "Tiny", "tiny", "other", "Other"),
]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({"model": "id-2"}, "id-2", id="by_id"),
        pytest.param({"model": "meta/llama-3-1-instruct-8b"}, "id-1", id="by_creator_slash_slug"),
        pytest.param({"model": "llama-3-1-instruct-8b"}, "id-1", id="by_unique_slug"),
        pytest.param({"creator_slug": "other", "model_name": "tiny"}, "id-4", id="by_reference_flags"),
        pytest.param({"mapping": {REPO: "id-3"}}, "id-3", id="by_config_mapping"),
        pytest.param({"model": "id-1", "mapping": {REPO: "id-3"}}, "id-1", id="flag_beats_mapping"),
    ],
)
def test_find_model(kwargs: dict[str, object], expected: str) -> None:
    assert find_model(MODELS, repo_id=REPO, **kwargs).id == expected  # type: ignore[arg-type]


def test_no_name_given_stops_with_the_closest_models() -> None:
    with pytest.raises(InputError) as error:
        find_model(MODELS, repo_id="meta-llama/Llama-3.1-8B-Instruct")
    message = str(error.value)
    assert message.startswith("meta-llama/Llama-3.1-8B-Instruct: which Artificial Analysis model is this?")
    assert "meta/llama-3-1-instruct-8b (Llama 3.1 Instruct 8B, id id-1)" in message


def test_unknown_model_lists_suggestions() -> None:
    with pytest.raises(InputError, match=r"no Artificial Analysis model 'llama-3-1-8b' \(--aa-model\); closest"):
        find_model(MODELS, repo_id=REPO, model="llama-3-1-8b")


def test_ambiguous_slug_asks_for_the_id() -> None:
    with pytest.raises(
        InputError, match=r"matches several AA models: acme/tiny .*; other/tiny .*; pass the AA model id"
    ):
        find_model(MODELS, repo_id=REPO, model="tiny")


# ---- scores --------------------------------------------------------------------------------


def test_scores_keep_aa_values_with_their_units_and_attribution() -> None:
    model = AAModel(
        O3,
        "o3-mini",
        "o3-mini",
        "openai",
        "OpenAI",
        {"artificial_analysis_intelligence_index": 62.9, "gpqa": 0.748, "hle": None, "new_bench": 0.5, "elo_x": 1200.0},
    )
    scores = scores_from_model(model, fetched_at=0.0)
    table = [(s.benchmark, s.metric.value, s.metric.unit, s.dataset.type, s.dataset.config) for s in scores]
    assert table == [
        ("Artificial Analysis Intelligence Index", 62.9, "raw", "artificial-analysis-intelligence-index", None),
        ("GPQA Diamond", 0.748, "fraction", "Idavidrein/gpqa", "gpqa_diamond"),  # the task id comes from the Hub
        ("Elo X", 1200.0, "raw", "elo-x", None),
        ("New Bench", 0.5, "fraction", "new-bench", None),
    ]
    assert {(s.source.name, s.source.url) for s in scores} == {
        ("Artificial Analysis", "https://artificialanalysis.ai/models/o3-mini")
    }
    assert scores[1].provenance == {"aa_model_id": O3, "field": "gpqa", "fetched_at": "1970-01-01T00:00:00Z"}


def test_a_model_with_only_nulls_gives_no_scores() -> None:
    assert scores_from_model(AAModel("x", "x", "x", "c", "C", {"gpqa": None}), fetched_at=0.0) == []


# ---- through the pipeline ------------------------------------------------------------------


@pytest.fixture
def hub() -> HubSim:
    with HubSim() as sim:
        sim.add_repo(REPO, {"README.md": CARD})
        yield sim


def make_app(hub: HubSim, aa: AASim, home: Path, **overrides: object) -> App:
    settings = Settings(
        hf_token=Secret("evalbot-token"),
        hf_endpoint=hub.url,
        home=home,
        aa_api_key=Secret(KEY),
        aa_api_base=aa.url,
        aa_mapping={REPO: "meta/llama-3-1-instruct-8b"},
    ).with_overrides(**overrides)
    return build_app(settings, hub=HubClient(settings, retry=RetryPolicy(base_wait=0.0)), store=Store.open(home))


def test_import_opens_one_pr_and_an_identical_rerun_opens_nothing(hub: HubSim, aa: AASim, tmp_path: Path) -> None:
    app = make_app(hub, aa, tmp_path)
    (report,) = app.run(Job(REPO, sources=("aa",)))
    assert report.outcome == "created"
    (pr,) = hub.discussions(REPO)
    assert parse_markers(pr.description)[0]["source"] == "aa"
    assert "https://artificialanalysis.ai/models/llama-3-1-instruct-8b" in pr.description
    files = {p: hub.file(REPO, p, rev="refs/pr/1") for p in ("README.md", ".eval_results/artificial_analysis.yaml")}
    assert b"name: Artificial Analysis\n" in (files["README.md"] or b"")
    assert b"id: TIGER-Lab/MMLU-Pro" in (files[".eval_results/artificial_analysis.yaml"] or b"")
    (again,) = make_app(hub, aa, tmp_path / "fresh").run(Job(REPO, sources=("aa",)))
    assert again.outcome == "unchanged" and len(hub.discussions(REPO)) == 1


def test_aa_results_join_readme_results_without_duplicates(hub: HubSim, aa: AASim, tmp_path: Path) -> None:
    card = (
        "---\nlicense: llama3.1\nmodel-index:\n- name: llama-8b\n  results:\n  - task: {type: text-generation}\n"
        "    dataset: {name: MMLU, type: cais/mmlu}\n    metrics:\n    - {type: acc, value: 68.1}\n"
        "    source: {name: Model README, url: 'https://huggingface.co/acme/llama-8b'}\n---\n# card\n"
    )
    hub.push(REPO, {"README.md": card}, author="alice")
    make_app(hub, aa, tmp_path).run(Job(REPO, sources=("aa",)))
    readme = (hub.file(REPO, "README.md", rev="refs/pr/1") or b"").decode()
    results = parse_card(readme).data["model-index"][0]["results"]
    assert results[0] == yaml.safe_load(card.split("---\n")[1])["model-index"][0]["results"][0]  # theirs, first
    aa_results = results[1:]
    assert len(aa_results) == 10  # the 10 non-null fields of llama-3-1-instruct-8b, once each
    assert {r["source"]["name"] for r in aa_results} == {"Artificial Analysis"}
    identities = [(r["dataset"]["type"], m["type"]) for r in results for m in r["metrics"]]
    assert len(identities) == len(set(identities))


def test_missing_aa_mapping_is_skipped_with_suggestions(hub: HubSim, aa: AASim, tmp_path: Path) -> None:
    (report,) = make_app(hub, aa, tmp_path, aa_mapping={}).run(Job(REPO, sources=("aa",)))
    assert report.outcome == "skipped" and "which Artificial Analysis model is this?" in report.reason
    assert hub.discussions(REPO) == []


def test_scan_of_50_repos_makes_one_aa_request_per_page(aa: AASim, tmp_path: Path) -> None:
    repos = [f"acme/model-{i}" for i in range(50)]
    slugs = ["o3-mini", "gpt-4o", "llama-3-1-instruct-8b", "qwen3-8b", "deepseek-r1"]
    with HubSim() as hub:
        for repo in repos:
            hub.add_repo(repo, {"README.md": CARD})
        mapping = {repo: slugs[i % len(slugs)] for i, repo in enumerate(repos)}
        for endpoint, pages in (("/data/llms/models", 1), ("/language/models", 4)):
            aa.reset_requests()
            app = make_app(hub, aa, tmp_path / endpoint.strip("/"), aa_mapping=mapping, aa_endpoint=endpoint)
            reports = run_many(app, [Job(r, sources=("aa",), dry_run=True) for r in repos], workers=4)
            assert {r.reason for r in reports} == {"would open a pull request"}
            assert aa.request_count() == pages


def test_import_aa_cli_dry_run_shows_units_attribution_and_diff(
    hub: HubSim, aa: AASim, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_TOKEN", "evalbot-token")
    monkeypatch.setenv("AA_API_BASE", aa.url)
    monkeypatch.setenv("AA_API_KEY", KEY)
    code = main(["import-aa", "--repo-id", REPO, "--aa-model", "meta/llama-3-1-instruct-8b", "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Source: https://artificialanalysis.ai/models/llama-3-1-instruct-8b (attribution required" in out
    assert (
        "GPQA Diamond" in out and "fraction" in out and "Artificial Analysis Intelligence Index" in out and "raw" in out
    )
    assert "+++ b/README.md" in out and "+++ b/.eval_results/artificial_analysis.yaml" in out
    assert hub.discussions(REPO) == []
    assert main(["import-aa", "--repo-id", REPO, "--aa-model", "meta/llama-3-1-instruct-8b", "--create-pr"]) == 0
    assert main(["import-aa", "--repo-id", REPO, "--aa-model", "meta/llama-3-1-instruct-8b", "--create-pr"]) == 0
    assert [d.num for d in hub.discussions(REPO)] == [1]


def test_import_aa_cli_bad_key_exits_2_with_one_line(
    hub: HubSim, aa: AASim, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("AA_API_BASE", aa.url)
    monkeypatch.setenv("AA_API_KEY", "wrong")
    for fmt in ("text", "json"):
        code = main(["import-aa", "--repo-id", REPO, "--aa-model", "o3-mini", "--format", fmt])
        err = capsys.readouterr().err
        assert code == 2
        assert err == "evalbot: error: AA_API_KEY missing or invalid (the API answered 401)\n"


def test_aa_mapping_from_evalbot_yaml(
    hub: HubSim, aa: AASim, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "evalbot.yaml"
    config.write_text(f"aa:\n  {REPO}: {O3}\n")
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("AA_API_BASE", aa.url)
    monkeypatch.setenv("AA_API_KEY", KEY)
    code = main(["--config", str(config), "import-aa", "--repo-id", REPO, "--format", "json"])
    assert code == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert report["reason"] == "would open a pull request"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("aa: [1, 2]\n", "aa: expected a mapping of repo id → value"),
        ("aa:\n  not-a-repo: x\n", "aa: 'not-a-repo' is not a repo id like org/name"),
        ("wach: []\n", "unknown key(s) wach; known keys: aa"),
        ("aa: {a/b: 1\n", "not valid YAML"),
    ],
)
def test_bad_config_file_is_exit_2_with_one_line(
    text: str, message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "evalbot.yaml"
    config.write_text(text)
    code = main(["--config", str(config), "import-aa", "--repo-id", REPO])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


def test_aa_options_reference_flags_need_a_model_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-aa", "--repo-id", REPO, "--creator-slug", "meta"]) == 2
    assert "--creator-slug needs --model-name" in capsys.readouterr().err


def test_job_aa_options_are_used(hub: HubSim, aa: AASim, tmp_path: Path) -> None:
    app = make_app(hub, aa, tmp_path, aa_mapping={})
    (report,) = app.run(Job(REPO, sources=("aa",), dry_run=True, aa=AAOptions(model=O3)))
    assert "+      name: Artificial Analysis\n" in report.diff


def test_a_cached_listing_is_never_an_answer_for_a_wrong_or_missing_key(aa: AASim, tmp_path: Path) -> None:
    client(aa, tmp_path).listing()  # AA accepted KEY: its answer is cached for 12 h
    assert aa.request_count() == 1
    with pytest.raises(ArtificialAnalysisKeyError, match=r"the API answered 401"):
        client(aa, tmp_path, key="wrong").listing()  # asks AA (a cache of another key does not count)
    with pytest.raises(ArtificialAnalysisKeyError, match=r"^AA_API_KEY missing or invalid"):
        client(aa, tmp_path, key=None).listing()
    assert aa.request_count() == 2
    assert len(client(aa, tmp_path).listing().models) == 11 and aa.request_count() == 2  # KEY: still cached
    cached = sorted(p.read_text() for p in (tmp_path / "aa-cache").iterdir())
    assert len(cached) == 1 and KEY not in cached[0]


ASR_CARD = "---\nlicense: mit\npipeline_tag: automatic-speech-recognition\n---\n# tiny ASR\n"


def test_aa_scores_are_refused_for_a_card_that_is_not_an_llm_unless_forced(
    hub: HubSim, aa: AASim, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hub.push(REPO, {"README.md": ASR_CARD}, author="alice")
    (report,) = make_app(hub, aa, tmp_path).run(Job(REPO, sources=("aa",)))
    why = (
        "Artificial Analysis rates LLMs; this card declares pipeline_tag: automatic-speech-recognition "
        "(import anyway with --force if the model really is an LLM)"
    )
    assert (report.outcome, report.reason) == ("skipped", why)
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("AA_API_BASE", aa.url)
    monkeypatch.setenv("AA_API_KEY", KEY)
    aa.reset_requests()
    code = main(["import-aa", "--repo-id", REPO, "--aa-model", "meta/llama-3-1-instruct-8b"])
    assert code == 2 and capsys.readouterr().err == f"evalbot: error: {REPO}: {why}\n"
    assert aa.request_count() == 0 and hub.discussions(REPO) == []
    code = main(["import-aa", "--repo-id", REPO, "--aa-model", "meta/llama-3-1-instruct-8b", "--force"])
    assert code == 0 and "would open a pull request" in capsys.readouterr().out
