"""evalbot.yaml: the eval: section (what the `eval` source runs in run/scan) and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.config_file import load_config_file
from bot.errors import ConfigError
from evaluators import Limits
from evaluators.service import EvalRequest


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "evalbot.yaml"
    path.write_text(text)
    return path


def test_eval_section_becomes_an_eval_request(tmp_path: Path) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "mine.py").write_text("# custom tasks\n")
    path = write(
        tmp_path,
        "eval:\n  tasks: ['gsm8k|5', ' mmlu|5 ']\n  engine: inspect\n  backend: vllm\n  runner: hf-jobs\n"
        "  limit: 50\n  custom_tasks: tasks/mine.py\n  use_chat_template: true\n  dtype: bfloat16\n",
    )
    assert load_config_file(path).eval == EvalRequest(
        tasks=("gsm8k|5", "mmlu|5"),
        engine="inspect",
        backend="vllm",
        runner="hf-jobs",
        limit=50,
        limits=Limits(
            dtype="bfloat16", use_chat_template=True, custom_tasks=(tmp_path / "tasks" / "mine.py").resolve()
        ),
    )
    assert Settings().with_config_file(path).eval_request == load_config_file(path).eval


def test_eval_defaults(tmp_path: Path) -> None:
    request = load_config_file(write(tmp_path, "eval:\n  tasks: ['gsm8k|5']\n")).eval
    assert request is not None
    assert (request.engine, request.backend, request.runner, request.trust_remote_code) == (
        "lighteval",
        "transformers",
        "local",
        False,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("eval: []\n", "eval: expected a mapping"),
        ("eval:\n  engine: lighteval\n", "eval: tasks: expected a non-empty list"),
        ("eval:\n  tasks: ['a|0']\n  engine: harness\n", "eval: engine: 'harness' is not one of lighteval, inspect"),
        ("eval:\n  tasks: ['a|0']\n  limit: 0\n", "eval: limit: expected a whole number of at least 1, got 0"),
        ("eval:\n  tasks: ['a|0']\n  trust_remote_code: 'yes'\n", "eval: trust_remote_code: expected true or false"),
        ("eval:\n  tasks: ['a|0']\n  custom_tasks: nope.py\n", "nope.py does not exist"),
        ("eval:\n  tasks: ['a|0']\n  gpus: 8\n", "eval: unknown key(s) gpus"),
    ],
)
def test_bad_eval_section_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config_file(write(tmp_path, text))
