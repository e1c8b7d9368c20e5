"""The generalising rules of README extraction (bot/core/tables: _layout, _model_match and the public face).

Each test is one rule of the `bot/core/tables/_layout` docstring on a small inline card, with the exact
results expected — including the cases where the right answer is "no result, and why".
"""

from __future__ import annotations

import pytest

from bot.core.tables import extract_all, extract_results, inspect_tables, why_nothing


def md(*rows: str) -> str:
    width = rows[0].count("|") - 1
    return "\n".join([rows[0], "|" + "---|" * width, *rows[1:]]) + "\n"


def values(text: str, model: str) -> list[tuple[str, float]]:
    return [(r.label, r.value) for r in extract_results(text, model)]


# --- own-model identification -------------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["OpenLLaMA 13B", "open_llama_13b", "Open-LLaMA-13B"])
def test_spelling_variants_of_a_name_are_one_name(spelling: str) -> None:
    card = md("| Task | LLaMA 13B | " + spelling + " |", "| boolq | 0.71 | 0.75 |")
    assert values(card, "openlm-research/open_llama_13b") == [("boolq", 0.75)]


def test_a_marker_never_beats_a_size_mismatch() -> None:
    card = md("| task | Pythia 1B | OLMo 1B (ours) |", "| piqa | 69.1 | 73.7 |")
    assert extract_all(card, "allenai/OLMo-7B") == []


def test_ours_after_the_right_name_is_this_model() -> None:
    card = md("| task | Pythia 7B | OLMo 7B (ours) |", "| piqa | 69.1 | 78.4 |")
    assert values(card, "allenai/OLMo-7B") == [("piqa", 78.4)]


def test_a_context_length_column_is_never_the_model() -> None:
    card = md("| Model | 4K | 128K |", "| Phi-3-Mini-128K | 92.4 | 65.6 |", "| Other-7B | 90.0 | 60.0 |")
    assert [(r.model_label, r.label) for r in extract_results(card, "microsoft/Phi-3-mini-128k-instruct")] == [
        ("Phi-3-Mini-128K", "4K"),
        ("Phi-3-Mini-128K", "128K"),
    ]
    # "Phi-3-mini" alone could be the 4K model: the 128 of the name must be there
    other = md("| Model | 4K | 128K |", "| Phi-3-mini | 92.4 | 65.6 |", "| Other-7B | 90.0 | 60.0 |")
    assert extract_all(other, "microsoft/Phi-3-mini-128k-instruct") == []


def test_trailing_instruct_may_be_dropped_when_nothing_else_differs_there() -> None:
    card = "## Image benchmarks\n\n" + md("| Benchmark | GPT-4o | **Qwen2-VL-7B** |", "| MMMU val | 69.1 | 54.1 |")
    (result,) = extract_results(card, "Qwen/Qwen2-VL-7B-Instruct")
    assert (result.label, result.value, result.confidence) == ("MMMU val", 54.1, 0.9)


def test_dropping_instruct_is_refused_when_a_sibling_has_it() -> None:
    card = md("| Benchmark | Foo 7B | Foo 7B Instruct |", "| MMLU | 60.0 | 65.0 |")
    assert values(card, "org/Foo-7B-Instruct") == [("MMLU", 65.0)]  # the exact one
    base_only = (
        md("| Benchmark | Foo 7B | Bar 7B |", "| MMLU | 60.0 | 50.0 |")
        + "\n"
        + md("| Benchmark | Foo 7B Instruct |", "| GSM8K | 70.0 |")
    )
    assert values(base_only, "org/Foo-7B-Instruct") == [("GSM8K", 70.0)]
    reasons = why_nothing(md("| Benchmark | Foo 7B | Bar 7B |", "| MMLU | 60.0 | 50.0 |"), "org/Foo-7B-Instruct")
    assert reasons == []  # a plain suffix match: published, nothing to explain
    assert values(base_only.split("\n\n")[0] + "\n", "org/Foo-7B-Instruct") == [("MMLU", 60.0)]


