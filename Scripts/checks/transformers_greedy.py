"""Does transformers load Lathe's merged HF export (weights, config.json, tokenizer.json, chat template) and generate
what Lathe generates?

Usage (from the repository root):
    $PYTHON Scripts/checks/transformers_greedy.py --lathe .build/release/lathe \
        --merged Checkpoints/quickstart/stages/export-*/merged

PYTHON must hold torch and transformers (../shared/tools/reference-venv.sh). Each prompt is chat-formatted by
transformers from the exported tokenizer_config.json and by Lathe from its own template; the prompt ids and the first
N greedy ids (default 16, both continuing past end-of-sequence) must be equal. Exit status 0 when they are, 1 when not. Nothing is downloaded.
"""

import argparse
import json
import subprocess
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

PROMPTS = [
    "Which VPN do I use to work remotely?",
    "What is the capital of France?",
    "Write a long story about a lighthouse keeper.",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lathe", required=True, help="the lathe binary")
    parser.add_argument("--merged", required=True, help="Lathe's merged HF directory")
    parser.add_argument("--tokens", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(2)
    tokenizer = AutoTokenizer.from_pretrained(args.merged)
    model = AutoModelForCausalLM.from_pretrained(args.merged, dtype=torch.float32).eval()
    model.generation_config.eos_token_id = None  # continue past end-of-sequence, as `lathe generate --ignore-eos`
    model.generation_config.pad_token_id = tokenizer.eos_token_id
    failures = 0
    for prompt in PROMPTS:
        ours = json.loads(subprocess.run(
            [args.lathe, "generate", "--model", args.merged, "--chat", "--prompt", prompt, "--temperature", "0",
             "--max-tokens", str(args.tokens), "--json", "--ignore-eos"], check=True, capture_output=True, text=True).stdout)
        text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                             tokenize=False)
        prompt_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            out = model.generate(torch.tensor([prompt_ids]), attention_mask=torch.ones(1, len(prompt_ids), dtype=torch.int64),
                                 max_new_tokens=args.tokens, do_sample=False)
        theirs = out[0, len(prompt_ids):].tolist()
        same = ours["prompt_ids"] == prompt_ids and ours["ids"] == theirs
        failures += not same
        print(f"{'same' if same else 'DIFFERENT'}  {prompt!r}  prompt ids {'equal' if ours['prompt_ids'] == prompt_ids else 'differ'}")
        print(f"  lathe        {ours['ids']}  {ours['text']!r}")
        print(f"  transformers {theirs}  {tokenizer.decode(theirs)!r}")
    print(f"{len(PROMPTS) - failures}/{len(PROMPTS)} prompts: same prompt ids and first {args.tokens} greedy tokens")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
