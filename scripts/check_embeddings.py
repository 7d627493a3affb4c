#!/usr/bin/env python3
"""Reference MiniLM sentence vectors computed in Python with onnxruntime.

Runs the exported model (HELPDESK_MODEL_DIR or --model) with the `tokenizers` package,
mean-pools over the attention mask and L2-normalises, as helpdesk-kb-search's
FastembedEmbedder does in Rust (max length 256).

  --write FILE   write the texts and their vectors as JSON (the fixture the Rust test
                 kb-search/tests/model_embeddings.rs compares against)
  --check FILE   recompute and compare with FILE (max abs difference <= --tolerance)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from export_minilm_onnx import encode, mean_pool_normalise  # noqa: E402

TEXTS = [
    "How do I reset my password?",
    "I forgot my password and cannot log in",
    "My card still hasn't arrived after two weeks, what should I do?",
    "Refunds are processed within 5 business days.",
    "The app crashes when I upload a photo",
    "Quelle est la politique de remboursement ?",
    "",
    "word " * 400,
]


def embed(model_dir: Path, texts: list[str]) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(model_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    ids, mask, types = encode(model_dir / "tokenizer.json", texts, max_length=256)
    (hidden,) = sess.run(
        ["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    )
    return mean_pool_normalise(hidden, mask).astype(np.float32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", type=Path, default=os.environ.get("HELPDESK_MODEL_DIR"))
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path)
    group.add_argument("--check", type=Path)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()
    if args.model is None:
        print("error: set HELPDESK_MODEL_DIR or pass --model", file=sys.stderr)
        return 2
    vectors = embed(args.model, TEXTS)
    if args.write:
        doc = {
            "model": "sentence-transformers/all-MiniLM-L6-v2",
            "pooling": "mean",
            "max_length": 256,
            "texts": TEXTS,
            "vectors": [[round(float(x), 7) for x in v] for v in vectors],
        }
        args.write.write_text(json.dumps(doc) + "\n")
        return 0
    doc = json.loads(args.check.read_text())
    if doc["texts"] != TEXTS:
        print("error: the fixture's texts differ from this script's", file=sys.stderr)
        return 1
    diff = float(np.abs(np.array(doc["vectors"], dtype=np.float32) - vectors).max())
    print(f"max abs difference vs {args.check}: {diff:.2e}", file=sys.stderr)
    return 0 if diff <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