@pytest.mark.parametrize(
    ("heading", "model", "expected"),
    [
        ("Base pretrained models", "meta-llama/Meta-Llama-3-8B-Instruct", []),
        ("Instruction tuned models", "meta-llama/Meta-Llama-3-8B-Instruct", [("MMLU (5-shot)", 68.4)]),
        ("Instruction tuned models", "meta-llama/Meta-Llama-3-8B", []),
        ("Base pretrained models", "meta-llama/Meta-Llama-3-8B", [("MMLU (5-shot)", 68.4)]),
    ],
)
def test_the_heading_says_whether_a_table_is_the_base_or_the_tuned_model(
    heading: str, model: str, expected: list[tuple[str, float]]
) -> None:
    card = f"### {heading}\n\n" + md("| Benchmark | Llama 3 8B | Llama 2 7B |", "| MMLU (5-shot) | 68.4 | 34.1 |")
    assert values(card, model) == expected


def test_a_name_split_over_a_name_and_a_size_column() -> None:
    card = md(
        "| Model | Params | PIQA |",
        "| Cerebras-GPT | 111M | 0.594 |",
        "| Cerebras-GPT | 13B | 0.766 |",
    )
    assert values(card, "cerebras/Cerebras-GPT-13B") == [("PIQA", 0.766)]


def test_a_model_over_several_rows_gives_every_row() -> None:
    card = md(
        "| Model | Decoding | GSM | MATH |",
        "| **MAmmoTH-7B** | CoT | 50.5 | 10.4 |",
        "| | PoT | 51.6 | 28.7 |",
        "| MAmmoTH-13B | CoT | 56.3 | 12.9 |",
    )
    assert values(card, "TIGER-Lab/MAmmoTH-7B") == [("GSM", 50.5), ("MATH", 10.4), ("GSM", 51.6), ("MATH", 28.7)]


def test_sft_and_rl_variants_are_told_apart_by_the_card_listing() -> None:
    downloads = md("| Model | Download |", "| DeepSeek-V2-Chat (RL) | [link](https://example.org) |")
    scores = md("| Benchmark | DeepSeek-V2 Chat (SFT) | DeepSeek-V2 Chat (RL) |", "| MMLU | 78.4 | 77.8 |")
    assert values(downloads + "\n" + scores, "deepseek-ai/DeepSeek-V2-Chat") == [("MMLU", 77.8)]
    assert extract_all(scores, "deepseek-ai/DeepSeek-V2-Chat") == []  # no listing: neither is certain


def test_rows_named_ours_and_this_model() -> None:
    for label in ("Ours", "(this model)", "Foo-7B (this model)"):
        card = md("| Model | MMLU |", "| Llama-2-7B | 45.3 |", f"| {label} | 65.4 |")
        assert values(card, "org/Foo-7B") == [("MMLU", 65.4)], label


def test_a_prefix_name_is_decided_without_a_crash() -> None:
    card = md("| Model | ChatRAG |", "| Dragon | 50.1 |", "| Dragon-multiturn | 53.0 |")
    assert values(card, "nvidia/dragon-multiturn-query-encoder") == [("ChatRAG", 53.0)]


def test_ambiguity_names_the_candidates_and_the_flags() -> None:
    card = md("| Benchmark | Foo 7B chat | Bar 7B chat |", "| MMLU | 45.3 | 65.4 |")
    assert extract_all(card, "org/Foo-Bar-7B-chat") == []
    (line,) = why_nothing(card, "org/Foo-Bar-7B-chat")
    assert line == (
        "table 1: ambiguous: 'Bar 7B chat', 'Foo 7B chat' could each be this model; candidates: 'Foo 7B chat', "
        "'Bar 7B chat'; closest 'Foo 7B chat': --table 1 --model-column-index 1"
    )


def test_a_model_not_found_lists_the_closest_candidate() -> None:
    card = md("| Model | MMLU |", "| Llama-2-7B | 45.3 |", "| Mistral-7B | 60.1 |")
    (line,) = why_nothing(card, "org/Mistral-7B-v0.1-finetune")
    assert line.startswith(
        "table 1: compares models; none of them is this model; candidates: 'Llama-2-7B', 'Mistral-7B'"
    )
    assert line.endswith("closest 'Mistral-7B': --model-name Mistral-7B")


