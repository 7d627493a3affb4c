//! Enables the model-dependent tests (cfg `helpdesk_model`) when HELPDESK_MODEL_DIR is set.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(helpdesk_model)");
    println!("cargo:rerun-if-env-changed=HELPDESK_MODEL_DIR");
    println!("cargo:rerun-if-env-changed=ORT_DYLIB_PATH");
    if std::env::var_os("HELPDESK_MODEL_DIR").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=helpdesk_model");
    }
}
