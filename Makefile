# The two commands of the README. Both set up what they need on a fresh machine.
.PHONY: run test scenario

# One target folder for every command (scripts/test-all.sh uses the same): `make run` after
# `make test` rebuilds only the web binary instead of the whole workspace. The debug profile
# is kept for `make run` because that is what `make test` has already built.
HELPDESK_CACHE ?= $(HOME)/.cache/helpdesk
export CARGO_TARGET_DIR ?= $(HELPDESK_CACHE)/target
export CARGO_INCREMENTAL ?= 0

## The main job: the web helpdesk on SQLite with the offline MiniLM model and a seeded demo
## company (logins printed at start). PORT and HELPDESK_DATA override the defaults;
## GEMINI_API_KEY switches AI on; MONGODB_URI (MongoDB) or else DATABASE_URL=postgres://...
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
