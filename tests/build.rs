//! Enables the MongoDB end-to-end test when MONGODB_URI is set at build time.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(mongodb_uri_set)");
    println!("cargo:rerun-if-env-changed=MONGODB_URI");
    if std::env::var_os("MONGODB_URI").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=mongodb_uri_set");
    }
}
