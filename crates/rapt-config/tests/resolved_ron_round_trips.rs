//! `Loaded::resolved_ron` is the final config as RON, loadable again.

mod common;

use common::{GOOD, RunConfig, parse, write_config};

#[test]
fn resolved_ron_loads_back_to_the_same_config() {
    let loaded = parse(GOOD, &["ppo.gamma=0.5", "device=Cuda(2)", "seed=None"]).unwrap();
    let path = write_config("resolved_round_trip", &loaded.resolved_ron);
    let reloaded = rapt_config::load::<RunConfig>(&path, &[]).unwrap();
    assert_eq!(reloaded.config, loaded.config);
    assert_eq!(reloaded.resolved_ron, loaded.resolved_ron);
}

#[test]
fn pretty_serialized_config_round_trips() {
    let config = parse(GOOD, &["layers=[3, 2, 1]"]).unwrap().config;
    let text = ron::ser::to_string_pretty(&config, ron::ser::PrettyConfig::default()).unwrap();
    let path = write_config("pretty_round_trip", &text);
    let reloaded = rapt_config::load::<RunConfig>(&path, &[]).unwrap();
    assert_eq!(reloaded.config, config);
}

#[test]
fn resolved_ron_includes_defaults_and_overrides() {
    let loaded = parse("(name: \"x\")", &["ppo.gamma=0.5"]).unwrap();
    assert!(
        loaded.resolved_ron.contains("gamma: 0.5"),
        "{}",
        loaded.resolved_ron
    );
    assert!(
        loaded.resolved_ron.contains("num_envs: 8"),
        "{}",
        loaded.resolved_ron
    );
    assert!(
        loaded.resolved_ron.contains("device: Cpu"),
        "{}",
        loaded.resolved_ron
    );
}
