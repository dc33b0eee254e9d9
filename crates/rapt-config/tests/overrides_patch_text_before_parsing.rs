//! `--set path=value` overrides replace or insert text before parsing, and
//! errors they cause name the override.

mod common;

use common::{Device, GOOD, error, parse};
use rapt_config::{ConfigError, Location};

#[test]
fn override_replaces_existing_values() {
    let loaded = parse(
        GOOD,
        &[
            "ppo.gamma=0.5",
            "device=Cpu",
            "seed=None",
            "layers=[1, 2, 3]",
        ],
    )
    .unwrap();
    let config = loaded.config;
    assert_eq!(config.ppo.gamma, 0.5);
    assert_eq!(config.ppo.learning_rate, 0.001);
    assert_eq!(config.device, Device::Cpu);
    assert_eq!(config.seed, None);
    assert_eq!(config.layers, [1, 2, 3]);
}

#[test]
fn override_sets_enum_with_payload_and_list_element() {
    let loaded = parse(GOOD, &["device=Cuda(3)", "layers[1]=32", "seed=Some(1)"]).unwrap();
    assert_eq!(loaded.config.device, Device::Cuda(3));
    assert_eq!(loaded.config.layers, [64, 32]);
    assert_eq!(loaded.config.seed, Some(1));
}

#[test]
fn override_inserts_missing_field() {
    let text = GOOD.replace("        num_envs: 4,\n", "");
    let loaded = parse(&text, &["ppo.num_envs=16"]).unwrap();
    assert_eq!(loaded.config.ppo.num_envs, 16);
    assert_eq!(loaded.config.ppo.gamma, 0.9);
}

#[test]
fn override_inserts_into_missing_section() {
    let loaded = parse("(name: \"x\")", &["ppo.gamma=0.5", "seed=Some(3)"]).unwrap();
    assert_eq!(loaded.config.ppo.gamma, 0.5);
    assert_eq!(
        loaded.config.ppo.num_envs, 8,
        "other fields keep their defaults"
    );
    assert_eq!(loaded.config.seed, Some(3));
}

#[test]
fn override_works_with_named_top_level_and_sections() {
    let text = "RunConfig(name: \"x\", ppo: Ppo(gamma: 0.5))";
    let loaded = parse(text, &["ppo.num_envs=2", "device=Cuda(1)"]).unwrap();
    assert_eq!(loaded.config.ppo.num_envs, 2);
    assert_eq!(loaded.config.ppo.gamma, 0.5);
    assert_eq!(loaded.config.device, Device::Cuda(1));
}

#[test]
fn last_override_of_a_field_wins() {
    let loaded = parse(GOOD, &["ppo.gamma=0.5", "ppo.gamma=0.25"]).unwrap();
    assert_eq!(loaded.config.ppo.gamma, 0.25);
}

#[test]
fn override_with_bad_value_names_the_set() {
    assert_eq!(
        error(GOOD, &["ppo.gamma=\"fast\""]),
        "--set ppo.gamma=\"fast\": ppo.gamma: expected float, found `\"fast\"`"
    );
    assert_eq!(
        error(GOOD, &["device=Gpu(1)"]),
        "--set device=Gpu(1): device: unknown variant `Gpu`, expected one of `Cpu`, `Cuda`"
    );
    assert_eq!(
        error("(name: \"x\")", &["ppo.gama=1"]),
        "--set ppo.gama=1: unknown field `gama` in `ppo`, expected one of `learning_rate`, `gamma`, `num_envs`"
    );
}

#[test]
fn override_failing_validation_names_the_set() {
    let err = parse(GOOD, &["ppo.gamma=2"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--set ppo.gamma=2: ppo.gamma = 2 is out of range, expected 0 ≤ gamma ≤ 1"
    );
    assert_eq!(
        err.diagnostics()[0].location,
        Location::Override {
            set: "ppo.gamma=2".into()
        }
    );
}

#[test]
fn errors_after_inserted_text_keep_original_positions() {
    // The insertion lands before `)` in column 18, the error is in column 30.
    assert_eq!(
        error("(ppo: (gamma: 0.5), layers: [-1])", &["ppo.num_envs=2"]),
        "configs/x.ron:1:30: layers[0]: integer `-1` is out of bounds"
    );
    // Values replaced by longer text on earlier lines and on the same line
    // (in the patched text, `-3` sits in column 26).
    let text = GOOD.replace("[64, 64]", "[64, -3]");
    assert_eq!(
        error(
            &text,
            &[
                "ppo.gamma=0.123456789",
                "name=\"a much longer name\"",
                "layers[0]=1234567"
            ]
        ),
        "configs/x.ron:11:18: layers[1]: integer `-3` is out of bounds"
    );
}

#[test]
fn bad_override_syntax_names_the_override() {
    let cases = [
        (
            "gamma",
            "--set gamma: expected `path=value`, e.g. `--set ppo.gamma=0.99`",
        ),
        ("=1", "--set =1: empty field path"),
        (
            "ppo..gamma=1",
            "--set ppo..gamma=1: invalid field path `ppo..gamma`",
        ),
        ("ppo.gamma=", "--set ppo.gamma=: empty value"),
        (
            "ppo.gamma=1 2",
            "--set ppo.gamma=1 2: `1 2` is not a single RON value",
        ),
        (
            "device=Cuda(1",
            "--set device=Cuda(1: `Cuda(1` is not a single RON value",
        ),
    ];
    for (set, expected) in cases {
        let err = parse(GOOD, &[set]).unwrap_err();
        assert!(
            matches!(err, ConfigError::Override { .. }),
            "{set}: {err:?}"
        );
        assert_eq!(err.to_string(), expected);
    }
}

#[test]
fn override_below_a_plain_value_is_refused() {
    assert_eq!(
        error(GOOD, &["name.first=\"a\""]),
        "--set name.first=\"a\": `name` in configs/x.ron is not a struct or map, so `name.first` cannot be set"
    );
    assert_eq!(
        error(GOOD, &["layers[5]=1"]),
        "--set layers[5]=1: `layers[5]` does not exist in configs/x.ron, and list elements cannot be added"
    );
}
