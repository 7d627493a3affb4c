# The two commands of the README. Both set up what they need on a fresh machine.
.PHONY: run test scenario

# One target folder for every command (scripts/test-all.sh uses the same): `make run` after
# `make test` rebuilds only the web binary instead of the whole workspace. `make run` stays on
# the debug profile `make test` has already built (measured, BENCHMARKS.md "`make run`: debug
# or release"): every page and form answers in under 50 ms in debug (release saves at most
# ~15 ms a request, 0.4 s at start-up), while release would first build the whole dependency
# tree in release and then take ~40 s instead of ~3 s per rebuild of the web binary.
HELPDESK_CACHE ?= $(HOME)/.cache/helpdesk
export CARGO_TARGET_DIR ?= $(HELPDESK_CACHE)/target
export CARGO_INCREMENTAL ?= 0

## The main job: the web helpdesk on SQLite with the offline MiniLM model and a seeded demo
## company (logins printed at start). PORT and HELPDESK_DATA override the defaults;
## GEMINI_API_KEY, or OPENAI_BASE_URL / OPENAI_API_KEY / OPENAI_MODEL (an OpenAI-compatible
## server: OpenAI, Azure, Ollama, vLLM, llama.cpp), switches AI on; MONGODB_URI (MongoDB) or else DATABASE_URL=postgres://...
## (PostgreSQL, schema `helpdesk`) the store.
run:
	@model_env=$$(scripts/setup-model.sh) && eval "$$model_env" && \
	  export ORT_DYLIB_PATH HELPDESK_MODEL_DIR && \
	  cargo run --locked -p helpdesk-examples --bin helpdesk-web -- \
	    --port $${PORT:-8080} --data-dir $${HELPDESK_DATA:-helpdesk-data}

## Every test: Python venv, offline model export, MongoDB-wire server, fmt, clippy, tests.
test:
	scripts/test-all.sh

## The end-to-end support day on the in-memory store, printed step by step.
scenario:
	cargo run --locked -p helpdesk-tests --example support_day
