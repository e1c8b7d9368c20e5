"""The dedupe table of DESIGN §5: each row is a named scenario (pure, no Hub)."""

from __future__ import annotations

import pytest

from bot.core.card import CardChange, apply_scores, parse_card
from bot.core.plan import Budget, Plan, Policy, PrInfo, decide, fingerprint_change, make_marker, parse_markers
from bot.core.scores import Dataset, Metric, Score, Source, Task

CARD = "---\nlicense: mit\n---\n# Foo-7B\n"
SHA = "a" * 40
FORMATS = ("model-index", "eval-results")


def score(value: float = 65.4, benchmark: str = "MMLU") -> Score:
    return Score(
        benchmark=benchmark,
        dataset=Dataset(name=benchmark, type=f"org/{benchmark.lower()}"),
        task=Task("text-generation"),
        metric=Metric(type="acc", value=value, unit="percent"),
        source=Source("Model README", "https://huggingface.co/org/foo-7b"),
    )


def change_for(*scores: Score, card: str = CARD) -> CardChange:
    return apply_scores(parse_card(card), list(scores), source_key="readme", model_name="foo-7b", formats=FORMATS)


CHANGE = change_for(score())
FP = fingerprint_change("readme", CHANGE, FORMATS)


def plan(
    prs: list[PrInfo] | None = None,
    change: CardChange = CHANGE,
    policy: Policy | None = None,
    budget: Budget | None = None,
    card_data: dict[str, object] | None = None,
    can_write: bool = False,
) -> Plan:
    return decide(
        repo_id="org/foo-7b",
        sha=SHA,
        card_text=CARD,
        card_data=card_data or {"license": "mit"},
        change=change,
        source="readme",
        source_name="the model card",
        formats=FORMATS,
        prs=prs or [],
        policy=policy or Policy(),
        budget=budget or Budget(),
        can_write=can_write,
    )


def bot_pr(num: int, status: str = "open", fingerprint: str = FP, source: str = "readme") -> PrInfo:
    return PrInfo(num, "Add evaluation results", status, "evalbot", source, fingerprint, SHA)


def human_pr(num: int, touches: bool = True, status: str = "open") -> PrInfo:
    return PrInfo(num, "Update README", status, "alice", touches_results=touches)


def test_first_run_opens_a_pr() -> None:
    result = plan()
    assert (result.action, result.fingerprint, result.base) == ("open", FP, SHA)
    assert set(result.files) == {"README.md"}  # the dataset is not a registered Hub benchmark
    assert result.files["README.md"] == CHANGE.readme
    assert result.title == "Add evaluation results from the model card (evalbot)"
    assert result.body.rstrip().endswith(make_marker("readme", FP, SHA))
    assert "| MMLU |" in result.body and "evalbot: ignore" in result.body


def test_card_already_containing_everything_plans_none() -> None:
    assert plan(change=change_for(score(), card=CHANGE.readme)).action == "none"


def test_open_bot_pr_with_the_same_fingerprint_is_skipped_as_unchanged() -> None:
    result = plan([bot_pr(3)])
    assert (result.action, result.reason) == ("skip", "unchanged: PR #3 already proposes this")


def test_open_bot_pr_with_another_fingerprint_is_updated_with_one_comment() -> None:
    result = plan([bot_pr(3, fingerprint="old")])
    assert (result.action, result.pr_num) == ("update", 3)
    assert result.files["README.md"] == CHANGE.readme
    assert result.comment.rstrip().endswith(make_marker("readme", FP, SHA))


def test_draft_bot_pr_counts_as_open() -> None:
    assert plan([bot_pr(3, status="draft", fingerprint="old")]).action == "update"


def test_bot_pr_closed_unmerged_with_the_same_fingerprint_is_never_recreated() -> None:
    result = plan([bot_pr(2, status="closed")])
    assert (result.action, result.reason) == ("skip", "declined: PR #2 with this change was closed")


def test_declined_beats_updating_another_open_pr() -> None:
    assert plan([bot_pr(2, status="closed"), bot_pr(5, fingerprint="old")]).action == "skip"


def test_closed_bot_pr_with_other_content_does_not_block_a_new_proposal() -> None:
    assert plan([bot_pr(2, status="closed", fingerprint="older")]).action == "open"


def test_bot_pr_of_another_source_is_not_ours_to_update() -> None:
    assert plan([bot_pr(4, source="aa", fingerprint="x")]).action == "open"


def test_open_human_pr_touching_results_defers() -> None:
    result = plan([human_pr(7)])
    assert (result.action, result.reason) == ("skip", "deferred: PR #7 by alice edits the results")