# --- score cells versus property cells ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    [
        md("| Size | Peak LR | Betas | Epsilon | Weight Decay |", "| 7B | 3.0E-4 | (0.9, 0.95) | 1.0E-5 | 0.1 |"),
        md("| | GPU Type | Power Consumption | Carbon Emissions (tCO2eq) |", "| Foo 7B | A100 | 400 | 75.05 |"),
        md("| | Foo 7B | Llama 2 7B |", "| beta1 | 0.9 | 0.9 |", "| epsilon | 1.0E-05 | 1.0E-05 |"),
        md("| Dataset | Hours | % |", "| VoxPopuli | 21.97 | 7.97 |", "| Aalto | 228.00 | 82.73 |"),
        md("| Model | Params | Layers | Context Length |", "| Foo 7B | 7 | 32 | 4096 |"),
    ],
    ids=["hyperparameters", "carbon", "optimizer", "training-data", "architecture"],
)
def test_property_tables_are_never_evaluation_tables(table: str) -> None:
    assert extract_all(table, "org/Foo-7B") == []
    assert [i.evaluation for i in inspect_tables(table, "org/Foo-7B")] == [False]


def test_property_columns_beside_scores_are_left_out() -> None:
    card = md(
        "| Model | Params / M | Rel. Latency | Short-Form WER ↓ | Long-Form WER ↓ |",
        "| large-v2 | 1550 | 1.0 | 9.1 | 11.7 |",
        "| distil-large-v2 | 756 | 5.8 | 10.1 | 11.6 |",
    )
    assert values(card, "distil-whisper/distil-large-v2") == [("Short-Form WER ↓", 10.1), ("Long-Form WER ↓", 11.6)]


def test_accuracy_at_an_input_length_is_a_score() -> None:
    card = md(
        "| Model Name | Input length | Input length |",
        "| | 2851 | 5568 |",
        "| Mistral-7B-Instruct | 100% | 50% |",
        "| MistralLite | **100%** | **98%** |",
    )
    assert values(card, "amazon/MistralLite") == [("Input length 2851", 100.0), ("Input length 5568", 98.0)]


# --- lm-evaluation-harness tables -------------------------------------------------------------------------------------

HARNESS = """hf (pretrained=org/Foo-7B), limit: None, num_fewshot: 5

|    Tasks     |Version|  Filter  |n-shot|  Metric   |Value |   |Stderr|
|--------------|-------|----------|-----:|-----------|-----:|---|-----:|
|mmlu          |N/A    |none      |     5|acc        |0.6461|±  |0.1215|
| - humanities |N/A    |none      |     5|acc        |0.5960|±  |0.1200|
|  - formal_logic|Yaml |none      |     5|acc        |0.4683|±  |0.0446|
|gsm8k         |Yaml   |get-answer|     5|exact_match|0.6467|±  |0.0132|
|hellaswag     |Yaml   |none      |    10|acc        |0.7131|±  |0.0045|
|              |       |none      |    10|acc_norm   |0.8815|±  |0.0032|
"""


def test_harness_tables_are_read_natively() -> None:
    results = extract_results(HARNESS, "org/Foo-7B")
    assert [(r.label, r.benchmark, r.metric, r.value, r.stderr, r.shots, r.row, r.column) for r in results] == [
        ("mmlu", "MMLU", "acc", 0.6461, 0.1215, 5, 1, 5),
        ("humanities", "humanities", "acc", 0.596, 0.12, 5, 2, 5),
        ("formal_logic", "formal_logic", "acc", 0.4683, 0.0446, 5, 3, 5),
        ("gsm8k", "GSM8K", "exact_match", 0.6467, 0.0132, 5, 4, 5),
        ("hellaswag", "HellaSwag", "acc", 0.7131, 0.0045, 10, 5, 5),
        ("hellaswag", "HellaSwag", "acc_norm", 0.8815, 0.0032, 10, 6, 5),  # continuation row: same task
    ]
    assert {r.unit for r in results} == {"fraction"}
    assert [i.orientation for i in inspect_tables(HARNESS, "org/Foo-7B")] == ["harness"]


def test_harness_group_tables_report_groups_and_subtasks() -> None:
    card = md(
        "|Groups|Version|Filter|n-shot|Metric|Value| |Stderr|",
        "|mmlu|N/A|none|0|acc|0.6121|±|0.0039|",
        "| - stem|N/A|none|0|acc|0.5083|±|0.0086|",
    )
    assert [(r.label, r.value, r.stderr) for r in extract_results(card, "org/x")] == [
        ("mmlu", 0.6121, 0.0039),
        ("stem", 0.5083, 0.0086),
    ]


# --- compound cells and layouts -------------------------------------------------------------------------------------


