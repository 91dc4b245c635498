"""Golden files for model loading and the forward pass (issue 3 item 7; issue 14 item 8).

Run:  $PYTHON Scripts/goldens/models.py [FIXTURES_DIR [SMOLLM2_GGUF [MODEL ...]]]
      (default FIXTURES_DIR: Tests/LatheModelsTests/Fixtures; default (or "-") SMOLLM2_GGUF: see `smollm2_path`;
      MODEL: names from architectures.ARCHS to regenerate only those, default all; SmolLM2 with tiny-llama).
      No network access is needed.

The tiny models (architectures.ARCHS: configs, seeds, GGUF variants, why a GGUF is loaded with the HF config):
  tiny-llama, tiny-llama3 (tied, llama3 RoPE), tiny-qwen2 (q/k/v biases)                      issue 3
  tiny-qwen3 (q/k norm, head_dim 32 != 64/4, tied), tiny-llama32 (tied, Llama 3.2 RoPE constants),
  tiny-mistral-sw (sliding window 4), tiny-gemma3 (6 layers: 5 sliding (window 4) + 1 global, (1 + w) norms,
  GeGLU, scaled embeddings, final logit softcap 10), tiny-phi3 (fused qkv / gate_up, LongRoPE, partial rotary 0.75)
                                                                                                issue 14
What it writes, per tiny model under FIXTURES_DIR/<model>/:
  hf/                 config.json + model.safetensors (F32), `save_pretrained(safe_serialization=True)`
  hf-bf16/            same with every tensor BF16 (`model.to(bfloat16).save_pretrained`)      tiny-llama only
  hf-sharded/         F32 in shards + model.safetensors.index.json (`max_shard_size="100KB"`) tiny-llama only
  config.v4.json      the same config in the transformers-4 layout (`rope_theta` + `rope_scaling` at top level;
                      Gemma 3 `rope_local_base_freq`; Phi-3 LongRoPE `original_max_position_embeddings` and
                      `partial_rotary_factor` at top level) that most checkpoints on the Hub still carry;
                      transformers 5 writes `rope_parameters` (see architectures.config_v4_layout).
  <model>-<TYPE>.gguf TYPE in F32, F16, Q8_0, Q4_0 for tiny-llama; F32, Q4_0 for tiny-llama3 (tied, so its
                      token_embd is Q8_0 in Q4_0, as in SmolLM2's file); F32, Q8_0 for tiny-qwen2 and tiny-phi3;
                      F32 for the others (size budget: the block formats are covered by tiny-llama).
                      Written with gguf.GGUFWriter the way llama.cpp's convert_hf_to_gguf.py + llama-quantize lay
                      them out; see gguf_convert.py for every key and tensor.
  golden.safetensors  input_ids (I64, (2, T)), T = 7 (T = 12 for tiny-mistral-sw, tiny-gemma3, tiny-phi3: beyond
                      the 4-token window and the LongRoPE original context 8); for every variant V:
                      logits.V (F32, (2, T, 320)) and logprobs.V (F32, (2, T-1)) = log_softmax(logits.V)[b, t,
                      input_ids[b, t + 1]]. Variants: hf, hf-bf16, hf-sharded (tiny-llama), gguf-<TYPE> per GGUF.
                      Also hidden_states.hf (F32, (n_layers + 2, 2, T, hidden)): the embedding output (Gemma: already
                      times sqrt(hidden)), the residual stream after each decoder layer, and the final norm's output
                      (see `residual_stream`).
                      issue-14 models also: greedy.prompt (I64, (1, 4)) = input_ids[:1, :4] and greedy.V (I64, (1, 8))
                      for V = hf and each gguf-<TYPE> (see `greedy_ids`); tiny-phi3 also short.logits.V
                      (F32, (2, 8, 320)) over input_ids[:, :8] (LongRoPE short factors; the 12-token logits use the
                      long factors).
                      tiny-llama3 also: rope.inv_freq (HF's scaled inverse frequencies, (8,)) and
                      rope.freq_factors (the rope_freqs.weight tensor written to the GGUFs, (8,)).
                      tiny-llama also: the packed case (see `packed_golden`): segments, position_ids.packed,
                      logits.packed.
Every logits.V is computed by transformers from THAT file: HF dirs via
`AutoModelForCausalLM.from_pretrained(dir, dtype=float32, attn_implementation="eager")`; GGUFs via
`from_pretrained(model_dir, gguf_file=name, dtype=float32, attn_implementation="eager")`, which dequantises, so the
quantised goldens are the reference for the dequantised weights. Exceptions (Arch.gguf_hf_config): the GGUFs of
tiny-llama3, tiny-llama32, tiny-gemma3 and tiny-phi3 are loaded with `config=<hf/config.json>` passed in (weights
from the GGUF, the hyper-parameters transformers' GGUF loader does not map from the HF config; the reason is in
each golden's metadata). tiny-mistral-sw's GGUF has no window (convert writes Mistral as llama without one), so
its gguf-F32 logits equal hf only before position 4 (`check_windowless_gguf`): that is what llama.cpp runs.

Plus FIXTURES_DIR/smollm2/ (from SmolLM2-135M-Instruct.Q4_1.gguf, see `smollm2_goldens`)
and FIXTURES_DIR/versions.json.
"""

