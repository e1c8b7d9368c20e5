"""The benchmark vocabulary: real-world labels resolve exactly, unknown ones do not."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
import yaml

from bot.core import benchmarks
from bot.core.benchmarks import (
    LabelParts,
    all_benchmarks,
    all_metrics,
    load_vocabulary,
    lookup_benchmark,
    lookup_metric,
    mentions_benchmark,
    normalize_label,
    parse_label,
)
from bot.errors import ConfigError

SHIPPED = Path(benchmarks.__file__).with_name("benchmarks.yaml")

# Benchmarks the Hub registers (hub-docs): the vocabulary names their dataset, config and split;
# the task id is never written here (it comes from each one's eval.yaml at run time).
HUB_DATASETS = {
    "HLE": ("cais/hle", None, "test"),
    "GPQA Diamond": ("Idavidrein/gpqa", "gpqa_diamond", "train"),
    "MMLU-Pro": ("TIGER-Lab/MMLU-Pro", None, "test"),
    "GSM8K": ("openai/gsm8k", "main", "test"),
    "AIME 2025": ("MathArena/aime_2025", None, "train"),
}

REQUIRED = """
MMLU MMLU-Pro MMLU-Redux GSM8K MATH MATH-500 HumanEval HumanEval+ MBPP MBPP+ HellaSwag ARC-Easy
ARC-Challenge WinoGrande TruthfulQA GPQA GPQA-Diamond BBH BIG-Bench IFEval IFBench DROP PIQA SIQA BoolQ
OpenBookQA TriviaQA Natural-Questions CommonsenseQA AGIEval C-Eval CMMLU MT-Bench AlpacaEval
AlpacaEval-2.0 AlpacaEval-2.0-LC Arena-Hard LiveCodeBench HLE AIME-2024 AIME-2025 MuSR SciCode SimpleQA
SWE-bench-Verified LAMBADA RACE SQuAD SQuAD-v2 CoQA QuAC MedQA MathQA LogiQA WSC RealToxicityPrompts
BOLD CrowS-Pairs BBQ Winogender WinoBias ToxiGen CoLA SST-2 MRPC STS-B QQP MNLI MNLI-mm QNLI RTE WNLI
CB COPA MultiRC ReCoRD WiC ImageNet-1k LibriSpeech-test-clean LibriSpeech-test-other Common-Voice
WMT14 FLORES-200 Tatoeba XNLI MGSM HumanEval-X MultiPL-E DS-1000 EvalPlus WikiText TyDiQA
""".split()


def test_vocabulary_has_at_least_70_benchmarks() -> None:
    assert len(all_benchmarks()) >= 70


@pytest.mark.parametrize("name", [n.replace("-", " ") for n in REQUIRED])
def test_required_benchmark_is_present(name: str) -> None:
    names = {normalize_label(b.name) for b in all_benchmarks()}
    assert normalize_label(name) in names


def test_benchmarks_are_sorted_by_name() -> None:
    names = [b.name.casefold() for b in all_benchmarks()]
    assert names == sorted(names)


@pytest.mark.parametrize("bench", all_benchmarks(), ids=lambda b: b.name)
def test_every_alias_resolves_to_its_own_benchmark(bench: benchmarks.Benchmark) -> None:
    for alias in (bench.name, *bench.aliases):
        assert lookup_benchmark(alias) == bench, alias


def test_no_normalised_alias_names_two_benchmarks() -> None:
    owners: dict[str, str] = {}
    for bench in all_benchmarks():
        for alias in {normalize_label(a) for a in (bench.name, *bench.aliases)}:
            assert alias not in owners, f"{alias!r}: {owners[alias]} and {bench.name}"
            owners[alias] = bench.name


@pytest.mark.parametrize("metric", all_metrics(), ids=lambda m: m.name)
def test_every_metric_name_resolves_to_itself(metric: benchmarks.MetricInfo) -> None:
    assert lookup_metric(metric.name) == metric


def test_every_benchmark_metric_is_a_known_metric_type() -> None:
    types = {m.type for m in all_metrics()}
    assert {b.metric for b in all_benchmarks()} <= types


@pytest.mark.parametrize(("name", "expected"), sorted(HUB_DATASETS.items()))
def test_hub_benchmarks_name_their_dataset_config_and_split(name: str, expected: tuple[str, str | None, str]) -> None:
    bench = lookup_benchmark(name)
    assert bench is not None
    assert (bench.dataset_id, bench.dataset_config, bench.dataset_split) == expected
    dataset = benchmarks.dataset_of(bench)
    assert (dataset.id, dataset.type, dataset.task_id) == (expected[0], expected[0], None)


def test_the_vocabulary_hard_codes_no_task_ids() -> None:
    assert "task_id" not in SHIPPED.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "dataset", "config", "split"),
    [
        ("MMLU", "cais/mmlu", "all", "test"),
        ("ARC-Challenge", "allenai/ai2_arc", "ARC-Challenge", "test"),
        ("ARC-Easy", "allenai/ai2_arc", "ARC-Easy", "test"),
        ("GPQA Diamond", "Idavidrein/gpqa", "gpqa_diamond", "train"),
        ("GSM8K", "openai/gsm8k", "main", "test"),
        ("HellaSwag", "Rowan/hellaswag", None, "validation"),
        ("WinoGrande", "allenai/winogrande", "winogrande_xl", "validation"),
        ("TruthfulQA", "truthfulqa/truthful_qa", "multiple_choice", "validation"),
        ("MNLI-mm", "nyu-mll/glue", "mnli", "validation_mismatched"),
        ("LibriSpeech test-other", "openslr/librispeech_asr", "other", "test"),
        ("AIME", None, None, None),
    ],
)
def test_model_index_dataset_fields(name: str, dataset: str | None, config: str | None, split: str | None) -> None:
    bench = lookup_benchmark(name)
    assert bench is not None
    assert (bench.dataset_id, bench.dataset_config, bench.dataset_split) == (dataset, config, split)


@pytest.mark.parametrize(
    ("name", "metric", "unit", "task", "lower"),
    [
        ("MMLU", "acc", "percent", "text-generation", False),
        ("ARC-Challenge", "acc_norm", "percent", "text-generation", False),
        ("TruthfulQA", "mc2", "percent", "text-generation", False),
        ("HumanEval", "pass@1", "percent", "text-generation", False),
        ("MT-Bench", "score", "raw", "text-generation", False),
        ("CoLA", "matthews_correlation", "percent", "text-classification", False),
        ("LibriSpeech test-clean", "wer", "raw", "automatic-speech-recognition", True),
        ("Common Voice", "wer", "raw", "automatic-speech-recognition", True),
        ("WikiText", "perplexity", "raw", "text-generation", True),
        ("ImageNet-1k", "top1", "percent", "image-classification", False),
        ("Tatoeba", "bleu", "raw", "translation", False),
        ("RealToxicityPrompts", "toxicity", "percent", "text-generation", True),
    ],
)
def test_benchmark_defaults(name: str, metric: str, unit: str, task: str, lower: bool) -> None:
    bench = lookup_benchmark(name)
    assert bench is not None
    assert (bench.metric, bench.unit, bench.task_type, bench.lower_is_better) == (metric, unit, task, lower)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        # Open LLM Leaderboard tables, as the corpus cards write them.
        ("ARC (25-s)", "ARC-Challenge"),
        ("ARC (25-s) ⬆️", "ARC-Challenge"),
        ("ARC (25-shot)", "ARC-Challenge"),
        ("AI2 Reasoning Challenge (25-Shot)", "ARC-Challenge"),
        ("ARC", "ARC-Challenge"),
        ("ARC-c", "ARC-Challenge"),
        ("arc c", "ARC-Challenge"),
        ("ARC_C", "ARC-Challenge"),
        ("ARC-e", "ARC-Easy"),
        ("ARC Easy", "ARC-Easy"),
        ("HellaSwag (10-s) ⬆️", "HellaSwag"),
        ("HellaSwag (10-Shot)", "HellaSwag"),
        ("Hellaswag", "HellaSwag"),
        ("MMLU (5-s)", "MMLU"),
        ("MMLU (5-Shot)", "MMLU"),
        ("MMLU", "MMLU"),
        ("mmlu_5shot", "MMLU"),
        ("MMLU-Pro", "MMLU-Pro"),
        ("MMLU-PRO (5-shot)", "MMLU-Pro"),
        ("MMLU Redux", "MMLU-Redux"),
        ("TruthfulQA (MC) (0-s)", "TruthfulQA"),
        ("TruthfulQA (0-shot)", "TruthfulQA"),
        ("TruthfulQA MC2", "TruthfulQA"),
        ("TruthfulQA (MC1)", "TruthfulQA MC1"),
        ("Winogrande (5-s)", "WinoGrande"),
        ("Winogrande (5-shot)", "WinoGrande"),
        ("GSM8K (5-s)", "GSM8K"),
        ("GSM8K (5-shot)", "GSM8K"),
        ("GSM8k (5-shot)", "GSM8K"),
        ("DROP (3-s)", "DROP"),
        ("DROP (3-shot)", "DROP"),
        # Suites and other cards of the corpus.
        ("BigBench (Avg)", "BIG-Bench"),
        ("BIG-Bench", "BIG-Bench"),
        ("Big-Bench Hard", "BBH"),
        ("BBH (3-shot, CoT)", "BBH"),
        ("AGI Benchmark (Avg)", "AGIEval"),
        ("AGIEval", "AGIEval"),
        ("MT-Bench (score)", "MT-Bench"),
        ("AlpacaEval (win rate %)", "AlpacaEval"),
        ("AlpacaEval 2.0 (LC)", "AlpacaEval 2.0 LC"),
        ("BooIQ", "BoolQ"),
        ("BoolQ", "BoolQ"),
        ("SocialIQA", "SIQA"),
        ("Social IQa", "SIQA"),
        ("Natural Questions", "Natural Questions"),
        ("NQ", "Natural Questions"),
        ("RealToxicity", "RealToxicityPrompts"),
        ("Toxigen", "ToxiGen"),
        ("CrowS-Pairs", "CrowS-Pairs"),
        ("LS test-clean", "LibriSpeech test-clean"),
        ("LS test-other", "LibriSpeech test-other"),
        ("MNLI", "MNLI"),
        ("MNLI-mm", "MNLI-mm"),
        ("STS-B", "STS-B"),
        ("SST-2", "SST-2"),
        # Code and reasoning.
        ("HumanEval", "HumanEval"),
        ("HumanEval+", "HumanEval+"),
        ("HumanEval (pass@1)", "HumanEval"),
        ("MBPP+", "MBPP+"),
        ("MATH (4-shot)", "MATH"),
        ("MATH-500", "MATH-500"),
        ("GPQA", "GPQA"),
        ("GPQA Diamond", "GPQA Diamond"),
        ("GPQA (Diamond)", "GPQA Diamond"),
        ("AIME 2024", "AIME 2024"),
        ("AIME (2025)", "AIME 2025"),
        ("AIME25", "AIME 2025"),
        ("Humanity's Last Exam", "HLE"),
        ("Humanity’s Last Exam", "HLE"),
        ("SWE-bench Verified", "SWE-bench Verified"),
        ("LiveCodeBench*", "LiveCodeBench"),
        ("IFEval†", "IFEval"),
        ("Arena-Hard ↑", "Arena-Hard"),
        ("WER ↓ LibriSpeech test-clean", None),  # metric and benchmark mixed: not an alias
    ],
)
def test_real_world_labels_resolve_exactly(label: str, expected: str | None) -> None:
    found = lookup_benchmark(label)
    assert (found.name if found else None) == expected


@pytest.mark.parametrize(
    "label",
    [
        "Learning rate",
        "Params",
        "Size",
        "Vocabulary Size",
        "Epoch",
        "Training Loss",
        "Validation Loss",
        "Average",
        "Avg.",
        "Model",
        "Math",  # an MT-Bench category, not the MATH benchmark
        "Record",
        "Race",
        "GSM8K-PoT",
        "MMLU Pro Max",
        "",
    ],
)
def test_unknown_labels_are_none(label: str) -> None:
    assert lookup_benchmark(label) is None


@pytest.mark.parametrize(
    ("label", "parts"),
    [
        ("ARC (25-s)", LabelParts("ARC", 25, ())),
        ("MMLU (5-shot)", LabelParts("MMLU", 5, ())),
        ("HellaSwag (10-Shot)", LabelParts("HellaSwag", 10, ())),
        ("AI2 Reasoning Challenge (25-Shot)", LabelParts("AI2 Reasoning Challenge", 25, ())),
        ("TruthfulQA (MC) (0-s)", LabelParts("TruthfulQA", 0, ("MC",))),
        ("MMLU 5-shot", LabelParts("MMLU", 5, ())),
        ("0-shot TriviaQA", LabelParts("TriviaQA", 0, ())),
        ("mmlu_5shot", LabelParts("mmlu", 5, ())),
        ("GSM8K (8-shot, CoT)", LabelParts("GSM8K", 8, ("CoT",))),
        ("BBH [3-shot]", LabelParts("BBH", 3, ())),
        ("Winogrande (5 shots)", LabelParts("Winogrande", 5, ())),
        ("HumanEval (zero-shot)", LabelParts("HumanEval", 0, ())),
        ("ARC (25-s) ⬆️", LabelParts("ARC", 25, ())),
        ("MMLU ↑", LabelParts("MMLU", None, ())),
        ("**MMLU**", LabelParts("MMLU", None, ())),
        ("IFEval†", LabelParts("IFEval", None, ())),
        ("MMLU[1]", LabelParts("MMLU", None, ())),
        ("BigBench (Avg)", LabelParts("BigBench", None, ("Avg",))),
        ("AlpacaEval (win rate %)", LabelParts("AlpacaEval", None, ("win rate %",))),
        ("HumanEval+", LabelParts("HumanEval+", None, ())),
        ("GSM8K", LabelParts("GSM8K", None, ())),
        ("(5-shot)", LabelParts("", 5, ())),
    ],
)
def test_parse_label(label: str, parts: LabelParts) -> None:
    assert parse_label(label) == parts


@pytest.mark.parametrize(
    ("label", "metric_type", "lower"),
    [
        ("chr-F", "chrf", False),
        ("chrF", "chrf", False),
        ("chrF++", "chrf++", False),
        ("BLEU", "bleu", False),
        ("sacrebleu", "bleu", False),
        ("pass@1", "pass@1", False),
        ("pass@10", "pass@10", False),
        ("pass@100", "pass@100", False),
        ("pass@5", "pass@5", False),
        ("pass@k:k=1&n=1", "pass@1", False),
        ("top1", "top1", False),
        ("top-5", "top5", False),
        ("acc@1", "top1", False),
        ("Test WER", "wer", True),
        ("Dev WER", "wer", True),
        ("WER (%)", "wer", True),
        ("WER ↓", "wer", True),
        ("Test CER", "cer", True),
        ("F1 score", "f1", False),
        ("F1", "f1", False),
        ("f1-score", "f1", False),
        ("Exact Match", "exact_match", False),
        ("EM", "exact_match", False),
        ("Perplexity", "perplexity", True),
        ("ppl", "perplexity", True),
        ("rouge1", "rouge1", False),
        ("ROUGE-2", "rouge2", False),
        ("rougeL", "rougeL", False),
        ("rougeLsum", "rougeLsum", False),
        ("meteor", "meteor", False),
        ("Accuracy", "acc", False),
        ("acc_norm", "acc_norm", False),
        ("Spearmanr", "spearmanr", False),
        ("Pearson", "pearsonr", False),
        ("MCC", "matthews_correlation", False),
        ("win rate", "win_rate", False),
        ("Elo", "elo", False),
        ("AUROC", "auc", False),
        ("mAP", "map", False),
        ("nDCG@10", "ndcg@10", False),
    ],
)
def test_lookup_metric(label: str, metric_type: str, lower: bool) -> None:
    found = lookup_metric(label)
    assert found is not None
    assert (found.type, found.lower_is_better) == (metric_type, lower)


@pytest.mark.parametrize("label", ["Training Loss", "Learning rate", "Epoch", "Test", "MMLU", "Size", ""])
def test_unknown_metrics_are_none(label: str) -> None:
    assert lookup_metric(label) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Model | ARC (25-s) ⬆️ | HellaSwag (10-s) ⬆️ | MMLU (5-s) ⬆️", True),
        ("Metric Value Avg. AI2 Reasoning Challenge (25-Shot)", True),
        ("Version Tokenizer Vocabulary Size LS test-other LS test-clean", True),
        ("Benchmark | 2B Params | TruthfulQA | Winogender", True),
        ("HumanEval+ and MBPP+", True),
        ("Learning rate | Epochs | Batch size | Warmup", False),
        ("Size | Parameters | English-only | Multilingual", False),
        ("Writing | Roleplay | Reasoning | Math | Coding", False),  # MT-Bench categories
        ("Dataset | Tokens | Code | Web | Books", False),
        ("research", False),  # "arc" inside a word is not a token
        ("", False),
    ],
)
def test_mentions_benchmark(text: str, expected: bool) -> None:
    assert mentions_benchmark(text) is expected


_METRICS = """
metrics:
  - name: Accuracy
    type: acc
