"""Golden files for model loading and the forward pass (issue 3, item 7).

Run:  $PYTHON Scripts/goldens/models.py [FIXTURES_DIR [SMOLLM2_GGUF]]
      (default FIXTURES_DIR: Tests/LatheModelsTests/Fixtures; default SMOLLM2_GGUF: see `smollm2_path`).
      No network access is needed.

What it writes, per tiny model (tiny-llama, tiny-llama3, tiny-qwen2) under FIXTURES_DIR/<model>/:
  hf/                 config.json + model.safetensors (F32), `save_pretrained(safe_serialization=True)`
  hf-bf16/            same with every tensor BF16 (`model.to(bfloat16).save_pretrained`)      tiny-llama only
  hf-sharded/         F32 in shards + model.safetensors.index.json (`max_shard_size="100KB"`) tiny-llama only
  config.v4.json      the same config in the transformers-4 layout (`rope_theta` + `rope_scaling` at top level)
                      that most checkpoints on the Hub still carry; transformers 5 writes `rope_parameters`.
  <model>-<TYPE>.gguf TYPE in F32, F16, Q8_0, Q4_0 for tiny-llama; F32, Q4_0 for tiny-llama3 (tied, so its
                      token_embd is Q8_0 in Q4_0, as in SmolLM2's file); F32, Q8_0 for tiny-qwen2 (size budget:
                      the block formats are covered by tiny-llama; the other two test architecture features).
                      written with gguf.GGUFWriter the way llama.cpp's convert_hf_to_gguf.py (LlamaModel /
                      Qwen2Model) + llama-quantize lay them out; see `write_gguf` for every key and tensor.
  golden.safetensors  input_ids (I64, (2, 7)); for every variant V: logits.V (F32, (2, 7, 320)) and
                      logprobs.V (F32, (2, 6)) = log_softmax(logits.V)[b, t, input_ids[b, t + 1]].
                      Variants: hf, hf-bf16, hf-sharded (tiny-llama), gguf-<TYPE> for each GGUF written.
                      Also hidden_states.hf (F32, (n_layers + 2, 2, 7, 64)): the embedding output, the residual
                      stream after each decoder layer, and the final RMSNorm's output (see `residual_stream`).
                      tiny-llama3 also: rope.inv_freq (HF's scaled inverse frequencies, (8,)) and
                      rope.freq_factors (the rope_freqs.weight tensor written to the GGUFs, (8,)).
                      tiny-llama also: the packed case (see `packed_golden`): segments, position_ids.packed,
                      logits.packed.
Every logits.V is computed by transformers from THAT file: HF dirs via
`AutoModelForCausalLM.from_pretrained(dir, dtype=float32, attn_implementation="eager")`; GGUFs via
`from_pretrained(model_dir, gguf_file=name, dtype=float32, attn_implementation="eager")`, which dequantises, so the
quantised goldens are the reference for the dequantised weights. Exception, tiny-llama3 GGUFs: transformers'
GGUF loader ignores rope_freqs.weight (it maps no llama rope-scaling metadata), so those are loaded with
`config=<hf/config.json>` passed in: weights from the GGUF, llama3 RoPE from the HF config.

Plus FIXTURES_DIR/smollm2/ (from SmolLM2-135M-Instruct.Q4_1.gguf, see `smollm2_goldens`)
and FIXTURES_DIR/versions.json.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gguf  # noqa: E402
from transformers import (  # noqa: E402
    AutoConfig,
    AutoModelForCausalLM,
    AutoTokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

from common import (  # noqa: E402
    REPO_ROOT,
    byte_to_unicode_table,
    fixtures_dir,
    log,
    max_abs_diff,
    save_safetensors,
    train_byte_bpe,
    write_json,
    write_versions,
)

SMOLLM2_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_path() -> Path:
    """argv[2] if given, else Checkpoints/base/ of this checkout (Scripts/fetch-model.sh)."""
    if len(sys.argv) > 2:
        return Path(sys.argv[2])
    local = REPO_ROOT / "Checkpoints" / "base" / SMOLLM2_NAME
    return local

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
LLAMA3_ROPE = {
    "rope_type": "llama3",
    "rope_theta": 10000.0,
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 32,
}


def tiny_config(name: str):
    """The transformers config of one tiny model."""
    if name == "tiny-llama":
        return LlamaConfig(**SHARED, head_dim=16, tie_word_embeddings=False,
                           rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    if name == "tiny-llama3":
        return LlamaConfig(**SHARED, head_dim=16, tie_word_embeddings=True, rope_parameters=dict(LLAMA3_ROPE))
    if name == "tiny-qwen2":
        # Qwen2 always has q/k/v biases (and none on o_proj); head_dim = hidden / heads = 16.
        return Qwen2Config(**SHARED, tie_word_embeddings=False,
                           rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    raise ValueError(name)


def build_model(name: str, seed: int):
    """A tiny model with wide random weights: N(0, 0.1²) matrices, norms 1 + 0.1·N(0,1), biases 0.1·N(0,1).

    HF's default init (std 0.02, norms 1) gives almost flat logits, in which a wrong op hides.
    Parameters are filled in `named_parameters()` order from one torch.Generator seeded with `seed`.
    """
    config = tiny_config(name)
    config._attn_implementation = "eager"
    model = (Qwen2ForCausalLM if name == "tiny-qwen2" else LlamaForCausalLM)(config).to(torch.float32)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for pname, param in model.named_parameters():  # a tied lm_head is the same Parameter: listed once
            noise = torch.randn(param.shape, generator=gen, dtype=torch.float32)
            if pname.endswith("norm.weight"):
                param.copy_(1.0 + 0.1 * noise)
            elif pname.endswith(".bias"):
                param.copy_(0.1 * noise)
            else:
                param.copy_(0.1 * noise)
    model.eval()
    return model


def config_v4_layout(v5_config_json: Path) -> dict:
    """hf/config.json (as transformers 5 saves it) rewritten in the transformers-4 layout most Hub checkpoints
    still carry: `rope_theta` and `rope_scaling` (null, or the dict without rope_theta) at top level, `torch_dtype`
    instead of `dtype`, no `transformers_version`. Checked: transformers parses it to the same config.
    """
    data = json.loads(v5_config_json.read_text())
    rope = dict(data.pop("rope_parameters"))
    data["rope_theta"] = rope.pop("rope_theta")
    data["rope_scaling"] = None if rope.get("rope_type", "default") == "default" else rope
    data["torch_dtype"] = data.pop("dtype")
    data.pop("transformers_version", None)
    reparsed = AutoConfig.for_model(**copy.deepcopy(data)).to_dict()  # it edits rope_scaling in place
    original = AutoConfig.from_pretrained(v5_config_json.parent).to_dict()
    for key in ("rope_parameters", "num_key_value_heads", "head_dim", "tie_word_embeddings", "vocab_size"):
        assert reparsed.get(key) == original.get(key), (key, reparsed.get(key), original.get(key))
    return data


# ---------------------------------------------------------------------------------------------------------------
# GGUF writing (mirrors llama.cpp convert_hf_to_gguf.py LlamaModel / Qwen2Model, then llama-quantize for Q4_0)
# ---------------------------------------------------------------------------------------------------------------

def permute_for_gguf(weights: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    """convert_hf_to_gguf `LlamaModel.permute`: HF's rotate-half row order -> GGUF interleaved-pair row order.

    With d = head_dim and heads H (n_head for Q, n_head_kv for K):
        gguf[h*d + 2*i + j] = hf[h*d + j*(d/2) + i]      for h < H, i < d/2, j in {0, 1}
    (applies to rows; a bias vector would be permuted the same way, llama has none).
    """
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    rows = weights.shape[0]
    return (weights.reshape(n_head, 2, rows // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2)
            .reshape(weights.shape))


def gguf_tensor_name(hf_name: str) -> str:
    """HF parameter name -> GGUF tensor name (gguf-py TensorNameMap for llama / qwen2)."""
    if hf_name == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf_name == "model.norm.weight":
        return "output_norm.weight"
    if hf_name == "lm_head.weight":
        return "output.weight"
    parts = hf_name.split(".")  # model.layers.N.<module path>.<weight|bias>
    assert parts[:2] == ["model", "layers"], hf_name
    block, module, suffix = parts[2], ".".join(parts[3:-1]), parts[-1]
    names = {
        "input_layernorm": "attn_norm",
        "self_attn.q_proj": "attn_q",
        "self_attn.k_proj": "attn_k",
        "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output",
        "post_attention_layernorm": "ffn_norm",
        "mlp.gate_proj": "ffn_gate",
        "mlp.up_proj": "ffn_up",
        "mlp.down_proj": "ffn_down",
    }
    return f"blk.{block}.{names[module]}.{suffix}"


def llama3_rope_freq_factors(config) -> np.ndarray:
    """The rope_freqs.weight tensor of convert_hf_to_gguf `LlamaModel.generate_extra_tensors` for rope_type llama3.

    llama.cpp divides each rotation frequency by it: theta_i(pos) = pos * base^(-2i/d) / factor_i.
    NOTE: convert_hf_to_gguf reads `original_max_position_embeddings` from the TOP level of the config (default
    8192), not from `rope_scaling`; on real Llama 3.x both are 8192. Our tiny config has 32 inside rope_scaling only,
    so we use that value (as transformers does); otherwise the GGUF would not match the HF model.
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