def test_two_metric_header_gives_two_results_from_one_cell() -> None:
    card = md(
        "| Model | SQuADv1.1 (EM/F1) | MNLI-m (Acc) |",
        "| Other | 80.1/87.4 | 81.0 |",
        "| **Foo-7B** | 78.10/85.82 | 80.7 |",
    )
    results = extract_results(card, "org/Foo-7B")
    assert [(r.label, r.metric, r.value) for r in results] == [
        ("SQuADv1.1 (EM/F1)", "exact_match", 78.1),
        ("SQuADv1.1 (EM/F1)", "f1", 85.82),
        ("MNLI-m (Acc)", "acc", 80.7),
    ]


def test_a_pair_cell_under_a_plain_header_is_not_guessed() -> None:
    card = md("| Model | Video-MME | MVBench |", "| Foo-7B | 63.3/69.0 | 67.0 |")
    assert values(card, "org/Foo-7B") == [("MVBench", 67.0)]


def test_a_score_with_an_aside_keeps_the_score() -> None:
    card = md("| | Llama 7B | Foo 7B |", "| GSM8k (mixed eval.) | 10.0 (8shot CoT) | 8.5 (8shot CoT) |")
    assert values(card, "org/Foo-7B") == [("GSM8k (mixed eval.)", 8.5)]


def test_a_category_column_beside_the_benchmarks_is_folded() -> None:
    card = md(
        "| Category | Benchmark | Foo-7B | Bar-7B |",
        "| Reasoning | ARC Challenge | 85.5 | 78.6 |",
        "| | HellaSwag | 70.5 | 49.8 |",
        "| Math | GSM8K | 85.3 | 59.8 |",
    )
    results = extract_results(card, "org/Foo-7B")
    assert [(r.label, r.category, r.value, r.column) for r in results] == [
        ("ARC Challenge", "Reasoning", 85.5, 2),
        ("HellaSwag", "Reasoning", 70.5, 2),
        ("GSM8K", "Math", 85.3, 2),
    ]


def test_a_table_glued_to_a_list_item_is_found() -> None:
    card = "1. Question answering\n| Model | Accuracy |\n|---|---|\n| Foo-7B | 64.4% |\n"
    assert values(card, "org/Foo-7B") == [("Accuracy", 64.4)]


def test_a_comparison_without_this_model_is_never_read_as_its_own_results() -> None:
    card = md("| task | StableLM 2 1.6b | Pythia 1B | TinyLlama 1.1B |", "| piqa | 74 | 69.1 | 71.1 |")
    assert extract_all(card, "org/Foo-7B") == []


# --- derivative repos -------------------------------------------------------------------------------------------

BASE_TABLE = md("| Benchmark | Foo-7B |", "| MMLU | 65.4 |")


@pytest.mark.parametrize(
    ("front_matter", "repo"),
    [
        ("base_model: org/Foo-7B\nbase_model_relation: quantized\n", "other/Foo-7B-Q4"),
        ("base_model: [org/Foo-7B]\nbase_model_relation: merge\n", "other/Foo-7B-merged"),
        ("base_model: org/Foo-7B\nbase_model_relation: adapter\n", "other/Foo-7B-lora"),
        ("license: mit\n", "other/Foo-7B-GGUF"),
        ("license: mit\n", "other/Foo-7B-AWQ"),
    ],
    ids=["quantized", "merge", "adapter", "gguf-name", "awq-name"],
)
def test_derivative_repos_do_not_take_the_base_models_scores(front_matter: str, repo: str) -> None:
    card = f"---\n{front_matter}---\n# Model\n\n{BASE_TABLE}"
    assert extract_results(card, repo) == []
    (held,) = extract_all(card, repo)
    assert held.confidence == 0.0
    assert held.reasons[-1].endswith("the tables are the base model's")
    assert why_nothing(card, repo)[0].endswith("the tables are the base model's")


def test_a_fine_tune_keeps_its_own_scores() -> None:
    table = md("| Benchmark | Bar-7B |", "| MMLU | 70.1 |")
    card = f"---\nbase_model: org/Foo-7B\nbase_model_relation: finetune\n---\n{table}"
    assert values(card, "other/Bar-7B") == [("MMLU", 70.1)]


def test_count_columns_are_not_scores() -> None:
    card = "## Dataset\n\n" + md(
        "| Set | Tokens | ENG | OTHER |", "| Training | 231,126 | 1,493 | 28 |", "| Test | 58,997 | 1,239 | 46 |"
    )
    assert extract_all(card, "org/tagger") == []


