"""Card parsing and merging: golden cases, the scenarios of DESIGN §4, real corpus cards, properties."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from huggingface_hub.repocard_data import model_index_to_eval_results
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.card import (
    SECTION_END,
    SECTION_START,
    CardChange,
    Conflict,
    apply_scores,
    parse_card,
    read_model_index,
    validate_model_index,
)
from bot.core.render import make_environment
from bot.core.scores import Dataset, Metric, Score, Source, Task
from bot.errors import CardError, ConfigError, InputError, TemplateError
from tests.conftest import CORPUS as CORPUS_ROOT

GOLDEN = Path(__file__).parent / "golden" / "card"
CORPUS = CORPUS_ROOT / "cards"
EVAL_PATH = ".eval_results/readme.yaml"
OWN = Source("Model README", "https://huggingface.co/example/Example-7B")
OTHER = Source("Open LLM Leaderboard", "https://huggingface.co/spaces/open-llm-leaderboard/open_llm_leaderboard")


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # keeps BOM and line endings exactly


def score_from(data: dict[str, Any]) -> Score:
    return Score(
        benchmark=data["benchmark"],
        dataset=Dataset(**data["dataset"]),
        task=Task(**data["task"]),
        metric=Metric(**data["metric"]),
        source=Source(**data["source"]),
        shots=data.get("shots"),
        provenance=data.get("provenance", {}),
    )


def load_case(name: str) -> dict[str, Any]:
    """A golden case: README.md + default_scores.yaml overridden by the case's scores.yaml."""
    case = GOLDEN / name
    config = yaml.safe_load(read(GOLDEN / "default_scores.yaml"))
    if (case / "scores.yaml").exists():
        config.update(yaml.safe_load(read(case / "scores.yaml")))
    existing = case / "existing_eval_results.yaml"
    return {
        "readme": read(case / "README.md"),
        "scores": [score_from(s) for s in config["scores"]],
        "model_name": config["model_name"],
        "formats": config.get("formats", ["model-index", "eval-results"]),
        "existing_files": {EVAL_PATH: read(existing)} if existing.exists() else {},
    }


def run_case(case: dict[str, Any], readme: str | None = None) -> CardChange:
    return apply_scores(
        parse_card(case["readme"] if readme is None else readme),
        case["scores"],
        source_key="readme",
        model_name=case["model_name"],
        formats=case["formats"],
        existing_files=case["existing_files"],
    )


def apply_again(change: CardChange, case: dict[str, Any]) -> CardChange:
    return apply_scores(
        parse_card(change.readme),
        case["scores"],
        source_key="readme",
        model_name=case["model_name"],
        formats=case["formats"],
        existing_files={**case["existing_files"], **change.files},
    )


def score(
    benchmark: str = "MMLU",
    value: float = 65.4,
    *,
    metric: str = "acc",
    source: Source = OWN,
    dataset_id: str | None = None,
    task_id: str | None = None,
    shots: int | None = 5,
) -> Score:
    return Score(
        benchmark=benchmark,
        dataset=Dataset(name=benchmark, type=benchmark.lower(), id=dataset_id, task_id=task_id),
        task=Task("text-generation"),
        metric=Metric(metric, value),
        source=source,
        shots=shots,
    )


def apply(text: str, scores: list[Score], **options: Any) -> CardChange:
    options.setdefault("formats", ["model-index"])
    return apply_scores(parse_card(text), scores, source_key="readme", model_name="Example-7B", **options)


GOLDEN_CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


# --- golden cases ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", GOLDEN_CASES)
def test_golden_case_renders_expected_files(name: str) -> None:
    case = load_case(name)
    change = run_case(case)
    assert change.readme == read(GOLDEN / name / "expected_README.md")
    expected_eval = GOLDEN / name / "expected_eval_results.yaml"
    if expected_eval.exists():
        assert change.files[EVAL_PATH] == read(expected_eval)
    else:
        assert EVAL_PATH not in change.files