GGUF_FILE_TYPES = {
    "F32": gguf.LlamaFileType.ALL_F32,
    "F16": gguf.LlamaFileType.MOSTLY_F16,
    "Q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
    "Q4_0": gguf.LlamaFileType.MOSTLY_Q4_0,
}
GGUF_VARIANTS = {
    "tiny-llama": ("F32", "F16", "Q8_0", "Q4_0"),
    "tiny-llama3": ("F32", "Q4_0"),
    "tiny-qwen2": ("F32", "Q8_0"),
}


def tensor_qtype(variant: str, gguf_name: str, ndim: int, has_output: bool) -> gguf.GGMLQuantizationType:
    """Storage type of one tensor in one GGUF variant.

    1-D tensors (norms, biases, rope_freqs) stay F32 as convert_hf_to_gguf does. In Q4_0, llama-quantize gives
    the output matrix (output.weight, or token_embd.weight when embeddings are tied) Q6_K, which needs rows that
    are a multiple of 256; ours are 64 wide so it falls back to Q8_0 (as SmolLM2's Q4_1 file shows: tied
    token_embd is Q8_0). K-quants are skipped entirely for that reason.
    """
    Q = gguf.GGMLQuantizationType
    if ndim <= 1:
        return Q.F32
    if variant == "Q4_0":
        is_output = gguf_name == "output.weight" or (not has_output and gguf_name == "token_embd.weight")
        return Q.Q8_0 if is_output else Q.Q4_0
    return {"F32": Q.F32, "F16": Q.F16, "Q8_0": Q.Q8_0}[variant]


