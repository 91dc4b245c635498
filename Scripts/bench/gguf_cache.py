"""A GGUF as a plain fp32 Hugging Face folder for the bench peers, converted once.

transformers dequantises a GGUF in Python (gguf-py and numpy) on every load: for a 0.5B model in Q4_K that took
longer than the benchmark itself, and a GGUF-loaded model cannot be handed to lm-eval's HFLM. The first call saves
the dequantised fp32 weights, the config and the tokenizer in `Checkpoints/.peer-cache/<file name>-<size>-<mtime>/`
(git-ignored, like every model file); later calls reuse that folder. The weights are the same numbers either way,
and a peer's peak RSS is then its own work's, not the converter's.
"""
import os


def cached_folder(gguf_path, torch, tokenizer=True):
    """The folder holding `gguf_path` as fp32 safetensors and config.json, and with `tokenizer` its tokenizer files
    (made on first use). Training needs no tokenizer, and the shaped models' GGUFs carry none."""
    path = os.path.abspath(gguf_path)
    stat = os.stat(path)
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "Checkpoints")
    cache = os.path.join(root, ".peer-cache", f"{os.path.basename(path)}-{stat.st_size}-{int(stat.st_mtime)}")
    folder, name = os.path.split(path)
    if not os.path.exists(os.path.join(cache, "config.json")):
        from transformers import AutoModelForCausalLM
        save(AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32), cache)
    if tokenizer and not os.path.exists(os.path.join(cache, "tokenizer_config.json")):
        from transformers import AutoTokenizer
        AutoTokenizer.from_pretrained(folder, gguf_file=name).save_pretrained(cache)
    return cache


def load_causal_lm(gguf_path, torch):
    """The transformers model of `gguf_path` in fp32, read from its cached folder."""
    from transformers import AutoModelForCausalLM
    return AutoModelForCausalLM.from_pretrained(cached_folder(gguf_path, torch, tokenizer=False), dtype=torch.float32)


def save(model, cache):
    """The model's fp32 weights and config into `cache` (written aside, then renamed). transformers' own
    `save_pretrained` refuses a model loaded from a GGUF, so the weights go through safetensors directly."""
    import shutil
    from safetensors.torch import save_model

    partial = cache + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    config = model.config
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    config.save_pretrained(partial)
    save_model(model, os.path.join(partial, "model.safetensors"))  # tied tensors stored once
    os.replace(partial, cache)
