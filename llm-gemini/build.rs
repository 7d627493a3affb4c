//! Emits `cfg(gemini_live)` when `GEMINI_API_KEY` is set, so the live API test runs only then
//! (and is listed as ignored, with the reason, otherwise).
fn main() {
    println!("cargo:rerun-if-env-changed=GEMINI_API_KEY");
    println!("cargo::rustc-check-cfg=cfg(gemini_live)");
    if std::env::var("GEMINI_API_KEY").is_ok_and(|k| !k.trim().is_empty()) {
        println!("cargo:rustc-cfg=gemini_live");
    }
}
