// Link settings for every package whose binaries or tests link libtorch through tch.
//
// This one file is the build script of the root `rapt` package and, through
// `build = "../../build.rs"` in their Cargo.toml, of the other packages that link tch
// (crates/rapt-ppo). Each such package must depend on `torch-sys` directly: torch-sys has
// `links = "tch"` and prints `cargo:libtorch_lib=<dir>`, which Cargo passes only to the build
// scripts of direct dependents, as `DEP_TCH_LIBTORCH_LIB`.
//
// * rpath: tch sets none, and an `LD_LIBRARY_PATH` in `.cargo/config.toml` does not reach
//   `cargo run`/`cargo test`; without it the binaries cannot find libtorch. Embed the lib dir.
// * CUDA: rustc links with `--as-needed`, and nothing in our code references
//   libtorch_cuda.so directly, so the linker drops it and torch never registers its CUDA
//   backend (`Cuda::is_available()` is false even on a GPU machine). Force it in whenever the
//   lib dir has it (a full PyTorch or CUDA libtorch; the CPU bootstrap ships none).
//
// See docs/libtorch.md.

use std::env;
use std::path::PathBuf;

fn main() {
    let package = env::var("CARGO_PKG_NAME").unwrap_or_default();
    let Some(lib_dir) = env::var_os("DEP_TCH_LIBTORCH_LIB").map(PathBuf::from) else {
        panic!(
            "DEP_TCH_LIBTORCH_LIB is not set: `{package}` uses the shared tch build script \
             and must list `torch-sys` as a direct dependency"
        );
    };
    let lib = lib_dir.display().to_string();
    // The linker splits `-Wl,` arguments at commas.
    assert!(
        !lib.contains(','),
        "libtorch lib dir {lib:?} contains a comma, which cannot be passed as an rpath"
    );

    // Re-run when libraries appear or vanish in the lib dir. A different lib dir re-runs
    // torch-sys's build script, and Cargo then re-runs this one (it depends on that run).
    println!("cargo:rerun-if-changed={lib}");

    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    if lib_dir.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
