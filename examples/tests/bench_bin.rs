//! Smoke test of `helpdesk-bench`: each subcommand that needs no outside service runs in
//! its quick mode (tiny sizes) with `--json`, and the JSON has the documented keys with
//! sane values. This checks that the benchmarks run, never how fast: no figure is
//! compared with a goal here. `embed` needs the MiniLM model and the Python venv: it runs
//! only when `HELPDESK_MODEL_DIR` is set (`eval "$(scripts/setup-model.sh)"`), and says so
//! when skipped. The PostgreSQL variants run when `HELPDESK_POSTGRES_URL` is set (each
//! on databases of its own, dropped at the end), and are reported as not run otherwise.
//! `email-imap` runs when `HELPDESK_IMAP_HOST` is set (`eval "$(scripts/start-dovecot.sh)"`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use serde_json::Value;

fn bench(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_helpdesk-bench"))
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "helpdesk-bench {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one JSON object on stdout, got {stdout:?}");
    serde_json::from_str(lines[0]).unwrap()
}

fn number(v: &Value, key: &str) -> f64 {
    v.get(key)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("missing numeric key {key:?} in {v}"))
}

fn positive(v: &Value, keys: &[&str]) {
    for key in keys {
        let x = number(v, key);
        assert!(x.is_finite() && x > 0.0, "{key} = {x} in {v}");
    }
}

#[test]
fn intake_sqlite_quick_mode_reports_both_rates_and_their_ratio() {
    let v = bench(&[
        "intake-sqlite",
        "--n",
        "20",
        "--rounds",
        "2",
        "--warmup",
        "2",
        "--customers",
        "3",
    ]);
    positive(&v, &["helpdesk_per_s", "baseline_per_s", "ratio"]);
    let ratio = number(&v, "helpdesk_per_s") / number(&v, "baseline_per_s");
    assert!((number(&v, "ratio") - ratio).abs() < 1e-9 * ratio.max(1.0));
    assert_eq!(v["backend"], "sqlite");
}

#[test]
fn queue_quick_mode_reports_listing_and_analytics_latencies() {
    let v = bench(&[
        "queue",
        "--size",
        "2000",
        "--tenants",
        "4",
        "--customers",
        "10",
        "--agents",
        "2",
        "--queries",
        "20",
        "--analytics-runs",
        "2",
        "--batch",
        "500",
    ]);
    positive(
        &v,
        &[
            "queue_p50_ms",
            "queue_p99_ms",
            "customer_p99_ms",
            "analytics_ms",
        ],
    );
    assert!(number(&v, "queue_p50_ms") <= number(&v, "queue_p99_ms"));
    assert_eq!(number(&v, "size"), 2000.0);
    assert_eq!(v["store"], "sqlite");
}

#[cfg_attr(
    not(postgres_url_set),
    ignore = "NOT RUN: the PostgreSQL variant needs HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
#[test]
fn queue_on_postgres_quick_mode_reports_listing_and_analytics_latencies() {
    let v = bench(&[
        "queue",
        "--store",
        "postgres",
        "--size",
        "2000",
        "--tenants",
        "4",
        "--customers",
        "10",
        "--agents",
        "2",
        "--queries",
        "20",
        "--analytics-runs",
        "2",
    ]);
    positive(
        &v,
        &[
            "queue_p50_ms",
            "queue_p99_ms",
            "customer_p99_ms",
            "analytics_ms",
            "db_bytes",
        ],
    );
    assert!(number(&v, "queue_p50_ms") <= number(&v, "queue_p99_ms"));
    assert_eq!(v["store"], "postgres");
    assert_eq!(number(&v, "tenants"), 4.0);
}

#[cfg_attr(
    not(postgres_url_set),
    ignore = "NOT RUN: the PostgreSQL variant needs HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
#[test]
fn intake_postgres_quick_mode_reports_both_rates_and_their_ratio() {
    let v = bench(&[
        "intake-postgres",
        "--n",
        "20",
        "--rounds",
        "2",
        "--warmup",
        "2",
        "--customers",
        "3",
    ]);
    positive(&v, &["helpdesk_per_s", "baseline_per_s", "ratio"]);
    let ratio = number(&v, "helpdesk_per_s") / number(&v, "baseline_per_s");
    assert!((number(&v, "ratio") - ratio).abs() < 1e-9 * ratio.max(1.0));
    assert_eq!(v["backend"], "postgres");
    let durability = v["durability"].as_str().unwrap();
    assert!(durability.starts_with("fsync "), "{durability}");
}