def write_gguf(path: Path, name: str, model, variant: str) -> list[tuple[str, str, tuple[int, ...]]]:
    """Write one GGUF file; returns [(tensor name, type name, numpy shape)] in file order.

    Metadata, in the order convert_hf_to_gguf writes it:
      general.architecture (llama|qwen2), general.type "model", general.name, general.size_label,
      {arch}.block_count, {arch}.context_length, {arch}.embedding_length, {arch}.feed_forward_length,
      {arch}.attention.head_count, {arch}.attention.head_count_kv, {arch}.rope.freq_base,
      {arch}.attention.layer_norm_rms_epsilon,
      {arch}.attention.key_length + value_length   (only when config.json has head_dim: llama yes, qwen2 no),
      general.file_type,
      llama only: llama.vocab_size, llama.rope.dimension_count   (Qwen2Model writes neither),
      general.quantization_version 2,
      tokenizer.ggml.model "gpt2", .pre "gpt-2", .tokens, .token_type, .merges, .bos_token_id, .eos_token_id,
      .padding_token_id, .add_bos_token false.
    No rope-scaling keys: for llama3 scaling convert writes only the rope_freqs.weight tensor (first tensor).
    Tensors: sorted HF names mapped by `gguf_tensor_name`; llama attn_q/attn_k rows permuted (`permute_for_gguf`).
    """
    config = model.config
    arch = "qwen2" if config.model_type == "qwen2" else "llama"
    state = {k: v.detach().to(torch.float32).numpy() for k, v in model.state_dict().items()}
    if config.tie_word_embeddings:
        state.pop("lm_head.weight", None)  # tied: save_pretrained drops it; convert never sees it
    has_output = "lm_head.weight" in state

    tensors: list[tuple[str, np.ndarray]] = []
    if config.rope_parameters.get("rope_type") == "llama3":
        tensors.append(("rope_freqs.weight", llama3_rope_freq_factors(config)))
    for hf_name in sorted(state):
        data = state[hf_name]
        if arch == "llama" and hf_name.endswith("q_proj.weight"):
            data = permute_for_gguf(data, config.num_attention_heads, config.num_attention_heads)
        elif arch == "llama" and hf_name.endswith("k_proj.weight"):
            data = permute_for_gguf(data, config.num_attention_heads, config.num_key_value_heads)
        tensors.append((gguf_tensor_name(hf_name), np.ascontiguousarray(data)))

    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_type(gguf.GGUFType.MODEL)
    writer.add_name(name)
    n_params = sum(t.size for n, t in tensors if n != "rope_freqs.weight")
    writer.add_size_label(gguf.size_label(n_params, 0, 0, 0))
    writer.add_block_count(config.num_hidden_layers)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_rope_freq_base(config.rope_parameters["rope_theta"])
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    if "head_dim" in config.to_dict():
        writer.add_key_length(config.head_dim)
        writer.add_value_length(config.head_dim)
    writer.add_file_type(GGUF_FILE_TYPES[variant])
    if arch == "llama":
        writer.add_vocab_size(config.vocab_size)
        writer.add_rope_dimension_count(config.head_dim)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    tokens, types, merges = fixture_vocabulary()
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-2")
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