from __future__ import annotations

import copy
import hashlib
import shutil
import sys
from pathlib import Path

# This folder holds tokenizers.py, which would shadow the `tokenizers` package that transformers imports:
# import the libraries first, then this folder's modules from the end of the path.
HERE = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import numpy as np  # noqa: E402
import torch  # noqa: E402
import tokenizers  # noqa: E402, F401  (the package, before this folder joins the path)
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer  # noqa: E402

sys.path.append(str(HERE))
from architectures import ARCHS, SLIDING_WINDOW, VOCAB, Arch, build_model, config_v4_layout  # noqa: E402
from common import REPO_ROOT, fixtures_dir, log, max_abs_diff, save_safetensors, write_json, write_versions  # noqa: E402
from gguf_convert import llama3_rope_freq_factors, permute_for_gguf, write_gguf  # noqa: E402

SMOLLM2_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_path() -> Path:
    """argv[2] if given (and not "-"), else Checkpoints/base/ of this checkout (Scripts/fetch-model.sh)."""
    if len(sys.argv) > 2 and sys.argv[2] != "-":
        return Path(sys.argv[2])
    local = REPO_ROOT / "Checkpoints" / "base" / SMOLLM2_NAME
    return local

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


GREEDY_PROMPT, GREEDY_NEW = 4, 8


@torch.no_grad()
def greedy_ids(model, prompt: torch.Tensor) -> torch.Tensor:
    """(1, GREEDY_NEW) ids from `generate(do_sample=False)` with the KV cache, never stopping at EOS.

    Checked here against a loop of full forward passes taking the argmax of the last position (no cache), so the
    cached path (sliding-window caches, Phi-3's LongRoPE switch) agrees with the plain forward pass.
    """
    out = model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=GREEDY_NEW,
                         min_new_tokens=GREEDY_NEW, do_sample=False, eos_token_id=None, pad_token_id=0)
    new = out[:, prompt.shape[1]:]
    ids = prompt
    for _ in range(GREEDY_NEW):
        ids = torch.cat([ids, logits_of(model, ids)[:, -1].argmax(-1, keepdim=True)], dim=1)
    assert torch.equal(ids[:, prompt.shape[1]:], new), (ids.tolist(), out.tolist())
    return new.to(torch.int64)


def golden_inputs(seq_len: int) -> torch.Tensor:
    """(2, seq_len) ids uniform over the vocabulary, from torch.Generator seed 1234 (seq_len 7 for the first three
    models, 12 for those whose sliding window or LongRoPE switch needs more positions)."""
    return torch.randint(0, VOCAB, (2, seq_len), generator=torch.Generator().manual_seed(1234), dtype=torch.int64)


def tiny_model_goldens(root: Path, arch: Arch) -> dict:
    """Writes FIXTURES/<name>/ and returns a summary {variant: max abs diff vs hf, ...} for the report."""
    name = arch.name
    input_ids = golden_inputs(arch.seq_len)
    out = root / name
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    model = build_model(arch)
    log(f"== {name} (seed {arch.seed}), input_ids = {input_ids.tolist()}")

    model.save_pretrained(out / "hf", safe_serialization=True)
    write_json(out / "config.v4.json", config_v4_layout(out / "hf" / "config.json"))
    if name == "tiny-llama":
        copy.deepcopy(model).to(torch.bfloat16).save_pretrained(out / "hf-bf16", safe_serialization=True)
        model.save_pretrained(out / "hf-sharded", safe_serialization=True, max_shard_size="100KB")

    layouts = {}
    for variant in arch.gguf_variants:
        layouts[variant] = write_gguf(out / f"{name}-{variant}.gguf", arch, model, variant)

    tensors: dict[str, np.ndarray] = {"input_ids": input_ids.numpy()}
    metadata: dict[str, str] = {"model": name, "seed": str(arch.seed)}
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
            check_config_features(arch, loaded, input_ids, logits)
            if arch.issue14:
                tensors.update(issue14_goldens(arch, loaded, input_ids, "hf", metadata))
        tensors[f"logits.{variant}"] = logits.numpy()
        tensors[f"logprobs.{variant}"] = next_token_logprobs(logits, input_ids).numpy()
        metadata[f"logits.{variant}"] = f"transformers from_pretrained('{variant}/', dtype=float32, eager)"
        diffs[variant] = max_abs_diff(logits, reference)

    hf_config = AutoConfig.from_pretrained(out / "hf") if arch.gguf_hf_config else None
    for variant in arch.gguf_variants:
        filename = f"{name}-{variant}.gguf"
        loaded = load_gguf(out, filename, config=hf_config)
        logits = logits_of(loaded, input_ids)
        key = f"gguf-{variant}"
        tensors[f"logits.{key}"] = logits.numpy()
        tensors[f"logprobs.{key}"] = next_token_logprobs(logits, input_ids).numpy()
        how = f"transformers from_pretrained(gguf_file='{filename}', dtype=float32, eager)"
        metadata[f"logits.{key}"] = how + (f" with config=hf/config.json {arch.gguf_hf_config}" if hf_config else "")
        diffs[key] = max_abs_diff(logits, reference)
        if arch.issue14:
            tensors.update(issue14_goldens(arch, loaded, input_ids, key, metadata))
        if variant == "F32":
            if name == "tiny-mistral-sw":
                check_windowless_gguf(logits, reference)
            else:
                assert diffs[key] <= 1e-5, f"{name}: GGUF F32 logits differ from HF by {diffs[key]}"
            if hf_config is not None:  # what transformers' GGUF loader alone gives (for the report only)
                try:
                    naive = logits_of(load_gguf(out, filename), input_ids)
                    diffs["gguf-F32 loaded WITHOUT hf config"] = max_abs_diff(naive, reference)
                except RuntimeError as error:
                    log(f"    gguf-F32 WITHOUT hf config does not load: {str(error).splitlines()[0]}")

    if name == "tiny-llama3":
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


