"""Loading a GGUF in transformers for a bench peer, once.

transformers dequantises a GGUF in Python (gguf-py and numpy) on every load: for a 0.5B model in Q4_K that took
longer than the benchmark itself. The first load saves the dequantised fp32 model with `save_pretrained` in
`Checkpoints/.peer-cache/<file name>-<size>-<mtime>/` (git-ignored, like every model file) and later loads read that
folder. The weights are the same numbers either way; the peer's peak RSS is then its training's, not the
converter's.
"""
import os


def load_causal_lm(gguf_path, torch):
    """The transformers model of `gguf_path` in fp32, through the cache folder."""
    from transformers import AutoModelForCausalLM

    path = os.path.abspath(gguf_path)
    stat = os.stat(path)
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "Checkpoints")
    cache = os.path.join(root, ".peer-cache", f"{os.path.basename(path)}-{stat.st_size}-{int(stat.st_mtime)}")
    if os.path.exists(os.path.join(cache, "config.json")):
        return AutoModelForCausalLM.from_pretrained(cache, dtype=torch.float32)
    folder, name = os.path.split(path)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    save(model, cache)
    return model


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
