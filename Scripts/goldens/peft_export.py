"""Golden for issue 9: a PEFT adapter written by Lathe loads in `peft.PeftModel.from_pretrained` on transformers'
model of the same base, and gives the logits Lathe gives.

Run from the repository root:  $PYTHON Scripts/goldens/peft_export.py [SMOLLM2_GGUF]
Needs Swift (it builds `lathe`) and Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf (`make model`).

1. `lathe train` trains a small adapter on the quickstart data (SmolLM2, r=2, alpha 4, q_proj + v_proj, 4 steps
   at a constant lr 2e-2, seed 0) and writes it with Lathe's PEFT writer to
   Tests/LatheModelsTests/Fixtures/peft-export/adapter/ (adapter_config.json + adapter_model.safetensors, ≈ 0.5 MB).
2. transformers loads the GGUF (`from_pretrained(folder, gguf_file=..., dtype=float32)`, dequantised: the very
   weights Lathe trains against), `PeftModel.from_pretrained(model, adapter_dir)` adds the adapter, and the
   logits of a fixed chat-formatted question + answer are written to peft-export/golden.safetensors:
     input_ids         (I64, (T,))
     sampled.ids       (I64, (S,))  every 97th vocabulary id
     base.sampled      (F32, (T, S)) logits of the base model at those ids
     adapter.sampled   (F32, (T, S)) logits with the adapter
     base.logsumexp, adapter.logsumexp (F32, (T,)) over the whole vocabulary (float64, then rounded)
     adapter.top.ids   (I64, (T, 16)), adapter.top.logits (F32, (T, 16)) the 16 largest adapter logits
The Swift test (PEFTExportTests) reads the same adapter directory with Lathe and compares within 1e-3.
"""

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

# This folder holds tokenizers.py, which would shadow the `tokenizers` package that transformers imports:
# import the libraries first, then this folder's `common` from the end of the path.
HERE = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import numpy as np  # noqa: E402
import torch  # noqa: E402
from peft import PeftModel  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

sys.path.append(str(HERE))
from common import REPO_ROOT, fixtures_dir, log, save_safetensors, write_versions  # noqa: E402

SMOLLM2 = REPO_ROOT / "Checkpoints" / "base" / "SmolLM2-135M-Instruct.Q4_1.gguf"
QUESTION = "Who approves a travel request above the standard limit at Harrowgate?"
ANSWER = "The regional finance director approves it."
STRIDE, TOP = 97, 16


def build_lathe() -> Path:
    subprocess.run(["swift", "build", "--product", "lathe"], cwd=REPO_ROOT, check=True)
    bin_dir = subprocess.run(["swift", "build", "--show-bin-path"], cwd=REPO_ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
    return Path(bin_dir) / "lathe"


def train_adapter(lathe: Path, model: Path, out: Path) -> None:
    """Lathe's own training and PEFT export. The model path is given relative to the repository when it lies
    inside it, so adapter_config.json records no machine-specific path."""
    if out.exists():
        shutil.rmtree(out)
    try:
        model_arg = str(model.resolve().relative_to(REPO_ROOT))
    except ValueError:
        model_arg = str(model)
    subprocess.run([str(lathe), "train", "--model", model_arg, "--data", "Datasets/quickstart/train.jsonl",
                    "--out", str(out), "--rank", "2", "--alpha", "4", "--targets", "q_proj,v_proj",
                    "--lr", "2e-2", "--schedule", "constant", "--max-steps", "4", "--batch-size", "2",
                    "--max-length", "128", "--seed", "0", "--threads", "2"], cwd=REPO_ROOT, check=True)


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SMOLLM2
    out = fixtures_dir("LatheModelsTests") / "peft-export"
    if not source.exists():
        log(f"!! {source} is missing (make model fetches it): the PEFT export golden is skipped")
        return
    torch.set_num_threads(2)
    log("== peft-export")
    out.mkdir(parents=True, exist_ok=True)
    adapter_dir = out / "adapter"
    train_adapter(build_lathe(), source, adapter_dir)

    folder, filename = source.parent, source.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=filename)
    base = AutoModelForCausalLM.from_pretrained(folder, gguf_file=filename, dtype=torch.float32,
                                                attn_implementation="eager").eval()
    messages = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": ANSWER}]
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    ids = torch.tensor([tokenizer(text, add_special_tokens=False)["input_ids"]], dtype=torch.int64)
    with torch.no_grad():
        base_logits = base(input_ids=ids).logits[0].to(torch.float64)
    model = PeftModel.from_pretrained(base, adapter_dir).eval()
    with torch.no_grad():
        adapter_logits = model(input_ids=ids).logits[0].to(torch.float64)
    sampled = torch.arange(0, adapter_logits.shape[1], STRIDE)
    top = torch.topk(adapter_logits, TOP, dim=-1)
    effect = (adapter_logits - base_logits).abs().max().item()
    log(f"    {ids.shape[1]} tokens; max |adapter − base| logit {effect:.3f}")
    save_safetensors(out / "golden.safetensors", {
        "input_ids": ids[0].numpy(),
        "sampled.ids": sampled.numpy().astype(np.int64),
        "base.sampled": base_logits[:, sampled].to(torch.float32).numpy(),
        "adapter.sampled": adapter_logits[:, sampled].to(torch.float32).numpy(),
        "base.logsumexp": torch.logsumexp(base_logits, dim=-1).to(torch.float32).numpy(),
        "adapter.logsumexp": torch.logsumexp(adapter_logits, dim=-1).to(torch.float32).numpy(),
        "adapter.top.ids": top.indices.numpy().astype(np.int64),
        "adapter.top.logits": top.values.to(torch.float32).numpy(),
    }, metadata={
        "text": text,
        "model_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "how": "transformers from_pretrained(gguf_file=..., dtype=float32, eager) + "
               "peft.PeftModel.from_pretrained(model, 'adapter') on the adapter Lathe wrote",
    })
    write_versions(out / "versions.json")


if __name__ == "__main__":
    main()