@pytest.mark.parametrize("name", GOLDEN_CASES)
def test_golden_case_applied_twice_changes_nothing(name: str) -> None:
    case = load_case(name)
    first = run_case(case)
    second = apply_again(first, case)
    assert second.readme == first.readme
    assert not second.files
    assert second.changed is False
    assert not second.added and not second.replaced


def test_card_without_front_matter_gets_one_at_the_top() -> None:
    change = run_case(load_case("no_front_matter"))
    card = parse_card(change.readme)
    assert change.readme.endswith(load_case("no_front_matter")["readme"])
    assert list(card.data) == ["model-index"]
    assert [r["dataset"]["type"] for r in card.data["model-index"][0]["results"]] == ["cais/mmlu", "gsm8k"]


def test_front_matter_without_model_index_keeps_every_other_byte() -> None:
    case = load_case("front_matter_without_model_index")
    change = run_case(case)
    closing = case["readme"].index("---\n", 4)
    assert change.readme.startswith(case["readme"][:closing])
    assert change.readme.endswith(case["readme"][closing:])
    assert [s.benchmark for s in change.added] == ["MMLU", "GSM8K"]


def test_existing_model_index_classifies_every_score() -> None:
    change = run_case(load_case("existing_model_index"))
    assert [(s.benchmark, s.metric.type) for s in change.unchanged] == [("ARC", "acc_norm")]
    assert [(s.benchmark, s.metric.type) for s in change.replaced] == [("MMLU", "acc")]
    assert [(s.benchmark, s.metric.type) for s in change.added] == [("MMLU", "acc_norm"), ("GSM8K", "acc")]
    (conflict,) = change.conflicts
    assert (conflict.score.benchmark, conflict.existing_value, conflict.existing_source) == (
        "HellaSwag",
        80.0,
        None,
    )
    assert conflict.location == "model-index"


def test_existing_model_index_keeps_name_order_and_other_results() -> None:
    change = run_case(load_case("existing_model_index"))
    (model,) = parse_card(change.readme).data["model-index"]
    assert model["name"] == "Example 7B"
    datasets = [r["dataset"]["type"] for r in model["results"]]
    assert datasets == ["ai2_arc", "cais/mmlu", "hellaswag", "gsm8k"]
    assert model["results"][1]["metrics"] == [
        {"type": "acc", "value": 65.4},
        {"type": "acc_norm", "value": 66.0},
    ]
    assert model["results"][2]["metrics"] == [{"type": "acc_norm", "value": 80.0}]


def test_existing_eval_results_of_others_are_kept() -> None:
    change = run_case(load_case("existing_eval_results"))
    entries = yaml.safe_load(change.files[EVAL_PATH])
    assert [(e["dataset"]["id"], e["value"]) for e in entries] == [
        ("cais/hle", 22.1),
        ("cais/mmlu", 64.0),
        ("openai/gsm8k", 48.2),
        ("google/IFEval", 55.0),
    ]
    (conflict,) = change.conflicts
    assert (conflict.existing_value, conflict.existing_source, conflict.location) == (
        64.0,
        "Paper",
        EVAL_PATH,
    )
    assert change.readme == load_case("existing_eval_results")["readme"]


# --- line endings, BOM, final newline -------------------------------------------------------


@pytest.mark.parametrize("name", ["no_front_matter", "front_matter_without_model_index", "existing_model_index"])
def test_crlf_card_keeps_crlf_everywhere(name: str) -> None:
    case = load_case(name)
    change = run_case(case, readme=case["readme"].replace("\n", "\r\n"))
    assert change.readme == read(GOLDEN / name / "expected_README.md").replace("\n", "\r\n")
    assert re.search(r"(?<!\r)\n", change.readme) is None


