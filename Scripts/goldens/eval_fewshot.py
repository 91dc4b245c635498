"""Few-shot goldens for LatheEvaluation: lm-eval 0.4.x few-shot contexts and scores, and Python's random.Random.

Writes into Tests/LatheEvaluationTests/Fixtures/:
  fewshot/lathe_mc_fewshot.yaml   lathe_mc (../tasks/lathe_mc.jsonl) without num_fewshot; run with --num_fewshot 3:
                                  default sampler, few-shot docs fall back to the test split (current doc NOT excluded)
  fewshot/lathe_mc_exclude.yaml   lathe_mc with fewshot_split: test, num_fewshot 3 and a description: the sampler
                                  draws n + 1 and drops the current doc
  fewshot/lathe_qa_fewshot.yaml   generate_until, fewshot_split: train, fewshot_config {sampler: first_n}, description
  fewshot/lathe_ll_fewshot.yaml   loglikelihood on the validation split, few-shot docs from training_split, a Jinja
                                  description rendered per document
  fewshot/lathe_qa_train.jsonl, fewshot/lathe_qa_test.jsonl
  fewshot_goldens.json            per task and document: every request's arguments (context, continuation or
                                  generation settings), log-likelihoods, is_greedy, generated text; aggregated metrics
  python_random.json              random.Random(seed): getrandbits words and sample(range(n), k) sequences

lm-eval runs with `--model hf` on SmolLM2-135M-Instruct loaded by transformers from the GGUF (dequantised to fp32),
cwd = the fewshot folder, `--seed 1234` (so the few-shot sampler is random.Random(1234)).

Usage: $PYTHON Scripts/goldens/eval_fewshot.py [path/to/SmolLM2-135M-Instruct.Q4_1.gguf]
"""

from __future__ import annotations

import glob
import importlib.util
import json
import random
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This folder holds tokenizers.py, which would shadow the `tokenizers` package that transformers imports.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]

_spec = importlib.util.spec_from_file_location("lathe_eval_goldens", HERE / "eval.py")
eval_goldens = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(eval_goldens)

FIXTURES = eval_goldens.FIXTURES
FEWSHOT = FIXTURES / "fewshot"

# Fictional one-word answers: (place, question, answer). None of it is true.
QA_TRAIN = [
    ("Velmora", "What colour are the roofs of Velmora?", "red"),
    ("Ostrand", "Which animal pulls the carts of Ostrand?", "dogs"),
    ("Tamsel", "How many bridges cross the Tamsel?", "seven"),
    ("Quillby", "What do people bake in Quillby?", "cakes"),
]
QA_TEST = [
    ("Dorrin", "Which instrument opens meetings in Dorrin?", "bell"),
    ("Pellago", "What is the capital of Pellago?", "Sarn"),
    ("Greyfell", "Which metal is mined in Greyfell?", "silver"),
    ("Brannock", "In which season is the Brannock fair?", "autumn"),
    ("Castamir", "Who founded the library of Castamir?", "a weaver"),
    ("Mirren", "How long is the walk around Lake Mirren?", "two hours"),
    ("Ilvo", "What is woven in Ilvo?", "sails"),
    ("Teth", "Who guards the gate of Teth?", "a watchman"),
]

MC_BODY = eval_goldens.lm_eval_dataset({"test": "../tasks/lathe_mc.jsonl"}) + """\
output_type: multiple_choice
doc_to_text: "Question: {{question}}\\nAnswer:"
doc_to_target: answer
doc_to_choice: choices
target_delimiter: " "
""" + eval_goldens.LM_EVAL_ACCURACY_METRICS

TASK_FILES = {
    "lathe_mc_fewshot.yaml": "task: lathe_mc_fewshot\n" + MC_BODY,
    "lathe_mc_exclude.yaml": "task: lathe_mc_exclude\n" + MC_BODY + """\
fewshot_split: test
num_fewshot: 3
description: "The following are questions about fictional places.\\n\\n"
""",
    "lathe_qa_fewshot.yaml": eval_goldens.lm_eval_dataset({"train": "lathe_qa_train.jsonl", "test": "lathe_qa_test.jsonl"},
                                                          task="lathe_qa_fewshot") + """\
fewshot_split: train
fewshot_config:
  sampler: first_n
num_fewshot: 3
description: "Answer each question about a fictional land in a word or two.\\n\\n"
output_type: generate_until
doc_to_text: "Q: {{question}}\\nA:"
doc_to_target: "{{answer}}"
target_delimiter: " "
fewshot_delimiter: "\\n\\n"
generation_kwargs:
  until: ["\\n"]
  max_gen_toks: 8
  do_sample: false
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
""",
    "lathe_ll_fewshot.yaml": eval_goldens.lm_eval_dataset({"train": "lathe_qa_train.jsonl", "validation": "lathe_qa_test.jsonl"},
                                                          task="lathe_ll_fewshot", test_split=None) + """\
training_split: train
validation_split: validation
num_fewshot: 2
description: "Facts about {{place}} and its neighbours.\\n"
output_type: loglikelihood
doc_to_text: "Q: {{question}}\\nA:"
doc_to_target: "{{answer}}"
fewshot_delimiter: "\\n###\\n"
metric_list:
  - metric: perplexity
    aggregation: perplexity
    higher_is_better: false
  - metric: acc
    aggregation: mean
    higher_is_better: true
""",
}

