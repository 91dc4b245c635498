"""Shared helpers for the golden-file scripts in Scripts/goldens/.

Nothing here reads the network. Every helper is deterministic: the same inputs give byte-identical outputs.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The Lathe checkout this script lives in."""


def fixtures_dir(test_target: str) -> Path:
    """`Tests/<test_target>/Fixtures`, created if missing."""
    path = REPO_ROOT / "Tests" / test_target / "Fixtures"
    path.mkdir(parents=True, exist_ok=True)
    return path


def library_versions() -> dict[str, str]:
    """Versions of the Python packages that produced the goldens (those that are importable)."""
    versions = {"python": platform.python_version()}
    for name in ("torch", "transformers", "safetensors", "gguf", "numpy", "tokenizers", "peft"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        version = getattr(module, "__version__", None)
        if version is None:
            from importlib.metadata import version as dist_version

            version = dist_version(name)
        versions[name] = str(version)
    return versions


def write_versions(path: Path, extra: dict | None = None) -> None:
    """Write (or merge into) a `versions.json` recording the library versions used."""
    data: dict = {}
    if path.exists():
        data = json.loads(path.read_text())
    data.update(library_versions())
    if extra:
        data.update(extra)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_json(path: Path, data) -> None:
    """Pretty, key-sorted, newline-terminated JSON (stable diffs)."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def byte_to_unicode_table() -> dict[int, str]:
    """GPT-2's reversible byte -> printable unicode character table (byte-level BPE alphabet).

    Printable Latin-1 bytes map to themselves; the other bytes are shifted to code points 256 and above,
    in increasing byte order.
    """
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    table: dict[int, str] = {}
    shifted = 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + shifted)
            shifted += 1
    return table


def train_byte_bpe(text: str, merge_count: int) -> list[tuple[str, str]]:
    """A tiny, deterministic byte-level BPE trainer (for fixture vocabularies only).

    Words are split GPT-2 style (a leading space sticks to the word), mapped through the byte table, then the most
    frequent adjacent pair is merged `merge_count` times; ties are broken by the pair's text order.
    """
    import re

    table = byte_to_unicode_table()
    words: dict[tuple[str, ...], int] = {}
    for piece in re.findall(r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+", text):
        symbols = tuple(table[b] for b in piece.encode("utf-8"))
        words[symbols] = words.get(symbols, 0) + 1
    merges: list[tuple[str, str]] = []
    for _ in range(merge_count):
        counts: dict[tuple[str, str], int] = {}
        for symbols, freq in words.items():
            for pair in zip(symbols, symbols[1:]):
                counts[pair] = counts.get(pair, 0) + freq
        if not counts:
            break
        best = min(counts.items(), key=lambda item: (-item[1], item[0]))[0]
        merges.append(best)
        merged_words: dict[tuple[str, ...], int] = {}
        for symbols, freq in words.items():
            out: list[str] = []
            i = 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                    out.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            merged_words[tuple(out)] = merged_words.get(tuple(out), 0) + freq
        words = merged_words
    return merges


# numpy is imported where it is used, so the stdlib-only scripts (Scripts/datasets) can use the lm-eval helpers.
_SAFETENSORS_DTYPES = {"float32": "F32", "float16": "F16", "float64": "F64", "int64": "I64", "int32": "I32",
                       "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL"}


def save_safetensors(path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> None:
    """Write a safetensors file byte-for-byte reproducibly (the `safetensors` package orders header keys
    randomly). Header keys are sorted, tensors are laid out in name order, the header is space-padded to a
    multiple of 8 bytes; the result loads with `safetensors.safe_open` (checked after writing).
    """
    import numpy as np

    header: dict = {}
    if metadata:
        header["__metadata__"] = {k: str(metadata[k]) for k in sorted(metadata)}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        array = array.astype(array.dtype.newbyteorder("<"), copy=False)
        data = array.tobytes()
        header[name] = {"dtype": _SAFETENSORS_DTYPES[array.dtype.name], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":"), sort_keys=False, ensure_ascii=False).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as handle:
        handle.write(len(encoded).to_bytes(8, "little"))
        handle.write(encoded)
        for data in blobs:
            handle.write(data)
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as check:
        for name in tensors:
            assert np.array_equal(check.get_tensor(name), tensors[name]), name


def max_abs_diff(a, b) -> float:
    """max |a - b| as a Python float (inputs: numpy arrays or torch tensors)."""
    import numpy as np

    a = np.asarray(a.detach().cpu().numpy() if hasattr(a, "detach") else a, dtype=np.float64)
    b = np.asarray(b.detach().cpu().numpy() if hasattr(b, "detach") else b, dtype=np.float64)
    return float(np.max(np.abs(a - b)))


def log(message: str) -> None:
    """Progress line on stderr-free stdout (flushed, so it interleaves with library output)."""
    print(message, file=sys.stdout, flush=True)


def lm_eval_dataset(files: dict[str, str], task: str | None = None, test_split: str | None = "test") -> str:
    """The lines of an lm-eval task YAML that make it run offline on local JSONL (REFERENCE.md): `task` (when
    given), `dataset_path: json` with `data_files` (split → file, relative to where lm-eval runs) and `test_split`."""
    lines = ([f"task: {task}"] if task else []) + ["dataset_path: json", "dataset_kwargs:", "  data_files:"]
    lines += [f"    {split}: {file}" for split, file in files.items()]
    lines += [f"test_split: {test_split}"] if test_split else []
    return "\n".join(lines) + "\n"


LM_EVAL_ACCURACY_METRICS = """\
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
  - metric: acc_norm
    aggregation: mean
    higher_is_better: true
"""
"""The `metric_list` of a multiple-choice task: accuracy and length-normalised accuracy, means, higher is better."""


def run_lm_eval(hf_dir: Path, out: Path, tasks: list[str], include_path: Path, extra: list[str] = ()) -> None:
    """`lm_eval run --model hf` on the fp32 HF directory `hf_dir`, offline (HF_HUB_OFFLINE, HF_DATASETS_OFFLINE), on
    the CPU, batch 8, `--seed 1234`, logging samples to `out`; the tasks are read from `include_path`, which is also
    the working directory (their data files are relative to it). `extra`: further lm-eval arguments."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    command = [str(Path(sys.executable).parent / "lm_eval"), "run", "--model", "hf",
               "--model_args", f"pretrained={hf_dir},dtype=float32",
               "--tasks", ",".join(tasks), "--include_path", str(include_path),
               "--device", "cpu", "--batch_size", "8", "--log_samples", "--output_path", str(out),
               "--seed", "1234", *extra]
    subprocess.run(command, cwd=include_path, env=env, check=True)
