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

/// Every package's normal (not dev or build) dependencies, transitively, by name, from
/// `cargo metadata`.
fn dependency_closure() -> BTreeMap<String, std::collections::BTreeSet<String>> {
    // Only this machine's platform: the other platforms' crates are never downloaded.
    let rustc = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc -vV names the host");
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", &host])
        .current_dir(ROOT)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let name_of: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let mut direct: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null())
            })
            .map(|d| d["pkg"].as_str().unwrap())
            .collect();
        direct.insert(node["id"].as_str().unwrap(), deps);
    }
    let mut closure = BTreeMap::new();
    for (&id, name) in &name_of {
        let mut seen = std::collections::BTreeSet::new();
        let mut stack = vec![id];
        while let Some(p) = stack.pop() {
            for &d in direct.get(p).into_iter().flatten() {
                if seen.insert(name_of[d].to_string()) {
                    stack.push(d);
                }
            }
        }
        closure.insert(name.to_string(), seen);
    }
    closure
}

#[test]
fn envs_never_link_libtorch_and_learners_never_link_rapier() {
    let closure = dependency_closure();
    let no_torch = [
        "rapt-core",
        "rapt-config",
        "rapt-sim",
        "rapt-classic",
        "rapt-manip",
        "rapt-drive",
        "rapt-registry",
        "rapt-shaping",
        // The Python package: a second libtorch beside PyTorch's would break `import torch`.
        "rapt-py",
        // The OpenAI-compatible serving and client side, which the Python package will use.
        "rapt-progress-http",
        "rapt-rundir",
    ];
    for name in no_torch {
        let deps = &closure[name];
        assert!(
            !deps.contains("tch") && !deps.contains("torch-sys"),
            "{name} must not depend on tch or torch-sys (environment crates and the registry stay free of libtorch)"
        );
    }
    for name in ["rapt-ppo", "rapt-reward-model"] {
        let deps = &closure[name];
        assert!(
            !deps.contains("rapier3d") && !deps.contains("rapt-sim"),
            "{name} must not depend on rapier (the learner never sees the physics)"
        );
    }
    // The check itself sees transitive dependencies.
    assert!(closure["rapt-registry"].contains("rapier3d"));
    assert!(closure["rapt-reward-model"].contains("torch-sys"));
}

/// The run layer (run directories, checkpoint directories, the logger) is plumbing every
/// trainer shares: it depends on no other rapt crate, and every trainer takes its plumbing
/// from it. Shaping knows neither libtorch nor HTTP; the HTTP side knows no libtorch and
/// no physics; the env API knows no other rapt crate.
#[test]
fn the_run_layer_stands_alone() {
    let closure = dependency_closure();
    let run = &closure["rapt-rundir"];
    assert!(
        run.iter().all(|d| !d.starts_with("rapt-")),
        "rapt-rundir must not depend on other rapt crates: {run:?}"
    );
    for name in ["rapt-ppo", "rapt-reward-model", "rapt-run"] {
        assert!(
            closure[name].contains("rapt-rundir"),
            "{name} uses rapt-rundir"
        );
    }
    let shaping = &closure["rapt-shaping"];
    for forbidden in ["tch", "torch-sys", "ureq", "tiny_http", "rapier3d"] {
        assert!(
            !shaping.contains(forbidden),
            "rapt-shaping must not depend on {forbidden}"
        );
    }
    let http = &closure["rapt-progress-http"];
    for forbidden in ["tch", "torch-sys", "rapier3d", "rapt-sim"] {
        assert!(
            !http.contains(forbidden),
            "rapt-progress-http must not depend on {forbidden}"
        );
    }
    assert!(
        closure["rapt-core"].iter().all(|d| !d.starts_with("rapt-")),
        "rapt-core depends on no other rapt crate"
    );
}
