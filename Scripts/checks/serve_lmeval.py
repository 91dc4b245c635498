#!/usr/bin/env python3
"""lm-eval `--model local-completions` against `lathe serve` gives the same per-request log-likelihoods as `lathe eval`.

Runs the quickstart multiple-choice task (Recipes/evals/quickstart/harrowgate_mc.yaml) four ways:
  lathe eval --model M                         lathe eval --model M --adapter A
  lm-eval local-completions -> serve (base)    lm-eval local-completions -> serve (model=<adapter name>)
with tokenized requests (lm-eval encodes through the server's /tokenize and sends token ids, echo=True,
logprobs=1, max_tokens=1), and compares every (document, choice) log-likelihood: |difference| <= 1e-4.

The adapter is a PEFT directory: --adapter DIR (or a run directory), or by default a seeded random LoRA
(r 8 on q/v/down, B ~ N(0, 0.02), so it changes the scores) written by this script. Writes the figures to
Scripts/checks/serve_lmeval_golden.json (commit it). Exit 1 on any difference. The committed golden covers every
document of the task (80 questions, 320 requests per run); --limit N sends only the first N documents through the
server, for a quick look; --work DIR reuses the `lathe eval` outputs already in DIR.

  /work/refvenv/bin/python Scripts/checks/serve_lmeval.py --lathe .build/release/lathe \
      --model Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf
"""
import argparse, glob, json, os, socket, subprocess, sys, tempfile, time, urllib.request

import numpy as np
from safetensors.numpy import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TASKS = os.path.join(ROOT, "Recipes/evals/quickstart")
TASK = "harrowgate_mc"
TOLERANCE = 1e-4


def random_adapter(directory, model):
    """A PEFT LoRA for SmolLM2-135M (30 layers, width 576, 3x64 key-value width, MLP 1536) with nonzero B."""
    rng = np.random.default_rng(0)
    shapes = {"self_attn.q_proj": (576, 576), "self_attn.v_proj": (192, 576), "mlp.down_proj": (576, 1536)}
    tensors, rank = {}, 8
    for layer in range(30):
        for module, (out_features, in_features) in shapes.items():
            name = f"base_model.model.model.layers.{layer}.{module}"
            tensors[f"{name}.lora_A.weight"] = rng.normal(0, 1 / np.sqrt(in_features), (rank, in_features)).astype(np.float32)
            tensors[f"{name}.lora_B.weight"] = rng.normal(0, 0.02, (out_features, rank)).astype(np.float32)
    os.makedirs(directory, exist_ok=True)
    save_file(tensors, os.path.join(directory, "adapter_model.safetensors"), metadata={"format": "pt"})
    config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": rank, "lora_alpha": 16, "lora_dropout": 0.0,
              "target_modules": ["q_proj", "v_proj", "down_proj"], "bias": "none", "base_model_name_or_path": model}
    with open(os.path.join(directory, "adapter_config.json"), "w") as f:
        json.dump(config, f)


def samples(folder):
    """{(doc_id, choice): loglikelihood} from the samples_<task>*.jsonl under `folder`."""
    paths = glob.glob(os.path.join(folder, "**", f"samples_{TASK}*.jsonl"), recursive=True)
    assert len(paths) == 1, f"expected one samples file under {folder}, found {paths}"
    result = {}
    with open(paths[0]) as f:
        for line in f:
            sample = json.loads(line)
            for choice, resp in enumerate(sample["resps"]):
                result[(sample["doc_id"], choice)] = float(resp[0][0])
    return result


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port, process):
    for _ in range(600):
        if process.poll() is not None:
            sys.exit(f"lathe serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit("lathe serve did not become healthy")


def lm_eval(port, model, out, limit):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", OPENAI_API_KEY="unused")
    args = (f"model={model},base_url=http://127.0.0.1:{port}/v1/completions,tokenized_requests=True,"
            f"tokenizer_backend=remote,num_concurrent=1,max_retries=1")
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "lm_eval"), "run", "--model", "local-completions",
                    "--model_args", args, "--batch_size", "4", "--tasks", TASK, "--include_path", ".", "--log_samples", "--output_path", out]
                   + (["--limit", str(limit)] if limit else []),
                   cwd=TASKS, env=env, check=True, stdout=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lathe", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--adapter", help="PEFT adapter or run directory (default: a seeded random LoRA)")
    parser.add_argument("--limit", type=int, help="only the first N documents through the server (lm-eval --limit)")
    parser.add_argument("--work", help="work folder; `lathe eval` outputs already in it are reused")
    parser.add_argument("--golden", default=os.path.join(ROOT, "Scripts/checks/serve_lmeval_golden.json"))
    args = parser.parse_args()
    lathe, model = os.path.abspath(args.lathe), os.path.abspath(args.model)
    work = os.path.abspath(args.work) if args.work else tempfile.mkdtemp(prefix="serve-lmeval-")
    adapter = os.path.abspath(args.adapter) if args.adapter else os.path.join(work, "adapter")
    if not args.adapter and not os.path.exists(os.path.join(adapter, "adapter_config.json")):
        random_adapter(adapter, model)
    task_file = os.path.join(TASKS, f"{TASK}.yaml")
    reference = {}
    for label, extra in [("base", []), ("tuned", ["--adapter", adapter])]:
        out = os.path.join(work, f"eval-{label}")
        if glob.glob(os.path.join(out, "**", f"samples_{TASK}*.jsonl"), recursive=True):
            reference[label] = samples(out)
            continue
        subprocess.run([lathe, "eval", "--model", model, "--tasks", task_file, "--out", out] + extra,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        reference[label] = samples(out)
    port = free_port()
    server = subprocess.Popen([lathe, "serve", "--model", model, "--served-model-name", "smollm2", "--adapter", f"tuned={adapter}",
                               "--port", str(port)], stderr=subprocess.DEVNULL)
    figures, failed = {"task": TASK, "tolerance": TOLERANCE, "limit": args.limit, "runs": {}}, False
    try:
        wait_healthy(port, server)
        for label, name in [("base", "smollm2"), ("tuned", "tuned")]:
            out = os.path.join(work, f"lmeval-{label}")
            started = time.time()
            lm_eval(port, name, out, args.limit)
            seconds = time.time() - started
            served = samples(out)
            assert served.keys() <= reference[label].keys() and (args.limit or served.keys() == reference[label].keys()), \
                f"{label}: lm-eval and lathe eval scored different requests"
            diffs = [abs(served[k] - reference[label][k]) for k in sorted(served)]
            worst = max(diffs)
            ok = worst <= TOLERANCE
            failed |= not ok
            print(f"{'ok ' if ok else 'FAIL'} {label:5s} model={name}: {len(diffs)} requests in {seconds:.0f} s, "
                  f"max |lm-eval via serve - lathe eval| = {worst:.2e}")
            figures["runs"][label] = {"model": name, "requests": len(diffs), "max_abs_difference": float(f"{worst:.3e}"),
                                      "loglikelihoods": [[k[0], k[1], round(served[k], 6)] for k in sorted(served)]}
        base, tuned = reference["base"], reference["tuned"]
        figures["adapter_changes_scores_by"] = float(f"{max(abs(base[k] - tuned[k]) for k in served):.3e}")
    finally:
        server.terminate()
        server.wait(timeout=120)
    with open(args.golden, "w") as f:
        json.dump(figures, f, indent=1)
        f.write("\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