@pytest.mark.parametrize("name", ["no_front_matter", "existing_model_index", "section_appended"])
def test_bom_card_keeps_its_bom_first(name: str) -> None:
    case = load_case(name)
    change = run_case(case, readme="\ufeff" + case["readme"])
    assert change.readme == "\ufeff" + read(GOLDEN / name / "expected_README.md")


def test_card_without_trailing_newline_stays_without_one() -> None:
    case = load_case("front_matter_without_model_index")
    change = run_case(case, readme=case["readme"].rstrip("\n"))
    assert change.readme == read(GOLDEN / "front_matter_without_model_index" / "expected_README.md").rstrip("\n")


def test_closing_delimiter_without_newline_at_end_of_file() -> None:
    change = apply("---\nlicense: mit\n---", [score()])
    assert change.readme.startswith("---\nlicense: mit\nmodel-index:\n- name: Example-7B\n")
    assert change.readme.endswith("\n---")


def test_unchanged_card_is_returned_byte_for_byte() -> None:
    text = "\ufeff---\r\nlicense: mit\r\nmodel-index:\r\n- name: m\r\n  results: []\r\n---\r\nbody"
    change = apply(text, [])
    assert change.readme == text
    assert change.changed is False


# --- parse errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param("---\nlicense: mit\ntags: [a, b\n---\nbody\n", 4, id="unclosed_flow_list"),
        pytest.param("---\nlicense: mit\nbad: value: here\n---\n", 3, id="mapping_value_in_plain_scalar"),
        pytest.param("\n\n---\na: 1\n b: 2\n---\n", 5, id="leading_blank_lines_counted"),
        pytest.param("---\r\nlicense: mit\r\n\tbad: 1\r\n---\r\n", 3, id="tab_indent_crlf"),
    ],
)
def test_broken_front_matter_names_the_readme_line(text: str, line: int) -> None:
    with pytest.raises(CardError) as error:
        parse_card(text)
    message = str(error.value)
    assert error.value.line == line
    assert f"README.md line {line}:" in message
    assert "fix the YAML between the '---' lines" in message
    assert "\n" not in message


def test_unterminated_front_matter_is_a_card_error() -> None:
    with pytest.raises(CardError, match="never closed") as error:
        parse_card("---\nlicense: mit\n# Title\n")
    assert error.value.line == 1


@pytest.mark.parametrize("yaml_text", ["- a\n- b\n", "just text\n", "42\n"])
def test_front_matter_that_is_not_a_mapping_is_a_card_error(yaml_text: str) -> None:
    with pytest.raises(CardError, match="not a mapping"):
        parse_card(f"---\n{yaml_text}---\nbody\n")


def test_impossible_date_is_a_card_error_not_a_crash() -> None:
    with pytest.raises(CardError, match="ValueError"):
        parse_card("---\nreleased: 2001-02-30\n---\n")


def test_empty_front_matter_reads_as_empty_mapping() -> None:
    card = parse_card("---\n---\n# Body\n")
    assert card.data == {} and card.front_matter == ""
    change = apply(card.text, [score()])
    assert change.readme.startswith("---\nmodel-index:\n")
    assert change.readme.endswith("---\n# Body\n")


def test_leading_blank_line_before_front_matter_is_front_matter() -> None:
    card = parse_card(read(CORPUS / "legal-t5-small-cls-en.md"))
    assert card.data["datasets"] == ["jrc-acquis"]


def test_horizontal_rule_later_in_body_is_not_front_matter() -> None:
    card = parse_card("# Title\n\n---\n\ntext\n---\n")
    assert card.front_matter is None and card.data == {}


# --- merge rules -------------------------------------------------------------------------------


def test_own_source_different_value_is_replaced() -> None:
    first = apply("# m\n", [score(value=60.0)])
    change = apply(first.readme, [score(value=65.4)])
    assert change.replaced == (score(value=65.4),)
    assert parse_card(change.readme).data["model-index"][0]["results"][0]["metrics"][0]["value"] == 65.4


