"""The registered benchmarks the Hub stand-in serves unless told otherwise.

A small, plausible registry: each dataset has an allow-listed `eval.yaml` whose task ids follow
one of the public sources (hub-eval-results-and-formats.md §1), on purpose not always the
spelling a hard-coded table would guess (GPQA Diamond is `diamond`, GSM8K is `main`). MMLU
(`cais/mmlu`) is deliberately not registered, as on the Hub.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_BENCHMARKS: Mapping[str, Mapping[str, Any]] = {
    "Idavidrein/gpqa": {
        "name": "GPQA",
        "evaluation_framework": "inspect-ai",
        "tasks": [{"id": "diamond", "config": "gpqa_diamond", "split": "train"}],
    },
    "openai/gsm8k": {
        "name": "GSM8K",
        "evaluation_framework": "inspect-ai",
        "tasks": [{"id": "main", "config": "main", "split": "test"}],
    },
    "TIGER-Lab/MMLU-Pro": {
        "name": "MMLU-Pro",
        "evaluation_framework": "inspect-ai",
        "tasks": [{"id": "mmlu_pro", "split": "test"}],
    },
    "cais/hle": {"name": "Humanity's Last Exam", "evaluation_framework": "inspect-ai", "tasks": [{"id": "hle"}]},
    "MathArena/aime_2025": {
        "name": "AIME 2025",
        "evaluation_framework": "math-arena",
        "tasks": [{"id": "MathArena/aime_2025", "split": "train"}],
    },
}
