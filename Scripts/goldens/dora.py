"""Golden files for DoRA training and export (issue 18 item 5): PEFT 0.21.2 `use_dora=True` on the tiny models.

Run from the repository root:  $PYTHON Scripts/goldens/dora.py [MODEL ...]
  (MODEL: tiny-llama, tiny-qwen2 (q/k/v bias) and tiny-phi3 (fused qkv_proj / gate_up_proj); default all)
Reads  Tests/LatheModelsTests/Fixtures/<model>/hf/   (written by models.py)
Writes Tests/LatheTrainingTests/Fixtures/<model>-dora.safetensors: the batch of training.py (packed row 0, padded
row 1, completion-only labels, the same 4-D mask), and as tensors
  init.<peft name>     the parameters the gradients are taken at: PEFT's init with B drawn N(0, 0.05²) and each
                       magnitude multiplied by (1 + 0.1·N(0, 1)), so that no gradient is trivially zero;
  grad.<peft name>     d(loss)/d(parameter) from loss.backward() there (lora_A, lora_B and lora_magnitude_vector);
  peft_init.<peft name> PEFT's untouched init (B = 0, magnitude = the row norms of W), the start of the run;
  losses               (5,) the loss before each of 5 AdamW steps as training.py takes them (lr 1e-3, weight decay
                       0.01 on every trainable parameter, cosine with 2 warmup steps, clip_grad_norm_ 0.05);
  final.<peft name>    the parameters after the 5 steps;
  logits.base, logits.peft  (F32, (2, 12, V)) a plain causal forward of input_ids (no mask) of the base model and
                       of `PeftModel.from_pretrained(base, <model>-dora-peft/)` — the adapter at `init` (B ≠ 0,
                       magnitudes off the row norms, so it moves the logits well beyond the 1e-3 bar) as PEFT's
                       `save_pretrained` wrote it, reloaded on a fresh base.
and in __metadata__: loss (at `init`), rank, alpha, targets, how it was made.
Writes Tests/LatheTrainingTests/Fixtures/<model>-dora-peft/ (adapter_config.json + adapter_model.safetensors from
`save_pretrained`, at `init`). Names follow PEFT: the magnitude of a projection is `...<proj>.lora_magnitude_vector`
(PEFT drops the adapter name and the `.weight` of the in-memory `lora_magnitude_vector.default.weight`).

DoRA as PEFT computes it (peft/tuners/lora/dora.py, DoraLinearLayer): for a linear W (out, in) with LoRA B·A scaled
by s, ‖·‖ the L2 norm of each output row of W + s·B·A (torch.linalg.norm(dim=1)), detached from the graph,
  y = W x + bias + (m / ‖W + s·B·A‖ − 1) ⊙ W x + m / ‖W + s·B·A‖ ⊙ s·B·A x.
LoRA: r=4, alpha=8, dropout 0, fp32, eager attention; targets as training.py.
"""

import json
import shutil
import sys
from pathlib import Path

# This folder holds tokenizers.py, which would shadow the `tokenizers` package that transformers imports:
# import the libraries first, then this folder's modules from the end of the path.
HERE = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import tokenizers  # noqa: E402, F401  (the package, before this folder joins the path)
import torch  # noqa: E402
from peft import LoraConfig, PeftModel, get_peft_model  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

sys.path.append(str(HERE))
from architectures import ARCHS  # noqa: E402
from common import save_safetensors  # noqa: E402
from training import FIXTURES, OUT, attention_mask, batch, five_adamw_steps, gradients, lora_state  # noqa: E402

MODELS = ["tiny-llama", "tiny-qwen2", "tiny-phi3"]
RANK, ALPHA = 4, 8


def peft_name(name):
    """The name PEFT saves a parameter under: no adapter name, and the magnitude without `.weight`."""
    return name.replace(".default", "").replace("lora_magnitude_vector.weight", "lora_magnitude_vector")


def load_base(model_name):
    return AutoModelForCausalLM.from_pretrained(FIXTURES / model_name / "hf", dtype=torch.float32,
                                                attn_implementation="eager")


def make(model_name):
    torch.manual_seed(0)
    targets = list(ARCHS[model_name].lora_targets)
    config = LoraConfig(r=RANK, lora_alpha=ALPHA, lora_dropout=0.0, target_modules=targets, bias="none",
                        task_type="CAUSAL_LM", use_dora=True)
    model = get_peft_model(load_base(model_name), config)
    ids, positions, segments, labels = batch(model.config.vocab_size)
    mask = attention_mask(model.config, segments)
    peft_init = lora_state(model)
    assert any("lora_magnitude_vector" in k for k in peft_init), "no DoRA magnitude among the trainable parameters"

    def loss_fn():
        return model(input_ids=ids, position_ids=positions, attention_mask=mask, labels=labels).loss

    # Gradients at a point where B != 0 and the magnitudes differ from the row norms.
    g = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
            elif "lora_magnitude_vector" in name:
                p.mul_(1 + 0.1 * torch.randn(p.shape, generator=g))
    init = lora_state(model)
    loss, grads = gradients(model, loss_fn)

    # The adapter at `init` as PEFT saves it, reloaded on a fresh base.
    adapter_dir = OUT / f"{model_name}-dora-peft"
    if adapter_dir.exists():
        shutil.rmtree(adapter_dir)
    model.save_pretrained(adapter_dir)
    # No machine-specific path in the fixture, and target_modules (a set in PEFT) sorted: reproducible bytes.
    config_file = adapter_dir / "adapter_config.json"
    saved = json.loads(config_file.read_text())
    saved["base_model_name_or_path"] = f"tiny/{model_name}"
    saved["target_modules"] = sorted(saved["target_modules"])
    config_file.write_text(json.dumps(saved, indent=2, sort_keys=True) + "\n")
    (adapter_dir / "README.md").unlink(missing_ok=True)
    with torch.no_grad():
        base_logits = load_base(model_name).eval()(input_ids=ids).logits
        reloaded = PeftModel.from_pretrained(load_base(model_name), adapter_dir).eval()
        peft_logits = reloaded(input_ids=ids).logits
        trained = model.eval()(input_ids=ids).logits
    assert (peft_logits - trained).abs().max().item() <= 1e-6, "the reloaded adapter differs from the one saved"
    model.train()

    # Five AdamW steps from PEFT's own init.
    losses, final = five_adamw_steps(model, loss_fn, peft_init)

    tensors = {
        "input_ids": ids, "position_ids": positions, "segments": segments, "labels": labels,
        "losses": torch.tensor(losses, dtype=torch.float32),
        "logits.base": base_logits, "logits.peft": peft_logits,
    }
    for k in init:
        n = peft_name(k)
        tensors["init." + n] = init[k]
        tensors["grad." + n] = grads[k]
        tensors["peft_init." + n] = peft_init[k]
        tensors["final." + n] = final[k]
    metadata = {
        "loss": repr(loss.item()), "rank": str(RANK), "alpha": str(ALPHA), "targets": ",".join(targets),
        "effect": repr((peft_logits - base_logits).abs().max().item()),
        "made_by": "Scripts/goldens/dora.py: peft get_peft_model(use_dora=True) + loss.backward(); AdamW + cosine "
                   "warmup; save_pretrained + PeftModel.from_pretrained",
    }
    save_safetensors(OUT / f"{model_name}-dora.safetensors", {k: v.detach().numpy() for k, v in tensors.items()},
                     metadata)
    print(model_name, "loss", loss.item(), "losses", losses, "effect", metadata["effect"])


if __name__ == "__main__":
    for name in sys.argv[1:] or MODELS:
        make(name)
    sys.exit(0)