def test_other_source_different_value_is_a_conflict_and_kept() -> None:
    first = apply("# m\n", [score(value=60.0, source=OTHER)])
    change = apply(first.readme, [score(value=65.4)])
    assert change.readme == first.readme
    assert change.conflicts == (Conflict(score(value=65.4), 60.0, OTHER.name),)
    assert change.changed is False


def test_numeric_string_in_card_equal_to_score_is_unchanged() -> None:
    text = (
        "---\nmodel-index:\n- name: m\n  results:\n  - task: {type: text-generation}\n"
        "    dataset: {name: MMLU, type: mmlu}\n    metrics:\n    - {type: acc, value: '65.4'}\n---\n"
    )
    change = apply(text, [score()])
    assert change.unchanged == (score(),) and change.readme == text


def test_same_identity_twice_in_one_batch_first_wins() -> None:
    change = apply("# m\n", [score(value=1.0), score(value=2.0)])
    assert change.added == (score(value=1.0),)
    assert change.conflicts == (Conflict(score(value=2.0), 1.0, OWN.name),)
    assert parse_card(change.readme).data["model-index"][0]["results"][0]["metrics"] == [{"type": "acc", "value": 1.0}]


def test_shots_are_written_as_dataset_args() -> None:
    change = apply("# m\n", [score(shots=25)])
    result = parse_card(change.readme).data["model-index"][0]["results"][0]
    assert result["dataset"]["args"] == {"num_few_shot": 25}
    assert result["source"] == {"name": OWN.name, "url": OWN.url}


def test_source_without_url_is_not_written_because_the_hub_requires_one() -> None:
    change = apply("# m\n", [score(source=Source("local run"))])
    result = parse_card(change.readme).data["model-index"][0]["results"][0]
    assert "source" not in result
    assert apply(change.readme, [score(source=Source("local run"))]).changed is False


def test_model_index_value_null_is_replaced_by_a_block() -> None:
    change = apply("---\nmodel-index:\nlicense: mit\n---\n", [score()])
    data = parse_card(change.readme).data
    assert list(data) == ["model-index", "license"]
    assert change.readme.endswith("license: mit\n---\n")


def test_indented_top_level_mapping_gets_an_indented_block() -> None:
    change = apply("---\n  license: mit\n---\n", [score()])
    assert change.readme.startswith("---\n  license: mit\n  model-index:\n  - name: Example-7B\n")
    assert parse_card(change.readme).data["license"] == "mit"


def test_model_index_key_written_twice_is_a_card_error() -> None:
    text = "---\nmodel-index:\n- name: a\n  results: []\nmodel-index:\n- name: b\n  results: []\n---\n"
    with pytest.raises(CardError, match="line 5: the key 'model-index' appears twice"):
        apply(text, [score()])


def test_flow_style_front_matter_is_a_card_error_when_editing() -> None:
    with pytest.raises(CardError, match="flow mapping"):
        apply("---\n{license: mit}\n---\n", [score()])


def test_invalid_existing_model_index_is_a_card_error() -> None:
    text = "---\nmodel-index:\n- name: m\n  results:\n  - task: {type: t}\n    metrics: []\n---\n"
    with pytest.raises(CardError, match=r"model-index is not valid: model-index\[0\]\.results\[0\]\.dataset"):
        apply(text, [score()])


def test_invalid_model_index_is_fine_when_model_index_is_not_a_chosen_format() -> None:
    text = "---\nmodel-index: nonsense\n---\n# m\n"
    change = apply(text, [score(dataset_id="cais/mmlu", task_id="mmlu")], formats=["eval-results"])
    assert change.readme == text and list(change.files) == [EVAL_PATH]


