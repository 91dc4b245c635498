"""Golden files for LoRA training (issue 5 item 8; issue 14 item 8): PEFT on the tiny models.

Run from the repository root:  $PYTHON Scripts/goldens/training.py [MODEL ...]
  (MODEL: names from `MODELS` below, default all: tiny-llama, tiny-qwen2 and the issue-14 models tiny-qwen3,
  tiny-llama32, tiny-mistral-sw, tiny-gemma3, tiny-phi3)
Reads  Tests/LatheModelsTests/Fixtures/<model>/hf/   (written by models.py)
Writes Tests/LatheTrainingTests/Fixtures/<model>-lora.safetensors with, as tensors:
  input_ids, position_ids, segments, labels  (I64, (2, 12)): one micro-batch, row 0 packs two samples
      (positions restart, a 4-D mask blocks attention across them, the second sample's first label is -100 so
      nothing is predicted across the boundary); row 1 holds one sample right-padded; prompts masked to -100
      (completion-only loss). Sliding-window models get the window in the mask too, since transformers applies
      a 4-D mask as given: tiny-mistral-sw one mask with key j visible from query i only if i - j < 4 (same
      segment); tiny-gemma3 a dict {"full_attention": packed mask, "sliding_attention": packed and windowed},
      which Gemma3TextModel takes per layer type. Checked: the logits of every sample equal a plain forward pass
      of that sample alone (1e-5), except tiny-phi3's row 0: transformers picks LongRoPE's long factors for the
      whole batch once max(position_ids) + 1 > original_max_position_embeddings (8; row 1 reaches position 8),
      so the packed samples of row 0 use the long factors, as they would not alone.
  init.<peft name>    the LoRA parameters the gradients are taken at: PEFT's own init (A Kaiming-uniform) but
                      with B drawn N(0, 0.05²) so that dA is not trivially zero.
  grad.<peft name>    d(loss)/d(parameter) from loss.backward() with those parameters.
  peft_init.<peft name> PEFT's untouched init (B = 0), the start of the 5-step run.
  losses             (5,) the loss before each of 5 AdamW steps (lr 1e-3, weight decay 0.01, betas 0.9/0.999,
                      eps 1e-8), cosine schedule with 2 warmup steps of 5 (transformers
                      get_cosine_schedule_with_warmup), clip_grad_norm_ 0.05 every step, same batch each step.
  final.<peft name>   the parameters after the 5 steps.
and in __metadata__: loss (the loss at `init`), rank, alpha, targets, and how it was made.
Written with common.save_safetensors (sorted header, reproducible bytes). tiny-llama-lora and tiny-qwen2-lora were
first written with safetensors' save_file, whose header order varies: re-running rewrites their layout, with the same
tensors and metadata.
LoRA: r=4, alpha=8, dropout 0, fp32, eager attention; targets all seven projections, except tiny-phi3: qkv_proj,
o_proj, gate_up_proj, down_proj (its fused projections, as PEFT names them).
"""

import math
import sys
from pathlib import Path

# This folder holds tokenizers.py, which would shadow the `tokenizers` package that transformers imports:
# import the libraries first, then this folder's modules from the end of the path.
HERE = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import tokenizers  # noqa: E402, F401  (the package, before this folder joins the path)
import torch  # noqa: E402
from peft import LoraConfig, get_peft_model  # noqa: E402
from transformers import AutoModelForCausalLM, get_cosine_schedule_with_warmup  # noqa: E402

sys.path.append(str(HERE))
from architectures import ARCHS  # noqa: E402
from common import save_safetensors  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests/LatheModelsTests/Fixtures"
OUT = ROOT / "Tests/LatheTrainingTests/Fixtures"
MODELS = ["tiny-llama", "tiny-qwen2", "tiny-qwen3", "tiny-llama32", "tiny-mistral-sw", "tiny-gemma3", "tiny-phi3"]
RANK, ALPHA = 4, 8


def batch(vocab):
    """Two rows of 12 tokens: row 0 = sample A (5 tokens, prompt 2) + sample B (7 tokens, prompt 3);
    row 1 = sample C (9 tokens, prompt 4) + 3 padding tokens."""
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(3, vocab, (2, 12), generator=g)
    ids[1, 9:] = 0  # padding
    positions = torch.tensor([[0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6], [0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2]])
    segments = torch.tensor([[0] * 5 + [1] * 7, [0] * 9 + [1] * 3])
    labels = ids.clone()
    labels[0, 0:2] = -100   # sample A prompt
    labels[0, 5:8] = -100   # sample B prompt (incl. its first token: no prediction across the boundary)
    labels[1, 0:4] = -100   # sample C prompt
    labels[1, 9:] = -100    # padding
    return ids, positions, segments, labels


