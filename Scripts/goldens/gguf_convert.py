"""GGUF files of the tiny models, written with gguf.GGUFWriter the way llama.cpp's convert_hf_to_gguf.py writes them
(then llama-quantize for Q4_0). No llama.cpp code is copied: each rule below names the converter method it follows.

Key order follows the converter's write(): general.architecture (writer), keys added while preparing tensors
(phi3.rope.scaling.attn_factor), general.type, general.name, general.size_label, the architecture's
set_gguf_parameters, general.quantization_version, then the vocabulary (tokenizer.ggml.*).
Tensors: extra tensors first (rope_freqs / rope_factors_long / rope_factors_short), then the HF tensors in name
order, renamed by gguf-py's TensorNameMap for the architecture (what convert's map_tensor_name uses).
"""

from __future__ import annotations

import math
from pathlib import Path

import gguf
import numpy as np
import torch

from architectures import BOS_ID, EOS_ID, VOCAB, Arch
from common import byte_to_unicode_table, train_byte_bpe

GGUF_FILE_TYPES = {
    "F32": gguf.LlamaFileType.ALL_F32,
    "F16": gguf.LlamaFileType.MOSTLY_F16,
    "Q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
    "Q4_0": gguf.LlamaFileType.MOSTLY_Q4_0,
}
EXTRA_TENSORS = ("rope_freqs.weight", "rope_factors_long.weight", "rope_factors_short.weight")


