//! Validation problems point at the offending value (or say the value is a
//! default), and all of them are reported together.

mod common;

use common::{GOOD, error, parse};
use rapt_config::{ConfigError, Location};

#[test]
fn out_of_range_names_location_field_and_range() {
    let text = GOOD.replace("gamma: 0.9", "gamma: 1.5");
    assert_eq!(
        error(&text, &[]),
        "configs/x.ron:6:16: ppo.gamma = 1.5 is out of range, expected 0 ≤ gamma ≤ 1"
    );
}

#[test]
fn every_problem_is_reported_one_per_line() {
    let text = GOOD
        .replace("\"cartpole\"", "\"\"")
        .replace("gamma: 0.9", "gamma: 1.5")
        .replace("num_envs: 4", "num_envs: 0")
        .replace("[64, 64]", "[64, 0]");
    let err = parse(&text, &[]).unwrap_err();
    assert!(matches!(&err, ConfigError::Invalid(problems) if problems.len() == 4));
    assert_eq!(
        err.to_string(),
        "configs/x.ron:3:11: name: must not be empty\n\
         configs/x.ron:6:16: ppo.gamma = 1.5 is out of range, expected 0 ≤ gamma ≤ 1\n\
         configs/x.ron:7:19: ppo.num_envs = 0 is out of range, expected num_envs > 0\n\
         configs/x.ron:11:18: layers[1] = 0 is out of range, expected layers[1] > 0"
    );
    let fields: Vec<_> = err
        .diagnostics()
        .iter()
        .map(|d| d.field.as_deref())
        .collect();
    assert_eq!(
        fields,
        [
            Some("name"),
            Some("ppo.gamma"),
            Some("ppo.num_envs"),
            Some("layers[1]")
        ]
    );
}

#[test]
fn default_values_are_reported_as_defaults() {
    let err = parse("(ppo: (gamma: 2.0))", &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "configs/x.ron: name (default): must not be empty\n\
         configs/x.ron:1:15: ppo.gamma = 2 is out of range, expected 0 ≤ gamma ≤ 1"
    );
    assert_eq!(
        err.diagnostics()[0].location,
        Location::Default {
            name: "configs/x.ron".into()
        }
    );
}

#[test]
fn valid_config_loads() {
    let loaded = parse(GOOD, &[]).unwrap();
    assert_eq!(loaded.config.ppo.num_envs, 4);
    assert_eq!(loaded.config.device, common::Device::Cuda(0));
    assert_eq!(loaded.config.seed, Some(7));
    assert_eq!(loaded.config.layers, [64, 64]);
}
