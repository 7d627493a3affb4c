//! Emits `cfg(openai_compat_url_set)` when `HELPDESK_OPENAI_COMPAT_URL` is set, so the tests
//! against a real OpenAI-compatible server (scripts/start-llama.sh) run only then, and are
//! listed as ignored, with the reason, otherwise.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(openai_compat_url_set)");
    println!("cargo:rerun-if-env-changed=HELPDESK_OPENAI_COMPAT_URL");
    if std::env::var_os("HELPDESK_OPENAI_COMPAT_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=openai_compat_url_set");
    }
}