def test_sclite_tables_give_the_error_rate_only() -> None:
    card = "### WER\n\n" + md(
        "|dataset|Snt|Wrd|Corr|Sub|Del|Ins|Err|S.Err|",
        "|decode_asr/test_pt|4334|33716|84.7|12.4|2.9|1.3|16.6|46.8|",
    )
    (result,) = extract_results(card, "espnet/pt_asr")
    assert (result.label, result.metric, result.value, result.dataset, result.column) == (
        "Err",
        "wer",
        16.6,
        None,
        7,
    )


def test_a_markdown_group_header_carries_over_its_metric_columns() -> None:
    card = md(
        "| | **Emoji Test Sets** | | **Text Test Sets** | |",
        "| | **R5-R7** | | **R1-R4** | |",
        "| | **Acc** | **F1** | **Acc** | **F1** |",
        "| **P-IA** | 0.508 | 0.394 | 0.679 | 0.720 |",
        "| **Hatemoji** | 0.744 | 0.755 | 0.827 | 0.844 |",
    )
    assert values(card, "HannahRoseKirk/Hatemoji") == [
        ("Emoji Test Sets (R5-R7) (Acc)", 0.744),
        ("Emoji Test Sets (R5-R7) (F1)", 0.755),  # "R5-R7" stands over "Acc" and "F1"
        ("Text Test Sets (R1-R4) (Acc)", 0.827),
        ("Text Test Sets (R1-R4) (F1)", 0.844),
    ]


def test_a_version_column_is_recognised_by_its_values_elsewhere_in_the_card() -> None:
    versions = md("| Benchmarks | Original | June 2024 Update |", "| GPQA | 25.9 | 29.7 |", "| MMLU | 68.1 | 69.7 |")
    ruler = md("| Model | 4K | 128K |", "| Original | 86.7 | 43.3 |", "| June 2024 Update | 92.4 | 65.6 |")
    own = md("| Benchmark | Phi-3-Mini-128K-Instruct | Gemma-7B |", "| MMLU | 69.7 | 63.6 |", "| GPQA | 29.7 | 2.9 |")
    card = "\n".join([versions, ruler, own])
    results = extract_results(card, "microsoft/Phi-3-mini-128k-instruct")
    assert [(r.table, r.label, r.value, r.confidence) for r in results] == [
        (1, "GPQA", 29.7, 0.85),
        (1, "MMLU", 69.7, 0.85),
        (2, "4K", 92.4, 0.85),
        (2, "128K", 65.6, 0.85),
        (3, "MMLU", 69.7, 1.0),
        (3, "GPQA", 29.7, 1.0),
    ]
    assert [i.orientation for i in inspect_tables(card, "microsoft/Phi-3-mini-128k-instruct")] == [
        "by agreement",
        "by agreement",
        "columns",
    ]
    # One value that differs: no agreement, nothing guessed.
    assert [
        r.table
        for r in extract_results(
            card.replace("| 69.7 | 63.6 |", "| 70.0 | 63.6 |"), "microsoft/Phi-3-mini-128k-instruct"
        )
    ] == [3, 3]


def test_one_model_under_several_settings_gives_every_setting() -> None:
    card = md(
        "| Model | GSM8k Pass@1 | MATH Pass@1 |",
        "| WizardMath-7B | 54.9 | 10.7 |",
        "| 🔥 **Arithmo-Mistral-7B Zero-Shot PoT** | **71.2** | -- |",
        "| 🔥 **Arithmo-Mistral-7B Zero-Shot CoT** | **74.7** | **25.3** |",
    )
    assert values(card, "akjindal53244/Arithmo-Mistral-7B") == [
        ("GSM8k Pass@1", 71.2),
        ("GSM8k Pass@1", 74.7),
        ("MATH Pass@1", 25.3),
    ]
    settings = md(
        "| Prompt Approach | GSM8k | MATH |", "| Zero-Shot CoT | 74.7 | 25.3 |", "| Zero-Shot PoT | 71.2 | - |"
    )
    assert values(settings, "akjindal53244/Arithmo-Mistral-7B") == [("GSM8k", 74.7), ("MATH", 25.3), ("GSM8k", 71.2)]


def test_a_per_epoch_training_table_is_a_training_log() -> None:
    card = md(
        "| Epochs | Train Loss | Train Accuracy | Validation Loss | Validation Accuracy |",
        "| 1 | 1.231 | 0.635 | 1.913 | 0.596 |",
        "| 2 | 0.947 | 0.699 | 2.633 | 0.599 |",
    )
    assert extract_all(card, "org/deeplab") == []
    assert [i.detail for i in inspect_tables(card, "org/deeplab")] == ["training log"]


