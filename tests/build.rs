//! Enables the MongoDB end-to-end tests when MONGODB_URI is set at build time, and the
//! PostgreSQL ones when HELPDESK_POSTGRES_URL is.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(mongodb_uri_set)");
    println!("cargo::rustc-check-cfg=cfg(postgres_url_set)");
    println!("cargo:rerun-if-env-changed=MONGODB_URI");
    println!("cargo:rerun-if-env-changed=HELPDESK_POSTGRES_URL");
    if std::env::var_os("MONGODB_URI").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=mongodb_uri_set");
    }
    if std::env::var_os("HELPDESK_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=postgres_url_set");
    }
}
