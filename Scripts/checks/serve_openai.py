#!/usr/bin/env python3
"""The `openai` Python client against `lathe serve`: completions, chat, streaming chat and an adapter by name.

Starts `lathe serve --model M --adapter tuned=ADAPTER --api-key KEY` on a free loopback port, then with the
unmodified client (pip install openai):
  - models.list() names the base and the adapter;
  - completions.create(echo=True, logprobs=1, max_tokens=1) returns the prompt's log-probabilities
    (first null) and an index on the choice;
  - chat.completions.create answers "What is the capital of France?" with "Paris" (greedy);
  - the same chat with stream=True gives the same text, chunk by chunk;
  - model="tuned" is served (and scores the prompt differently from the base);
  - a wrong key is refused with 401 and an unknown model with 404, as openai's exception types.
Prints one line per case; exit 1 on any failure.

  /work/refvenv/bin/python Scripts/checks/serve_openai.py --lathe .build/release/lathe \
      --model Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf [--adapter DIR]
"""
import argparse, os, subprocess, sys, tempfile

import openai

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_lmeval import free_port, random_adapter, wait_healthy  # noqa: E402

KEY = "sk-lathe-check"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lathe", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--adapter", help="PEFT adapter or run directory (default: a seeded random LoRA)")
    args = parser.parse_args()
    model = os.path.abspath(args.model)
    adapter = args.adapter or os.path.join(tempfile.mkdtemp(prefix="serve-openai-"), "adapter")
    if not args.adapter:
        random_adapter(adapter, model)
    port = free_port()
    server = subprocess.Popen([os.path.abspath(args.lathe), "serve", "--model", model, "--served-model-name", "smollm2",
                               "--adapter", f"tuned={adapter}", "--port", str(port), "--api-key", KEY], stderr=subprocess.DEVNULL)
    failures = 0

    def check(name, ok, detail=""):
        nonlocal failures
        failures += not ok
        print(f"{'ok ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")

    try:
        wait_healthy(port, server)
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=0)
        ids = [m.id for m in client.models.list().data]
        check("models.list", ids == ["smollm2", "tuned"], str(ids))

        prompt = "The capital of France is Paris"
        scores = {}
        for name in ["smollm2", "tuned"]:
            c = client.completions.create(model=name, prompt=prompt, max_tokens=1, temperature=0, logprobs=1, echo=True)
            lp = c.choices[0].logprobs
            scores[name] = lp.token_logprobs
            check(f"completions echo ({name})", c.choices[0].index == 0 and lp.token_logprobs[0] is None
                  and len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset)
                  and c.choices[0].text.startswith(prompt), f"{len(lp.tokens)} tokens, sum {sum(lp.token_logprobs[1:-1]):.4f}")
        check("adapter by name scores differently", scores["smollm2"][1:] != scores["tuned"][1:])

        messages = [{"role": "user", "content": "What is the capital of France?"}]
        chat = client.chat.completions.create(model="smollm2", messages=messages, max_tokens=16, temperature=0)
        text = chat.choices[0].message.content
        check("chat", "Paris" in text, repr(text))

        pieces = []
        for chunk in client.chat.completions.create(model="smollm2", messages=messages, max_tokens=16, temperature=0, stream=True):
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
        check("streaming chat", "".join(pieces) == text, f"{len(pieces)} chunks: {''.join(pieces)!r}")

        tuned = client.chat.completions.create(model="tuned", messages=messages, max_tokens=16, temperature=0)
        check("chat with the adapter by name", tuned.model == "tuned" and tuned.choices[0].message.content is not None,
              repr(tuned.choices[0].message.content))

        try:
            openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="wrong", max_retries=0).models.list()
            check("wrong key refused", False)
        except openai.AuthenticationError:
            check("wrong key refused", True, "401")
        try:
            client.completions.create(model="nope", prompt="hi", max_tokens=1)
            check("unknown model refused", False)
        except openai.NotFoundError as error:
            check("unknown model refused", True, f"404 {error.body.get('type') if isinstance(error.body, dict) else ''}")
    finally:
        server.terminate()
        server.wait(timeout=120)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