# (tasks, --num_fewshot or None): the first run exercises lm-eval's CLI override.
RUNS = [(["lathe_mc_fewshot"], 3), (["lathe_mc_exclude", "lathe_qa_fewshot", "lathe_ll_fewshot"], None)]


def write_tasks() -> None:
    FEWSHOT.mkdir(parents=True, exist_ok=True)
    for name, rows in (("lathe_qa_train.jsonl", QA_TRAIN), ("lathe_qa_test.jsonl", QA_TEST)):
        with open(FEWSHOT / name, "w") as f:
            for place, question, answer in rows:
                f.write(json.dumps({"place": place, "question": question, "answer": answer}) + "\n")
    for name, text in TASK_FILES.items():
        (FEWSHOT / name).write_text(text)


def collect(out: Path, tasks: list[str]) -> dict:
    results = json.loads(Path(sorted(glob.glob(str(out / "**" / "results_*.json"), recursive=True))[-1]).read_text())
    golden = {}
    for task in tasks:
        samples_file = sorted(glob.glob(str(out / "**" / f"samples_{task}_*.jsonl"), recursive=True))[-1]
        samples = sorted((json.loads(line) for line in open(samples_file)), key=lambda s: s["doc_id"])
        docs = []
        for s in samples:
            arguments = s["arguments"]
            if isinstance(arguments, dict):
                arguments = [list(arguments[k].values()) for k in sorted(arguments, key=lambda k: int(k.split("_")[-1]))]
            # Generation settings are logged as a dict; keep the context only.
            arguments = [[a if isinstance(a, str) else json.dumps(a, sort_keys=True) for a in args] for args in arguments]
            entry = {"doc_id": s["doc_id"], "arguments": arguments}
            resps = [r[0] if isinstance(r, list) and r and isinstance(r[0], (list, str)) else r for r in s["resps"]]
            if resps and isinstance(resps[0], str):
                entry["generations"] = resps
            else:
                entry["loglikelihoods"] = [float(r[0]) for r in resps]
                entry["is_greedy"] = [r[1] in (True, "True") for r in resps]
            docs.append(entry)
        metrics = {k: v for k, v in results["results"][task].items() if k != "alias"}
        golden[task] = {"docs": docs, "metrics": metrics, "num_fewshot": results.get("n-shot", {}).get(task)}
    return golden


def python_random() -> dict:
    """random.Random(seed) as CPython 3.11: the first words, getrandbits widths, and sample() sequences."""
    cases = []
    for seed in (0, 1, 42, 1234, -1234, 2**32 + 7, 2**63 - 1):
        rng = random.Random(seed)
        words = [rng.getrandbits(32) for _ in range(8)]
        bits = {str(k): rng.getrandbits(k) for k in (1, 7, 31, 33, 64)}
        cases.append({"seed": seed, "words": words, "getrandbits_after_words": bits})
    # One generator, sample() calls in sequence: both of CPython's methods (pool when n <= setsize, set otherwise).
    rng = random.Random(1234)
    calls = []
    for n, k in ((32, 4), (32, 4), (31, 4), (10, 10), (21, 3), (22, 3), (100, 3), (80, 6), (86, 6), (100, 6),
                 (1000, 50), (5, 0), (1, 1), (64, 21), (200, 30), (3, 2), (4096, 100), (50, 6), (85, 6)):
        calls.append({"n": n, "k": k, "sample": rng.sample(range(n), k)})
    return {"python": sys.version.split()[0], "seeds": cases, "sample_calls_seed_1234": calls}


def main() -> None:
    (FIXTURES / "python_random.json").write_text(json.dumps(python_random(), indent=1) + "\n")
    model = Path(sys.argv[1]) if len(sys.argv) > 1 else eval_goldens.DEFAULT_MODEL
    if not model.exists():
        sys.exit(f"{model}: no such model file; pass the SmolLM2-135M-Instruct.Q4_1.gguf path")
    write_tasks()
    golden: dict = {"tasks": {}}
    with tempfile.TemporaryDirectory() as tmp:
        hf_dir = Path(tmp) / "smollm2-hf"
        eval_goldens.build_hf_dir(model, hf_dir)
        for i, (tasks, shots) in enumerate(RUNS):
            out = Path(tmp) / f"out{i}"
            eval_goldens.run_lm_eval(hf_dir, out, tasks, FEWSHOT, [] if shots is None else ["--num_fewshot", str(shots)])
            golden["tasks"].update(collect(out, tasks))
            if not golden.get("lm_eval_version"):
                results = json.loads(Path(sorted(glob.glob(str(out / "**" / "results_*.json"), recursive=True))[-1]).read_text())
                golden["lm_eval_version"] = results.get("lm_eval_version", "")
    (FIXTURES / "fewshot_goldens.json").write_text(json.dumps(golden, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
