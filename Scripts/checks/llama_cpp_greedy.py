"""Does llama.cpp (through `llama-cpp-python`) load Lathe's GGUF exports and generate what Lathe generates?

Usage (from the repository root, after a quickstart run):
    $PYTHON Scripts/checks/llama_cpp_greedy.py --lathe .build/release/lathe \
        --model Checkpoints/quickstart/stages/export-*/merged.gguf
    $PYTHON Scripts/checks/llama_cpp_greedy.py --lathe .build/release/lathe \
        --model Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf --lora Checkpoints/quickstart/stages/export-*/adapter.gguf \
        --lathe-adapter Checkpoints/quickstart/stages/export-*/peft

PYTHON must hold llama-cpp-python (`pip install llama-cpp-python`; it builds llama.cpp from source). The prompt is
chat-formatted by Lathe (`lathe generate --chat --json`; one plain prompt is not); both sides then greedy-decode
the same prompt ids, continuing past end-of-sequence, and the first N generated ids (default 16) must be equal.
Exit status 0 when they are, 1 when not. Nothing is downloaded.
"""

import argparse
import json
import subprocess
import sys

from llama_cpp import Llama

# (prompt, chat-formatted?) — the plain one continues well past 16 tokens.
PROMPTS = [
    ("Which VPN do I use to work remotely?", True),
    ("What is the capital of France?", True),
    ("Who do I call when the office alarm goes off at night?", True),
    ("Write a long story about a lighthouse keeper.", True),
    ("Once upon a time, in a small village by the sea, there lived", False),
]


def lathe_greedy(lathe: str, model: str, adapter: str | None, prompt: str, chat: bool, tokens: int) -> dict:
    command = [lathe, "generate", "--model", model, "--prompt", prompt, "--temperature", "0",
               "--max-tokens", str(tokens), "--json", "--ignore-eos"] + (["--chat"] if chat else [])
    if adapter:
        command += ["--adapter", adapter]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def llama_cpp_greedy(llm: Llama, prompt_ids: list[int], tokens: int) -> list[int]:
    llm.reset()
    out = []
    for token in llm.generate(prompt_ids, top_k=1, top_p=1.0, temp=0.0, repeat_penalty=1.0, reset=True):
        if len(out) == tokens:
            break
        out.append(token)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lathe", required=True, help="the lathe binary")
    parser.add_argument("--model", required=True, help="a GGUF model (e.g. Lathe's merged.gguf)")
    parser.add_argument("--lora", help="a GGUF LoRA adapter for llama.cpp (Lathe's adapter.gguf)")
    parser.add_argument("--lathe-adapter", help="the same adapter as a PEFT directory, for Lathe's side")
    parser.add_argument("--tokens", type=int, default=16)
    args = parser.parse_args()

    llm = Llama(model_path=args.model, lora_path=args.lora, n_ctx=512, n_threads=2, seed=0, verbose=False)
    failures = 0
    for prompt, chat in PROMPTS:
        ours = lathe_greedy(args.lathe, args.model, args.lathe_adapter, prompt, chat, args.tokens)
        theirs = llama_cpp_greedy(llm, ours["prompt_ids"], args.tokens)
        same = ours["ids"] == theirs
        failures += not same
        print(f"{'same' if same else 'DIFFERENT'}  {prompt!r}")
        print(f"  lathe     {ours['ids']}  {ours['text']!r}")
        print(f"  llama.cpp {theirs}  {llm.detokenize(theirs).decode('utf-8', 'replace')!r}")
    print(f"{len(PROMPTS) - failures}/{len(PROMPTS)} prompts: the first {args.tokens} greedy tokens are identical")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
