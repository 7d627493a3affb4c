# The two commands of the README. Both set up what they need on a fresh machine.
.PHONY: run test

## The main job: the end-to-end support day on the in-memory store (the web helpdesk
## replaces it once it exists).
run:
	cargo run --locked -p helpdesk-tests --example support_day

## Every test: Python venv, offline model export, MongoDB-wire server, fmt, clippy, tests.
test:
	scripts/test-all.sh
