"""Goldens for LatheEvaluation: two small lm-eval tasks on fictional content, scored by lm-eval 0.4.x `--model hf`.

Writes into Tests/LatheEvaluationTests/Fixtures/tasks/:
  lathe_mc.yaml + lathe_mc.jsonl     multiple choice, 32 docs (acc, acc_norm)
  lathe_ppl.yaml + lathe_ppl.jsonl   loglikelihood_rolling, 20 docs (word/byte perplexity, bits per byte)
and Tests/LatheEvaluationTests/Fixtures/eval_goldens.json: every request's log-likelihood and is_greedy, and the
aggregated metrics, from lm-eval run on SmolLM2-135M-Instruct loaded by transformers from the GGUF.

lm-eval resolves `data_files` relative to its working directory, Lathe relative to the YAML: this script runs lm-eval
with cwd = the tasks folder so the very same YAML works in both.

Usage: $PYTHON Scripts/goldens/eval.py [path/to/SmolLM2-135M-Instruct.Q4_1.gguf]
"""

from __future__ import annotations

import glob
import json
import sys
import tempfile
from pathlib import Path

# This folder holds tokenizers.py, which would shadow the `tokenizers` package that transformers imports.
# It goes last on the path (for common.py), behind the installed packages.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.append(str(Path(__file__).resolve().parent))
from common import LM_EVAL_ACCURACY_METRICS, lm_eval_dataset, run_lm_eval  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "Tests" / "LatheEvaluationTests" / "Fixtures"
TASKS = FIXTURES / "tasks"
DEFAULT_MODEL = REPO_ROOT / "Checkpoints" / "base" / "SmolLM2-135M-Instruct.Q4_1.gguf"

# Fictional facts: (question, choices, answer index). Written for these tests; none of it is true.
MC_DOCS = [
    ("What colour are the roofs in the harbour town of Velmora?", ["blue", "red", "green", "white"], 1),
    ("Which animal pulls the mail carts of Ostrand?", ["a horse", "a goat", "a dog", "an ox"], 2),
    ("How many bridges cross the river Tamsel?", ["three", "seven", "twelve", "one"], 1),
    ("What do the people of Quillby eat at the winter festival?", ["fish soup", "apple bread", "roast turnips", "honey cakes"], 3),
    ("Which instrument opens every council meeting in Dorrin?", ["a drum", "a bell", "a flute", "a horn"], 1),
    ("What is the capital of the island nation of Pellago?", ["Sarn", "Ilvo", "Marrow", "Teth"], 0),
    ("Which metal is mined in the Greyfell hills?", ["copper", "tin", "silver", "iron"], 2),
    ("What season does the Brannock fair take place in?", ["spring", "summer", "autumn", "winter"], 2),
    ("Who founded the library of Castamir?", ["a sailor", "a weaver", "a baker", "a miller"], 1),
    ("What colour is the flag of Ostrand?", ["yellow and black", "red and white", "green", "purple"], 0),
    ("How long is the walk around Lake Mirren?", ["two hours", "one day", "ten minutes", "a week"], 0),
    ("Which bird nests on the towers of Velmora?", ["the swallow", "the heron", "the owl", "the crow"], 3),
    ("What is the oldest building in Quillby?", ["the mill", "the school", "the chapel", "the inn"], 0),
    ("Which fruit grows on the terraces of Dorrin?", ["grapes", "pears", "plums", "cherries"], 3),
    ("What language is spoken in the market of Sarn?", ["Old Pellagan", "Trade tongue", "Ostrish", "Mirrenic"], 1),
    ("What do the clocks of Castamir show?", ["the tides", "the hour", "the moon", "the wind"], 0),
    ("Which tree shades the square of Brannock?", ["an oak", "a lime", "a chestnut", "a willow"], 2),
    ("How many islands make up Pellago?", ["four", "nine", "twenty", "two"], 1),
    ("What is woven in the workshops of Ilvo?", ["carpets", "sails", "baskets", "nets"], 1),
    ("Which road leads from Ostrand to the sea?", ["the Salt Way", "the King's Road", "the Long Lane", "the Old Track"], 0),
    ("What do children in Greyfell collect in summer?", ["shells", "stones", "feathers", "berries"], 3),
    ("Who guards the gate of Teth at night?", ["two dogs", "a watchman", "nobody", "the mayor"], 1),
    ("What is painted on the boats of Marrow?", ["an eye", "a star", "a fish", "a name"], 0),
    ("Which river feeds Lake Mirren?", ["the Tamsel", "the Ost", "the Brann", "the Velm"], 0),
    ("What is the main export of Dorrin?", ["wine", "wool", "salt", "timber"], 1),
    ("How do travellers cross the Greyfell pass in winter?", ["on skis", "by sledge", "on foot", "by cart"], 1),
    ("What does the lighthouse of Sarn burn?", ["whale oil", "coal", "wood", "peat"], 3),
    ("Which festival ends the year in Velmora?", ["the Lantern Night", "the Harvest Feast", "the Boat Race", "the Long Sleep"], 0),
    ("What is kept in the tower of Castamir?", ["maps", "grain", "gold", "prisoners"], 0),
    ("Which colour do brides wear in Ilvo?", ["white", "green", "red", "blue"], 3),
    ("What is the name of the ferry to Pellago?", ["the Gull", "the Swift", "the Morning", "the Patience"], 3),
    ("How many towers does the wall of Teth have?", ["six", "three", "eleven", "none"], 0),
]