def test_human_pr_not_touching_results_does_not_defer() -> None:
    assert plan([human_pr(7, touches=False)]).action == "open"


def test_closed_human_pr_does_not_defer() -> None:
    assert plan([human_pr(7, status="closed")]).action == "open"


def test_deferring_can_be_turned_off() -> None:
    assert plan([human_pr(7)], policy=Policy(defer_to_human_prs=False)).action == "open"


@pytest.mark.parametrize(
    ("policy", "budget", "reason"),
    [
        pytest.param(Policy(max_open_per_namespace=2), Budget(open_in_namespace=2), "budget: 2 open", id="namespace"),
        pytest.param(Policy(max_opened_per_hour=5), Budget(opened_last_hour=5), "budget: 5 PRs", id="per_hour"),
    ],
)
def test_budget_reached_skips(policy: Policy, budget: Budget, reason: str) -> None:
    result = plan(policy=policy, budget=budget)
    assert result.action == "skip" and result.reason.startswith(reason)


def test_budget_not_reached_opens() -> None:
    assert plan(policy=Policy(max_open_per_namespace=2), budget=Budget(open_in_namespace=1)).action == "open"


def test_deny_list_opts_out() -> None:
    assert plan(policy=Policy(opted_out=True)) == Plan("skip", "opted out", "readme", kind="opted_out")


@pytest.mark.parametrize("value", ["ignore", "IGNORE ", {"ignore": True}])
def test_card_metadata_opts_out(value: object) -> None:
    assert plan(card_data={"evalbot": value}).reason == "opted out"


def test_push_when_configured_and_the_token_can_write() -> None:
    result = plan(policy=Policy(push_to_main=True), can_write=True)
    assert result.action == "push" and result.files["README.md"] == CHANGE.readme


def test_push_configured_without_write_access_opens_a_pr() -> None:
    assert plan(policy=Policy(push_to_main=True), can_write=False).action == "open"


def test_fingerprint_ignores_unrelated_card_edits() -> None:
    edited = change_for(score(), card=CARD + "\nMore prose.\n")
    assert fingerprint_change("readme", edited, FORMATS) == FP


def test_fingerprint_changes_with_the_scores_and_the_formats() -> None:
    assert fingerprint_change("readme", change_for(score(65.5)), FORMATS) != FP
    assert fingerprint_change("readme", CHANGE, ("model-index",)) != FP
    assert fingerprint_change("aa", CHANGE, FORMATS) != FP


def test_markers_round_trip_and_the_last_one_wins() -> None:
    text = f"body\n{make_marker('readme', 'f1', SHA)}\nlater\n{make_marker('readme', 'f2', 'b' * 40)}"
    assert [m["fingerprint"] for m in parse_markers(text)] == ["f1", "f2"]
    assert parse_markers("<!-- evalbot {not json} -->") == []


def test_registered_benchmarks_also_get_an_eval_results_file() -> None:
    hle = Score(
        benchmark="HLE",
        dataset=Dataset(name="HLE", type="cais/hle", id="cais/hle", task_id="hle"),
        task=Task("text-generation"),
        metric=Metric(type="acc", value=12.5, unit="percent"),
        source=Source("Model README", "https://huggingface.co/org/foo-7b"),
    )
    result = plan(change=change_for(hle))
    assert set(result.files) == {"README.md", ".eval_results/readme.yaml"}
    assert "cais/hle" in result.files[".eval_results/readme.yaml"]


@pytest.mark.parametrize(
    ("kwargs", "kind"),
    [
        ({}, "open"),
        ({"change": change_for(score(), card=CHANGE.readme)}, "none"),
        ({"prs": [bot_pr(3)]}, "unchanged"),
        ({"prs": [bot_pr(3, fingerprint="old")]}, "update"),
        ({"prs": [bot_pr(2, status="closed")]}, "declined"),
        ({"prs": [human_pr(7)]}, "deferred"),
        ({"policy": Policy(max_open_per_namespace=1), "budget": Budget(open_in_namespace=1)}, "budget"),
        ({"policy": Policy(opted_out=True)}, "opted_out"),
        ({"policy": Policy(push_to_main=True), "can_write": True}, "push"),
    ],
)
def test_every_decision_names_its_kind(kwargs: dict[str, object], kind: str) -> None:
    """What is retried and what is recorded reads `Plan.kind`, so a reworded reason changes nothing."""
    assert plan(**kwargs).kind == kind  # type: ignore[arg-type]


def test_a_skip_without_its_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="needs its kind"):
        Plan("skip", "some reason", "readme")
    assert Plan("open", "open a pull request", "readme").kind == "open"