def test_rows_by_epoch_and_step_are_checkpoints_even_without_a_loss_column() -> None:
    card = "### Training results\n\n" + md(
        "| Epoch | Step | Wer |",
        "| 0.1 | 1000 | 43.61 |",
        "| 1.0 | 10000 | 19.56 |",
    )
    assert extract_all(card, "org/whisper-medium-ba") == []
    assert [i.detail for i in inspect_tables(card, "org/whisper-medium-ba")] == [
        "training log (rows are checkpoints by epoch or step)"
    ]
    # a test-set column beside the scores is not a progress axis
    results = md("| Test set | Wer |", "| Common Voice 11 | 19.56 |")
    assert values(results, "org/whisper-medium-ba") == [("Common Voice 11", 19.56)]


def test_a_scikit_learn_search_table_is_not_the_models_results() -> None:
    card = md(
        "| iter | mean_fit_time | param_max_depth | params | mean_test_score | rank_test_score |",
        "| 0 | 0.0498 | 2 | {'max_depth': 2} | 0.625 | 5 |",
        "| 1 | 0.0431 | 5 | {'max_depth': 5} | 0.875 | 1 |",
    )
    assert extract_all(card, "org/skops-model") == []
    assert [i.detail for i in inspect_tables(card, "org/skops-model")] == [
        "hyperparameter search results (one row per candidate configuration)"
    ]
    # a Params column in a model comparison is no search
    comparison = md("| Model | Params | MMLU |", "| Foo-7B | 7B | 61.2 |", "| Other | 7B | 58.0 |")
    assert values(comparison, "org/Foo-7B") == [("MMLU", 61.2)]


def test_metric_suffixed_score_names_carry_their_metric() -> None:
    card = "### Accuracy\n\n" + md(
        "| Type | Score |",
        "| `ENTS_F` | 87.70 |",
        "| `ENTS_P` | 86.50 |",
        "| `TOKEN_ACC` | 99.9 |",
        "| `DEP_UAS` | 92.1 |",
    )
    assert [(r.label, r.metric) for r in extract_results(card, "org/ner")] == [
        ("ENTS_F", "f1"),
        ("ENTS_P", "precision"),
        ("TOKEN_ACC", "acc"),
        ("DEP_UAS", "uas"),
    ]


def test_a_dataset_then_a_lower_is_better_metric_is_that_metric_on_its_raw_scale() -> None:
    card = md(
        "| Model | Pile BPB | Pile PPL | Wikitext PPL | LAMBADA Acc |",
        "| Other 1.3B | 0.7527 | 6.159 | 13.10 | 57.2% |",
        "| Foo Neo 2.7B | 0.7165 | 5.646 | 11.39 | 62.2% |",
    )
    assert [(r.label, r.value, r.metric, r.unit) for r in extract_results(card, "org/foo-neo-2.7B")] == [
        ("Pile BPB", 0.7165, "bpb", "raw"),
        ("Pile PPL", 5.646, "perplexity", "raw"),
        ("Wikitext PPL", 11.39, "perplexity", "raw"),
        ("LAMBADA Acc", 62.2, "score", "percent"),  # a higher-is-better tail word is not taken (variants)
    ]


def test_model_recycling_tables_are_other_models_results() -> None:
    """Scores of models fine-tuned FROM this one on other datasets are not its own results."""
    card = "## Model Recycling\n\nResults:\n\n" + md("| ag_news | boolq | cola |", "| 90.63 | 83.79 | 86.58 |")
    assert extract_all(card, "org/nli-base") == []
    (info,) = inspect_tables(card, "org/nli-base")
    assert not info.evaluation and info.detail.startswith("results of models fine-tuned from this one")
    plain = "## Results\n\n" + md("| ag_news | boolq | cola |", "| 90.63 | 83.79 | 86.58 |")
    assert values(plain, "org/nli-base") == [("ag_news", 90.63), ("boolq", 83.79), ("cola", 86.58)]


def test_a_one_column_table_whose_rows_are_other_models_is_not_this_models() -> None:
    card = md(
        "| mdoel | accuracy |",  # a misspelt "model" header: the rows still name models
        "| fooElectra_base_fp16_custom | 0.8849 |",
        "| barElectra_base_fp16_custom | 0.8726 |",
        "| bazElectra_base_fp16_custom | 0.8434 |",
    )
    assert extract_all(card, "org/quxElectra_base_classifier") == []


