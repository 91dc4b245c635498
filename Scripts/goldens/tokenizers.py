"""Golden files for LatheTokenizers, written into Tests/LatheTokenizersTests/Fixtures/.

Run: $PYTHON Scripts/goldens/tokenizers.py [path/to/SmolLM2-135M-Instruct.Q4_1.gguf]

Writes, one folder per tokenizer under Fixtures/tokenizers/<name>/:
  tokenizer.json (+ tokenizer_config.json)     the tokenizer as Hugging Face saves it
  goldens.json                                  per text: ids (added special tokens matched, HF default),
                                                ids_split (special tokens encoded as plain text: HF
                                                `encode_special_tokens=True`, i.e. transformers'
                                                `split_special_tokens=True`), ids_with_special
                                                (add_special_tokens=True), and HF's decode of `ids`
                                                with and without skip_special_tokens.
and for GGUF vocabularies, Fixtures/gguf/<name>.json: the GGUF `tokenizer.*` metadata as JSON
({"key": {"type": gguf type name, "value": ...}}) so Swift tests can rebuild `[String: GGUFValue]`.
Also Fixtures/pretokenizers.json and Fixtures/normalizers.json: HF's pre_tokenize_str / normalize_str
for several component configurations over the same texts.
Deterministic: the training corpus is generated from fixed text, and BPE training is deterministic.
"""

import json
import os
import sys
from pathlib import Path
import tempfile

# This file is named like the `tokenizers` package; keep its own folder off the import path.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import gguf
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Tests", "LatheTokenizersTests", "Fixtures")
GGUF_PATH = sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parents[2] / "Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf")

TEXTS = [
    "",
    "Hello world",
    "Hello, world! How's it going? I'm fine, they'll say we'd've DONE IT'S",
    "  leading spaces and trailing   ",
    "tabs\tand\t\tmore tabs\t",
    "line one\r\nline two\r\n\r\nline four\n\n\n",
    "multiple     spaces      here\n   \n  x",
    "Привет, как дела? Москва — столица России.",
    "Καλημέρα κόσμε, τι κάνεις;",
    "مرحبا بالعالم، كيف حالك؟",
    "שלום עולם, מה שלומך?",
    "नमस्ते दुनिया, आप कैसे हैं?",
    "สวัสดีชาวโลก คุณเป็นอย่างไรบ้าง",
    "你好，世界！今天天气很好。東京タワーはどこですか？",
    "안녕하세요 세계, 잘 지내세요?",
    "emoji 👍🏽 family 👨‍👩‍👧‍👦 flag 🇫🇷 heart ❤️ done",
    "combining: e\u0301 a\u0308 n\u0303 — precomposed: é ä ñ; Å vs A\u030a",
    "ﬁ ligature, full-width ＡＢＣ１２３, ① ½ ² ℌ",
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "for (int i = 0; i < 10; ++i) { printf(\"%d\\n\", i); } // done",
    "{\"key\": [1, 2.5, -3e10], \"nested\": {\"a\": null}}",
    "1234567890 3.14159 1,000,000 2024-01-15 0x1F",
    "99999999999999999999999999999999",
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
    "text <|endoftext|> more <s> and </s> and <unk>",
    "<|im_end|><|im_end|>",
    "mixed CASE Words With UPPER and lower, ALLCAPS",
    "URL: https://example.com/path?q=1&r=2#frag email: a.b@c.org",
    "don't won't can't shouldn't Y'ALL'S 'quoted'",
    "...!!!???---___***",
    " ",
    "\n",
    "a",
    "The quick brown fox jumps over the lazy dog. " * 3,
    "naïve café résumé coöperate Zürich São Paulo",
    "ā ē ī ō ū ǎ ě ǐ ǒ ǔ Ṭhe ẞ ß",
    "   \t\n  \r\n",
    "end with newline\n",
    "Mixed: Hello мир 世界 🌍 123 ١٢٣ ५६७",
    "[tool] call [tool]call hello world Hello World <mask> end",
    "zero\u200bwidth\u200dspace\ufeffbom\u00a0nbsp",
    "CASE: ΟΔΟΣ ΣΑ İstanbul ǅ ẞ\u000bvt\u0085nel\u2028ls\u3000ideographic",
    "x'S 'Ll it'ſ I'VE ''s",
]

