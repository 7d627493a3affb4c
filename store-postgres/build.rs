//! Emits `cfg(postgres_url_set)` when `HELPDESK_POSTGRES_URL` is set, so the tests that need a
//! server are listed as ignored (with the reason) instead of passing silently without one.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_url_set)");
    println!("cargo:rerun-if-env-changed=HELPDESK_POSTGRES_URL");
    if std::env::var_os("HELPDESK_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=postgres_url_set");
    }
}