def test_rows_repeating_one_label_with_other_values_are_configurations() -> None:
    card = "## Evaluation\n\n" + md(
        "| framework | operators_to_quantize | per_channel | accuracy |",
        "| `onnxruntime` | `None` | `None` | 0.911 |",
        "| `onnxruntime` | `['Add']` | `True` | 0.490 |",
        "| `pytorch` | `None` | `None` | 0.911 |",
    )
    assert extract_all(card, "org/quantized-model") == []
    (info,) = inspect_tables(card, "org/quantized-model")
    assert info.detail.startswith("rows repeat one label")


def test_sacrebleu_brevity_penalty_and_counts_are_not_scores() -> None:
    card = "## Benchmarks\n\n" + md(
        "| testset | BLEU | chr-F | #sent | #words | BP |",
        "| newstest2019.eng-deu | 24.3 | 0.5462 | 502 | 11271 | 0.993 |",
    )
    assert values(card, "org/opus-en-de") == [("BLEU", 24.3), ("chr-F", 0.5462)]


def test_a_spacy_component_scored_zero_is_not_published() -> None:
    card = "### Accuracy\n\n" + md(
        "| Type | Score |", "| `DEP_UAS` | 0.00 |", "| `SENTS_F` | 85.08 |", "| `TAG_ACC` | 0.00 |"
    )
    assert values(card, "org/en_pipeline") == [("SENTS_F", 85.08)]


def test_under_a_model_first_header_the_columns_are_never_the_model() -> None:
    """`HTS2` is a dataset even though the repo's name contains it; the rows are the models."""
    card = md("| Model | HTS2 | HTS5 |", "| fooBERT | 85.56 | 68.99 |", "| XLM-RoBERTa | 85.56 | 66.50 |")
    assert extract_all(card, "org/sentiment-hts2-foobert-hungarian") == []
    assert values(card, "org/XLM-RoBERTa") == [("HTS2", 85.56), ("HTS5", 66.5)]


def test_a_model_column_after_the_first_means_other_models() -> None:
    card = "## Results\n\n" + md(
        "| | model | f1 | precision |",
        "| 1 | biobert-v1.1 | 0.873347 | 0.870358 |",
        "| 2 | scibert_cased | 0.85848 | 0.859122 |",
    )
    assert extract_all(card, "org/scibert_uncased-ner") == []


def test_a_bare_number_is_a_setting_never_a_benchmark() -> None:
    card = md("| text length | 64 | 128 |", "| Other | 354.40 | 229.19 |", "| Foo-year | 31.49 | 24.97 |")
    assert extract_all(card, "org/Foo-year") == []


def test_a_dataset_row_named_like_the_repo_under_model_columns_is_not_the_model() -> None:
    """`ARMAN` in a repo named ...-ner-arman is its training data when the columns are the models."""
    card = md(
        "| Dataset | FooBERT v2 | FooBERT v1 | mBERT | LSTM-CRF |",
        "| ARMAN | 99.84 | 98.79 | 95.89 | 86.55 |",
    )
    assert extract_all(card, "org/bert-fa-base-uncased-ner-arman") == []


def test_a_split_word_never_names_the_model() -> None:
    card = md("| | s3prl | transformers |", "| **test** | 0.7518 | 0.7518 |")
    assert extract_all(card, "org/test_regex_model") == []


def test_few_shot_setting_columns_take_the_headings_benchmark() -> None:
    card = "### COPA (F1)\n\n" + md(
        "| Model | params | n=0 | n=5 |",
        "| org/other-1b | 1.2B | 0.6570 | 0.6680 |",
        "| org/foo-ko-1.3b | 1.3B | 0.7196 | 0.7193 |",
    )
    assert [(r.benchmark, r.shots, r.metric, r.value) for r in extract_results(card, "org/foo-ko-1.3b")] == [
        ("COPA", 0, "f1", 0.7196),
        ("COPA", 5, "f1", 0.7193),
    ]
    unnamed = "### Results\n\n" + md("| Model | n=0 | n=5 |", "| org/foo-ko-1.3b | 0.7196 | 0.7193 |")
    assert extract_all(unnamed, "org/foo-ko-1.3b") == []  # a setting is not a benchmark
