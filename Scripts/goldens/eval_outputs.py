"""Goldens for lm-eval's output files, chat-template contexts, filters and fewshot_config (LatheEvaluation).

Writes into Tests/LatheEvaluationTests/Fixtures/outputs/:
  lathe_out_mc.yaml    multiple choice on ../tasks/lathe_mc.jsonl, 2 shots from the test split, a description
  lathe_out_ll.yaml    loglikelihood on ../fewshot/lathe_qa_*.jsonl, first_n shots from train with fewshot_config
                       overrides of doc_to_text, target_delimiter and fewshot_delimiter
  lathe_out_gen.yaml   generate_until with inline fewshot_config.samples, repeats: 2 and four filter pipelines
                       (regex with group_select and fallback, take_first, remove_whitespace, lowercase, uppercase,
                       majority_vote)
  <run>/results.json, <run>/samples_<task>.jsonl   lm-eval 0.4.13's own files for each run, as it wrote them, with
                       the temporary model path replaced by MODEL, this folder's path by FIXTURES (scrub()) and
                       `pretty_env_info` cut to its first line
Runs (all `--model hf` on SmolLM2-135M-Instruct from the Q4_1 GGUF, fp32, CPU, `--seed 1234`, cwd = outputs/):
  plain            the three tasks, --limit 4
  chat_multiturn   --apply_chat_template --system_instruction "…" (fewshot_as_multiturn on, lm-eval's default), --limit 3
  chat_single      --apply_chat_template --fewshot_as_multiturn false, --limit 3

Usage: $PYTHON Scripts/goldens/eval_outputs.py [path/to/SmolLM2-135M-Instruct.Q4_1.gguf]
"""

from __future__ import annotations

import glob
import importlib.util
import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This folder holds tokenizers.py, which would shadow the `tokenizers` package that transformers imports.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]

_spec = importlib.util.spec_from_file_location("lathe_eval_goldens", HERE / "eval.py")
eval_goldens = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(eval_goldens)

OUTPUTS = eval_goldens.FIXTURES / "outputs"
SYSTEM = "You answer questions about fictional places."

TASK_FILES = {
    "lathe_out_mc.yaml": eval_goldens.lm_eval_dataset({"test": "../tasks/lathe_mc.jsonl"}, task="lathe_out_mc") + """\
fewshot_split: test
num_fewshot: 2
description: "Questions about fictional places."
output_type: multiple_choice
doc_to_text: "Question: {{question}}\\nAnswer:"
doc_to_target: answer
doc_to_choice: choices
""" + eval_goldens.LM_EVAL_ACCURACY_METRICS + """\
metadata:
  version: 2.0
""",
    "lathe_out_ll.yaml": eval_goldens.lm_eval_dataset({"train": "../fewshot/lathe_qa_train.jsonl", "test": "../fewshot/lathe_qa_test.jsonl"},
                                                      task="lathe_out_ll") + """\
fewshot_split: train
num_fewshot: 2
fewshot_config:
  sampler: first_n
  doc_to_text: "Question about {{place}}: {{question}}\\nAnswer:"
  target_delimiter: " -> "
  fewshot_delimiter: "\\n--\\n"
output_type: loglikelihood
doc_to_text: "Q: {{question}}\\nA:"
doc_to_target: " {{answer}}"
metric_list:
  - metric: perplexity
    aggregation: perplexity
    higher_is_better: false
  - metric: acc
    aggregation: mean
    higher_is_better: true
""",
    "lathe_out_gen.yaml": eval_goldens.lm_eval_dataset({"test": "../fewshot/lathe_qa_test.jsonl"}, task="lathe_out_gen") + """\
num_fewshot: 2
fewshot_config:
  sampler: first_n
  samples:
    - {"place": "Velmora", "question": "What colour are the roofs of Velmora?", "answer": "red"}
    - {"place": "Ostrand", "question": "Which animal pulls the carts of Ostrand?", "answer": "dogs"}
  doc_to_target: "{{answer}}."
output_type: generate_until
doc_to_text: "Q: {{question}}\\nA:"
doc_to_target: "{{answer}}"
repeats: 2
generation_kwargs:
  until: ["\\n"]
  max_gen_toks: 8
  do_sample: false
filter_list:
  - name: strict
    filter:
      - function: regex
        regex_pattern: "([A-Za-z]+)"
        group_select: 0
        fallback: "[none]"
      - function: take_first
  - name: flex
    filter:
      - function: remove_whitespace
      - function: lowercase
      - function: majority_vote
      - function: take_first
  - name: last-upper
    filter:
      - function: regex
        regex_pattern: "(\\\\w+)\\\\W*(\\\\d*)"
        group_select: -1
      - function: uppercase
      - function: take_first
  - name: nomatch
    filter:
      - function: regex
        regex_pattern: "#### (\\\\d+)"
      - function: take_first
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
    ignore_punctuation: true
""",
}

TASKS = ["lathe_out_mc", "lathe_out_ll", "lathe_out_gen"]
RUNS = {
    "plain": ["--limit", "4"],
    "chat_multiturn": ["--limit", "3", "--apply_chat_template", "--system_instruction", SYSTEM],
    "chat_single": ["--limit", "3", "--apply_chat_template", "--fewshot_as_multiturn", "false"],
}


def keep(out: Path, hf_dir: Path, run: str) -> None:
    """Copies lm-eval's files for `run`, timestamps dropped from the names, the model path made MODEL."""
    target = OUTPUTS / run
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    results_file = sorted(glob.glob(str(out / "**" / "results_*.json"), recursive=True))[-1]
    text = Path(results_file).read_text().replace(str(hf_dir), "MODEL")
    results = json.loads(text)
    results["pretty_env_info"] = results.get("pretty_env_info", "").split("\n")[0]
    (target / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    for task in TASKS:
        samples = sorted(glob.glob(str(out / "**" / f"samples_{task}_*.jsonl"), recursive=True))[-1]
        (target / f"samples_{task}.jsonl").write_text(Path(samples).read_text().replace(str(hf_dir), "MODEL"))
    scrub(target)


def scrub(target: Path) -> None:
    """This checkout's path (in `configs.*.metadata.config_source`) as FIXTURES, so the goldens do not name a machine."""
    path = target / "results.json"
    path.write_text(path.read_text().replace(str(OUTPUTS), "FIXTURES"))


def main() -> None:
    model = Path(sys.argv[1]) if len(sys.argv) > 1 else eval_goldens.DEFAULT_MODEL
    if not model.exists():
        sys.exit(f"{model}: no such model file; pass the SmolLM2-135M-Instruct.Q4_1.gguf path")
    OUTPUTS.mkdir(parents=True, exist_ok=True)
    for name, text in TASK_FILES.items():
        (OUTPUTS / name).write_text(text)
    with tempfile.TemporaryDirectory() as tmp:
        hf_dir = Path(tmp) / "smollm2-hf"
        eval_goldens.build_hf_dir(model, hf_dir)
        for run, extra in RUNS.items():
            out = Path(tmp) / run
            eval_goldens.run_lm_eval(hf_dir, out, list(TASKS), OUTPUTS, extra)
            keep(out, hf_dir, run)


if __name__ == "__main__":
    main()
