#!/usr/bin/env python3
"""Cross-client check: documents written by the Rust MongoStore read back with pymongo.

Runs the `seed_crosscheck` example of helpdesk-store-mongo into a fresh database of the
server at $MONGODB_URI, then reads every collection with pymongo and checks the field types
the store promises: BSON dates for times (equal to the written instants, millisecond
precision), 64-bit integers for counters and versions, strings for ids and vocabularies,
`tenant_id` on every tenant document, no commit left pending, every collection under the
store's prefix (the manifest names it; --prefix sets another) and the schema version
document. Drops the database at the end (unless --keep). Exit status 0 = all checks passed.

    eval "$(scripts/start-mongo.sh)"
    ~/.cache/helpdesk/venv/bin/python scripts/mongo_crosscheck.py
    scripts/stop-mongo.sh

Environment: MONGODB_URI (required), CARGO (default "cargo"), CARGO_TARGET_DIR (passed on),
HELPDESK_SEED_CROSSCHECK_BIN (run this already built `seed_crosscheck` instead of `cargo run`:
`cargo test --workspace` builds it, and `cargo run -p` alone would rebuild the dependencies
with another feature set).
"""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

try:
    import pymongo  # noqa: F401  (the shared test venv has it; system Python may not)
except ImportError:
    venv_python = Path(os.environ.get("HELPDESK_CACHE", Path.home() / ".cache/helpdesk")) / "venv/bin/python"
    if venv_python.exists() and Path(sys.executable) != venv_python:
        os.execv(str(venv_python), [str(venv_python), *sys.argv])
    sys.exit("mongo_crosscheck: pymongo missing; run scripts/python-env.sh first")

from bson.codec_options import CodecOptions
from bson.int64 import Int64
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parent.parent
TENANT_COLLECTIONS = [
    "tenants", "users", "sessions", "counters", "tickets", "events", "messages",
    "outbox", "articles", "chat_sessions",
]
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def is_id(value):
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False


def is_date(value):
    return isinstance(value, dt.datetime)


def is_int64(value):
    return isinstance(value, Int64)


def ms(value):
    return round(value.timestamp() * 1000)