def test_read_model_index_returns_a_copy() -> None:
    card = parse_card(read(CORPUS / "xlsr-hungarian-new.md"))
    model_index = read_model_index(card)
    model_index[0]["name"] = "changed"
    assert card.data["model-index"][0]["name"] == "Akashpb13/xlsr_hungarian_new"
    assert read_model_index(parse_card("# none\n")) == []


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"name": "m"}, "model-index: expected a list of models, got a mapping"),
        ([], "model-index: the list of models is empty"),
        ([{"results": []}], "model-index[0].name: expected text, got nothing"),
        ([{"name": "m", "results": {}}], "model-index[0].results: expected a list, got a mapping"),
        (
            [{"name": "m", "results": [{"dataset": {"name": "d", "type": "d"}, "metrics": []}]}],
            ".task: expected",
        ),
        (
            [{"name": "m", "results": [{"task": {"type": "t"}, "dataset": {"type": "d"}, "metrics": []}]}],
            "results[0].dataset.name: expected text",
        ),
        (
            [{"name": "m", "results": [{"task": {"type": "t"}, "dataset": {"name": "d", "type": "d"}}]}],
            "results[0].metrics: expected a list",
        ),
        (
            [
                {
                    "name": "m",
                    "results": [
                        {
                            "task": {"type": "t"},
                            "dataset": {"name": "d", "type": "d"},
                            "metrics": [{"value": 1}],
                        }
                    ],
                }
            ],
            "metrics[0].type: expected text",
        ),
        (
            [
                {
                    "name": "m",
                    "results": [
                        {
                            "task": {"type": "t"},
                            "dataset": {"name": "d", "type": "d"},
                            "metrics": [{"type": "acc", "value": "N/A"}],
                        }
                    ],
                }
            ],
            "metrics[0].value: expected a number, got 'N/A'",
        ),
        (
            [
                {
                    "name": "m",
                    "results": [
                        {
                            "task": {"type": "t"},
                            "dataset": {"name": "d", "type": "d"},
                            "metrics": [{"type": "acc", "value": 1}],
                            "source": {"name": "no url"},
                        }
                    ],
                }
            ],
            "huggingface_hub rejects it",
        ),
    ],
)
def test_validate_model_index_reports_each_problem_on_one_line(data: Any, problem: str) -> None:
    problems = validate_model_index(data)
    assert any(problem in p for p in problems), problems
    assert all("\n" not in p for p in problems)


def test_validate_model_index_accepts_numeric_strings_and_real_cards() -> None:
    for name in ("stt-en-conformer-transducer-xlarge.md", "xlsr-hungarian-new.md", "stablelm-zephyr-3b.md"):
        assert validate_model_index(parse_card(read(CORPUS / name)).data["model-index"]) == []
    metric = {"type": "acc", "value": " 65.4 "}
    data = [
        {
            "name": "m",
            "results": [{"task": {"type": "t"}, "dataset": {"name": "d", "type": "d"}, "metrics": [metric]}],
        }
    ]
    assert validate_model_index(data) == []


# --- .eval_results -------------------------------------------------------------------------------


def test_eval_results_only_for_scores_with_benchmark_id_and_task_id() -> None:
    scores = [
        score("MMLU", dataset_id="cais/mmlu", task_id="mmlu"),
        score("ARC", dataset_id="allenai/ai2_arc"),
    ]
    change = apply("# m\n", scores, formats=["eval-results"])
    assert yaml.safe_load(change.files[EVAL_PATH]) == [
        {
            "dataset": {"id": "cais/mmlu", "task_id": "mmlu"},
            "value": 65.4,
            "source": {"url": OWN.url, "name": OWN.name},
        }
    ]
    assert change.added == (scores[0],) and change.unchanged == (scores[1],)


def test_eval_results_keep_the_first_metric_of_a_benchmark_task() -> None:
    scores = [
        score("MMLU", 65.4, dataset_id="cais/mmlu", task_id="mmlu"),
        score("MMLU", 70.0, metric="acc_norm", dataset_id="cais/mmlu", task_id="mmlu"),
    ]
    change = apply("# m\n", scores, formats=["eval-results"])
    assert [e["value"] for e in yaml.safe_load(change.files[EVAL_PATH])] == [65.4]