# ---------------------------------------------------------------------------------------------------------------
# Goldens
# ---------------------------------------------------------------------------------------------------------------

@torch.no_grad()
def logits_of(model, input_ids: torch.Tensor, **kwargs) -> torch.Tensor:
    """(B, T, V) float32 logits of one forward pass."""
    return model(input_ids=input_ids, **kwargs).logits.to(torch.float32)


def next_token_logprobs(logits: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
    """(B, T-1): log_softmax(logits)[b, t, input_ids[b, t+1]]."""
    logp = torch.log_softmax(logits[:, :-1].to(torch.float64), dim=-1)
    return logp.gather(-1, input_ids[:, 1:, None])[..., 0].to(torch.float32)


def load_hf(directory: Path):
    return AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32, attn_implementation="eager").eval()


def load_gguf(model_dir: Path, filename: str, config=None):
    kwargs = {} if config is None else {"config": config}
    return AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=filename, dtype=torch.float32,
                                                attn_implementation="eager", **kwargs).eval()


@torch.no_grad()
def residual_stream(model, input_ids: torch.Tensor) -> torch.Tensor:
    """(n_layers + 2, B, T, C): embeddings, output of each decoder layer, output of the final norm.

    Captured with forward hooks (transformers' own output_hidden_states replaces the last layer's output by the
    normed one, which hides the last layer).
    """
    captured: list[torch.Tensor] = []

    def keep(_module, _inputs, output):
        captured.append((output[0] if isinstance(output, tuple) else output).detach().clone())

    modules = [model.model.embed_tokens, *model.model.layers, model.model.norm]
    handles = [m.register_forward_hook(keep) for m in modules]
    try:
        model(input_ids=input_ids)
    finally:
        for handle in handles:
            handle.remove()
    assert len(captured) == len(modules)
    return torch.stack(captured).to(torch.float32)