# Fictional passages for rolling perplexity, 20 of them.
PPL_DOCS = [
    "The harbour town of Velmora wakes before dawn, when the fishing boats return with their nets full of silver herring.",
    "In Ostrand the mail is carried by dog carts, and the drivers sing to keep the animals in step on the icy roads.",
    "Seven bridges cross the river Tamsel. The oldest is made of grey stone and has a small chapel at its centre.",
    "At the winter festival of Quillby, every household bakes honey cakes and leaves one on the doorstep for strangers.",
    "The council of Dorrin always begins its meetings with the ringing of a bronze bell that hangs above the door.",
    "Sarn, the capital of Pellago, is built on a cliff, and its streets are so steep that they are mostly stairs.",
    "Silver has been mined in the Greyfell hills for three hundred years, and the tunnels now run under every village.",
    "The Brannock fair fills the meadows each autumn with horses, cheese makers, jugglers and travelling tailors.",
    "A weaver named Ilse founded the library of Castamir with the money she earned from a single enormous tapestry.",
    "Lake Mirren is small enough to walk around in two hours, yet it is said to be deeper than any sea nearby.",
    "Crows nest on the towers of Velmora, and the townspeople believe that the town will stand as long as they stay.",
    "The mill of Quillby has been grinding flour since before the chapel was built, and its wheel still turns every day.",
    "Cherry trees grow on the terraces of Dorrin, and in spring the whole valley turns pink for a week or two.",
    "Traders in the market of Sarn speak a mixed trade tongue that borrows words from every port of the southern sea.",
    "The clocks of Castamir do not show the hour at all; they show the state of the tides in the bay below the town.",
    "A great chestnut tree shades the square of Brannock, and on hot afternoons the old men play cards beneath it.",
    "Nine islands make up Pellago. Only four of them have fresh water, and the rest are home to goats and seabirds.",
    "The workshops of Ilvo weave sails for ships from many nations, and their canvas is famous for never tearing.",
    "The Salt Way runs from Ostrand down to the sea, lined with inns where carters rest their dogs for the night.",
    "In summer the children of Greyfell climb the slopes to collect blueberries, coming home with purple fingers.",
]

MC_YAML = lm_eval_dataset({"test": "lathe_mc.jsonl"}, task="lathe_mc") + """\
output_type: multiple_choice
doc_to_text: "Question: {{question}}\\nAnswer:"
doc_to_target: answer
doc_to_choice: choices
target_delimiter: " "
num_fewshot: 0
""" + LM_EVAL_ACCURACY_METRICS

PPL_YAML = lm_eval_dataset({"test": "lathe_ppl.jsonl"}, task="lathe_ppl") + """\
output_type: loglikelihood_rolling
doc_to_text: ""
doc_to_target: "{{text}}"
metric_list:
  - metric: word_perplexity
  - metric: byte_perplexity
  - metric: bits_per_byte
"""


def write_tasks() -> None:
    TASKS.mkdir(parents=True, exist_ok=True)
    with open(TASKS / "lathe_mc.jsonl", "w") as f:
        for q, choices, answer in MC_DOCS:
            f.write(json.dumps({"question": q, "choices": choices, "answer": answer}) + "\n")
    with open(TASKS / "lathe_ppl.jsonl", "w") as f:
        for text in PPL_DOCS:
            f.write(json.dumps({"text": text}) + "\n")
    (TASKS / "lathe_mc.yaml").write_text(MC_YAML)
    (TASKS / "lathe_ppl.yaml").write_text(PPL_YAML)


