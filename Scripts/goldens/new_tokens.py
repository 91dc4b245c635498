"""Golden and check for issue 18 item 6: a recipe that adds two special tokens (`train.new_tokens`) trains, exports,
and loads in the reference stack with Lathe's logits.

For tiny-llama (untied embeddings: PEFT `trainable_token_indices` {embed_tokens, lm_head}) and tiny-qwen3 (tied:
one list, PEFT's tied token adapter), from Tests/LatheModelsTests/Fixtures/<model>/:

1. A project in a temporary folder: the fixture's F32 GGUF as the base (it carries the tokenizer), text records that
   spell <diagnosis> and <tool_call>, and a recipe: clean off, tokenize max_length 24 train_on all, LoRA r4 alpha 8 on
   q_proj + v_proj, train.new_tokens [<diagnosis>, <tool_call>], 6 steps at a constant lr 5e-2, batch 2, seed 3,
   export [peft, merged, gguf] with base_model_id the fixture's hf/. `lathe run` trains and exports.
2. transformers checks, all asserted (the script exits 1 on a failure) and printed:
   - the merged HF directory's tokenizer (AutoTokenizer) has the two tokens as added special tokens with ids 320,
     321 and encodes the probe text into the ids below, both tokens whole;
   - the base (the fixture's hf/, `resize_token_embeddings(322)`) + `peft.PeftModel.from_pretrained(peft/)` gives
     logits on the probe; they differ from the resized base's by more than 1e-2 (the adapter and the rows train);
   - the merged HF directory loads with `from_pretrained` (vocab 322) and gives PEFT's logits within 1e-3;
   - the merged GGUF has the tokens at the end of tokenizer.ggml.tokens with token_type 3 (CONTROL) and loads with
     transformers (`gguf_file=`, config from merged/: the GGUF loader maps no head_dim for qwen3) with PEFT's logits within 1e-3;
   - loss and gradients: `PeftModel.from_pretrained(..., is_trainable=True)`, the mean cross-entropy of the probe
     (every position a target) and the gradient of each token table (`trainable_tokens_delta`; tied: the one shared
     parameter, embedding and LM-head paths summed).
3. Writes Tests/LatheModelsTests/Fixtures/new-tokens/<model>/: peft/ (the adapter as Lathe wrote it, with
   added_tokens.json) and golden.safetensors: input_ids (I64, (1, T)), logits.peft (F32, (1, T, 322)),
   loss (F32, (1,)), grad.embed_tokens / grad.lm_head (F32, (2, 64); tied: grad.embed_tokens only); metadata: the
   text, the tokens, and the measured differences. NewTokensTests reads the adapter with Lathe and compares its
   logits (1e-3), loss (1e-5 relative) and gradients (1e-4 of the largest), and the exported files' token lists.

Run from the repository root:  $PYTHON Scripts/goldens/new_tokens.py [MODEL ...]
Needs Swift (it builds `lathe`).
"""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# This folder holds tokenizers.py, which would shadow the `tokenizers` package that transformers imports:
# import the libraries first, then this folder's modules from the end of the path.
HERE = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import gguf  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from peft import PeftModel  # noqa: E402
from transformers import AutoConfig, AutoTokenizer  # noqa: E402

sys.path.append(str(HERE))
from common import fixtures_dir, log, save_safetensors, write_versions  # noqa: E402
from peft_export_archs import build_lathe, check, load, logits_of  # noqa: E402

MODELS = ["tiny-llama", "tiny-qwen3"]
NEW_TOKENS = ["<diagnosis>", "<tool_call>"]
RECORDS = [
    "the customer may return the item <diagnosis> refund <tool_call> the store",
    "<diagnosis> the store will refund the full price <tool_call>",
    "the tokens of this text are the merges <tool_call> that the tiny tokenizer learns",
    "<tool_call> the customer may return the item and the store <diagnosis> will refund",
]
PROBE = "the customer <diagnosis> may return<tool_call> the item"
TOLERANCE = 1e-3
GGUF_NEEDS_HF_CONFIG = {"tiny-qwen3"}


def recipe_text(name: str) -> str:
    tokens = ", ".join(json.dumps(t) for t in NEW_TOKENS)
    return f"""name: newtok
seed: 3
base_model: ../base.gguf
data:
  inputs: [../train.jsonl]
clean:
  enabled: false
tokenize:
  max_length: 24
  train_on: all
train:
  new_tokens: [{tokens}]
  lora: {{rank: 4, alpha: 8, targets: [q_proj, v_proj]}}
  optimizer: {{lr: 5.0e-2}}
  schedule: constant
  micro_batch_size: 2
  max_steps: 6
  save_every: 0
  threads: 2
evaluate:
  enabled: false
export:
  formats: [peft, merged, gguf]
  base_model_id: Tests/LatheModelsTests/Fixtures/{name}/hf
"""