def additive_mask(segments, window=None):
    """(B, 1, T, T) additive mask: causal within a segment (padding sees only itself, never a target), and with a
    window also i - j < window (index distance = position distance inside a segment)."""
    T = segments.shape[1]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    if window is not None:
        causal &= ~torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-window)
    same = segments[:, :, None] == segments[:, None, :]
    allowed = causal[None] & same
    mask = torch.zeros(segments.shape[0], 1, T, T)
    mask.masked_fill_(~allowed[:, None], torch.finfo(torch.float32).min)
    return mask


def attention_mask(config, segments):
    """The mask argument for this model (see the module docstring)."""
    if config.model_type == "gemma3_text":
        return {"full_attention": additive_mask(segments),
                "sliding_attention": additive_mask(segments, config.sliding_window)}
    if getattr(config, "sliding_window", None) is not None and config.model_type == "mistral":
        return additive_mask(segments, config.sliding_window)
    return additive_mask(segments)


@torch.no_grad()
def check_packing(model, name, ids, positions, mask):
    """Each sample's logits in the packed batch equal a plain forward pass of the sample alone (1e-5)."""
    packed = model(input_ids=ids, position_ids=positions, attention_mask=mask).logits
    spans = [(1, 0, 9)] + ([] if name == "tiny-phi3" else [(0, 0, 5), (0, 5, 12)])
    for row, a, b in spans:
        alone = model(input_ids=ids[row:row + 1, a:b]).logits
        diff = (packed[row, a:b] - alone[0]).abs().max().item()
        assert diff <= 1e-5, (name, row, a, b, diff)


def lora_state(model):
    return {k: v.detach().clone() for k, v in model.named_parameters() if "lora_" in k}


def peft_name(name):
    # PEFT's in-memory names carry the adapter name ("lora_A.default.weight"); the saved names do not.
    return name.replace(".default", "")


def gradients(model, loss_fn):
    """The loss and d(loss)/d(every LoRA parameter) at the model's current parameters."""
    model.zero_grad()
    loss = loss_fn()
    loss.backward()
    return loss, {k: p.grad.detach().clone() for k, p in model.named_parameters() if "lora_" in k}


def five_adamw_steps(model, loss_fn, start):
    """Five AdamW steps from the LoRA parameters `start` (see the module docstring); the loss before each step and
    the parameters after the last."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.copy_(start[name])
    params = [p for n, p in model.named_parameters() if "lora_" in n]
    optimizer = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    scheduler = get_cosine_schedule_with_warmup(optimizer, num_warmup_steps=2, num_training_steps=5)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        step_loss = loss_fn()
        losses.append(step_loss.item())
        step_loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 0.05)
        optimizer.step()
        scheduler.step()
    return losses, lora_state(model)


def make(model_name):
    torch.manual_seed(0)
    targets = list(ARCHS[model_name].lora_targets)
    base = AutoModelForCausalLM.from_pretrained(FIXTURES / model_name / "hf", dtype=torch.float32,
                                                attn_implementation="eager")
    config = LoraConfig(r=RANK, lora_alpha=ALPHA, lora_dropout=0.0, target_modules=targets, bias="none",
                        task_type="CAUSAL_LM")
    model = get_peft_model(base, config)
    ids, positions, segments, labels = batch(base.config.vocab_size)
    mask = attention_mask(base.config, segments)
    check_packing(model, model_name, ids, positions, mask)
    peft_init = lora_state(model)

    def loss_fn():
        return model(input_ids=ids, position_ids=positions, attention_mask=mask, labels=labels).loss

    # Gradients at a point where B != 0.
    g = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    init = lora_state(model)
    loss, grads = gradients(model, loss_fn)
    losses, final = five_adamw_steps(model, loss_fn, peft_init)

    tensors = {
        "input_ids": ids, "position_ids": positions, "segments": segments, "labels": labels,
        "losses": torch.tensor(losses, dtype=torch.float32),
    }
    for k in init:
        n = peft_name(k)
        tensors["init." + n] = init[k]
        tensors["grad." + n] = grads[k]
        tensors["peft_init." + n] = peft_init[k]
        tensors["final." + n] = final[k]
    metadata = {
        "loss": repr(loss.item()), "rank": str(RANK), "alpha": str(ALPHA), "targets": ",".join(targets),
        "made_by": "Scripts/goldens/training.py: peft get_peft_model + loss.backward(); AdamW + cosine warmup",
    }
    OUT.mkdir(parents=True, exist_ok=True)
    save_safetensors(OUT / f"{model_name}-lora.safetensors", {k: v.detach().numpy() for k, v in tensors.items()},
                     metadata)
    print(model_name, "loss", loss.item(), "losses", losses)


if __name__ == "__main__":
    for name in sys.argv[1:] or MODELS:
        make(name)
    sys.exit(0)
