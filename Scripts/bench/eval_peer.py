"""The peer for `lathe bench eval`: lm-eval 0.4 `--model hf` (HFLM, PyTorch, CPU, fp32) on the same GGUF weights.

Loads the GGUF's plain fp32 HF folder (made once by gguf_cache.py, since a GGUF-loaded model cannot be handed to
HFLM) as `HFLM` (timed apart, as `load_s`). Then times
`lm_eval.simple_evaluate` end to end on the task — what `lm_eval run --model hf --tasks NAME --include_path DIR
--log_samples` does after loading the model: the task's documents, few-shot contexts, tokenising, the
log-likelihood requests (HFLM's own length-sorted batches of --batch-size) and the metrics — best of --repeats.
Prints one JSON line: {"requests": N, "seconds": S, "requests_per_s": R, "load_s": L, "metrics": {...},
"lm_eval": ..., "torch": ...}, or {"error": ...} when a package is missing.
Usage: $PYTHON Scripts/bench/eval_peer.py MODEL.gguf TASK_DIR TASK_NAME --threads 2 --batch-size 8 [--num-fewshot 5]
"""
import argparse
import json
import os
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("gguf")
    parser.add_argument("task_dir")
    parser.add_argument("task")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--num-fewshot", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    args.gguf, args.task_dir = os.path.abspath(args.gguf), os.path.abspath(args.task_dir)
    # lm-eval resolves data_files against the working directory.
    os.chdir(args.task_dir)
    try:
        import torch
        import lm_eval
        from lm_eval.models.huggingface import HFLM
        from lm_eval.tasks import TaskManager
        from gguf_cache import cached_folder
    except ImportError as error:
        print(json.dumps({"error": f"{error.name} is not installed (the peer needs torch, transformers, gguf, lm_eval)"}))
        return
    import logging
    logging.disable(logging.WARNING)

    torch.set_num_threads(args.threads)
    folder = cached_folder(args.gguf, torch)   # converted once, then reused (gguf_cache.py)
    start = time.perf_counter()
    lm = HFLM(pretrained=folder, dtype="float32", device="cpu", batch_size=args.batch_size)
    load = time.perf_counter() - start

    best, results = float("inf"), None
    for _ in range(args.repeats):
        start = time.perf_counter()
        # A fresh TaskManager each time: the task YAML is read and the documents loaded inside the timed run.
        results = lm_eval.simple_evaluate(model=lm, tasks=[args.task], num_fewshot=args.num_fewshot,
                                          task_manager=TaskManager(include_path=args.task_dir), log_samples=True)
        best = min(best, time.perf_counter() - start)
    samples = results["samples"][args.task]
    requests = sum(len(sample["resps"]) for sample in samples)
    metrics = {key: value for key, value in results["results"][args.task].items()
               if isinstance(value, float) and "stderr" not in key}
    print(json.dumps({"requests": requests, "seconds": best, "requests_per_s": requests / best, "load_s": load,
                      "batch_size": args.batch_size, "metrics": metrics,
                      "lm_eval": getattr(lm_eval, "__version__", "0.4"), "torch": torch.__version__}))


if __name__ == "__main__":
    sys.exit(main())
