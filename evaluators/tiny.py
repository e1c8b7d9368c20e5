"""A tiny random-weight model and two tiny local tasks, for offline tests and demos.

Nothing can be downloaded here, so tests build what they evaluate: a 2-layer Llama (~100k
parameters, ~0.5 MB) with a BPE tokenizer trained on the spot, and a multiple-choice task and an
exact-match task as local JSONL folders, with task files for both engines. The real loading paths
(`from_pretrained`, `datasets.load_dataset` on a folder) are exercised; scores are chance-level.

Each task file is self-contained (its rows are written into it), so it works wherever it is
copied, e.g. into an HF Job's own working directory: the lighteval file writes its JSONL folders
into a temp directory named after their content when imported. The inspect tasks set their own
generation length (`GenerateConfig(max_tokens=MC_MAX_TOKENS / QA_MAX_TOKENS)`), which a run must keep.

    build_tiny_model(tmp / "tiny-llama")
    tasks = write_tiny_tasks(tmp / "tasks")
    # lighteval: custom tasks file tasks.lighteval_file, task strings "tiny_mc|0", "tiny_qa|0"
    # inspect:   f"{tasks.inspect_file}@tiny_mc", f"{tasks.inspect_file}@tiny_qa"
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
MC: list[dict[str, Any]] = [
    {"question": "What colour is the sky on a clear day?", "choices": ["blue", "green", "red", "black"], "answer": "A"},
    {"question": "How many legs does a spider have?", "choices": ["six", "eight", "ten", "four"], "answer": "B"},
    {"question": "Which is a prime number?", "choices": ["4", "6", "9", "7"], "answer": "D"},
    {"question": "Water freezes at how many degrees Celsius?", "choices": ["100", "50", "0", "10"], "answer": "C"},
]
QA_MAX_TOKENS = 6  # tiny_qa's own generation length (both engines)
MC_MAX_TOKENS = 8  # inspect tiny_mc's own (its solver generates "ANSWER: X")
QA: list[dict[str, Any]] = [
    {"question": "2 + 2 =", "answer": "4"},
    {"question": "The capital of France is", "answer": "Paris"},
    {"question": "The opposite of hot is", "answer": "cold"},
]


def build_tiny_model(out: Path, *, arch: str = "llama") -> Path:
    """A random-weight causal LM in HF format (config, safetensors, tokenizer) under `out`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        GPT2Config,
        GPT2LMHeadModel,
        LlamaConfig,
        LlamaForCausalLM,
        PreTrainedModel,
        PreTrainedTokenizerFast,
    )

    out.mkdir(parents=True, exist_ok=True)
    corpus = [row["question"] + " " + " ".join(row.get("choices", [])) for row in MC + QA] * 8
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        special_tokens=["<|endoftext|>", "<|pad|>", "<|user|>", "<|assistant|>", "<|system|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(corpus, trainer)
    hf_tok = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|pad|>",
    )
    hf_tok.chat_template = CHAT_TEMPLATE
    hf_tok.save_pretrained(out)
    import torch

    torch.manual_seed(0)  # the same weights every time: cached results stay comparable
    model: PreTrainedModel
    if arch == "gpt2":
        special = {"bos_token_id": hf_tok.bos_token_id, "eos_token_id": hf_tok.eos_token_id}
        model = GPT2LMHeadModel(GPT2Config(vocab_size=len(hf_tok), n_embd=64, n_layer=2, n_head=4, **special))
    else:
        model = LlamaForCausalLM(
            LlamaConfig(
                vocab_size=len(hf_tok),
                hidden_size=64,
                intermediate_size=128,
                num_hidden_layers=2,
                num_attention_heads=4,
                num_key_value_heads=4,
                max_position_embeddings=512,
                bos_token_id=hf_tok.bos_token_id,
                eos_token_id=hf_tok.eos_token_id,
                pad_token_id=hf_tok.pad_token_id,
                tie_word_embeddings=True,
            )
        )
    model.save_pretrained(out)
    return out


@dataclass(frozen=True)
class TinyTasks:
    data_dir: Path
    lighteval_file: Path  # custom tasks: tiny_mc, tiny_qa
    inspect_file: Path  # @task functions: tiny_mc, tiny_qa