def lathe_run(lathe: Path, name: str, work: Path) -> Path:
    """Writes the project and runs the recipe; returns the export directory."""
    fixture = fixtures_dir("LatheModelsTests") / name
    shutil.copy(fixture / f"{name}-F32.gguf", work / "base.gguf")
    (work / "train.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in RECORDS))
    (work / "Recipes").mkdir()
    (work / "Recipes" / "newtok.yaml").write_text(recipe_text(name))
    subprocess.run([str(lathe), "run", "Recipes/newtok.yaml"], cwd=work, check=True, stdout=subprocess.DEVNULL)
    exports = sorted((work / "Checkpoints" / "newtok").glob("**/export/*/peft"))
    if not exports:
        exports = sorted((work / "Checkpoints" / "newtok").glob("**/peft"))
    check(len(exports) >= 1, f"{name}: no peft/ under the run directory")
    return exports[-1].parent


def resized_base(name: str, vocab: int):
    model = load(fixtures_dir("LatheModelsTests") / name / "hf")
    model.resize_token_embeddings(vocab)
    return model


def loss_and_gradients(name: str, peft_dir: Path, ids: torch.Tensor, vocab: int):
    """PEFT's mean cross-entropy over the probe (each position predicts the next) and the token tables' gradients."""
    model = PeftModel.from_pretrained(resized_base(name, vocab), peft_dir, is_trainable=True)
    model.train()
    logits = model(input_ids=ids).logits[0, :-1].to(torch.float32)
    loss = torch.nn.functional.cross_entropy(logits, ids[0, 1:])
    loss.backward()
    grads = {}
    for key, parameter in model.named_parameters():
        if "trainable_tokens_delta" in key and parameter.grad is not None:
            module = "embed_tokens" if "embed_tokens" in key else "lm_head"
            grads[f"grad.{module}"] = parameter.grad.detach().clone().numpy()
    return loss.item(), grads


def run(lathe: Path, name: str) -> None:
    log(f"== {name}")
    out = fixtures_dir("LatheModelsTests") / "new-tokens" / name
    with tempfile.TemporaryDirectory() as tmp:
        exports = lathe_run(lathe, name, Path(tmp))
        merged_dir = exports / "merged"
        tokenizer = AutoTokenizer.from_pretrained(merged_dir)
        added = {t.content: (i, t.special) for i, t in tokenizer.added_tokens_decoder.items()}
        for offset, token in enumerate(NEW_TOKENS):
            check(added.get(token) == (320 + offset, True), f"{name}: merged tokenizer has {token} as {added.get(token)}")
        ids = torch.tensor([tokenizer(PROBE, add_special_tokens=False)["input_ids"]], dtype=torch.int64)
        check(320 in ids[0].tolist() and 321 in ids[0].tolist(), f"{name}: the probe's ids {ids[0].tolist()} miss the tokens")
        vocab = 320 + len(NEW_TOKENS)
        base_logits = logits_of(resized_base(name, vocab), ids)
        peft_logits = logits_of(PeftModel.from_pretrained(resized_base(name, vocab), exports / "peft").eval(), ids)
        effect = (peft_logits - base_logits).abs().max().item()
        check(effect > 1e-2, f"{name}: the adapter moves the logits by only {effect}")
        merged_model = load(merged_dir)
        check(merged_model.config.vocab_size == vocab, f"{name}: merged vocab {merged_model.config.vocab_size}")
        merged = (logits_of(merged_model, ids) - peft_logits).abs().max().item()
        check(merged <= TOLERANCE, f"{name}: merged HF logits differ from PEFT's by {merged}")
        reader = gguf.GGUFReader(exports / "merged.gguf")
        field = reader.fields["tokenizer.ggml.tokens"]
        tokens = [bytes(field.parts[i]).decode() for i in field.data]
        types_field = reader.fields["tokenizer.ggml.token_type"]
        types = [int(types_field.parts[i][0]) for i in types_field.data]
        check(tokens[-2:] == NEW_TOKENS and types[-2:] == [3, 3] and len(tokens) == vocab,
              f"{name}: merged GGUF tokens end {tokens[-2:]} types {types[-2:]} ({len(tokens)} tokens)")
        kwargs = {"gguf_file": "merged.gguf"}
        if name in GGUF_NEEDS_HF_CONFIG:
            kwargs["config"] = AutoConfig.from_pretrained(merged_dir)
        merged_gguf = (logits_of(load(exports, **kwargs), ids) - peft_logits).abs().max().item()
        check(merged_gguf <= TOLERANCE, f"{name}: merged GGUF logits differ from PEFT's by {merged_gguf}")
        loss, grads = loss_and_gradients(name, exports / "peft", ids, vocab)
        log(f"    ids {ids[0].tolist()}; |peft − base| {effect:.3f}; merged HF {merged:.2e}; merged GGUF {merged_gguf:.2e};"
            f" loss {loss:.5f}; grads {sorted(grads)}")
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        shutil.copytree(exports / "peft", out / "peft")
        save_safetensors(out / "golden.safetensors", {
            "input_ids": ids.numpy().astype(np.int64),
            "logits.peft": peft_logits.numpy(),
            "loss": np.array([loss], dtype=np.float32),
            **grads,
        }, metadata={
            "text": PROBE, "new_tokens": json.dumps(NEW_TOKENS),
            "how": "peft.PeftModel.from_pretrained(from_pretrained(hf).resize_token_embeddings(322), 'peft') on the "
                   "adapter lathe run wrote (Scripts/goldens/new_tokens.py); loss and grads with is_trainable=True",
            "merged_hf_max_abs_diff": repr(merged), "merged_gguf_max_abs_diff": repr(merged_gguf),
            "adapter_effect_max_abs": repr(effect),
        })
    write_versions(fixtures_dir("LatheModelsTests") / "new-tokens" / "versions.json")


if __name__ == "__main__":
    torch.set_num_threads(2)
    binary = build_lathe()
    for model_name in sys.argv[1:] or MODELS:
        run(binary, model_name)
    sys.exit(0)