def issue14_goldens(arch: Arch, model, input_ids: torch.Tensor, variant: str, metadata: dict) -> dict:
    """greedy.<variant> (I64, (1, 8)) from greedy.prompt = input_ids[:1, :4] (see `greedy_ids`); tiny-phi3 also
    short.logits.<variant> (F32, (2, 8, 320)) over input_ids[:, :8]: no position beyond the original context 8, so
    transformers uses short_factor there and long_factor for the full 12-token input_ids."""
    prompt = input_ids[:1, :GREEDY_PROMPT]
    out = {"greedy.prompt": prompt.numpy(), f"greedy.{variant}": greedy_ids(model, prompt).numpy()}
    metadata[f"greedy.{variant}"] = ("generate(greedy.prompt, do_sample=False, max_new_tokens=min_new_tokens=8, "
                                     "eos_token_id=None), equal to argmax over full forward passes")
    log(f"    greedy.{variant}: {out[f'greedy.{variant}'].tolist()}")
    if arch.name == "tiny-phi3":
        short = input_ids[:, :8]
        out[f"short.logits.{variant}"] = logits_of(model, short).numpy()
        metadata[f"short.logits.{variant}"] = "logits of input_ids[:, :8] (LongRoPE short_factor)"
    return out


@torch.no_grad()
def check_config_features(arch: Arch, model, input_ids: torch.Tensor, reference: torch.Tensor) -> None:
    """The features a golden is meant to test change its logits (> 1e-2), so a model that skips one fails:
    tiny-gemma3 without its window (sliding_window 128) and without final_logit_softcapping; tiny-phi3 with the
    short factors over the first 8 positions (short.logits) instead of the long ones (the 12-token logits)."""
    if arch.name == "tiny-phi3":
        diff = max_abs_diff(logits_of(model, input_ids[:, :8]), reference[:, :8])
        log(f"    LongRoPE short vs long factors over positions 0-7: logits differ by {diff:.3e}")
        assert diff > 1e-2, diff
    if arch.name != "tiny-gemma3":
        return
    for key, value in (("sliding_window", 128), ("final_logit_softcapping", None)):
        changed = copy.deepcopy(model)
        setattr(changed.config, key, value)
        diff = max_abs_diff(logits_of(changed, input_ids), reference)
        log(f"    {key} = {value} instead changes the logits by {diff:.3e}")
        assert diff > 1e-2, (key, diff)


def check_windowless_gguf(gguf_logits: torch.Tensor, hf_logits: torch.Tensor) -> None:
    """tiny-mistral-sw: convert_hf_to_gguf writes Mistral as general.architecture llama with no window key, so
    llama.cpp and transformers' GGUF loader attend to every earlier token. Positions < SLIDING_WINDOW see the same
    keys either way (equal within 1e-5); later positions must differ, or the window would not be tested."""
    early = max_abs_diff(gguf_logits[:, :SLIDING_WINDOW], hf_logits[:, :SLIDING_WINDOW])
    late = max_abs_diff(gguf_logits[:, SLIDING_WINDOW:], hf_logits[:, SLIDING_WINDOW:])
    log(f"    windowless GGUF vs windowed HF: positions < {SLIDING_WINDOW}: {early:.3e}, later: {late:.3e}")
    assert early <= 1e-5 and late > 1e-2, (early, late)


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
    only = [n for n in sys.argv[3:]] or list(ARCHS)
    summary = {}
    for name in only:
        summary[name] = tiny_model_goldens(root, ARCHS[name])
    for variant, layout in summary.get("tiny-llama", {}).get("layouts", {}).items():
        if variant in ("F32", "Q4_0"):
            log(f"tiny-llama {variant} tensors: " + ", ".join(f"{n}:{t}{list(s)}" for n, t, s in layout))
    if "tiny-llama" in only:
        smollm2_goldens(root)
    write_versions(root / "versions.json")


if __name__ == "__main__":
    main()
