//! A misspelt field is reported at its key, with the section it is in and
//! the fields that section accepts.

mod common;

use common::{GOOD, RunConfig, error, parse, write_config};
use rapt_config::{ConfigError, Location, Position};

#[test]
fn typo_in_nested_section_names_section_and_expected_fields() {
    let text = GOOD.replace("learning_rate: 0.001", "lerning_rate: 0.001");
    assert_eq!(
        error(&text, &[]),
        "configs/x.ron:5:9: unknown field `lerning_rate` in `ppo`, \
         expected one of `learning_rate`, `gamma`, `num_envs`"
    );
}

#[test]
fn typo_at_top_level_lists_top_level_fields() {
    let text = GOOD.replace("device: Cuda(0)", "devise: Cuda(0)");
    assert_eq!(
        error(&text, &[]),
        "configs/x.ron:9:5: unknown field `devise`, \
         expected one of `name`, `ppo`, `device`, `seed`, `layers`"
    );
}

#[test]
fn typo_diagnostic_carries_field_path_and_position() {
    let text = GOOD.replace("gamma: 0.9", "gama: 0.9");
    let err = parse(&text, &[]).unwrap_err();
    let [diagnostic] = err.diagnostics() else {
        panic!("one diagnostic expected: {err}")
    };
    assert_eq!(diagnostic.field.as_deref(), Some("ppo.gama"));
    assert_eq!(
        diagnostic.location,
        Location::File {
            name: "configs/x.ron".into(),
            position: Position { line: 6, column: 9 }
        }
    );
}

#[test]
fn typo_in_file_on_disk_names_its_path() {
    let text = GOOD.replace("num_envs: 4", "num_env: 4");
    let path = write_config("typo_in_file_on_disk", &text);
    let err = rapt_config::load::<RunConfig>(&path, &[]).unwrap_err();
    assert!(matches!(err, ConfigError::Parse(_)));
    assert_eq!(
        err.to_string(),
        format!(
            "{}:7:9: unknown field `num_env` in `ppo`, expected one of `learning_rate`, `gamma`, `num_envs`",
            path.display()
        )
    );
}