def packed_golden(model, input_ids: torch.Tensor) -> dict[str, np.ndarray]:
    """Row 0 of input_ids packed as two documents: segments [0,0,0,1,1,1,1], positions [0,1,2,0,1,2,3].

    Produced with an explicit additive 4-D mask (1, 1, 7, 7): 0 where key j <= query i and both are in the same
    segment, float32 min elsewhere (transformers passes a 4-D mask through unchanged), plus position_ids.
    Checked here: each segment's logits equal a separate forward pass of that segment alone (<= 1e-5).
    """
    ids = input_ids[:1]
    segments = torch.tensor([0, 0, 0, 1, 1, 1, 1])
    positions = torch.tensor([[0, 1, 2, 0, 1, 2, 3]])
    t = ids.shape[1]
    allowed = (segments[:, None] == segments[None, :]) & torch.ones(t, t, dtype=torch.bool).tril()
    mask = torch.zeros(1, 1, t, t, dtype=torch.float32).masked_fill(~allowed, torch.finfo(torch.float32).min)
    packed = logits_of(model, ids, attention_mask=mask, position_ids=positions)
    separate = torch.cat([logits_of(model, ids[:, :3]), logits_of(model, ids[:, 3:])], dim=1)
    diff = max_abs_diff(packed, separate)
    log(f"    packed vs separate segments: max abs diff {diff:.3e}")
    assert diff <= 1e-5, diff
    return {
        "segments": segments.to(torch.int64).numpy(),
        "position_ids.packed": positions.to(torch.int64).numpy(),
        "logits.packed": packed.numpy(),
    }