def permute_for_gguf(weights: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    """convert_hf_to_gguf `LlamaModel.permute`: HF's rotate-half row order -> GGUF interleaved-pair row order.

    With d = head_dim and heads H (n_head for Q, n_head_kv for K):
        gguf[h*d + 2*i + j] = hf[h*d + j*(d/2) + i]      for h < H, i < d/2, j in {0, 1}
    (applies to rows; a bias vector would be permuted the same way, llama has none). Only the llama architecture
    (LlamaModel, which Mistral also converts through) permutes; qwen2/qwen3/gemma3/phi3 use NEOX RoPE in llama.cpp.
    """
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    rows = weights.shape[0]
    return (weights.reshape(n_head, 2, rows // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2)
            .reshape(weights.shape))


def llama3_rope_freq_factors(config) -> np.ndarray:
    """The rope_freqs.weight tensor of convert_hf_to_gguf `LlamaModel.generate_extra_tensors` for rope_type llama3.

    llama.cpp divides each rotation frequency by it: theta_i(pos) = pos * base^(-2i/d) / factor_i.
    NOTE: convert_hf_to_gguf reads `original_max_position_embeddings` from the TOP level of the config (default
    8192), not from `rope_scaling`; on real Llama 3.x both are 8192 (so is tiny-llama32). tiny-llama3 has 32 inside
    rope_scaling only, so we use that value (as transformers does); otherwise the GGUF would not match the HF model.
    """
    rope = config.rope_parameters
    base = rope["rope_theta"]
    dim = config.head_dim
    freqs = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    factor = rope["factor"]
    low_freq_factor = rope["low_freq_factor"]
    high_freq_factor = rope["high_freq_factor"]
    old_context_len = rope["original_max_position_embeddings"]
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    factors = []
    for freq in freqs:
        wavelen = 2 * math.pi / freq
        if wavelen < high_freq_wavelen:
            factors.append(1)
        elif wavelen > low_freq_wavelen:
            factors.append(factor)
        else:
            smooth = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
            factors.append(1 / ((1 - smooth) / factor + smooth))
    return torch.tensor(factors, dtype=torch.float32).numpy()


def fixture_vocabulary() -> tuple[list[str], list[int], list[str]]:
    """A valid 320-token byte-level BPE vocabulary: 256 byte symbols, 61 merges, 3 control tokens.

    Returns (tokens, token_types, merges) for tokenizer.ggml.{tokens, token_type, merges}.
    """
    table = byte_to_unicode_table()
    tokens = [table[b] for b in range(256)]
    text = ("the refund policy of the company is that the customer may return the item within thirty days "
            "and the store will refund the full price to the customer; the tokens of this text are the merges "
            "that the tiny tokenizer learns, so that the model fixture has a real vocabulary to load")
    merges = train_byte_bpe(text, merge_count=VOCAB - 256 - 3)
    assert len(merges) == VOCAB - 256 - 3, len(merges)
    tokens += [a + b for a, b in merges]
    tokens += ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    assert len(tokens) == VOCAB and len(set(tokens)) == VOCAB
    types = [int(gguf.TokenType.NORMAL)] * (VOCAB - 3) + [int(gguf.TokenType.CONTROL)] * 3
    return tokens, types, [f"{a} {b}" for a, b in merges]


def tensor_qtype(variant: str, gguf_name: str, ndim: int, has_output: bool) -> gguf.GGMLQuantizationType:
    """Storage type of one tensor in one GGUF variant.

    1-D tensors (norms, biases, rope_freqs, rope factors) stay F32 as convert_hf_to_gguf does (prepare_tensors:
    n_dims <= 1 or *_norm.weight). In Q4_0, llama-quantize gives the output matrix (output.weight, or
    token_embd.weight when embeddings are tied) Q6_K, which needs rows that are a multiple of 256; ours are 64 wide
    so it falls back to Q8_0 (as SmolLM2's Q4_1 file shows: tied token_embd is Q8_0). K-quants are skipped for that
    reason.
    """
    Q = gguf.GGMLQuantizationType
    if ndim <= 1 or gguf_name.endswith("_norm.weight"):
        return Q.F32
    if variant == "Q4_0":
        is_output = gguf_name == "output.weight" or (not has_output and gguf_name == "token_embd.weight")
        return Q.Q8_0 if is_output else Q.Q4_0
    return {"F32": Q.F32, "F16": Q.F16, "Q8_0": Q.Q8_0}[variant]


# ---------------------------------------------------------------------------------------------------------------
# Metadata: one function per converter class
# ---------------------------------------------------------------------------------------------------------------

def rope_thetas(h: dict) -> tuple[float, float | None]:
    """(global theta, sliding-layer theta or None) from config.to_dict(), as TextModel.__init__ reads them."""
    rope = h.get("rope_parameters") or {}
    full = rope.get("full_attention", rope)
    return full["rope_theta"], rope.get("sliding_attention", {}).get("rope_theta")


def text_model_params(w: gguf.GGUFWriter, h: dict, file_type) -> None:
    """TextModel.set_gguf_parameters, for the keys our configs have."""
    w.add_block_count(h["num_hidden_layers"])
    w.add_context_length(h["max_position_embeddings"])
    w.add_embedding_length(h["hidden_size"])
    w.add_feed_forward_length(h["intermediate_size"])
    w.add_head_count(h["num_attention_heads"])
    w.add_head_count_kv(h["num_key_value_heads"])
    rope = h.get("rope_parameters") or {}
    if rope.get("rope_type") in ("su", "longrope"):
        w.add_rope_scaling_type(gguf.RopeScalingType.LONGROPE)
    theta, swa_theta = rope_thetas(h)
    w.add_rope_freq_base(theta)
    if swa_theta is not None:
        w.add_rope_freq_base_swa(swa_theta)
    w.add_layer_norm_rms_eps(h["rms_norm_eps"])
    if h.get("head_dim") is not None:
        w.add_key_length(h["head_dim"])
        w.add_value_length(h["head_dim"])
    w.add_file_type(file_type)


def llama_params(w: gguf.GGUFWriter, h: dict, file_type) -> None:
    """LlamaModel.set_gguf_parameters (also MistralForCausalLM): the base keys + vocab_size + rope dimension count.
    No sliding-window key: a Mistral window does not reach the GGUF, llama.cpp runs the llama graph without one."""
    text_model_params(w, h, file_type)
    w.add_vocab_size(h["vocab_size"])
    w.add_rope_dimension_count(h.get("head_dim") or h["hidden_size"] // h["num_attention_heads"])


def gemma3_params(w: gguf.GGUFWriter, h: dict, file_type) -> None:
    """Gemma3Model.set_gguf_parameters: the base keys, then some again (GGUFWriter keeps a re-added key in its first
    place), final_logit_softcapping when set, sliding_window, head_count_kv. No layer pattern, no attention scale."""
    text_model_params(w, h, file_type)
    w.add_context_length(h.get("max_position_embeddings", 131072))
    w.add_head_count(h.get("num_attention_heads", 8))
    w.add_layer_norm_rms_eps(h.get("rms_norm_eps", 1e-6))
    w.add_key_length(h.get("head_dim", 256))
    w.add_value_length(h.get("head_dim", 256))
    w.add_rope_freq_base(rope_thetas(h)[0])
    assert h.get("attn_logit_softcapping") is None
    if final_logit_softcap := h.get("final_logit_softcapping"):
        w.add_final_logit_softcapping(final_logit_softcap)
    if h.get("sliding_window_pattern") != 1:
        w.add_sliding_window(h["sliding_window"])
    w.add_head_count_kv(h.get("num_key_value_heads", 4))


def phi3_rope(h: dict) -> tuple[int, int, int, dict]:
    """(rope dimensions, context length, original context length, rope parameters) as Phi3MiniModel computes them:
    rope dims = int(partial_rotary_factor * hidden) // heads."""
    rope = h["rope_parameters"]
    dims = int(rope.get("partial_rotary_factor", 1.0) * h["hidden_size"]) // h["num_attention_heads"]
    return dims, h["max_position_embeddings"], rope["original_max_position_embeddings"], rope


def phi3_params(w: gguf.GGUFWriter, h: dict, file_type) -> None:
    """Phi3MiniModel.set_gguf_parameters (not the base class's): sliding_window 0 when the config has none."""
    dims, n_ctx, n_ctx_orig, rope = phi3_rope(h)
    w.add_context_length(n_ctx)
    w.add_rope_scaling_orig_ctx_len(n_ctx_orig)
    w.add_embedding_length(h["hidden_size"])
    w.add_feed_forward_length(h["intermediate_size"])
    w.add_block_count(h["num_hidden_layers"])
    w.add_head_count(h["num_attention_heads"])
    w.add_head_count_kv(h["num_key_value_heads"])
    w.add_layer_norm_rms_eps(h["rms_norm_eps"])
    w.add_rope_dimension_count(dims)
    w.add_rope_freq_base(rope["rope_theta"])
    w.add_file_type(file_type)
    w.add_sliding_window(h.get("sliding_window") or 0)


def phi3_extra(w: gguf.GGUFWriter, h: dict) -> list[tuple[str, np.ndarray]]:
    """Phi3MiniModel.generate_extra_tensors: rope.scaling.attn_factor = sqrt(1 + ln(scale) / ln(n_ctx_orig)) for
    LongRoPE with scale = n_ctx / n_ctx_orig > 1, and the long / short factor tensors (rope dims / 2 each)."""
    dims, n_ctx, n_ctx_orig, rope = phi3_rope(h)
    scale = n_ctx / n_ctx_orig
    assert rope["rope_type"] in ("su", "longrope")
    w.add_rope_scaling_attn_factors(math.sqrt(1 + math.log(scale) / math.log(n_ctx_orig)) if scale > 1.0 else 1.0)
    long, short = rope["long_factor"], rope["short_factor"]
    assert len(long) == len(short) == dims // 2
    return [("rope_factors_long.weight", np.asarray(long, dtype=np.float32)),
            ("rope_factors_short.weight", np.asarray(short, dtype=np.float32))]


def llama_extra(w: gguf.GGUFWriter, h: dict, config) -> list[tuple[str, np.ndarray]]:
    """LlamaModel.generate_extra_tensors: rope_freqs.weight for llama3 RoPE scaling."""
    if (h.get("rope_parameters") or {}).get("rope_type") == "llama3":
        return [("rope_freqs.weight", llama3_rope_freq_factors(config))]
    return []


PARAMS = {"llama": llama_params, "qwen2": text_model_params, "qwen3": text_model_params, "gemma3": gemma3_params,
          "phi3": phi3_params}


def hf_tensor(arch: Arch, config, hf_name: str, data: np.ndarray) -> np.ndarray:
    """The converter's modify_tensors edits: llama Q/K row permutation; Gemma 3 norm weights stored as 1 + w
    (Gemma3Model.norm_shift: Gemma3RMSNorm multiplies by 1 + w, llama.cpp by the stored weight)."""
    if arch.gguf_arch == "llama" and hf_name.endswith("q_proj.weight"):
        return permute_for_gguf(data, config.num_attention_heads, config.num_attention_heads)
    if arch.gguf_arch == "llama" and hf_name.endswith("k_proj.weight"):
        return permute_for_gguf(data, config.num_attention_heads, config.num_key_value_heads)
    if arch.gguf_arch == "gemma3" and hf_name.endswith("norm.weight"):
        return data + np.float32(1.0)
    return data


def write_gguf(path: Path, arch: Arch, model, variant: str) -> list[tuple[str, str, tuple[int, ...]]]:
    """Write one GGUF file; returns [(tensor name, type name, numpy shape)] in file order.

    Metadata, in the order convert_hf_to_gguf writes it (see the module docstring and `PARAMS`), then the fixture
    vocabulary: tokenizer.ggml.model "gpt2", .pre (arch.tokenizer_pre), .tokens, .token_type, .merges,
    .bos_token_id, .eos_token_id, .padding_token_id, .add_bos_token false.
    """
    config = model.config
    h = config.to_dict()
    state = {k: v.detach().to(torch.float32).numpy() for k, v in model.state_dict().items()}
    if config.tie_word_embeddings:
        state.pop("lm_head.weight", None)  # tied: save_pretrained drops it; convert never sees it
    has_output = "lm_head.weight" in state
    name_map = gguf.get_tensor_name_map(next(k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == arch.gguf_arch),
                                        config.num_hidden_layers)

    writer = gguf.GGUFWriter(str(path), arch.gguf_arch)
    tensors: list[tuple[str, np.ndarray]] = []
    if arch.gguf_arch == "phi3":
        tensors += phi3_extra(writer, h)
    elif arch.gguf_arch == "llama":
        tensors += llama_extra(writer, h, config)
    for hf_name in sorted(state):
        gguf_name = name_map.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        assert gguf_name is not None, hf_name
        tensors.append((gguf_name, np.ascontiguousarray(hf_tensor(arch, config, hf_name, state[hf_name]))))

    writer.add_type(gguf.GGUFType.MODEL)
    writer.add_name(arch.name)
    n_params = sum(t.size for n, t in tensors if n not in EXTRA_TENSORS)
    writer.add_size_label(gguf.size_label(n_params, 0, 0, 0))
    PARAMS[arch.gguf_arch](writer, h, GGUF_FILE_TYPES[variant])
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    tokens, types, merges = fixture_vocabulary()
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(arch.tokenizer_pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(BOS_ID)
    writer.add_eos_token_id(EOS_ID)
    writer.add_pad_token_id(BOS_ID)
    writer.add_add_bos_token(False)

    layout = []
    for tname, data in tensors:
        qtype = tensor_qtype(variant, tname, data.ndim, has_output)
        raw = gguf.quants.quantize(data, qtype)
        writer.add_tensor(tname, raw, raw_dtype=qtype)
        layout.append((tname, qtype.name, tuple(data.shape)))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return layout