def write_tiny_tasks(out: Path) -> TinyTasks:
    """The two tiny tasks as JSONL folders, plus a task file per engine pointing at them."""
    tables = {"tiny_mc": MC, "tiny_qa": QA}
    for name, rows in tables.items():
        folder = out / "data" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    data = out / "data"
    lighteval_file = out / "tiny_lighteval_tasks.py"
    lighteval_file.write_text(_fill(_LIGHTEVAL_TASKS, tables), encoding="utf-8")
    inspect_file = out / "tiny_inspect_tasks.py"
    inspect_file.write_text(_fill(_INSPECT_TASKS, tables), encoding="utf-8")
    return TinyTasks(data, lighteval_file, inspect_file)


def _fill(template: str, rows: dict[str, list[dict[str, Any]]]) -> str:
    text = template.replace("@ROWS@", repr(json.dumps(rows, sort_keys=True)))
    return text.replace("@QA_MAX_TOKENS@", str(QA_MAX_TOKENS)).replace("@MC_MAX_TOKENS@", str(MC_MAX_TOKENS))


_LIGHTEVAL_TASKS = '''"""Tiny local tasks for lighteval (written by evaluators.tiny); self-contained."""
import hashlib
import json
import os
import tempfile

from lighteval.metrics.metrics import Metrics
from lighteval.tasks.lighteval_task import LightevalTaskConfig
from lighteval.tasks.requests import Doc

ROWS = json.loads(@ROWS@)
DIGEST = hashlib.sha256(json.dumps(ROWS).encode()).hexdigest()[:16]
DATA_DIR = os.path.join(tempfile.gettempdir(), "evalbot-tiny-" + DIGEST)
for _name, _rows in ROWS.items():
    os.makedirs(os.path.join(DATA_DIR, _name), exist_ok=True)
    _path = os.path.join(DATA_DIR, _name, "test.jsonl")
    if not os.path.exists(_path):
        with open(_path + ".tmp", "w", encoding="utf-8") as _f:
            _f.write("".join(json.dumps(r) + "\\n" for r in _rows))
        os.replace(_path + ".tmp", _path)
LETTERS = ["A", "B", "C", "D"]


def mc_prompt(line, task_name=None):
    q = line["question"] + "\\n" + "\\n".join(f"{l}. {c}" for l, c in zip(LETTERS, line["choices"])) + "\\nAnswer:"
    gold = LETTERS.index(line["answer"])
    return Doc(task_name=task_name, query=q, choices=[f" {l}" for l in LETTERS], gold_index=gold)


def qa_prompt(line, task_name=None):
    return Doc(task_name=task_name, query=line["question"] + "\\nAnswer:", choices=[line["answer"]], gold_index=0)


tiny_mc = LightevalTaskConfig(name="tiny_mc", prompt_function=mc_prompt, hf_repo=os.path.join(DATA_DIR, "tiny_mc"),
    hf_subset="default", hf_avail_splits=["test"], evaluation_splits=["test"], few_shots_split=None,
    few_shots_select=None, metrics=[Metrics.loglikelihood_acc], generation_size=-1, stop_sequence=None)
tiny_qa = LightevalTaskConfig(name="tiny_qa", prompt_function=qa_prompt, hf_repo=os.path.join(DATA_DIR, "tiny_qa"),
    hf_subset="default", hf_avail_splits=["test"], evaluation_splits=["test"], few_shots_split=None,
    few_shots_select=None, metrics=[Metrics.exact_match], generation_size=@QA_MAX_TOKENS@, stop_sequence=["\\n"])
TASKS_TABLE = [tiny_mc, tiny_qa]
'''

_INSPECT_TASKS = '''"""Tiny local tasks for inspect-ai (written by evaluators.tiny); self-contained."""
import json

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import choice, exact, match
from inspect_ai.solver import generate, multiple_choice

ROWS = json.loads(@ROWS@)


@task
def tiny_mc():
    rows = ROWS["tiny_mc"]
    data = MemoryDataset([Sample(input=r["question"], target=r["answer"], choices=r["choices"]) for r in rows],
                         name="tiny_mc")
    return Task(dataset=data, solver=multiple_choice(), scorer=choice(), name="tiny_mc",
                config=GenerateConfig(max_tokens=@MC_MAX_TOKENS@))


@task
def tiny_qa():
    data = MemoryDataset([Sample(input=r["question"], target=r["answer"]) for r in ROWS["tiny_qa"]], name="tiny_qa")
    return Task(dataset=data, solver=generate(), scorer=[match(), exact()], name="tiny_qa",
                config=GenerateConfig(max_tokens=@QA_MAX_TOKENS@))
'''