def test_unchanged_eval_results_file_is_not_in_files() -> None:
    scores = [score("MMLU", dataset_id="cais/mmlu", task_id="mmlu")]
    first = apply("# m\n", scores, formats=["eval-results"])
    again = apply("# m\n", scores, formats=["eval-results"], existing_files=first.files)
    assert dict(again.files) == {} and again.changed is False


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param("- dataset: [unclosed\n", f"{EVAL_PATH} line 2:", id="yaml_error"),
        pytest.param("dataset: {id: a}\n", "expected a list of entries", id="not_a_list"),
        pytest.param("- dataset: {id: a}\n  value: 1\n", "entry 1: missing field 'task_id'", id="missing_task_id"),
        pytest.param("- just text\n", "entry 1: expected an entry mapping", id="not_a_mapping"),
        pytest.param("- {error: boom, filename: x.yaml}\n", "entry 1", id="server_error_item"),
    ],
)
def test_malformed_existing_eval_results_is_a_card_error_naming_the_file(content: str, problem: str) -> None:
    with pytest.raises(CardError) as error:
        apply(
            "# m\n",
            [score(dataset_id="cais/mmlu", task_id="mmlu")],
            formats=["eval-results"],
            existing_files={EVAL_PATH: content},
        )
    assert problem in str(error.value)
    assert str(error.value).startswith(EVAL_PATH)
    assert "\n" not in str(error.value)


# --- section -------------------------------------------------------------------------------------


def test_section_is_appended_after_one_blank_line() -> None:
    change = apply("# m\n\ntext", [score()], formats=["section"])
    assert change.readme.startswith(f"# m\n\ntext\n\n{SECTION_START}\n| Benchmark |")
    assert change.readme.endswith(f"{SECTION_END}\n")
    assert apply("# m\n\n", [score()], formats=["section"]).readme.startswith(f"# m\n\n{SECTION_START}\n")


def test_section_is_replaced_in_place_and_nothing_outside_changes() -> None:
    text = f"---\nlicense: mit\n---\nbefore\n{SECTION_START}old{SECTION_END} after\n"
    change = apply(text, [score()], formats=["section"])
    assert change.readme.startswith(f"---\nlicense: mit\n---\nbefore\n{SECTION_START}\n| Benchmark")
    assert change.readme.endswith(f"|\n{SECTION_END} after\n")


def test_section_markers_inside_front_matter_are_not_the_section() -> None:
    text = f"---\n# {SECTION_END}\nlicense: mit\n---\nbody\n"
    change = apply(text, [score()], formats=["section"])
    assert change.readme.startswith(text + "\n" + SECTION_START)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        pytest.param(f"x\n{SECTION_START}\n", "found 1 '<!-- evalbot:start -->' and 0", id="start_only"),
        pytest.param(f"x\n{SECTION_END}\n", "found 0 '<!-- evalbot:start -->' and 1", id="end_only"),
        pytest.param(f"{SECTION_START}{SECTION_END}{SECTION_START}{SECTION_END}", "found 2", id="two_pairs"),
        pytest.param(f"x\n{SECTION_END}\n{SECTION_START}\n", "comes before", id="wrong_order"),
    ],
)
def test_broken_section_markers_are_a_card_error(body: str, problem: str) -> None:
    with pytest.raises(CardError, match=re.escape(problem)) as error:
        apply(body, [score()], formats=["section"])
    assert error.value.line is not None


def test_section_and_model_index_on_a_card_without_front_matter() -> None:
    change = apply("# m\n", [score()], formats=["model-index", "section"])
    card = parse_card(change.readme)
    assert "model-index" in card.data
    assert change.readme.split("---\n", 2)[2].startswith(f"# m\n\n{SECTION_START}\n")


def test_no_scores_touch_nothing() -> None:
    change = apply("# m\n", [], formats=["model-index", "eval-results", "section"])
    assert change.readme == "# m\n" and not change.files and change.changed is False