#[test]
fn queue_on_postgres_without_a_server_url_says_what_is_missing() {
    let out = Command::new(env!("CARGO_BIN_EXE_helpdesk-bench"))
        .args(["queue", "--store", "postgres", "--size", "10"])
        .env_remove("HELPDESK_POSTGRES_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("HELPDESK_POSTGRES_URL"), "{stderr}");
}

#[test]
fn http_quick_mode_reports_create_and_queue_latencies_over_loopback() {
    let v = bench(&[
        "http",
        "--size",
        "500",
        "--clients",
        "2",
        "--requests",
        "10",
    ]);
    positive(
        &v,
        &[
            "creates_per_s",
            "create_p50_ms",
            "create_p99_ms",
            "queue_p50_ms",
            "queue_p99_ms",
            "queue_per_s",
        ],
    );
    assert!(number(&v, "create_p50_ms") <= number(&v, "create_p99_ms"));
    assert_eq!(number(&v, "clients"), 2.0);
}

#[test]
fn kb_quick_mode_reports_build_latency_and_recall() {
    let v = bench(&[
        "kb",
        "--size",
        "600",
        "--dims",
        "32",
        "--clusters",
        "10",
        "--local-dims",
        "4",
        "--queries",
        "50",
        "--recall-queries",
        "20",
    ]);
    positive(&v, &["build_s", "p50_ms", "p99_ms", "exact_p50_ms"]);
    let recall = number(&v, "recall_at_10");
    assert!((0.0..=1.0).contains(&recall), "recall {recall}");
    assert!(
        recall > 0.5,
        "a 600-point graph should find most neighbours: {recall}"
    );
}

#[test]
fn ai_turn_quick_mode_reports_chat_and_draft_latencies() {
    let v = bench(&["ai-turn", "--n", "10", "--turns", "3", "--warmup", "2"]);
    positive(
        &v,
        &[
            "chat_p50_ms",
            "chat_p99_ms",
            "chat_first_p50_ms",
            "chat_first_p99_ms",
            "chat_later_p99_ms",
            "draft_p50_ms",
            "draft_p99_ms",
        ],
    );
    assert!(number(&v, "chat_p50_ms") <= number(&v, "chat_p99_ms"));
    assert!(number(&v, "chat_first_p50_ms") <= number(&v, "chat_first_p99_ms"));
    // With ten turns every p99 is a maximum, and each turn is a first or a later one.
    let worst = number(&v, "chat_first_p99_ms").max(number(&v, "chat_later_p99_ms"));
    assert!((number(&v, "chat_p99_ms") - worst).abs() < 1e-9);
}

#[test]
fn embed_quick_mode_reports_rust_and_python_rates_when_the_model_is_set_up() {
    if std::env::var_os("HELPDESK_MODEL_DIR").is_none() {
        eprintln!(
            "skipped: HELPDESK_MODEL_DIR is not set (run `eval \"$(scripts/setup-model.sh)\"`)"
        );
        return;
    }
    let v = bench(&["embed", "--n", "16", "--reps", "1", "--batch", "8"]);
    positive(&v, &["per_s", "python_per_s", "ratio"]);
}

#[test]
fn email_quick_mode_reports_rates_outcomes_and_store_cost_in_process_and_through_the_pipe() {
    let v = bench(&[
        "email",
        "--messages",
        "30",
        "--pipe",
        "4",
        "--duplicate-every",
        "10",
        "--helpdesk-bin",
        env!("CARGO_BIN_EXE_helpdesk"),
    ]);
    positive(
        &v,
        &[
            "per_s",
            "p50_ms",
            "p95_ms",
            "round_trips_per_message",
            "calls_per_message",
            "commits_per_message",
            "pipe_per_s",
            "pipe_p50_ms",
        ],
    );
    assert!(number(&v, "p50_ms") <= number(&v, "p95_ms"));
    assert_eq!(number(&v, "messages"), 30.0);
    assert_eq!(number(&v, "pipe_messages"), 4.0);
    let outcomes = v["outcomes"].as_object().unwrap();
    let total: f64 = outcomes.values().map(|n| n.as_f64().unwrap()).sum();
    assert_eq!(total, 30.0, "every message has one outcome: {outcomes:?}");
    for kind in ["opened", "duplicate"] {
        assert!(outcomes.contains_key(kind), "no {kind} in {outcomes:?}");
    }
    assert!(
        outcomes.keys().any(|k| k.starts_with("quarantined:")),
        "the corpus's automatic shapes are quarantined: {outcomes:?}"
    );
    let piped = v["pipe_outcomes"].as_object().unwrap();
    let piped_total: f64 = piped.values().map(|n| n.as_f64().unwrap()).sum();
    assert_eq!(piped_total, 4.0, "{piped:?}");
    assert!(!piped.contains_key("other"), "{piped:?}");
}

#[test]
fn email_imap_quick_mode_reports_arrival_to_ticket_when_dovecot_runs() {
    if std::env::var_os("HELPDESK_IMAP_HOST").is_none() {
        eprintln!(
            "skipped: HELPDESK_IMAP_HOST is not set (run `eval \"$(scripts/start-dovecot.sh)\"`)"
        );
        return;
    }
    let v = bench(&["email-imap", "--messages", "5", "--polls", "2"]);
    positive(
        &v,
        &[
            "idle_p50_ms",
            "idle_p95_ms",
            "idle_max_ms",
            "poll_p50_ms",
            "poll_p95_ms",
        ],
    );
    assert!(number(&v, "idle_p50_ms") <= number(&v, "idle_max_ms"));
    assert_eq!(number(&v, "messages"), 5.0);
    assert_eq!(number(&v, "polls"), 2.0);
}