"""


def _write(tmp_path: Path, benchmarks_yaml: str) -> Path:
    """A vocabulary file with the given benchmarks section and one metric (acc)."""
    path = tmp_path / "vocab.yaml"
    path.write_text(textwrap.dedent(benchmarks_yaml) + _METRICS, encoding="utf-8")
    return path


def test_duplicate_alias_names_both_benchmarks(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        benchmarks:
          - name: ARC-Challenge
            aliases: [ARC]
            metric: acc
            unit: percent
            task: text-generation
          - name: ARC-Easy
            aliases: [arc]
            metric: acc
            unit: percent
            task: text-generation
        """,
    )
    with pytest.raises(ConfigError) as error:
        load_vocabulary(path)
    assert "ARC-Challenge" in str(error.value)
    assert "ARC-Easy" in str(error.value)


def test_alias_equal_to_another_benchmark_name_is_a_duplicate(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        benchmarks:
          - name: MMLU
            metric: acc
            unit: percent
            task: text-generation
          - name: MMLU-Pro
            aliases: [MMLU]
            metric: acc
            unit: percent
            task: text-generation
        """,
    )
    with pytest.raises(ConfigError, match=r"'MMLU' and 'MMLU-Pro'"):
        load_vocabulary(path)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{name: X, metric: acc, unit: percentage, task: t}", "unit 'percentage'"),
        ("{name: X, metric: accuracy, unit: percent, task: t}", "metric 'accuracy'"),
        ("{name: X, metric: acc, unit: percent}", "task"),
        ("{name: X, metric: acc, unit: percent, task: t, dataset: {config: all}}", "id"),
        ("{name: X, metric: acc, unit: percent, task: t, eval_results: {id: a/b, task_id: c}}", "unknown field"),
        ("{name: X, metric: acc, unit: percent, task: t, split: test}", "unknown field"),
        ("{name: X, aliases: [yes], metric: acc, unit: percent, task: t}", "quote it"),
    ],
)
def test_invalid_entries_raise_config_error(tmp_path: Path, entry: str, message: str) -> None:
    path = _write(tmp_path, f"benchmarks:\n  - {entry}\n")
    with pytest.raises(ConfigError, match=message):
        load_vocabulary(path)


def test_unknown_ordinary_word_raises(tmp_path: Path) -> None:
    text = "ordinary_words: [Math]\nbenchmarks:\n  - {name: X, metric: acc, unit: percent, task: t}\n"
    with pytest.raises(ConfigError, match="ordinary word 'Math'"):
        load_vocabulary(_write(tmp_path, text))


def test_missing_file_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_vocabulary(tmp_path / "missing.yaml")


def test_loaded_file_matches_the_shipped_vocabulary() -> None:
    vocab = load_vocabulary(SHIPPED)
    assert vocab.benchmarks == all_benchmarks()
    assert vocab.benchmark("ARC (25-s)") == lookup_benchmark("ARC (25-s)")


def test_yaml_is_plain_safe_yaml() -> None:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    assert set(data) == {"ordinary_words", "benchmarks", "metrics"}


def test_lookups_are_fast() -> None:
    vocab = load_vocabulary(SHIPPED)  # uncached object: measures the lookup itself
    labels = ["ARC (25-s) ⬆️", "Learning rate", "TruthfulQA (MC) (0-s)", "MMLU-Pro", "Test WER"] * 2000
    start = time.perf_counter()
    for label in labels:
        vocab.benchmark(label)
        vocab.metric(label)
    assert time.perf_counter() - start < 2.0