# --- options and safety -----------------------------------------------------------------------


@pytest.mark.parametrize("formats", [["model-index", "html"], "model-index"])
def test_unknown_format_is_a_config_error(formats: Any) -> None:
    with pytest.raises(ConfigError):
        apply("# m\n", [score()], formats=formats)


@pytest.mark.parametrize("key", ["", "../x", "a/b", ".hidden"])
def test_source_key_that_is_not_a_file_name_is_a_config_error(key: str) -> None:
    with pytest.raises(ConfigError):
        apply_scores(parse_card("# m\n"), [score()], source_key=key, model_name="m")


def test_non_finite_score_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not a finite number"):
        apply("# m\n", [score(value=float("nan"))])


def test_template_that_breaks_the_yaml_never_produces_a_card(tmp_path: Path) -> None:
    (tmp_path / "model_index.yaml.j2").write_text("model-index: [unclosed\n")
    with pytest.raises(TemplateError, match="not YAML"):
        apply("# m\n", [score()], env=make_environment(tmp_path))


def test_template_that_drops_results_never_produces_a_card(tmp_path: Path) -> None:
    (tmp_path / "model_index.yaml.j2").write_text("model-index:\n- name: m\n  results: []\n")
    with pytest.raises(TemplateError, match="does not read back"):
        apply("# m\n", [score()], env=make_environment(tmp_path))


def test_section_template_may_not_contain_the_markers(tmp_path: Path) -> None:
    (tmp_path / "card_section.md.j2").write_text(SECTION_END + "\n")
    with pytest.raises(TemplateError, match="markers"):
        apply("# m\n", [score()], formats=["section"], env=make_environment(tmp_path))


def test_apply_is_deterministic() -> None:
    case = load_case("existing_model_index")
    assert run_case(case) == run_case(case)


# --- real corpus cards -------------------------------------------------------------------------

CORPUS_CARDS = sorted(p.name for p in CORPUS.glob("*.md"))
CORPUS_SCORES = [
    score("MMLU", 65.4, dataset_id="cais/mmlu", task_id="mmlu"),
    score("GSM8K", 48.2, shots=None),
]


def test_corpus_is_there() -> None:
    assert len(CORPUS_CARDS) >= 40


def model_index_span(text: str) -> tuple[int, int]:
    """Independent, textual location of what may change: the model-index block, else the insertion point."""
    closing = [m.start() for m in re.finditer(r"^---[ \t]*\r?$", text, re.MULTILINE)][1]
    start_match = re.search(r"^model-index:", text, re.MULTILINE)
    if start_match is None or start_match.start() > closing:
        return closing, closing
    lines = text[start_match.start() : closing].splitlines(keepends=True)
    taken = 1
    while taken < len(lines) and not re.match(r"[^\s#-]", lines[taken]):
        taken += 1
    while taken > 1 and (not lines[taken - 1].strip() or lines[taken - 1].lstrip().startswith("#")):
        taken -= 1
    return start_match.start(), start_match.start() + sum(len(line) for line in lines[:taken])


@pytest.mark.parametrize("name", CORPUS_CARDS)
def test_corpus_card_changes_only_inside_model_index(name: str) -> None:
    text = read(CORPUS / name)
    card = parse_card(text)
    change = apply(text, CORPUS_SCORES)
    new = parse_card(change.readme)
    if card.front_matter is None:
        assert change.readme.endswith(text)
        assert change.readme[: len(change.readme) - len(text)].startswith("---\nmodel-index:\n")
    else:
        start, end = model_index_span(text)
        tail = len(text) - end
        assert change.readme[:start] == text[:start]
        assert change.readme[len(change.readme) - tail :] == text[end:]
        assert set(yaml.safe_load(change.readme[start : len(change.readme) - tail])) == {"model-index"}
    assert {k: v for k, v in new.data.items() if k != "model-index"} == {
        k: v for k, v in card.data.items() if k != "model-index"
    }
    assert list(new.data) == [*card.data, *([] if "model-index" in card.data else ["model-index"])]