def random_texts(count=100, seed=1234):
    """Deterministic random strings over characters where tokenizers tend to differ."""
    import random
    rng = random.Random(seed)
    alphabet = list("aZe'sStTmMlLdDrReEvV 0123456789\t\n\r.,!?-_()[]{}<>|/\\\"") + [
        "\u0301", "\u00a0", "\u3000", "ſ", "²", "①", "Ⅻ", "👍", "🏽", "\u200d", "\u200b", "\ufeff", "\u000b",
        "\u0085", "ß", "İ", "Σ", "ж", "中", "한", "ا", "\u0915", "\u094d", "▁", "<|im_end|>", "<s>", "<mask>",
        "[tool]", "hello world", "##", "  ", "\r\n", "'ll", "word", "Word"]
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80))) for _ in range(count)]


CORPUS_LINES = [
    "The quick brown fox jumps over the lazy dog.",
    "It's a truth universally acknowledged that a single man in possession of a good fortune must be in want of a wife.",
    "We'll go to the market; they've said it'd be open until 9 pm.",
    "def main():\n    print('hello, world')\n    return 0\n",
    "for i in range(10):\n\tif i % 2 == 0:\n\t\tprint(i)\n",
    "int main(void) { return printf(\"%d\\n\", 42); }",
    "Привет мир, это тестовый корпус для токенизатора.",
    "Καλημέρα, αυτό είναι ένα δοκιμαστικό κείμενο.",
    "Bonjour le monde, ceci est un petit corpus d'essai à Zürich et à São Paulo.",
    "Numbers: 1, 22, 333, 4444, 55555, 3.14159, 2024-01-15.",
    "The hospital's records were exported to JSONL and CSV files every night.",
    "Data privacy matters: no record leaves the machine, ever.",
    "HELLO WORLD, Hello World, hello world!",
    "import numpy as np\nx = np.zeros((3, 4), dtype=np.float32)\n",
    "你好世界，这是一个测试。",
    "मेरा नाम परीक्षण है।",
]


def corpus():
    lines = []
    for round_ in range(40):
        for i, line in enumerate(CORPUS_LINES):
            lines.append(line if (round_ + i) % 3 else line.lower())
    return lines


def byte_level_bpe():
    """Llama-3 style: Split(regex, isolated) + ByteLevel(use_regex=False); a BOS template; a few added tokens.
    `<|endoftext|>` is in the vocabulary because transformers' GPT2Tokenizer, which reads the GGUF form of this
    vocabulary, otherwise appends it as a new token past the vocabulary (Lathe does not copy that quirk)."""
    tok = Tokenizer(models.BPE())
    split = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(split), behavior="isolated"), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=700, special_tokens=["<|begin_of_text|>", "<|end_of_text|>", "<|im_start|>", "<|im_end|>", "<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(corpus(), trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
        special_tokens=[("<|begin_of_text|>", tok.token_to_id("<|begin_of_text|>"))],
    )
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True)])
    tok.add_tokens([AddedToken("[tool]", single_word=True), AddedToken("hello world", normalized=True)])
    return tok