def seed(database, prefix):
    prebuilt = os.environ.get("HELPDESK_SEED_CROSSCHECK_BIN")
    if prebuilt:
        cmd = [prebuilt, database]
    else:
        cmd = [os.environ.get("CARGO", "cargo"), "run", "-q", "-p", "helpdesk-store-mongo",
               "--example", "seed_crosscheck", "--", database]
    if prefix is not None:
        cmd.append(prefix)
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--prefix", help="collection prefix for the store (default: the store's own)")
    args = parser.parse_args()
    uri = os.environ.get("MONGODB_URI")
    if not uri:
        sys.exit("mongo_crosscheck: set MONGODB_URI (see scripts/start-mongo.sh)")
    database = f"hdcross_{uuid.uuid4().hex[:16]}"
    manifest = seed(database, args.prefix)
    client = MongoClient(uri)
    db = client.get_database(database, codec_options=CodecOptions(tz_aware=True))
    try:
        run_checks(db, manifest)
    finally:
        if not args.keep:
            client.drop_database(database)
    if failures:
        print(f"mongo_crosscheck: {len(failures)} check(s) failed:", file=sys.stderr)
        for f in failures:
            print(f"  - {f}", file=sys.stderr)
        sys.exit(1)
    print(f"mongo_crosscheck: ok ({database}, prefix {manifest['collection_prefix']!r}: "
          f"{manifest['event_count']} events, "
          f"{manifest['message_count']} messages, {len(manifest['users'])} users)")


def run_checks(db, m):
    tenant = m["tenant_id"]
    prefix = m["collection_prefix"]

    def col(name):
        """The store's collection `name`, under its prefix."""
        return db[prefix + name]

    names = set(db.list_collection_names())
    check(all(n.startswith(prefix) for n in names), f"collections outside the prefix {prefix!r}: {sorted(names)}")
    meta = col("meta").find_one({"_id": "schema"})
    check(meta and is_int64(meta["version"]) and meta["version"] == m["schema_version"], f"schema version document {meta}")

    for name in TENANT_COLLECTIONS:
        docs = list(col(name).find())
        check(docs, f"{name}: no documents")
        for d in docs:
            check(d.get("tenant_id") == tenant, f"{name} {d.get('_id')}: tenant_id {d.get('tenant_id')!r}")

    t = col("tenants").find_one({"_id": tenant})
    check(t is not None and t["slug"] == "crosscheck", "tenant by id and slug")
    if t:
        check(is_date(t["created_at"]) and ms(t["created_at"]) == m["tenant_created_at_ms"], "tenant created_at date")
        check(isinstance(t["settings"], dict) and isinstance(t["settings"].get("categories"), list), "tenant settings embedded")

    users = list(col("users").find())
    check(sorted(u["_id"] for u in users) == sorted(m["users"]), "user ids")
    for u in users:
        check(is_id(u["_id"]) and isinstance(u["email"], str), f"user {u['_id']} id/email strings")
        check(u["role"] in ("customer", "agent", "admin"), f"user role string {u['role']!r}")
        check(is_int64(u["capacity"]) and isinstance(u["active"], bool), "user capacity int64, active bool")
        check(is_date(u["created_at"]), "user created_at date")
        check(isinstance(u["skills"], list), "user skills array")
    check(col("users").count_documents({"password_hash": {"$type": "string"}}) == 1, "one password hash string")

    s = col("sessions").find_one()
    check(s and is_date(s["expires_at"]) and is_id(s["user_id"]), "session dates and ids")
    c = col("counters").find_one({"_id": tenant})
    check(c and is_int64(c["last_number"]) and c["last_number"] == m["ticket_number"], "counter int64")

    tk = col("tickets").find_one({"_id": m["ticket_id"]})
    check(tk is not None, "ticket by id")
    if tk:
        check(is_int64(tk["number"]) and tk["number"] == m["ticket_number"], "ticket number int64")
        check(is_int64(tk["version"]) and tk["version"] == m["ticket_version"], "ticket version int64")
        check(isinstance(tk["priority_rank"], int) and tk["priority"] == "high", "priority string and rank")
        check(tk["status"] == "resolved" and tk["channel"] == "form", "status/channel strings")
        check(is_date(tk["created_at"]) and ms(tk["created_at"]) == m["ticket_created_at_ms"], "ticket created_at keeps milliseconds")
        check(is_date(tk["first_response_at"]) and ms(tk["first_response_at"]) == m["first_response_at_ms"], "first_response_at date")
        check(is_date(tk["resolved_at"]) and ms(tk["resolved_at"]) == m["resolved_at_ms"], "resolved_at date")
        check(is_date(tk["sla"]["first_response_due"]) and isinstance(tk["sla"]["first_response_breached"], bool), "sla dates and flags")
        check(tk["sla"]["paused_since"] is None, "sla paused_since null")
        check(isinstance(tk["csat"]["score"], int) and is_date(tk["csat"]["at"]), "csat score int, at date")
        check(is_id(tk["assignee"]) and is_id(tk["requester"]), "assignee/requester id strings")
        check(tk["idempotency_key"] == m["idempotency_key"], "idempotency key on the ticket")
        check("pending" not in tk, "no pending commit left")

    events = list(col("events").find({"ticket_id": m["ticket_id"]}).sort([("version", 1), ("seq", 1)]))
    check(len(events) == m["event_count"], f"event count {len(events)} != {m['event_count']}")
    check([e["type"] for e in events] == m["event_types"], "event types in commit order")
    for e in events:
        check(is_date(e["at"]) and is_int64(e["version"]) and is_int64(e["seq"]), f"event {e['_id']} at/version/seq types")
        check(isinstance(e["kind"], dict) and e["kind"].get("type") == e["type"], f"event {e['_id']} payload")
    created = events[0]["kind"]["ticket"] if events else {}
    check(created.get("id") == m["ticket_id"], "created event carries the ticket")

    messages = list(col("messages").find({"ticket_id": m["ticket_id"]}))
    check(len(messages) == m["message_count"], "message count")
    for msg in messages:
        check(is_date(msg["created_at"]) and msg["kind"] in ("reply", "note", "chat", "draft"), "message date/kind")
        check(is_int64(msg["ticket_version"]), "message ticket_version int64")
    draft = col("messages").find_one({"kind": "draft"})
    check(draft and draft["draft"]["state"] == "edited" and is_date(draft["draft"]["decided_at"]), "draft state string, decided_at date")

    outbox = list(col("outbox").find())
    check(len(outbox) == m["outbox_count"], "outbox count")
    for o in outbox:
        check(is_date(o["next_attempt_at"]) and is_int64(o["attempts"]) and o["delivered_at"] is None, "outbox types")
        check(isinstance(o["notification"], dict) and o["kind"] in ("assigned", "replied"), "outbox notification")

    a = col("articles").find_one()
    check(a and is_int64(a["version"]) and is_date(a["updated_at"]), "article types")
    ch = col("chat_sessions").find_one()
    check(ch and ch["state"] == "human" and is_date(ch["last_activity_at"]) and isinstance(ch["resolved_by_bot"], bool), "chat session types")
    lease = col("leases").find_one({"_id": "sla-sweep"})
    check(lease and lease["holder"] == "crosscheck" and is_date(lease["expires_at"]), "lease document")

    names = {i["name"] for i in col("tickets").list_indexes()}
    check({"tenant_number_unique", "tenant_idempotency_key_unique"} <= names, f"ticket unique indexes {names}")


if __name__ == "__main__":
    main()
