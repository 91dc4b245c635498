"""The tiny test models behind the golden files: one `Arch` table entry per architecture.

An entry says how transformers builds the model offline (config, class, seed), how llama.cpp's
convert_hf_to_gguf.py writes it as GGUF (architecture name, metadata keys, extra tensors, tensor edits), which GGUF
variants are committed, and what its goldens need (sequence length, LoRA targets). models.py writes the models and
their logits, training.py the PEFT LoRA goldens; both iterate over ARCHS.

Every model shares the 320-token byte-level BPE vocabulary of `fixture_vocabulary` and is filled with wide random
weights by `build_model`. The GGUF writer follows convert_hf_to_gguf.py (the `conversion/` modules of llama.cpp:
base.py TextModel, llama.py LlamaModel, qwen.py Qwen2Model/Qwen3Model, gemma.py Gemma3Model, phi.py Phi3MiniModel)
key by key; `write_gguf` and the `*_params` functions name each rule they copy.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from transformers import (
    AutoConfig,
    Gemma3ForCausalLM,
    Gemma3TextConfig,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Phi3Config,
    Phi3ForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
    Qwen3Config,
    Qwen3ForCausalLM,
)

VOCAB = 320
BOS_ID, EOS_ID = 317, 319  # <|endoftext|>, <|im_end|> in the fixture vocabulary (see `fixture_vocabulary`)
SHARED = dict(
    vocab_size=VOCAB,
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    rms_norm_eps=1e-5,
    max_position_embeddings=128,
    bos_token_id=BOS_ID,
    eos_token_id=EOS_ID,
)
SMALL = {**SHARED, "intermediate_size": 64}  # the issue-14 models: a narrower MLP keeps each fixture folder small
DEFAULT_ROPE = {"rope_type": "default", "rope_theta": 10000.0}
LLAMA3_ROPE = {
    "rope_type": "llama3",
    "rope_theta": 10000.0,
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 32,
}
# Llama 3.2's own constants. original_max_position_embeddings 8192 is also convert_hf_to_gguf's default for the
# rope_freqs tensor (it reads the key from the top level of config.json, where Llama 3.2 has none).
LLAMA32_ROPE = {**LLAMA3_ROPE, "rope_theta": 500000.0, "factor": 32.0, "original_max_position_embeddings": 8192}
SLIDING_WINDOW = 4  # tiny-mistral-sw and tiny-gemma3: smaller than their 12-token golden sequences
PHI3_ORIGINAL_CONTEXT = 8  # tiny-phi3: LongRoPE switches to long_factor once a sequence is longer than this
ALL_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def qwen3_config():
    """Qwen3: per-head q/k RMSNorm, no q/k/v bias, head_dim 32 != hidden / heads = 16, tied embeddings."""
    return Qwen3Config(**SMALL, head_dim=32, tie_word_embeddings=True, attention_bias=False,
                       rope_parameters=dict(DEFAULT_ROPE, rope_theta=1000000.0))


def llama32_config():
    """Llama 3.2: tied embeddings and llama3 RoPE scaling with Llama 3.2's theta / factor / original context 8192
    (and its max_position_embeddings 131072, written to the GGUF as context_length)."""
    return LlamaConfig(**{**SMALL, "max_position_embeddings": 131072}, head_dim=16, tie_word_embeddings=True,
                       rope_parameters=dict(LLAMA32_ROPE))


def mistral_sw_config():
    """Mistral with a 4-token sliding window on every layer, untied output."""
    return MistralConfig(**SMALL, head_dim=16, tie_word_embeddings=False, sliding_window=SLIDING_WINDOW,
                         rope_parameters=dict(DEFAULT_ROPE))


def gemma3_config():
    """Gemma 3 (text). Six layers because llama.cpp fixes Gemma 3's pattern at five sliding layers then one global
    (hparams.set_swa_pattern(6), whatever the file says) and convert_hf_to_gguf writes no pattern: layers 0-4 slide
    over 4 tokens, layer 5 is global. llama.cpp also fixes the sliding layers' RoPE base at 10000 and scales
    attention by 1/sqrt(head_dim) for every size but 27B, so rope_local_base_freq = 10000 and
    query_pre_attn_scalar = head_dim = 16 (!= hidden / heads = 8) here too: HF and GGUF mean the same model.
    final_logit_softcapping 10 (released Gemma 3 checkpoints have none; llama.cpp and transformers apply it when set)
    makes the cap bite; attn_logit_softcapping stays None (the converter asserts it). Hidden 32 keeps six layers small.
    """
    return Gemma3TextConfig(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=6, num_attention_heads=4,
        num_key_value_heads=1, head_dim=16, query_pre_attn_scalar=16, rms_norm_eps=1e-6, max_position_embeddings=128,
        sliding_window=SLIDING_WINDOW, layer_types=["sliding_attention"] * 5 + ["full_attention"],
        rope_parameters={"full_attention": dict(DEFAULT_ROPE, rope_theta=1000000.0),
                         "sliding_attention": dict(DEFAULT_ROPE)},
        final_logit_softcapping=10.0, attn_logit_softcapping=None, hidden_activation="gelu_pytorch_tanh",
        tie_word_embeddings=True, bos_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=0)


def phi3_config():
    """Phi-4-mini style Phi3: fused qkv_proj / gate_up_proj, tied embeddings, partial rotary 0.75 (12 of 16 dims),
    LongRoPE with original context 8 < max_position_embeddings 32 (scale 4, attention factor sqrt(1 + ln 4 / ln 8)).
    """
    rotary_half = int(16 * 0.75) // 2
    short = [1.0 + 0.25 * i for i in range(rotary_half)]
    long = [1.5 + 2.0 * i for i in range(rotary_half)]
    return Phi3Config(**{**SMALL, "max_position_embeddings": 32}, tie_word_embeddings=True, sliding_window=None,
                      pad_token_id=0, original_max_position_embeddings=PHI3_ORIGINAL_CONTEXT,
                      rope_parameters={"rope_type": "longrope", "rope_theta": 10000.0, "short_factor": short,
                                       "long_factor": long, "partial_rotary_factor": 0.75,
                                       "original_max_position_embeddings": PHI3_ORIGINAL_CONTEXT})


@dataclass(frozen=True)
class Arch:
    """One tiny model: how to build it, how its GGUF is written, what its goldens hold."""

    name: str
    seed: int
    model_class: type
    config: Callable
    gguf_arch: str                                   # general.architecture as convert_hf_to_gguf writes it
    gguf_variants: tuple[str, ...]
    seq_len: int = 7                                 # golden input_ids are (2, seq_len)
    norm_base: float = 1.0                           # RMSNorm weights are norm_base + 0.1·N(0,1)
    gguf_hf_config: str | None = None                # "(why)" GGUFs are loaded with config=hf/config.json, if so
    issue14: bool = False                            # writes greedy ids and the issue-14 extras
    lora_targets: tuple[str, ...] = ALL_PROJECTIONS  # PEFT target_modules for training.py
    tokenizer_pre: str = "gpt-2"                     # tokenizer.ggml.pre


ARCHS: dict[str, Arch] = {a.name: a for a in [
    Arch("tiny-llama", 1, LlamaForCausalLM,
         lambda: LlamaConfig(**SHARED, head_dim=16, tie_word_embeddings=False, rope_parameters=dict(DEFAULT_ROPE)),
         "llama", ("F32", "F16", "Q8_0", "Q4_0")),
    Arch("tiny-llama3", 2, LlamaForCausalLM,
         lambda: LlamaConfig(**SHARED, head_dim=16, tie_word_embeddings=True, rope_parameters=dict(LLAMA3_ROPE)),
         "llama", ("F32", "Q4_0"),
         # transformers' GGUF loader maps no llama rope scaling (it ignores rope_freqs.weight)
         gguf_hf_config="(llama3 RoPE)"),
    # Qwen2 always has q/k/v biases (and none on o_proj); head_dim = hidden / heads = 16.
    Arch("tiny-qwen2", 3, Qwen2ForCausalLM,
         lambda: Qwen2Config(**SHARED, tie_word_embeddings=False, rope_parameters=dict(DEFAULT_ROPE)),
         "qwen2", ("F32", "Q8_0")),
    Arch("tiny-qwen3", 4, Qwen3ForCausalLM, qwen3_config, "qwen3", ("F32",), issue14=True, tokenizer_pre="qwen2",
         gguf_hf_config="(transformers' GGUF loader maps no attention.key_length for qwen3: head_dim would fall "
                        "back to Qwen3Config's 128)"),
    Arch("tiny-llama32", 5, LlamaForCausalLM, llama32_config, "llama", ("F32",), issue14=True,
         gguf_hf_config="(llama3 RoPE: transformers' GGUF loader ignores rope_freqs.weight)"),
    Arch("tiny-mistral-sw", 6, MistralForCausalLM, mistral_sw_config, "llama", ("F32",), seq_len=12, issue14=True),
    Arch("tiny-gemma3", 7, Gemma3ForCausalLM, gemma3_config, "gemma3", ("F32",), seq_len=12, norm_base=0.0,
         issue14=True,
         gguf_hf_config="(transformers' GGUF loader maps no query_pre_attn_scalar, layer_types, "
                        "rope_local_base_freq or final_logit_softcapping for gemma3; llama.cpp's fixed rules equal "
                        "this config, see gemma3_config)"),
    Arch("tiny-phi3", 8, Phi3ForCausalLM, phi3_config, "phi3", ("F32", "Q8_0"), seq_len=12, issue14=True,
         lora_targets=("qkv_proj", "o_proj", "gate_up_proj", "down_proj"),
         gguf_hf_config="(transformers' GGUF loader maps no LongRoPE factors or partial rotary for phi3)"),
]}


def build_model(arch: Arch):
    """A tiny model with wide random weights: N(0, 0.1²) matrices, norms norm_base + 0.1·N(0,1), biases 0.1·N(0,1).

    HF's default init (std 0.02, norms 1) gives almost flat logits, in which a wrong op hides. Gemma's RMSNorm
    multiplies by (1 + w), so its norm_base is 0: the effective scale is again 1 + 0.1·N(0,1).
    Parameters are filled in `named_parameters()` order from one torch.Generator seeded with `arch.seed`.
    """
    config = arch.config()
    config._attn_implementation = "eager"
    model = arch.model_class(config).to(torch.float32)
    gen = torch.Generator().manual_seed(arch.seed)
    with torch.no_grad():
        for pname, param in model.named_parameters():  # a tied lm_head is the same Parameter: listed once
            noise = torch.randn(param.shape, generator=gen, dtype=torch.float32)
            if pname.endswith("norm.weight"):
                param.copy_(arch.norm_base + 0.1 * noise)
            else:
                param.copy_(0.1 * noise)
    model.eval()
    return model


def config_v4_layout(v5_config_json: Path) -> dict:
    """hf/config.json (as transformers 5 saves it) rewritten in the transformers-4 layout most Hub checkpoints
    still carry, with `torch_dtype` instead of `dtype` and no `transformers_version`:
      one rope_parameters dict -> `rope_theta` + `rope_scaling` (null for default RoPE, else the dict without
        rope_theta); LongRoPE (Phi-3) also moves `original_max_position_embeddings` and `partial_rotary_factor` to
        the top level and names its type with the legacy `type` key, as Phi-3.5 / Phi-4-mini configs do;
      Gemma 3's per-layer-type dicts -> `rope_theta` (global layers) + `rope_local_base_freq` (sliding layers),
        `rope_scaling` null.
    Checked: transformers parses it to the same config.
    """
    data = json.loads(v5_config_json.read_text())
    rope = data.pop("rope_parameters")
    if "full_attention" in rope:
        data["rope_theta"] = rope["full_attention"]["rope_theta"]
        data["rope_local_base_freq"] = rope["sliding_attention"]["rope_theta"]
        data["rope_scaling"] = None
    else:
        rope = dict(rope)
        data["rope_theta"] = rope.pop("rope_theta")
        if rope.get("rope_type") == "longrope":
            data["original_max_position_embeddings"] = rope.pop("original_max_position_embeddings")
            data["partial_rotary_factor"] = rope.pop("partial_rotary_factor")
            rope = {"type": rope.pop("rope_type"), **rope}
        else:
            rope.pop("partial_rotary_factor", None)
        data["rope_scaling"] = None if rope.get("rope_type", "default") == "default" and "type" not in rope else rope
    data["torch_dtype"] = data.pop("dtype")
    data.pop("transformers_version", None)
    reparsed = AutoConfig.for_model(**copy.deepcopy(data)).to_dict()  # it edits rope_scaling in place
    original = AutoConfig.from_pretrained(v5_config_json.parent).to_dict()
    if "type" in (reparsed.get("rope_parameters") or {}):  # the legacy key is kept beside rope_type
        assert reparsed["rope_parameters"].pop("type") == reparsed["rope_parameters"]["rope_type"]
    for key in ("rope_parameters", "num_key_value_heads", "head_dim", "tie_word_embeddings", "vocab_size",
                "layer_types", "sliding_window", "query_pre_attn_scalar", "original_max_position_embeddings"):
        assert reparsed.get(key) == original.get(key), (key, reparsed.get(key), original.get(key))
    return data