@pytest.mark.parametrize("name", CORPUS_CARDS)
def test_corpus_card_round_trips_through_huggingface_hub(name: str) -> None:
    card = parse_card(read(CORPUS / name))
    change = apply(card.text, CORPUS_SCORES)
    model_index = parse_card(change.readme).data["model-index"]
    model_name, results = model_index_to_eval_results(model_index)
    ours = {(r.dataset_type, r.metric_type): r.metric_value for r in results if r.source_name == OWN.name}
    assert ours == {("cais/mmlu", "acc"): 65.4, ("gsm8k", "acc"): 48.2}
    existing = read_model_index(card)
    assert model_index[1:] == existing[1:]
    assert model_index[0]["results"][: len(existing[0]["results"]) if existing else 0] == (
        existing[0]["results"] if existing else []
    )
    if existing:
        assert model_name == existing[0]["name"]
    assert apply(change.readme, CORPUS_SCORES).changed is False


def test_corpus_card_with_model_index_keeps_it_in_place() -> None:
    text = read(CORPUS / "stt-en-conformer-transducer-xlarge.md")
    change = apply(text, CORPUS_SCORES)
    before, after = parse_card(text).data, parse_card(change.readme).data
    assert list(after) == list(before)
    assert after["model-index"][0]["results"][:-2] == before["model-index"][0]["results"]


# --- properties ----------------------------------------------------------------------------------

BASE_CARDS = [
    "# Example\n",
    "---\nlicense: mit  # mine\n---\n\nbody\r\n",
    read(GOLDEN / "existing_model_index" / "README.md"),
    "\ufeff---\r\nlanguage: [en]\r\n---\r\nno final newline",
]

SOURCES = st.sampled_from([OWN, OTHER, Source("local run")])


@st.composite
def scores(draw: st.DrawFn) -> Score:
    benchmark = draw(st.sampled_from(["MMLU", "ARC", "GSM8K", "HellaSwag"]))
    with_id = draw(st.booleans())
    return Score(
        benchmark=benchmark,
        dataset=Dataset(
            name=benchmark,
            type=benchmark.lower(),
            id=f"org/{benchmark.lower()}" if with_id else None,
            task_id=draw(st.sampled_from([None, "default", "main"])),
            config=draw(st.sampled_from([None, "main"])),
            split=draw(st.sampled_from([None, "test"])),
        ),
        task=Task(draw(st.sampled_from(["text-generation", "question-answering"]))),
        metric=Metric(
            type=draw(st.sampled_from(["acc", "acc_norm"])),
            value=draw(st.floats(allow_nan=False, allow_infinity=False)),
            stderr=draw(st.none() | st.floats(min_value=0, max_value=10)),
        ),
        source=draw(SOURCES),
        shots=draw(st.none() | st.integers(min_value=0, max_value=25)),
    )


@settings(max_examples=150, deadline=None)
@given(base=st.sampled_from(BASE_CARDS), batch=st.lists(scores(), max_size=6))
def test_applying_the_same_scores_twice_changes_nothing(base: str, batch: list[Score]) -> None:
    formats = ["model-index", "eval-results", "section"]
    first = apply(base, batch, formats=formats)
    second = apply(first.readme, batch, formats=formats, existing_files=first.files)
    assert second.readme == first.readme
    assert second.changed is False
    assert not second.added and not second.replaced and not second.files


@settings(max_examples=200, deadline=None)
@given(text=st.text() | st.text().map(lambda t: "---\n" + t) | st.text().map(lambda t: f"---\n{t}\n---\n"))
def test_parse_card_returns_a_card_or_raises_card_error(text: str) -> None:
    try:
        card = parse_card(text)
    except CardError as error:
        assert "\n" not in str(error)
    else:
        assert card.text == text
