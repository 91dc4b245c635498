"""Golden and check for issue 14: the exports of every new architecture load in the reference stack with Lathe's
logits. For each of tiny-qwen3, tiny-gemma3, tiny-phi3, tiny-llama32 and tiny-mistral-sw (Tests/LatheModelsTests/
Fixtures/<model>/, written by models.py):

1. A base directory is assembled in a temporary folder: the fixture's hf/ plus a tokenizer.json made with the
   `tokenizers` library from the fixtures' byte-level BPE vocabulary (gguf_convert.fixture_vocabulary, the one the
   GGUFs carry), so that `lathe train` can read text records.
2. `lathe train` trains an adapter on it: r=4, alpha 8, all-linear (Phi-3: qkv_proj, o_proj, gate_up_proj,
   down_proj), 4 steps at a constant lr 5e-2, batch 2, max length 12, seed 0, text records below.
3. `lathe export` writes peft/, merged/ and adapter.gguf from the HF base, and merged.gguf from the fixture's F32
   GGUF (the merged GGUF copies a GGUF base's metadata).
4. transformers checks, all asserted (the script exits 1 on a failure) and printed:
   - `peft.PeftModel.from_pretrained(<hf fixture>, peft/)` loads; its logits on the fixture's golden input_ids
     (2, T) are the golden `logits.peft`, and differ from the base's (`logits.base`) by more than 1e-2;
   - the merged HF directory loads with `from_pretrained` and gives logits.peft within 1e-3 (max abs);
   - the merged GGUF loads with gguf's GGUFReader, holds the base GGUF's tensors (Phi-3's LongRoPE factors too),
     and loads with transformers (`gguf_file=`, with config=hf/config.json
     where the fixture's README says transformers' GGUF loader misses keys) and gives logits.peft within 1e-3 —
     tiny-mistral-sw at positions 0-3 only (GGUF has no window key; beyond the window the model differs, as for
     the base fixture);
   - adapter.gguf holds, for every PEFT tensor, `<gguf weight name>.lora_a` / `.lora_b` with A and B as PEFT's
     (B's q/k rows in GGUF rotary order for the llama architecture); Phi-3's fused adapters are
     `blk.N.attn_qkv.weight.lora_*` and `blk.N.ffn_up.weight.lora_*`.
5. Writes Tests/LatheModelsTests/Fixtures/<model>/peft/ (the adapter as Lathe wrote it) and
   <model>/peft-golden.safetensors: input_ids (I64, (2, T)), logits.base, logits.peft (F32, (2, T, 320)); the
   measured differences are in its metadata. ArchitecturePEFTExportTests reads the adapter with Lathe and
   compares Lathe's logits, and those of its merged HF and GGUF exports reloaded, with logits.peft (1e-3).

Run from the repository root:  $PYTHON Scripts/goldens/peft_export_archs.py [MODEL ...]
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
import tokenizers  # noqa: E402
import torch  # noqa: E402
from peft import PeftModel  # noqa: E402
from safetensors import safe_open  # noqa: E402
from transformers import AutoConfig, AutoModelForCausalLM  # noqa: E402

sys.path.append(str(HERE))
from architectures import ARCHS  # noqa: E402
from common import REPO_ROOT, fixtures_dir, log, save_safetensors  # noqa: E402
from gguf_convert import fixture_vocabulary, permute_for_gguf  # noqa: E402

MODELS = ["tiny-qwen3", "tiny-gemma3", "tiny-phi3", "tiny-llama32", "tiny-mistral-sw"]
RECORDS = [
    "the refund policy of the company is that the customer may return the item",
    "the store will refund the full price to the customer within thirty days",
    "the tokens of this text are the merges that the tiny tokenizer learns",
    "the customer may return the item and the store will refund the price",
]
TOLERANCE = 1e-3


def build_lathe() -> Path:
    subprocess.run(["swift", "build", "--product", "lathe"], cwd=REPO_ROOT, check=True)
    bin_dir = subprocess.run(["swift", "build", "--show-bin-path"], cwd=REPO_ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
    return Path(bin_dir) / "lathe"


def write_tokenizer(directory: Path) -> None:
    """tokenizer.json + tokenizer_config.json of the fixture vocabulary (byte-level BPE, 3 special tokens)."""
    tokens, _, merges = fixture_vocabulary()
    model = tokenizers.models.BPE(vocab={t: i for i, t in enumerate(tokens)},
                                  merges=[tuple(m.split(" ")) for m in merges])
    tokenizer = tokenizers.Tokenizer(model)
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = tokenizers.decoders.ByteLevel()
    tokenizer.add_special_tokens(tokens[-3:])
    tokenizer.save(str(directory / "tokenizer.json"))
    (directory / "tokenizer_config.json").write_text(json.dumps(
        {"bos_token": tokens[-3], "eos_token": tokens[-1], "model_max_length": 32}) + "\n")


def lathe_exports(lathe: Path, name: str, work: Path) -> Path:
    """Trains with Lathe on the assembled base and exports every format; returns the export directory."""
    fixture = fixtures_dir("LatheModelsTests") / name
    base = work / "base"
    shutil.copytree(fixture / "hf", base)
    write_tokenizer(base)
    data = work / "train.jsonl"
    data.write_text("".join(json.dumps({"text": t}) + "\n" for t in RECORDS))
    adapter = work / "adapter"
    subprocess.run([str(lathe), "train", "--model", str(base), "--data", str(data), "--out", str(adapter),
                    "--rank", "4", "--alpha", "8", "--targets", "all-linear", "--lr", "5e-2", "--schedule", "constant",
                    "--max-steps", "4", "--batch-size", "2", "--max-length", "12", "--seed", "0", "--threads", "2"],
                   check=True, stdout=subprocess.DEVNULL)
    exports = work / "export"
    model_id = f"Tests/LatheModelsTests/Fixtures/{name}/hf"
    subprocess.run([str(lathe), "export", str(adapter), "--format", "peft", "--format", "merged",
                    "--format", "gguf-lora", "--out", str(exports), "--base", str(base), "--base-model-id", model_id],
                   check=True, stdout=subprocess.DEVNULL)
    gguf_out = work / "export-gguf"
    subprocess.run([str(lathe), "export", str(adapter), "--format", "gguf", "--out", str(gguf_out),
                    "--base", str(fixture / f"{name}-F32.gguf")], check=True, stdout=subprocess.DEVNULL)
    shutil.move(str(gguf_out / "merged.gguf"), str(exports / "merged.gguf"))
    return exports


def load(directory: Path, **kwargs):
    return AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32, attn_implementation="eager",
                                                **kwargs).eval()


@torch.no_grad()
def logits_of(model, ids: torch.Tensor) -> torch.Tensor:
    return model(input_ids=ids).logits.to(torch.float32)


def check(condition: bool, message: str) -> None:
    if not condition:
        log(f"!! {message}")
        raise SystemExit(1)


def check_gguf_lora(path: Path, peft_dir: Path, config) -> list[str]:
    """Every PEFT tensor is in adapter.gguf under llama.cpp's name with PEFT's values; returns the fused names."""
    reader = gguf.GGUFReader(path)
    tensors = {t.name: np.array(t.data) for t in reader.tensors}
    field = reader.fields["general.architecture"]
    arch = bytes(field.parts[field.data[0]]).decode()
    model_arch = next(k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == arch)
    names = gguf.TensorNameMap(model_arch, config.num_hidden_layers)
    fused = []
    with safe_open(peft_dir / "adapter_model.safetensors", "np") as f:
        for key in f.keys():
            module = key.removeprefix("base_model.model.").split(".lora_")[0]
            matrix = "lora_a" if ".lora_A." in key else "lora_b"
            target = names.get_name(module + ".weight", try_suffixes=(".weight",))
            check(target is not None, f"{path.name}: no GGUF name for {module}")
            value = f.get_tensor(key)
            if arch == "llama" and matrix == "lora_b" and module.endswith(("q_proj", "k_proj")):
                heads = config.num_attention_heads if module.endswith("q_proj") else config.num_key_value_heads
                value = permute_for_gguf(value, heads, None)
            stored = tensors.get(f"{target}.{matrix}")
            check(stored is not None, f"{path.name}: missing {target}.{matrix}")
            check(stored.shape == value.shape and np.array_equal(stored, value),
                  f"{path.name}: {target}.{matrix} differs from PEFT's {key}")
            if "qkv" in target or module.endswith("gate_up_proj"):
                fused.append(f"{target}.{matrix}")
    return sorted(set(fused))


def run(lathe: Path, name: str) -> None:
    log(f"== {name}")
    fixture = fixtures_dir("LatheModelsTests") / name
    with safe_open(fixture / "golden.safetensors", "pt") as f:
        ids = f.get_tensor("input_ids")
    with tempfile.TemporaryDirectory() as tmp:
        exports = lathe_exports(lathe, name, Path(tmp))
        base = load(fixture / "hf")
        base_logits = logits_of(base, ids)
        model = PeftModel.from_pretrained(base, exports / "peft").eval()
        peft_logits = logits_of(model, ids)
        effect = (peft_logits - base_logits).abs().max().item()
        check(effect > 1e-2, f"{name}: the adapter moves the logits by only {effect}")
        merged = (logits_of(load(exports / "merged"), ids) - peft_logits).abs().max().item()
        check(merged <= TOLERANCE, f"{name}: merged HF logits differ from PEFT's by {merged}")
        merged_names = {t.name for t in gguf.GGUFReader(exports / "merged.gguf").tensors}
        base_names = {t.name for t in gguf.GGUFReader(fixture / f"{name}-F32.gguf").tensors}
        check(merged_names == base_names, f"{name}: merged GGUF tensors differ from the base GGUF's: "
                                          f"{sorted(merged_names ^ base_names)}")
        arch = ARCHS[name]
        config = AutoConfig.from_pretrained(fixture / "hf") if arch.gguf_hf_config else None
        kwargs = {"gguf_file": "merged.gguf"} | ({"config": config} if config is not None else {})
        gguf_logits = logits_of(load(exports, **kwargs), ids)
        positions = 4 if name == "tiny-mistral-sw" else ids.shape[1]
        merged_gguf = (gguf_logits[:, :positions] - peft_logits[:, :positions]).abs().max().item()
        check(merged_gguf <= TOLERANCE, f"{name}: merged GGUF logits differ from PEFT's by {merged_gguf}")
        fused = check_gguf_lora(exports / "adapter.gguf", exports / "peft", base.config)
        log(f"    PeftModel loads; |peft − base| {effect:.3f}; merged HF {merged:.2e}; merged GGUF {merged_gguf:.2e}"
            f" (positions < {positions}); adapter.gguf names match" + (f" (fused: {', '.join(fused)})" if fused else ""))
        out = fixture / "peft"
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(exports / "peft", out)
        save_safetensors(fixture / "peft-golden.safetensors", {
            "input_ids": ids.numpy().astype(np.int64),
            "logits.base": base_logits.numpy(),
            "logits.peft": peft_logits.numpy(),
        }, metadata={
            "how": "peft.PeftModel.from_pretrained(from_pretrained(hf, float32, eager), 'peft') on the adapter "
                   "lathe train wrote (Scripts/goldens/peft_export_archs.py)",
            "merged_hf_max_abs_diff": repr(merged), "merged_gguf_max_abs_diff": repr(merged_gguf),
            "merged_gguf_positions": str(positions), "adapter_effect_max_abs": repr(effect),
            "gguf_lora_fused_tensors": ",".join(fused),
        })


if __name__ == "__main__":
    torch.set_num_threads(2)
    binary = build_lathe()
    for model_name in sys.argv[1:] or MODELS:
        run(binary, model_name)
    sys.exit(0)