def build_hf_dir(gguf_path: Path, out: Path) -> None:
    """HF directory with the GGUF's dequantised weights (a GGUF-loaded model refuses save_pretrained)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    folder, name = str(gguf_path.parent), gguf_path.name
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = LlamaForCausalLM(config).to(torch.float32)
    plain.load_state_dict(loaded.state_dict())
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)


def collect(out: Path, hf_dir: Path) -> dict:
    from transformers import AutoTokenizer

    results_files = sorted(glob.glob(str(out / "**" / "results_*.json"), recursive=True))
    results = json.loads(Path(results_files[-1]).read_text())
    golden: dict = {"lm_eval_version": results.get("lm_eval_version", ""), "tasks": {}}
    for task in ("lathe_mc", "lathe_ppl"):
        samples_file = sorted(glob.glob(str(out / "**" / f"samples_{task}_*.jsonl"), recursive=True))[-1]
        samples = [json.loads(line) for line in open(samples_file)]
        samples.sort(key=lambda s: s["doc_id"])
        docs = []
        for s in samples:
            # lm-eval logs each request's response as strings: [[ll, is_greedy]] or [ll] (rolling).
            lls, greedy = [], []
            for r in s["resps"]:
                r = r[0] if isinstance(r[0], list) else r
                lls.append(float(r[0]))
                greedy.append(r[1] in (True, "True") if len(r) > 1 else None)
            arguments = s["arguments"]
            if isinstance(arguments, dict):
                arguments = [list(arguments[k].values()) for k in sorted(arguments, key=lambda k: int(k.split("_")[-1]))]
            docs.append({"doc_id": s["doc_id"], "loglikelihoods": lls, "is_greedy": greedy, "arguments": arguments})
        metrics = {k: v for k, v in results["results"][task].items() if k != "alias"}
        golden["tasks"][task] = {"docs": docs, "metrics": metrics}
    tokenizer = AutoTokenizer.from_pretrained(hf_dir)
    golden["encode_hello_world"] = tokenizer.encode("Hello world")
    return golden


# (context, continuation) pairs for the request-splitting test on the SmolLM2 tokenizer fixture.
ENCODE_PAIRS = [
    ("Question: Why?\nAnswer:", " blue"),
    ("The sky is ", "blue"),
    ("Hi\n\n", "there"),
    ("Q: 2+2=", " 4"),
    ("", "Hello world"),
    ("Der Fluß  ", " fließt"),
]


def write_encode_pairs() -> None:
    """lm-eval `TemplateLM._encode_pair` on Tests/LatheTokenizersTests/Fixtures/tokenizers/smollm2 (HF tokenizers)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(REPO_ROOT / "Tests" / "LatheTokenizersTests" / "Fixtures" / "tokenizers"
                                        / "smollm2" / "tokenizer.json"))
    encode = lambda s: tokenizer.encode(s).ids  # noqa: E731  (add_special_tokens=True, as HFLM.tok_encode)
    rows = []
    for context, continuation in ENCODE_PAIRS:
        if not context:
            rows.append({"context": context, "continuation": continuation, "context_ids": [1],
                         "continuation_ids": encode(continuation)})
            continue
        n_spaces = len(context) - len(context.rstrip())
        ctx, cont = (context[:-n_spaces], context[-n_spaces:] + continuation) if n_spaces else (context, continuation)
        whole, context_ids = encode(ctx + cont), encode(ctx)
        rows.append({"context": context, "continuation": continuation, "context_ids": context_ids,
                     "continuation_ids": whole[len(context_ids):]})
    (FIXTURES / "encode_pairs.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n")


def main() -> None:
    write_encode_pairs()
    model = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_MODEL
    if not model.exists():
        model = Path(__file__).resolve().parents[2] / "Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf"
    write_tasks()
    with tempfile.TemporaryDirectory() as tmp:
        hf_dir, out = Path(tmp) / "smollm2-hf", Path(tmp) / "out"
        build_hf_dir(model, hf_dir)
        run_lm_eval(hf_dir, out, ["lathe_mc", "lathe_ppl"], TASKS)
        golden = collect(out, hf_dir)
    (FIXTURES / "eval_goldens.json").write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
