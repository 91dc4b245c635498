"""The peer for `lathe bench eval`: lm-eval 0.4 `--model hf` (HFLM, PyTorch, CPU, fp32) on the same GGUF weights.

Builds an HF directory from the GGUF (transformers dequantises it; the plain LlamaForCausalLM is re-saved because a
GGUF-loaded model refuses save_pretrained), builds the task's requests with lm-eval's own TaskManager, and times
`HFLM.loglikelihood` on them (best of --repeats). Prints one JSON line:
{"requests": N, "seconds": S, "requests_per_s": R, "lm_eval": ..., "torch": ...}.
Usage: $PYTHON Scripts/bench/eval_peer.py MODEL.gguf TASK_DIR TASK_NAME --threads 2 --batch-size 8
"""
import argparse
import json
import os
import sys
import tempfile
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("gguf")
    parser.add_argument("task_dir")
    parser.add_argument("task")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    args.gguf, args.task_dir = os.path.abspath(args.gguf), os.path.abspath(args.task_dir)
    # lm-eval resolves data_files against the working directory.
    os.chdir(os.path.abspath(args.task_dir))
    import torch
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager, get_task_dict
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    torch.set_num_threads(args.threads)
    folder, name = os.path.split(os.path.abspath(args.gguf))
    with tempfile.TemporaryDirectory() as tmp:
        loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
        config = loaded.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        plain = LlamaForCausalLM(config).to(torch.float32)
        plain.load_state_dict(loaded.state_dict())
        plain.save_pretrained(tmp)
        AutoTokenizer.from_pretrained(folder, gguf_file=name).save_pretrained(tmp)
        del loaded, plain
        lm = HFLM(pretrained=tmp, dtype="float32", device="cpu", batch_size=args.batch_size)

    tasks = get_task_dict([args.task], TaskManager(include_path=os.path.abspath(args.task_dir)))
    task = tasks[args.task]
    task.build_all_requests(limit=None, rank=0, world_size=1)
    requests = [instance for instance in task.instances]
    best = float("inf")
    with torch.no_grad():
        for _ in range(args.repeats):
            start = time.perf_counter()
            lm.loglikelihood(requests, disable_tqdm=True)
            best = min(best, time.perf_counter() - start)
    print(json.dumps({"requests": len(requests), "seconds": best, "requests_per_s": len(requests) / best,
                      "lm_eval": lm_eval.__version__ if hasattr(lm_eval, "__version__") else "0.4",
                      "torch": torch.__version__}))


if __name__ == "__main__":
    sys.exit(main())
