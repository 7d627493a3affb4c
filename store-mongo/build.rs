//! Emits `cfg(mongodb_uri_set)` when `MONGODB_URI` is set, so the tests that need a server
//! are listed as ignored (with the reason) instead of passing silently without one.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(mongodb_uri_set)");
    println!("cargo:rerun-if-env-changed=MONGODB_URI");
    if std::env::var_os("MONGODB_URI").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=mongodb_uri_set");
    }
}
