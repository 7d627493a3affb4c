//! Enables the SMTP end-to-end test when the shared Python venv (made by
//! `scripts/python-env.sh`, with aiosmtpd) exists at build time, and tells the test where
//! its python is (`HELPDESK_VENV_PYTHON`); enables the PostgreSQL web tests when
//! `HELPDESK_POSTGRES_URL` is set at build time and the MongoDB ones when `MONGODB_URI` is.
use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_url_set)");
    println!("cargo:rerun-if-env-changed=HELPDESK_POSTGRES_URL");
    if std::env::var_os("HELPDESK_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=postgres_url_set");
    }
    println!("cargo::rustc-check-cfg=cfg(mongodb_uri_set)");
    println!("cargo:rerun-if-env-changed=MONGODB_URI");
    if std::env::var_os("MONGODB_URI").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=mongodb_uri_set");
    }
    println!("cargo::rustc-check-cfg=cfg(helpdesk_venv)");
    println!("cargo:rerun-if-env-changed=HELPDESK_CACHE");
    println!("cargo:rerun-if-env-changed=HOME");
    let cache = match std::env::var_os("HELPDESK_CACHE").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".cache").join("helpdesk"),
            None => return,
        },
    };
    let python = cache.join("venv").join("bin").join("python");
    println!("cargo:rerun-if-changed={}", python.display());
    if python.exists() {
        println!("cargo:rustc-cfg=helpdesk_venv");
        println!("cargo:rustc-env=HELPDESK_VENV_PYTHON={}", python.display());
    }
}
