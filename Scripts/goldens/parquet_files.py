"""Parquet files as pyarrow writes them, each beside the JSONL file with the same rows.

Writes Tests/LatheDataTests/Fixtures/parquet/: one file per encoding, codec and page version Lathe's reader must
handle (PLAIN, dictionary, RLE booleans, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY,
BYTE_STREAM_SPLIT; uncompressed, snappy, gzip, zstd; data page v1 and v2), with a chat `messages`
list<struct<role, content>> column, prompt/completion and alpaca columns, integers, booleans, floats, doubles and
nulls, small pages and row groups so every file has several of each. `<name>.jsonl` holds `table.to_pylist()`,
one row per line: the test cleans both and expects the same records. Deterministic: no timestamps, fixed rows.

Usage: PYTHON=/work/refvenv/bin/python; $PYTHON Scripts/goldens/parquet_files.py  (needs pyarrow)
"""
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "LatheDataTests", "Fixtures", "parquet")

TOPICS = ["the VPN", "a password reset", "the printer on floor 3", "an invoice", "the shared drive", "Zoom audio",
          "a laptop battery", "two-factor codes", "the wiki", "e-mail rules", "café Wi-Fi", "한국어 keyboard"]


def chat_rows(n):
    rows = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        messages = []
        if i % 3 == 0:
            messages.append({"role": "system", "content": "You are the help desk of Example Corp. Answer briefly."})
        messages.append({"role": "user", "content": f"How do I fix {topic}? Ticket {i} 🙂"})
        messages.append({"role": "assistant", "content": f"For {topic}, restart it first; step {i % 5} of the guide covers the rest."})
        if i % 4 == 1:
            messages.append({"role": "user", "content": "Thanks, that worked." if i % 8 == 1 else ""})
            messages.append({"role": "assistant", "content": "Glad to help."})
        rows.append({
            "id": 1000 + i,
            "messages": messages,
            "score": None if i % 7 == 3 else (i % 9) * 0.25,
            "resolved": None if i % 11 == 5 else i % 2 == 0,
            "agent": None if i % 5 == 2 else f"agent-{i % 4}",
        })
    return rows


def prompt_rows(n):
    rows = []
    for i in range(n):
        rows.append({
            "prompt": None if i == 17 else f"Summarise ticket {i} about {TOPICS[i % len(TOPICS)]}.",
            "completion": f"The user reported a problem with {TOPICS[(i * 5) % len(TOPICS)]}; it was fixed in {i % 3 + 1} steps.",
            "rank": i % 6,
            "weight": (i % 4) * 1.5,
        })
    return rows


def alpaca_rows(n):
    return [{
        "instruction": f"Translate item {i} into plain English.",
        "input": "" if i % 3 else f"Jargon #{i}: {TOPICS[i % len(TOPICS)]} is borked.",
        "output": f"Item {i}: {TOPICS[i % len(TOPICS)]} does not work.",
        "tags": [f"t{i % 3}", "help"] if i % 4 else None,
    } for i in range(n)]


CHAT_SCHEMA = pa.schema([
    ("id", pa.int64()),
    ("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
    ("score", pa.float64()),
    ("resolved", pa.bool_()),
    ("agent", pa.string()),
])
PROMPT_SCHEMA = pa.schema([("prompt", pa.string()), ("completion", pa.string()), ("rank", pa.int32()),
                           ("weight", pa.float32())])
ALPACA_SCHEMA = pa.schema([("instruction", pa.string()), ("input", pa.string()), ("output", pa.string()),
                           ("tags", pa.list_(pa.string()))])

SMALL = dict(row_group_size=16, data_page_size=512, write_statistics=False)
DELTA_CHAT = {"id": "DELTA_BINARY_PACKED", "messages.list.element.role": "DELTA_BYTE_ARRAY",
              "messages.list.element.content": "DELTA_LENGTH_BYTE_ARRAY", "agent": "DELTA_BYTE_ARRAY",
              "score": "BYTE_STREAM_SPLIT", "resolved": "RLE"}

# name: (rows, schema, write_table options)
FILES = {
    "chat_plain_none_v1": (chat_rows, CHAT_SCHEMA, dict(use_dictionary=False, compression="none", data_page_version="1.0")),
    "chat_dict_snappy_v1": (chat_rows, CHAT_SCHEMA, dict(use_dictionary=True, compression="snappy", data_page_version="1.0")),
    "chat_dict_gzip_v2": (chat_rows, CHAT_SCHEMA, dict(use_dictionary=True, compression="gzip", data_page_version="2.0")),
    "chat_delta_zstd_v2": (chat_rows, CHAT_SCHEMA, dict(use_dictionary=False, compression="zstd", data_page_version="2.0",
                                                        column_encoding=DELTA_CHAT)),
    "chat_delta_none_v1": (chat_rows, CHAT_SCHEMA, dict(use_dictionary=False, compression="none", data_page_version="1.0",
                                                        column_encoding=DELTA_CHAT)),
    "chat_legacy_lists_snappy_v1": (chat_rows, CHAT_SCHEMA, dict(compression="snappy", use_compliant_nested_type=False)),
    "prompt_dict_zstd_v2": (prompt_rows, PROMPT_SCHEMA, dict(use_dictionary=True, compression="zstd", data_page_version="2.0")),
    "prompt_delta_gzip_v1": (prompt_rows, PROMPT_SCHEMA, dict(use_dictionary=False, compression="gzip", data_page_version="1.0",
                                                              column_encoding={"rank": "DELTA_BINARY_PACKED",
                                                                               "prompt": "DELTA_BYTE_ARRAY",
                                                                               "completion": "DELTA_LENGTH_BYTE_ARRAY",
                                                                               "weight": "BYTE_STREAM_SPLIT"})),
    "alpaca_plain_snappy_v2": (alpaca_rows, ALPACA_SCHEMA, dict(use_dictionary=False, compression="snappy", data_page_version="2.0")),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (make_rows, schema, options) in FILES.items():
        rows = make_rows(41)
        table = pa.Table.from_pylist(rows, schema=schema)
        path = os.path.join(OUT, name + ".parquet")
        pq.write_table(table, path, **SMALL, **options)
        with open(os.path.join(OUT, name + ".jsonl"), "w", encoding="utf-8") as f:
            for row in pq.read_table(path).to_pylist():
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        meta = pq.ParquetFile(path).metadata
        print(f"{name}: {os.path.getsize(path)} bytes, {meta.num_row_groups} row groups", file=sys.stderr)
    with open(os.path.join(OUT, "versions.json"), "w") as f:
        json.dump({"pyarrow": pa.__version__}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