def sentencepiece_bpe():
    """Llama-2 style: BPE with byte_fallback and <0xXX> tokens, Metaspace pre-tokenizer, ByteFallback+Fuse+Metaspace."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False)
    tok.train_from_iterator(corpus(), trainer)
    # Add the 256 byte tokens to the vocabulary (not as added tokens), as Llama 2's tokenizer has them.
    data = json.loads(tok.to_str())
    vocab = data["model"]["vocab"]
    for b in range(256):
        piece = f"<0x{b:02X}>"
        if piece not in vocab:
            vocab[piece] = len(vocab)
    data["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True}]}
    data["post_processor"] = {"type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [vocab["<s>"]], "tokens": ["<s>"]}}}
    return Tokenizer.from_str(json.dumps(data))


def with_affix(tok, prefix=None, suffix=None):
    """The trained model rewritten to use a continuing-subword prefix or an end-of-word suffix: every token
    also exists in its affixed form, and every merge also in its affixed form. (Training with an affix
    directly is not deterministic in `tokenizers`: it numbers affixed symbols in hash-map order.)"""
    data = json.loads(tok.to_str())
    model = data["model"]
    specials = {t["content"] for t in data["added_tokens"]}
    vocab = {}
    for t, _ in sorted(model["vocab"].items(), key=lambda kv: kv[1]):
        vocab.setdefault(t, len(vocab))
    for t, _ in sorted(model["vocab"].items(), key=lambda kv: kv[1]):
        if t not in specials:
            vocab.setdefault(prefix + t if prefix else t + suffix, len(vocab))
    merges = []
    for a, b in model["merges"]:
        merges += [[a, prefix + b], [prefix + a, prefix + b]] if prefix else [[a, b], [a, b + suffix]]
    model.update(vocab=vocab, merges=merges, continuing_subword_prefix=prefix, end_of_word_suffix=suffix)
    return Tokenizer.from_str(json.dumps(data))


def normalized_bpe():
    """Exercises normalizers (NFKC, Lowercase, Replace string and regex, Strip, Prepend), Whitespace, Digits,
    Punctuation, an end-of-word suffix, an unknown token, no decoder (HF joins tokens with spaces) and a
    BERT-like TemplateProcessing."""
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.normalizer = normalizers.Sequence([
        normalizers.NFKC(), normalizers.Lowercase(), normalizers.Replace("``", '"'),
        normalizers.Replace(Regex(r"\s+"), " "), normalizers.Strip(), normalizers.Prepend("_"),
    ])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.Punctuation(),
    ])
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["[UNK]", "[CLS]", "[SEP]"], show_progress=False)
    tok.train_from_iterator(corpus(), trainer)
    tok = with_affix(tok, suffix="</w>")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    return tok


def split_bpe():
    """NFD + accent stripping, WhitespaceSplit + Split(string, merged_with_previous), Digits(grouped),
    a continuing-subword prefix, ignore_merges, Replace+Strip decoders."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.Replace(Regex(r"\p{Mn}"), ""), normalizers.NFC()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split("-", behavior="merged_with_previous"),
        pre_tokenizers.Digits(individual_digits=False),
    ])
    trainer = trainers.BpeTrainer(vocab_size=250, special_tokens=["<unk>"], show_progress=False)
    tok.train_from_iterator(corpus(), trainer)
    tok = with_affix(tok, prefix="##")
    data = json.loads(tok.to_str())
    data["model"]["ignore_merges"] = True
    tok = Tokenizer.from_str(json.dumps(data))
    tok.decoder = decoders.Sequence([decoders.Replace("##", ""), decoders.Strip(" ", 1, 1)])
    return tok


def gguf_metadata_json(reader, keys=None, architecture=False):
    """The `tokenizer.*` metadata of a GGUF as {"key": {"type": ..., "value": ...}}, with `general.architecture`
    when asked (transformers picks the SentencePiece builder by architecture)."""
    out = {}
    for key, field in reader.fields.items():
        wanted = key.startswith("tokenizer.") or (architecture and key == "general.architecture")
        if not wanted or (keys is not None and key not in keys):
            continue
        types = field.types
        if types[0] == gguf.GGUFValueType.ARRAY:
            sub = types[1]
            if sub == gguf.GGUFValueType.STRING:
                value = [bytes(field.parts[i]).decode("utf-8") for i in field.data]
            else:
                value = [field.parts[i].tolist()[0] for i in field.data]
            out[key] = {"type": "array", "element": sub.name.lower(), "value": value}
        elif types[0] == gguf.GGUFValueType.STRING:
            out[key] = {"type": "string", "value": bytes(field.parts[field.data[0]]).decode("utf-8")}
        else:
            out[key] = {"type": types[0].name.lower(), "value": field.parts[field.data[0]].tolist()[0]}
    return out