def check_gguf_rope_layout(model) -> float:
    """Shows what the Q/K permutation means for RoPE, on layer 0's Q of a llama model.

    HF applies rotate-half RoPE (pairs (i, i + d/2)) to W_hf·x; llama.cpp applies interleaved RoPE (pairs
    (2i, 2i+1), LLAMA_ROPE_TYPE_NORM) to W_gguf·x. Both give the same vector up to the row permutation.
    Returns the max abs difference after un-permuting (should be ~1e-7).
    """
    cfg = model.config
    d, n_head = cfg.head_dim, cfg.num_attention_heads
    w_hf = model.model.layers[0].self_attn.q_proj.weight.detach().numpy().astype(np.float64)
    w_gguf = permute_for_gguf(w_hf, n_head, n_head)
    x = np.random.default_rng(0).standard_normal(cfg.hidden_size)
    pos = 5
    theta = pos * cfg.rope_parameters["rope_theta"] ** (-np.arange(0, d, 2) / d)  # (d/2,)
    cos, sin = np.cos(theta), np.sin(theta)
    q_hf = (w_hf @ x).reshape(n_head, d)
    a, b = q_hf[:, : d // 2], q_hf[:, d // 2:]
    rot_hf = np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=1)
    q_gg = (w_gguf @ x).reshape(n_head, d // 2, 2)
    e, o = q_gg[..., 0], q_gg[..., 1]
    rot_gg = np.stack([e * cos - o * sin, o * cos + e * sin], axis=-1).reshape(n_head, d)
    # un-permute GGUF rows: hf[h*d + j*d/2 + i] = gguf[h*d + 2i + j]
    unperm = rot_gg.reshape(n_head, d // 2, 2).swapaxes(1, 2).reshape(n_head, d)
    return max_abs_diff(unperm, rot_hf)


def tiny_model_goldens(root: Path, name: str, seed: int, input_ids: torch.Tensor) -> dict:
    """Writes FIXTURES/<name>/ and returns a summary {variant: max abs diff vs hf, ...} for the report."""
    out = root / name
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    model = build_model(name, seed)
    is_llama3 = name == "tiny-llama3"
    log(f"== {name} (seed {seed})")

    model.save_pretrained(out / "hf", safe_serialization=True)
    write_json(out / "config.v4.json", config_v4_layout(out / "hf" / "config.json"))
    if name == "tiny-llama":
        copy.deepcopy(model).to(torch.bfloat16).save_pretrained(out / "hf-bf16", safe_serialization=True)
        model.save_pretrained(out / "hf-sharded", safe_serialization=True, max_shard_size="100KB")

    layouts = {}
    for variant in GGUF_VARIANTS[name]:
        layouts[variant] = write_gguf(out / f"{name}-{variant}.gguf", name, model, variant)

    tensors: dict[str, np.ndarray] = {"input_ids": input_ids.numpy()}
    metadata: dict[str, str] = {"model": name, "seed": str(seed)}
    reference = None
    diffs = {}
    hf_dirs = ["hf"] + (["hf-bf16", "hf-sharded"] if name == "tiny-llama" else [])
    for variant in hf_dirs:
        loaded = load_hf(out / variant)
        logits = logits_of(loaded, input_ids)
        if variant == "hf":
            reference = logits
            assert max_abs_diff(logits, logits_of(model, input_ids)) == 0.0
            tensors["hidden_states.hf"] = residual_stream(loaded, input_ids).numpy()
        tensors[f"logits.{variant}"] = logits.numpy()
        tensors[f"logprobs.{variant}"] = next_token_logprobs(logits, input_ids).numpy()
        metadata[f"logits.{variant}"] = f"transformers from_pretrained('{variant}/', dtype=float32, eager)"
        diffs[variant] = max_abs_diff(logits, reference)

    hf_config = AutoConfig.from_pretrained(out / "hf") if is_llama3 else None
    for variant in GGUF_VARIANTS[name]:
        filename = f"{name}-{variant}.gguf"
        loaded = load_gguf(out, filename, config=hf_config)
        logits = logits_of(loaded, input_ids)
        key = f"gguf-{variant}"
        tensors[f"logits.{key}"] = logits.numpy()
        tensors[f"logprobs.{key}"] = next_token_logprobs(logits, input_ids).numpy()
        how = f"transformers from_pretrained(gguf_file='{filename}', dtype=float32, eager)"
        metadata[f"logits.{key}"] = how + (" with config=hf/config.json (llama3 RoPE)" if is_llama3 else "")
        diffs[key] = max_abs_diff(logits, reference)
        if variant == "F32":
            assert diffs[key] <= 1e-5, f"{name}: GGUF F32 logits differ from HF by {diffs[key]}"
            if is_llama3:  # what transformers' GGUF loader alone gives: no llama3 scaling at all
                naive = logits_of(load_gguf(out, filename), input_ids)
                diffs["gguf-F32 loaded WITHOUT hf config (rope scaling lost)"] = max_abs_diff(naive, reference)

    if is_llama3:
        inv_freq = model.model.rotary_emb.inv_freq.detach().to(torch.float32)
        factors = llama3_rope_freq_factors(model.config)
        base = 1.0 / (10000.0 ** (torch.arange(0, 16, 2, dtype=torch.float32) / 16))
        ratio_err = max_abs_diff((base / inv_freq).numpy(), factors)
        log(f"    rope_freqs vs HF inv_freq ratio: max abs diff {ratio_err:.3e}; factors {np.round(factors, 5)}")
        assert ratio_err <= 1e-4, ratio_err
        tensors["rope.inv_freq"] = inv_freq.numpy()
        tensors["rope.freq_factors"] = factors
    if name == "tiny-llama":
        tensors.update(packed_golden(model, input_ids))
        metadata["logits.packed"] = "row 0, segments [0,0,0,1,1,1,1], position_ids [0,1,2,0,1,2,3], 4-D mask"
        layout_err = check_gguf_rope_layout(model)
        log(f"    interleaved RoPE on permuted rows == rotate-half RoPE on HF rows: max abs diff {layout_err:.3e}")
        assert layout_err <= 1e-9

    save_safetensors(out / "golden.safetensors", tensors, metadata)
    for key, diff in diffs.items():
        log(f"    {key:<55} max |logits - logits.hf| = {diff:.3e}")
    return {"diffs": diffs, "layouts": layouts}


# ---------------------------------------------------------------------------------------------------------------
# SmolLM2-135M-Instruct (real weights, Q4_1 GGUF dequantised by transformers)
# ---------------------------------------------------------------------------------------------------------------

SMOLLM2_TEXT = ("Our refund policy is simple. If you are not satisfied with your purchase, you may return it "
                "within 30 days of delivery for a full refund. Items must be unused and in their original "
                "packaging.")


@torch.no_grad()
def smollm2_goldens(root: Path) -> None:
    """FIXTURES/smollm2/golden.safetensors and generation.json.

    golden.safetensors: input_ids (I64, (1, T)) = tokenizer(SMOLLM2_TEXT, add_special_tokens=False);
      logprobs (F32, (1, T-1)) per next token; top5.ids (I64, (5,)) and top5.logprobs (F32, (5,)) of the
      last position (sorted, best first).
    generation.json: the chat-templated prompt for "What is the capital of France?" (apply_chat_template,
      add_generation_prompt=True, the template stored in the GGUF), its ids (encoded without adding special
      tokens), and the greedy continuation (generate, do_sample=False, max_new_tokens=20) as ids and text.
    """
    out = root / "smollm2"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    source = smollm2_path()
    if not source.exists():
        log(f"!! {source} is missing (Scripts/fetch-model.sh fetches it): SmolLM2 goldens skipped")
        return
    log("== smollm2")
    folder, filename = source.parent, source.name
    sha256 = hashlib.sha256(source.read_bytes()).hexdigest()
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=filename)
    model = load_gguf(folder, filename)
    ids = torch.tensor([tokenizer(SMOLLM2_TEXT, add_special_tokens=False)["input_ids"]], dtype=torch.int64)
    logits = logits_of(model, ids)
    logprobs = next_token_logprobs(logits, ids)
    last = torch.log_softmax(logits[0, -1].to(torch.float64), dim=-1)
    top = torch.topk(last, 5)
    log(f"    text: {ids.shape[1]} tokens, mean next-token logprob {logprobs.mean().item():.4f}")
    log(f"    top-5 after the text: {[tokenizer.decode([i]) for i in top.indices.tolist()]}")
    save_safetensors(out / "golden.safetensors", {
        "input_ids": ids.numpy(),
        "logprobs": logprobs.numpy(),
        "top5.ids": top.indices.to(torch.int64).numpy(),
        "top5.logprobs": top.values.to(torch.float32).numpy(),
    }, metadata={
        "text": SMOLLM2_TEXT,
        "model_sha256": sha256,
        "source": f"{filename} via transformers from_pretrained(gguf_file=..., dtype=float32, eager)",
    })

    messages = [{"role": "user", "content": "What is the capital of France?"}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    generated = model.generate(torch.tensor([prompt_ids]), attention_mask=torch.ones(1, len(prompt_ids),
                               dtype=torch.int64), max_new_tokens=20, do_sample=False)
    new_ids = generated[0, len(prompt_ids):].tolist()
    text = tokenizer.decode(new_ids, skip_special_tokens=False)
    log(f"    greedy: {text!r}")
    write_json(out / "generation.json", {
        "model": filename,
        "model_sha256": sha256,
        "messages": messages,
        "prompt": prompt,
        "prompt_ids": prompt_ids,
        "max_new_tokens": 20,
        "greedy_ids": new_ids,
        "greedy_text": text,
        "eos_token_id": tokenizer.eos_token_id,
        "how": "apply_chat_template(add_generation_prompt=True, tokenize=False); tokenizer(prompt, "
               "add_special_tokens=False); model.generate(do_sample=False, max_new_tokens=20); stops early at EOS",
    })


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else fixtures_dir("LatheModelsTests")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    input_ids = torch.randint(0, VOCAB, (2, 7), generator=torch.Generator().manual_seed(1234), dtype=torch.int64)
    log(f"input_ids = {input_ids.tolist()}")
    summary = {}
    for seed, name in enumerate(("tiny-llama", "tiny-llama3", "tiny-qwen2"), start=1):
        summary[name] = tiny_model_goldens(root, name, seed, input_ids)
    for variant, layout in summary["tiny-llama"]["layouts"].items():
        if variant in ("F32", "Q4_0"):
            log(f"tiny-llama {variant} tensors: " + ", ".join(f"{n}:{t}{list(s)}" for n, t, s in layout))
    smollm2_goldens(root)
    write_versions(root / "versions.json")


if __name__ == "__main__":
    main()
