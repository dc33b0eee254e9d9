//! Malformed RON is reported at the line and column where parsing failed.

mod common;

use common::{GOOD, error};

#[test]
fn missing_closing_paren_of_enum_value() {
    let text = GOOD.replace("Cuda(0),", "Cuda(0");
    assert_eq!(
        error(&text, &[]),
        "configs/x.ron:10:5: device: expected closing `)`, found `seed`"
    );
}

#[test]
fn missing_closing_paren_of_whole_config() {
    let text = GOOD.trim_end().trim_end_matches(')');
    assert_eq!(
        error(text, &[]),
        "configs/x.ron:11:22: unexpected end of RON"
    );
}

#[test]
fn missing_comma_between_fields() {
    let text = GOOD.replace("gamma: 0.9,", "gamma: 0.9");
    assert_eq!(
        error(&text, &[]),
        "configs/x.ron:7:9: ppo: expected comma, found `num_envs`"
    );
}

#[test]
fn unterminated_string() {
    let text = GOOD.replace("\"cartpole\"", "\"cartpole");
    assert_eq!(
        error(&text, &[]),
        "configs/x.ron:3:11: name: expected end of string"
    );
}

#[test]
fn syntax_error_in_file_wins_over_overrides() {
    let text = GOOD.replace("Cuda(0),", "Cuda(0");
    assert_eq!(
        error(&text, &["ppo.gamma=0.5", "extra.field=1"]),
        "configs/x.ron:10:5: device: expected closing `)`, found `seed`"
    );
}

#[test]
fn empty_file() {
    assert_eq!(
        error("", &[]),
        "configs/x.ron:1:1: expected opening `(` for struct `RunConfig`"
    );
}