def write_spm_gguf(tok, path, arch="llama"):
    """A tokenizer-only GGUF of a SentencePiece-style BPE (tokenizer.ggml.model = llama), as llama.cpp's
    converter writes one: tokens, scores (minus the merge rank), token types (control, byte, normal).
    general.architecture is `arch`: transformers builds phi3 and gemma* SentencePiece vocabularies differently."""
    data = json.loads(tok.to_str())
    vocab = sorted(data["model"]["vocab"].items(), key=lambda kv: kv[1])
    tokens = [t for t, _ in vocab]
    specials = {"<unk>": 2, "<s>": 3, "</s>": 3}
    types = [specials.get(t, 6 if (t.startswith("<0x") and len(t) == 6) else 1) for t in tokens]
    scores = [-float(i) for i in range(len(tokens))]
    if arch.startswith("gemma"):  # Gemma vocabularies hold these control tokens (else GemmaTokenizer appends them)
        extra = ["<pad>", "<eos>", "<bos>", "<mask>"]
        tokens, types, scores = tokens + extra, types + [3] * 4, scores + [-float(len(tokens) + i) for i in range(4)]
    w = gguf.GGUFWriter(path, arch)
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_token_merges([" ".join(m) if isinstance(m, list) else m for m in data["model"]["merges"]])
    w.add_bos_token_id(tokens.index("<s>"))
    w.add_eos_token_id(tokens.index("</s>"))
    w.add_unk_token_id(tokens.index("<unk>"))
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_chat_template("{% for m in messages %}{{ m['content'] }}{% endfor %}")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_bpe_gguf(tok, path, pre, arch="llama"):
    """A tokenizer-only GGUF of a byte-level BPE (tokenizer.ggml.model = gpt2) with a named pre-tokenizer:
    special added tokens as control tokens, other added tokens as user-defined; general.architecture `arch`."""
    data = json.loads(tok.to_str())
    vocab = dict(data["model"]["vocab"])
    for t in data["added_tokens"]:
        vocab.setdefault(t["content"], t["id"])
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    assert [vocab[t] for t in tokens] == list(range(len(tokens)))
    kinds = {t["content"]: (3 if t["special"] else 4) for t in data["added_tokens"]}
    w = gguf.GGUFWriter(path, arch)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    w.add_token_types([kinds.get(t, 1) for t in tokens])
    w.add_token_merges([" ".join(m) if isinstance(m, list) else m for m in data["model"]["merges"]])
    w.add_bos_token_id(vocab["<|begin_of_text|>"])
    w.add_eos_token_id(vocab["<|end_of_text|>"])
    w.add_add_bos_token(True)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def goldens(tok):
    """ids, ids_split, ids_with_special and decodes for every text."""
    rows = []
    for text in TEXTS + random_texts():
        tok.encode_special_tokens = False
        ids = tok.encode(text, add_special_tokens=False).ids
        with_special = tok.encode(text, add_special_tokens=True).ids
        tok.encode_special_tokens = True
        ids_split = tok.encode(text, add_special_tokens=False).ids
        tok.encode_special_tokens = False
        rows.append({
            "text": text, "ids": ids, "ids_split": ids_split, "ids_with_special": with_special,
            "decoded": tok.decode(ids, skip_special_tokens=False),
            "decoded_skip_special": tok.decode(ids, skip_special_tokens=True),
        })
    return rows


def save(name, tok, config=None):
    folder = os.path.join(FIXTURES, "tokenizers", name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(tok.to_str(pretty=False))
    if config is not None:
        with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, ensure_ascii=False, indent=1)
    with open(os.path.join(folder, "goldens.json"), "w", encoding="utf-8") as f:
        json.dump(goldens(tok), f, ensure_ascii=False, indent=0)


