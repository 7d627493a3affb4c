#!/usr/bin/env python3
"""MiniLM sentences per second with onnxruntime in Python: the reference `helpdesk-bench
embed` compares helpdesk-kb-search's FastembedEmbedder with.

Reads sentences (one JSON string per line) from --input and embeds them exactly as
FastembedEmbedder does: sorted by length, batches of --batch, `tokenizers` with truncation
to 256 tokens and padding to the longest in the batch, the exported model.onnx on the CPU
with --threads intra-op threads, mean pooling over the attention mask, L2 normalisation.
One warm-up batch, then --reps timed passes over all sentences (tokenisation included,
model loading excluded). Prints one JSON object on stdout:

  {"per_s": <median>, "runs_per_s": [...], "n": ..., "batch": ..., "threads": ...,
   "onnxruntime": "<version>"}
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", type=Path, default=os.environ.get("HELPDESK_MODEL_DIR"))
    ap.add_argument("--input", type=Path, required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--max-length", type=int, default=256)
    args = ap.parse_args()
    if args.model is None:
        print("bench_embed_python: set HELPDESK_MODEL_DIR or pass --model", file=sys.stderr)
        return 2

    import onnxruntime as ort
    from tokenizers import Tokenizer

    texts = [json.loads(line) for line in args.input.read_text().splitlines() if line.strip()]
    if not texts:
        print(f"bench_embed_python: no sentences in {args.input}", file=sys.stderr)
        return 2
    texts.sort(key=len)

    tok = Tokenizer.from_file(str(args.model / "tokenizer.json"))
    tok.enable_truncation(args.max_length)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(
        str(args.model / "model.onnx"), sess_options=opts, providers=["CPUExecutionProvider"]
    )

    def embed(batch: list[str]) -> np.ndarray:
        enc = tok.encode_batch(batch)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        types = np.array([e.type_ids for e in enc], dtype=np.int64)
        (hidden,) = sess.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": types},
        )
        m = mask[..., None].astype(hidden.dtype)
        pooled = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    embed(texts[: args.batch])  # warm-up
    runs = []
    for _ in range(max(1, args.reps)):
        started = time.perf_counter()
        for i in range(0, len(texts), args.batch):
            embed(texts[i : i + args.batch])
        runs.append(len(texts) / (time.perf_counter() - started))
    print(
        json.dumps(
            {
                "per_s": statistics.median(runs),
                "runs_per_s": runs,
                "n": len(texts),
                "batch": args.batch,
                "threads": args.threads,
                "onnxruntime": ort.__version__,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
