#!/usr/bin/env python3
"""Peer for `lathe bench clean`: datatrove's MinHash deduplication (stages 1-3: signatures, buckets, clusters)
on the same JSONL shards with the same parameters. Prints one JSON line:
{"seconds": ..., "bytes": ..., "to_remove": ..., "datatrove": version} or {"error": "..."}.

Usage: clean_peer.py --workdir DIR --ngram 5 --bands 14 --rows 8 --workers 2 SHARD.jsonl [SHARD.jsonl ...]
The shards must sit in one folder (datatrove reads a folder; one task per shard in stage 1).
"""
import argparse
import contextlib
import importlib.metadata
import json
import os
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("shards", nargs="+")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--ngram", type=int, default=5)
    parser.add_argument("--bands", type=int, default=14)
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    try:
        import logging
        import datatrove
        from datatrove.executor import LocalPipelineExecutor
        from datatrove.pipeline.dedup.minhash import (
            MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupSignature)
        from datatrove.pipeline.readers import JsonlReader
        from datatrove.utils.hashing import HashConfig
    except Exception as error:  # the peer is optional: say why it cannot run
        print(json.dumps({"error": f"cannot import datatrove: {error}"}))
        return
    logging.disable(logging.WARNING)
    try:
        from loguru import logger
        logger.remove()
    except Exception:
        pass

    folder = os.path.dirname(os.path.abspath(args.shards[0]))
    names = [os.path.basename(s) for s in args.shards]
    config = MinhashConfig(hash_config=HashConfig(precision=64), n_grams=args.ngram,
                           num_buckets=args.bands, hashes_per_bucket=args.rows)
    work = args.workdir
    sigs, buckets, clusters = (os.path.join(work, d) for d in ("signatures", "buckets", "remove_ids"))
    total_bytes = sum(os.path.getsize(s) for s in args.shards)

    def reader():
        return JsonlReader(folder, glob_pattern="*.jsonl", text_key="text", compression=None)

    start = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):
        run_stages(reader, names, sigs, buckets, clusters, config, args, work)
    seconds = time.perf_counter() - start

    removed = 0
    for name in os.listdir(clusters):
        if name.endswith(".remove"):
            removed += os.path.getsize(os.path.join(clusters, name)) // 4
    print(json.dumps({"seconds": seconds, "bytes": total_bytes, "to_remove": removed,
                      "datatrove": importlib.metadata.version("datatrove")}))


def run_stages(reader, names, sigs, buckets, clusters, config, args, work):
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupSignature
    LocalPipelineExecutor(pipeline=[reader(), MinhashDedupSignature(output_folder=sigs, config=config)],
                          tasks=len(names), workers=args.workers, logging_dir=os.path.join(work, "logs1")).run()
    LocalPipelineExecutor(pipeline=[MinhashDedupBuckets(input_folder=sigs, output_folder=buckets, config=config)],
                          tasks=args.bands, workers=args.workers, logging_dir=os.path.join(work, "logs2")).run()
    LocalPipelineExecutor(pipeline=[MinhashDedupCluster(input_folder=buckets, output_folder=clusters, config=config)],
                          tasks=1, workers=1, logging_dir=os.path.join(work, "logs3")).run()


if __name__ == "__main__":
    sys.exit(main())