def from_gguf(gguf_path):
    """The transformers tokenizer built from a GGUF: its backend and its tokenizer_config.json."""
    folder, name = os.path.split(gguf_path)
    hf = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    with tempfile.TemporaryDirectory() as out:
        hf.save_pretrained(out)
        with open(os.path.join(out, "tokenizer_config.json")) as f:
            config = json.load(f)
        template = os.path.join(out, "chat_template.jinja")
        if os.path.exists(template):
            with open(template) as f:
                config["chat_template"] = f.read()
        tok = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
    config.pop("is_local", None)
    config.pop("local_files_only", None)
    config["model_max_length"] = min(config.get("model_max_length", 0), 1 << 30)
    # The transformers tokenizer and its backend must agree on every text, including added tokens.
    for text in TEXTS:
        assert hf.encode(text, add_special_tokens=False) == tok.encode(text, add_special_tokens=False).ids, text
    return tok, config


PRETOKENIZERS = {
    "bytelevel_default": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "bytelevel_prefix": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    "bytelevel_noregex": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
    "split_qwen2": {"type": "Split", "pattern": {"Regex": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"}, "behavior": "Isolated", "invert": False},
    "split_llama3": {"type": "Split", "pattern": {"Regex": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"}, "behavior": "Isolated", "invert": False},
    "split_removed": {"type": "Split", "pattern": {"String": " "}, "behavior": "Removed", "invert": False},
    "split_prev": {"type": "Split", "pattern": {"Regex": r"[,.!?]"}, "behavior": "MergedWithPrevious", "invert": False},
    "split_next": {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithNext", "invert": False},
    "split_contiguous": {"type": "Split", "pattern": {"Regex": r"\s"}, "behavior": "Contiguous", "invert": False},
    "split_invert": {"type": "Split", "pattern": {"Regex": r"\w+"}, "behavior": "Removed", "invert": True},
    "digits_individual": {"type": "Digits", "individual_digits": True},
    "digits_grouped": {"type": "Digits", "individual_digits": False},
    "metaspace_first": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True},
    "metaspace_always_nosplit": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": False},
    "metaspace_never": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": True},
    "punctuation": {"type": "Punctuation", "behavior": "Isolated"},
    "whitespace": {"type": "Whitespace"},
    "whitespace_split": {"type": "WhitespaceSplit"},
    "sequence": {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, {"type": "Punctuation", "behavior": "Isolated"}, {"type": "Digits", "individual_digits": True}]},
}

NORMALIZERS = {
    "nfc": {"type": "NFC"}, "nfd": {"type": "NFD"}, "nfkc": {"type": "NFKC"}, "nfkd": {"type": "NFKD"},
    "lowercase": {"type": "Lowercase"},
    "prepend": {"type": "Prepend", "prepend": "▁"},
    "replace_string": {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
    "replace_regex": {"type": "Replace", "pattern": {"Regex": r"\s+"}, "content": " "},
    "strip": {"type": "Strip", "strip_left": True, "strip_right": True},
    "strip_left": {"type": "Strip", "strip_left": True, "strip_right": False},
    "sequence": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}, {"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
}


def component_goldens():
    from tokenizers import pre_tokenizers as pt, normalizers as nm
    pre = {}
    for name, config in PRETOKENIZERS.items():
        wrapper = Tokenizer.from_str(json.dumps({"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
            "normalizer": None, "pre_tokenizer": config, "post_processor": None, "decoder": None,
            "model": {"type": "BPE", "vocab": {}, "merges": []}}))
        pre[name] = {"config": config, "pieces": [[p for p, _ in wrapper.pre_tokenizer.pre_tokenize_str(t)] for t in TEXTS]}
    norm = {}
    for name, config in NORMALIZERS.items():
        wrapper = Tokenizer.from_str(json.dumps({"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
            "normalizer": config, "pre_tokenizer": None, "post_processor": None, "decoder": None,
            "model": {"type": "BPE", "vocab": {}, "merges": []}}))
        norm[name] = {"config": config, "outputs": [wrapper.normalizer.normalize_str(t) for t in TEXTS]}
    with open(os.path.join(FIXTURES, "pretokenizers.json"), "w", encoding="utf-8") as f:
        json.dump({"texts": TEXTS, "pretokenizers": pre}, f, ensure_ascii=False, indent=0)
    with open(os.path.join(FIXTURES, "normalizers.json"), "w", encoding="utf-8") as f:
        json.dump({"texts": TEXTS, "normalizers": norm}, f, ensure_ascii=False, indent=0)


def main():
    os.makedirs(os.path.join(FIXTURES, "gguf"), exist_ok=True)
    byte_level = byte_level_bpe()
    save("bytelevel", byte_level, {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>",
         "add_bos_token": True, "add_eos_token": False,
         "chat_template": [{"name": "default", "template": "{{ messages[0]['content'] }}"},
                           {"name": "tool_use", "template": "{{ tools }}"}]})
    spm = sentencepiece_bpe()
    save("sentencepiece", spm, {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
         "add_bos_token": True, "add_eos_token": False, "chat_template": "{{ bos_token }}{{ messages[0]['content'] }}"})
    save("normalized", normalized_bpe())
    save("split", split_bpe())

    # SentencePiece-style vocabulary as a GGUF (tokenizer.ggml.model = llama), read back by transformers.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "spm.gguf")
        write_spm_gguf(spm, path)
        with open(os.path.join(FIXTURES, "gguf", "sentencepiece.json"), "w", encoding="utf-8") as f:
            json.dump(gguf_metadata_json(gguf.GGUFReader(path)), f, ensure_ascii=False)
        tok, config = from_gguf(path)
        save("sentencepiece_gguf", tok, config)

    # The same vocabulary in GGUFs of architecture phi3 and gemma3, for which transformers builds the tokenizer
    # differently (phi3: a Prepend + Replace normalizer instead of Metaspace; gemma3: GemmaTokenizer, with
    # <pad> <eos> <bos> <mask> appended as control tokens, as Gemma vocabularies have them).
    for arch in ("phi3", "gemma3"):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "spm.gguf")
            write_spm_gguf(spm, path, arch)
            with open(os.path.join(FIXTURES, "gguf", f"sentencepiece_{arch}.json"), "w", encoding="utf-8") as f:
                json.dump(gguf_metadata_json(gguf.GGUFReader(path), architecture=True), f, ensure_ascii=False)
            tok, config = from_gguf(path)
            save(f"sentencepiece_{arch}_gguf", tok, config)

    # The byte-level vocabulary as a GGUF (tokenizer.ggml.model = gpt2, pre = llama-bpe), read back by transformers.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bpe.gguf")
        write_bpe_gguf(byte_level, path, "llama-bpe")
        with open(os.path.join(FIXTURES, "gguf", "bytelevel.json"), "w", encoding="utf-8") as f:
            json.dump(gguf_metadata_json(gguf.GGUFReader(path)), f, ensure_ascii=False)
        tok, config = from_gguf(path)
        save("bytelevel_gguf", tok, config)

    # The byte-level vocabulary as a Qwen2 GGUF (pre = qwen2): transformers' GGUF tokenizer applies no NFC (unlike
    # a Qwen2 tokenizer.json), so "e" + U+0301 and "é" stay different ids, as in llama.cpp.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bpe.gguf")
        write_bpe_gguf(byte_level, path, "qwen2", "qwen2")
        with open(os.path.join(FIXTURES, "gguf", "bytelevel_qwen2.json"), "w", encoding="utf-8") as f:
            json.dump(gguf_metadata_json(gguf.GGUFReader(path), architecture=True), f, ensure_ascii=False)
        tok, config = from_gguf(path)
        assert tok.normalizer is None
        save("bytelevel_qwen2_gguf", tok, config)

    # SmolLM2: the tokenizer transformers builds from the GGUF, and the GGUF's own tokenizer metadata.
    if os.path.exists(GGUF_PATH):
        tok, config = from_gguf(GGUF_PATH)
        save("smollm2", tok, config)
        with open(os.path.join(FIXTURES, "gguf", "smollm2.json"), "w", encoding="utf-8") as f:
            json.dump(gguf_metadata_json(gguf.GGUFReader(GGUF_PATH)), f, ensure_ascii=False)
    component_goldens()


if __name__ == "__main__":
    main()
