#!/usr/bin/env python3
"""One-off interoperability check for Lathe's tokenizer export (not a golden generator, writes nothing).

    python Scripts/checks/tokenizer_export_check.py DIR MODEL.gguf

DIR holds the tokenizer.json + tokenizer_config.json Lathe wrote (Tokenizer.writeHuggingFace) for the tokenizer
it built from MODEL.gguf. Loads DIR with transformers `AutoTokenizer.from_pretrained(DIR)` and the GGUF with
`AutoTokenizer.from_pretrained(folder, gguf_file=name)`, encodes ~50 varied texts both ways (plain, with special
tokens added, and with special tokens split), decodes, compares the special tokens and the chat template rendering,
prints a summary and exits 1 on any mismatch.
"""
import os
import sys

from transformers import AutoTokenizer  # noqa: E402

TEXTS = [
    "Hello world",
    "Hello, world! How are you today?",
    "The quick brown fox jumps over the lazy dog.",
    "  leading spaces and trailing   ",
    "tabs\tand\nnewlines\r\nand\n\n\nblank lines",
    "",
    " ",
    "I'm sure they'll say it's what we've done; you'd agree, wouldn't you?",
    "SHOUTING CONTRACTIONS: IT'S, WE'LL, THEY'RE",
    "1234567890",
    "Numbers: 3.14159, 2,718, -42, 1e-9, 0x1F, 007",
    "Dates 2024-05-17 and times 13:45:09",
    "Phone +1 (555) 123-4567 and ISBN 978-3-16-148410-0",
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }",
    "console.log(`value: ${x?.y ?? 'none'}`);",
    "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name;",
    "<div class=\"box\"><p>Some &amp; HTML</p></div>",
    '{"key": [1, 2, {"nested": null}], "ok": true}',
    "https://example.com/path?query=1&other=two#frag",
    "email: someone.name+tag@example.co.uk",
    "naïve café résumé coöperate façade",
    "Ünïcödé façades — “quotes” ‘single’ … ellipsis",
    "Straße, Œuvre, Ærø, Ångström",
    "Москва — столица России.",
    "Ελληνικά: ΟΔΟΣ οδός",
    "日本語のテキストです。東京タワー",
    "中文文本：你好，世界！",
    "한국어 텍스트입니다",
    "العربية: مرحبا بالعالم",
    "עברית: שלום עולם",
    "हिन्दी में पाठ",
    "ภาษาไทย สวัสดี",
    "Emoji 😀😃😄 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️",
    "Math: ∑_{i=1}^{n} x_i² ≤ ∞, α + β = γ, √2 ≈ 1.414",
    "Combining: e\u0301 a\u0308 n\u0303 and zero\u200bwidth\u200djoiner",
    "Control-ish: \u00a0nbsp\u2028line\u2029para\u000bvt\u0085nel",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n",
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM<|im_end|>",
    "<|endoftext|>Next document starts here.",
    "text<|im_end|>glued<|im_start|>together",
    "<repo_name>lathe<file_sep>main.swift<filename>x.py",
    "Not quite special: <|im_start, im_end|>, <|unknown|>",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "!!!???...,,,;;;:::---___===+++***&&&%%%$$$###@@@",
    "    indented code\n        more indented\n\ttabbed",
    "Mixed 中文 and English and 日本語 123 😀 done.",
    "The hospital's records were exported at 09:30 on 2023-11-02.",
    "Q: What's the capital of France?\nA: Paris.\n\nQ: And of Italy?\nA: Rome.",
    "ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ　１２３",
    "ﬁligature ﬂow ﬀ and ℌ𝔢𝔩𝔩𝔬 𝕎𝕠𝕣𝕝𝕕",
]

MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say hi in French. 😀"},
    {"role": "assistant", "content": "Salut !"},
    {"role": "user", "content": "And in Japanese?"},
]


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    directory, gguf = sys.argv[1], sys.argv[2]
    exported = AutoTokenizer.from_pretrained(directory)
    reference = AutoTokenizer.from_pretrained(os.path.dirname(os.path.abspath(gguf)), gguf_file=os.path.basename(gguf))
    print(f"exported:  {type(exported).__name__}, {len(exported)} tokens, from {directory}")
    print(f"reference: {type(reference).__name__}, {len(reference)} tokens, from {gguf}")

    failures = []

    def same(label, a, b):
        if a != b:
            failures.append((label, a, b))

    for name in ["bos_token", "eos_token", "unk_token", "pad_token"]:
        same(name, getattr(exported, name), getattr(reference, name))
    same("len", len(exported), len(reference))
    same("vocab", exported.get_vocab(), reference.get_vocab())
    same("all_special_ids", sorted(exported.all_special_ids), sorted(reference.all_special_ids))

    compared = 0
    for text in TEXTS:
        for kwargs in [{"add_special_tokens": False}, {"add_special_tokens": True},
                       {"add_special_tokens": False, "split_special_tokens": True}]:
            a = exported(text, **kwargs)["input_ids"]
            b = reference(text, **kwargs)["input_ids"]
            same(f"ids {kwargs} {text!r}", a, b)
            compared += 1
        ids = reference(text, add_special_tokens=False)["input_ids"]
        for skip in [False, True]:
            same(f"decode skip={skip} {text!r}", exported.decode(ids, skip_special_tokens=skip),
                 reference.decode(ids, skip_special_tokens=skip))

    if reference.chat_template is not None:
        same("chat_template", exported.chat_template, reference.chat_template)
        for prompt in [False, True]:
            a = exported.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=prompt)
            b = reference.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=prompt)
            same(f"chat template render add_generation_prompt={prompt}", a, b)
            same(f"chat template ids add_generation_prompt={prompt}", exported(a, add_special_tokens=False)["input_ids"],
                 reference(b, add_special_tokens=False)["input_ids"])

    print(f"{len(TEXTS)} texts, {compared} encodings, {2 * len(TEXTS)} decodes compared")
    if failures:
        print(f"MISMATCH: {len(failures)}")
        for label, a, b in failures[:20]:
            print(f"  {label}\n    exported:  {str(a)[:300]}\n    reference: {str(b)[:300]}")
        return 1
    print("OK: the exported tokenizer matches transformers' GGUF tokenizer on every text")
    return 0


if __name__ == "__main__":
    sys.exit(main())
