//! docs/ARCHITECTURE.md's crate graph matches the manifests (rapier's went stale; ours is
//! checked).

use std::collections::BTreeMap;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `rapt-*` dependencies listed in the `[dependencies]` table of a manifest.
fn rapt_deps(manifest: &Path) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(manifest).unwrap();
    let mut name = String::new();
    let mut section = String::new();
    let mut deps = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_string();
        } else if section == "[package]" && line.starts_with("name") {
            name = line.split('"').nth(1).unwrap().to_string();
        } else if section == "[dependencies]" && line.starts_with("rapt-") {
            let dep = line.split(['.', ' ', '=']).next().unwrap();
            deps.push(dep.to_string());
        }
    }
    deps.sort();
    (name, deps)
}

#[test]
fn the_crate_graph_in_architecture_md_is_true() {
    let mut actual = BTreeMap::new();
    let (name, deps) = rapt_deps(&Path::new(ROOT).join("Cargo.toml"));
    actual.insert(name, deps);
    for dir in ["crates", "envs"] {
        for entry in std::fs::read_dir(Path::new(ROOT).join(dir)).unwrap() {
            let manifest = entry.unwrap().path().join("Cargo.toml");
            if manifest.exists() {
                let (name, deps) = rapt_deps(&manifest);
                actual.insert(name, deps);
            }
        }
    }
    let doc = std::fs::read_to_string(Path::new(ROOT).join("docs/ARCHITECTURE.md")).unwrap();
    let mut documented = BTreeMap::new();
    let mut in_graph = false;
    for line in doc.lines() {
        if line.starts_with("crate-graph") {
            in_graph = true;
        } else if in_graph && line.starts_with("```") {
            break;
        } else if in_graph {
            let (name, deps) = line.split_once("->").expect("`crate -> deps` lines");
            let mut deps: Vec<String> = deps
                .split(',')
                .map(|d| d.trim().to_string())
                .filter(|d| !d.is_empty())
                .collect();
            deps.sort();
            documented.insert(name.trim().to_string(), deps);
        }
    }
    assert_eq!(
        documented, actual,
        "update the crate graph in docs/ARCHITECTURE.md"
    );
}
