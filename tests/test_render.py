"""The Jinja environment: sandboxing, overrides, errors, deterministic filters, built-in templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from huggingface_hub import EvalResultEntry, eval_result_entries_to_yaml, parse_eval_result_entries
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2.sandbox import SandboxedEnvironment

from bot.core.card import Conflict, parse_card
from bot.core.render import (
    TEMPLATE_DIR,
    code_fence,
    format_value,
    make_environment,
    md_cell,
    md_line,
    render_template,
    to_yaml,
    yaml_scalar,
)
from bot.core.scores import Dataset, Metric, Score, Source, Task
from bot.errors import ConfigError, TemplateError
from tests.conftest import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT / "cards"
MARKER = '<!-- evalbot {"source": "readme", "fingerprint": "abc", "base": "123", "v": 1} -->'
README_SOURCE = Source("Model README", "https://huggingface.co/org/model")


def readme_score(benchmark: str, value: float, row: int, cell: str, **metric: Any) -> Score:
    return Score(
        benchmark=benchmark,
        dataset=Dataset(name=benchmark, type=benchmark.lower()),
        task=Task("text-generation"),
        metric=Metric(value=value, **{"type": "acc", **metric}),
        source=README_SOURCE,
        shots=5,
        provenance={"table": 2, "row": row, "column": 3, "cell": cell},
    )


def user_templates(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


# --- environment ---------------------------------------------------------------------------------


def test_built_in_templates_are_all_there() -> None:
    names = sorted(p.name for p in TEMPLATE_DIR.glob("*.j2"))
    assert names == [
        "action_comment.md.j2",
        "action_results_table.md.j2",
        "action_summary.md.j2",
        "card_section.md.j2",
        "eval_results.yaml.j2",
        "model_index.yaml.j2",
        "pr_body.md.j2",
        "pr_comment.md.j2",
        "pr_title.txt.j2",
        "status.html.j2",
    ]
    assert not isinstance(make_environment(), SandboxedEnvironment)


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ model_index.__class__ }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    ],
)
def test_sandbox_blocks_attribute_escapes(tmp_path: Path, source: str) -> None:
    env = make_environment(user_templates(tmp_path, **{"evil.j2": source}))
    with pytest.raises(TemplateError, match="unsafe") as error:
        render_template(env, "evil.j2", model_index=[])
    assert str(error.value).startswith("template 'evil.j2'")


def test_whole_environment_is_sandboxed_when_user_templates_are_used(tmp_path: Path) -> None:
    env = make_environment(user_templates(tmp_path, **{"other.j2": "x"}))
    assert isinstance(env, SandboxedEnvironment)
    assert render_template(env, "pr_title.txt.j2", source_name="AA") == "Add evaluation results from AA (evalbot)"


def test_user_template_overrides_built_in_by_name(tmp_path: Path) -> None:
    env = make_environment(user_templates(tmp_path, **{"pr_title.txt.j2": "Scores for {{ repo_id }}"}))
    assert render_template(env, "pr_title.txt.j2", repo_id="org/model") == "Scores for org/model"


def test_user_template_can_extend_a_built_in(tmp_path: Path) -> None:
    env = make_environment(user_templates(tmp_path, **{"wrapped.j2": "[{% include 'pr_title.txt.j2' %}]"}))
    assert render_template(env, "wrapped.j2", source_name="x") == "[Add evaluation results from x (evalbot)]"


def test_missing_user_template_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        make_environment(tmp_path / "nope")


def test_undefined_variable_is_a_template_error_naming_template_and_variable() -> None:
    with pytest.raises(TemplateError) as error:
        render_template(make_environment(), "pr_title.txt.j2")
    assert str(error.value) == "template 'pr_title.txt.j2': UndefinedError: 'source_name' is undefined"


def test_syntax_error_is_a_one_line_template_error_with_the_line(tmp_path: Path) -> None:
    env = make_environment(user_templates(tmp_path, **{"broken.j2": "ok\n{% for x in %}\n"}))
    with pytest.raises(TemplateError) as error:
        render_template(env, "broken.j2")
    assert str(error.value).startswith("template 'broken.j2', line 2: ")
    assert "\n" not in str(error.value)


def test_unknown_template_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match=r"'nope\.j2': not found"):
        render_template(make_environment(), "nope.j2")


def test_any_failure_inside_a_template_is_a_template_error(tmp_path: Path) -> None:
    env = make_environment(user_templates(tmp_path, **{"div.j2": "{{ 1 / 0 }}"}))
    with pytest.raises(TemplateError, match="ZeroDivisionError"):
        render_template(env, "div.j2")


# --- filters -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (65.4, "65.4"),
        (0.1 + 0.2, "0.3"),
        (65.39999999999999, "65.4"),
        (65.0, "65.0"),
        (65, "65"),
        (-0.5, "-0.5"),
        (0.00001234, "1.234e-05"),
        (None, ""),
        ("n/a", "n/a"),
    ],
)
def test_format_value_prints_numbers_without_float_noise(value: Any, text: str) -> None:
    assert format_value(value) == text


def test_md_cell_escapes_pipes_and_flattens_lines() -> None:
    assert md_cell("a|b\nc\r\nd") == "a\\|b c d"
    assert md_cell(48.2) == "48.2"


def test_md_line_keeps_one_table_cell_without_raw_html() -> None:
    assert md_line("a|b <img src=x>\n c") == "a\\|b &lt;img src=x&gt; c"
    assert md_line(None) == ""


@given(text=st.text(alphabet="`ab\n", max_size=40))
def test_code_fence_is_longer_than_every_backtick_run_inside(text: str) -> None:
    fence = code_fence(text)
    assert set(fence) == {"`"} and len(fence) >= 3
    assert fence not in text  # the block cannot be closed early from inside


def test_action_filters_are_in_the_sandbox_too(tmp_path: Path) -> None:
    env = make_environment(user_templates(tmp_path, **{"t.j2": "{{ x | md_line }} {{ x | code_fence }}"}))
    assert render_template(env, "t.j2", x="a|```") == "a\\|``` ````"


@settings(max_examples=200, deadline=None)
@given(value=st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none())
def test_yaml_scalar_is_one_line_that_reads_back(value: Any) -> None:
    text = yaml_scalar(value)
    assert "\n" not in text
    assert yaml.safe_load(f"key: {text}\n") == {"key": value}


YAML_LEAVES = st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none()
YAML_DATA = st.recursive(
    YAML_LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(model_index=st.lists(YAML_DATA, min_size=1, max_size=3))
def test_model_index_template_reads_back_exactly(model_index: list[Any]) -> None:
    text = render_template(make_environment(), "model_index.yaml.j2", model_index=model_index)
    assert yaml.safe_load(text) == {"model-index": model_index}
    assert text.startswith("model-index:\n") and text.endswith("\n") and not text.endswith("\n\n")


def test_model_index_template_reads_back_a_real_card() -> None:
    model_index = parse_card((CORPUS / "stt-en-conformer-transducer-xlarge.md").read_text()).data["model-index"]
    text = render_template(make_environment(), "model_index.yaml.j2", model_index=model_index)
    assert yaml.safe_load(text) == {"model-index": model_index}


def test_to_yaml_keeps_key_order_and_unicode() -> None:
    assert to_yaml({"z": "Zephyr-7b-β", "a": [1, 2.5]}) == "z: Zephyr-7b-β\na:\n- 1\n- 2.5"


# --- built-in templates --------------------------------------------------------------------------


def test_eval_results_template_reads_back_with_huggingface_hub() -> None:
    entries = eval_result_entries_to_yaml(
        [
            EvalResultEntry(
                dataset_id="cais/hle", task_id="hle", value=22.1, source_url="https://x.org", source_name="X"
            ),
            EvalResultEntry(dataset_id="Idavidrein/gpqa", task_id="diamond", value=0.412, notes="no-tools"),
        ]
    )
    text = render_template(make_environment(), "eval_results.yaml.j2", entries=entries)
    parsed = parse_eval_result_entries(yaml.safe_load(text))
    assert [(e.dataset_id, e.value, e.notes) for e in parsed] == [
        ("cais/hle", 22.1, None),
        ("Idavidrein/gpqa", 0.412, "no-tools"),
    ]


def test_card_section_is_a_results_table() -> None:
    scores = [
        readme_score("MMLU", 65.4, 1, "**65.4**"),
        readme_score("A|B", 48.2, 2, "48.2 ± 1.1", stderr=1.1),
    ]
    text = render_template(make_environment(), "card_section.md.j2", scores=scores)
    assert text == (
        "| Benchmark | Metric | Value | Source |\n"
        "|---|---|---|---|\n"
        "| MMLU | acc (5-shot) | 65.4 | [Model README](https://huggingface.co/org/model) |\n"
        "| A\\|B | acc (5-shot) | 48.2 ± 1.1 | [Model README](https://huggingface.co/org/model) |\n"
    )


def test_pr_title_is_one_line() -> None:
    title = render_template(
        make_environment(), "pr_title.txt.j2", repo_id="o/m", source="readme", source_name="the model card"
    )
    assert title == "Add evaluation results from the model card (evalbot)"


def pr_body(**context: Any) -> str:
    scores = [
        readme_score("MMLU", 65.4, 1, "**65.4**"),
        readme_score("GSM8K", 48.2, 2, "48.2 ± 1.1", stderr=1.1),
    ]
    defaults: dict[str, Any] = {
        "repo_id": "org/model",
        "source": "readme",
        "source_name": "the model card",
        "scores": scores,
        "conflicts": [],
        "marker": MARKER,
        "files": ["README.md", ".eval_results/readme.yaml"],
    }
    return render_template(make_environment(), "pr_body.md.j2", **{**defaults, **context})


def test_pr_body_has_provenance_opt_out_and_the_marker_last() -> None:
    body = pr_body()
    assert "`org/model`" in body and "`README.md`, `.eval_results/readme.yaml`" in body
    assert "| MMLU | acc (5-shot) | 65.4 | table 2, row 1, column 3: `**65.4**` |" in body
    assert "| GSM8K | acc (5-shot) | 48.2 ± 1.1 | table 2, row 2, column 3: `48.2 ± 1.1` |" in body
    assert "add `evalbot: ignore` to the card metadata, or close this PR — closed PRs are never re-opened" in body
    assert "Conflicts" not in body
    assert body.rstrip("\n").endswith(MARKER)


def test_pr_body_lists_conflicts_with_the_kept_value() -> None:
    score = readme_score("MMLU", 65.4, 1, "65.4")
    body = pr_body(conflicts=[Conflict(score, 60.1, "Open LLM Leaderboard")])
    assert "### Conflicts (existing values kept)" in body
    assert (
        "- MMLU / acc in model-index: the existing value 60.1 (from Open LLM Leaderboard) was kept; "
        "the model card says 65.4." in body
    )


def test_pr_body_shows_other_provenance_as_key_values() -> None:
    score = Score(
        benchmark="GPQA",
        dataset=Dataset(name="GPQA", type="gpqa"),
        task=Task("text-generation"),
        metric=Metric("acc", 0.412),
        source=Source("Artificial Analysis", "https://artificialanalysis.ai"),
        provenance={"model": "aa/model", "field": "gpqa"},
    )
    assert "| GPQA | acc | 0.412 | model: aa/model; field: gpqa |" in pr_body(scores=[score])


def test_rendering_is_deterministic() -> None:
    assert pr_body() == pr_body()


# --- hostile user templates and card text (security) ---------------------------------------------


def test_user_templates_cannot_include_a_symlink_out_of_their_folder(tmp_path: Path) -> None:
    secret = tmp_path / "environ"
    secret.write_text("HF_TOKEN=hf_fake_secret_value")
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "env.txt").symlink_to(secret)
    (folder / "pr_title.txt.j2").write_text('{% include "env.txt" %}')
    with pytest.raises(TemplateError, match="not found") as info:
        render_template(make_environment(folder), "pr_title.txt.j2")
    assert "hf_fake_secret_value" not in str(info.value)


@pytest.mark.parametrize(
    "name", ["../environ", "sub/../../environ", "/etc/hostname", "..\\environ", "./pr_title.txt.j2"]
)
def test_user_templates_cannot_name_a_file_outside_their_folder(tmp_path: Path, name: str) -> None:
    (tmp_path / "environ").write_text("HF_TOKEN=hf_fake_secret_value")
    folder = tmp_path / "templates"
    (folder / "sub").mkdir(parents=True)
    (folder / "pr_title.txt.j2").write_text("{% include " + repr(name) + " %}")
    with pytest.raises(TemplateError, match="not found"):
        render_template(make_environment(folder), "pr_title.txt.j2")


def test_a_symlink_inside_the_folder_is_served_and_a_fifo_or_huge_file_is_not(tmp_path: Path) -> None:
    import os

    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "part.txt").write_text("inside")
    (folder / "alias.txt").symlink_to(folder / "part.txt")
    (folder / "pr_title.txt.j2").write_text('{% include "alias.txt" %}')
    assert render_template(make_environment(folder), "pr_title.txt.j2") == "inside"
    os.mkfifo(folder / "pipe.txt")  # reading it would block the worker for ever
    (folder / "pr_title.txt.j2").write_text('{% include "pipe.txt" %}')
    with pytest.raises(TemplateError, match="not found"):
        render_template(make_environment(folder), "pr_title.txt.j2")
    (folder / "big.txt").write_text("x" * (256 * 1024 + 1))
    (folder / "pr_title.txt.j2").write_text('{% include "big.txt" %}')
    with pytest.raises(TemplateError, match="larger than 262144 bytes"):
        render_template(make_environment(folder), "pr_title.txt.j2")


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}", "took too long"),
        ("{% for i in range(99999) %}{% for j in range(99999) %}xxxxxxxxxx{% endfor %}{% endfor %}", "longer than"),
        ("{{ 'x' * 100000000 }}", "too big"),
        ("{{ 2 ** 100000000 }}", "too big a number"),
        ("{{ ((10 ** 1000) ** 1000) ** 1000 }}", "too big a number"),
        ("{{ range(10 ** 9) | list }}", "too big"),
        ("{{ range(200000) | list }}", "at most 100000"),
        ("{{ 'x' | center(1000000000) }}", "is too big"),
        ("{{ 'x'.ljust(1000000000) }}", "is too big"),
        ("{{ 'x' | indent(width=1000000000, first=true) }}", "is too big"),
    ],
)
def test_user_template_renders_are_bounded_in_time_and_size(
    tmp_path: Path, source: str, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import bot.core.render

    # the time limit is short only where time is the bound under test, so a busy machine cannot make
    # a size limit look like a time-out
    seconds = 1.0 if "too long" in reason else 10.0
    monkeypatch.setattr(bot.core.render, "RENDER_SECONDS", seconds)
    folder = user_templates(tmp_path, **{"pr_title.txt.j2": source})
    started = time.monotonic()
    with pytest.raises(TemplateError, match=reason):
        render_template(make_environment(folder), "pr_title.txt.j2")
    assert time.monotonic() - started < seconds + 4


def test_card_text_in_the_pr_body_is_defanged() -> None:
    hostile = "MMLU <img src=x onerror=alert(1)> @everyone [click](https://evil.example) `x`"
    score = readme_score(hostile, 65.4, 1, "<script>alert(1)</script>65.4 @maintainer")
    conflict = Conflict(score, "model-index", "<b>50</b>", "@someone")
    body = pr_body(scores=[score], conflicts=[conflict], details=["<img src=x> by @ops"])
    for bad in ("<img", "<script", "<b>", "@everyone", "@maintainer", "@someone", "@ops", "[click](", "`x`"):
        assert bad not in body, bad
    assert "| MMLU @\u2060everyone click (https://evil.example) \\`x\\` |" in body
    assert "`alert(1)65.4 @\u2060maintainer`" in body


def test_model_index_names_are_plain_text() -> None:
    from bot.core.card._merge import model_index_result

    score = readme_score("x", 1.0, 1, "1")
    score = Score(
        benchmark="x",
        dataset=Dataset(name="<a href=x>MMLU</a> @team", type="mmlu"),
        task=Task("text-generation", name="[gen](http://x)"),
        metric=Metric(value=1.0, type="acc", name="acc <img src=x onerror=y>"),
        source=score.source,
    )
    result = model_index_result(score)
    assert result["dataset"]["name"] == "MMLU @\u2060team"
    assert result["task"]["name"] == "gen (http://x)"
    assert result["metrics"][0]["name"] == "acc"


def _pyyaml(value: Any) -> str:
    from bot.core.render import _YAML_WIDTH, _Dumper

    text = yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False,
                     width=_YAML_WIDTH)  # fmt: skip
    return text.removesuffix("\n...\n").removesuffix("\n")


_WORDS = st.sampled_from(
    ["null", "true", "No", "on", "1e3", "0x1f", "2001-01-01", "~", "", "-", "a: b", "a #b", ".5", "1_000", "...",
     "---", ":a", "(a)", "/x", "a,b", "MMLU (5-shot)", "x\ny", "é中"]
)  # fmt: skip
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), _WORDS, st.text(max_size=12),
    st.text("ab :#-'\"\n", max_size=8),
)  # fmt: skip
_KEYS = st.one_of(_WORDS, st.text(max_size=6))
_DATA = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_KEYS, children, max_size=3),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_DATA, min_size=1, max_size=3) | st.dictionaries(st.text(max_size=6), _DATA, min_size=1, max_size=3))
def test_to_yaml_writes_exactly_what_pyyaml_writes(value: Any) -> None:
    assert to_yaml(value) == _pyyaml(value)


def test_to_yaml_falls_back_to_pyyaml_for_shared_objects_and_long_keys() -> None:
    shared = {"x": 1}
    for value in ([shared, shared], {"k" * 130: 1}, {1: "a"}, ["line\nbreak"]):
        assert to_yaml(value) == _pyyaml(value)


def test_pr_body_metric_column_is_the_metric_and_an_update_says_so() -> None:
    score = readme_score("ARC-Challenge", 61.2, 1, "61.2", type="acc_norm", name="ARC-Challenge")
    body = pr_body(scores=[score])
    assert "| Benchmark | Metric | Value | Where |\n" in body
    assert "| ARC-Challenge | acc_norm (5-shot) | 61.2 | table 2, row 1, column 3: `61.2` |" in body
    updated = pr_body(scores=[score], before=["58.0 → 61.2"])
    assert updated.startswith('This pull request (updated: see "Changed in the last update" for old → new)')
    assert "- ARC-Challenge / acc_norm: 58.0 → 61.2\n" in updated
