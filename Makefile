# The two commands of the README. Both set up what they need on a fresh machine.
.PHONY: run test scenario

## The main job: the web helpdesk on SQLite with the offline MiniLM model and a seeded demo
## company (logins printed at start). PORT and HELPDESK_DATA override the defaults;
## GEMINI_API_KEY switches AI on, MONGODB_URI the store.
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
