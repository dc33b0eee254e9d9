//! A value of the wrong type is reported at the value, with the dotted
//! path of its field.

mod common;

use common::{GOOD, error};

#[test]
fn string_for_float_names_nested_field() {
    let text = GOOD.replace("gamma: 0.9", "gamma: \"a\"");
    assert_eq!(
        error(&text, &[]),
        "configs/x.ron:6:16: ppo.gamma: expected float, found `\"a\"`"
    );
}

#[test]
fn unknown_enum_variant_lists_variants() {
    let text = GOOD.replace("Cuda(0)", "Gpu(0)");
    assert_eq!(
        error(&text, &[]),
        "configs/x.ron:9:13: device: unknown variant `Gpu`, expected one of `Cpu`, `Cuda`"
    );
}

#[test]
fn wrong_type_inside_enum_variant_points_at_the_payload() {
    let text = GOOD.replace("Cuda(0)", "Cuda(\"x\")");
    assert_eq!(
        error(&text, &[]),
        "configs/x.ron:9:18: device: expected integer, found `\"x\"`"
    );
}

#[test]
fn wrong_type_for_an_option_names_the_inner_type() {
    // A bare value is fine for an optional field (`implicit_some`); a wrong one is not.
    let text = GOOD.replace("Some(7)", "\"7\"");
    assert_eq!(
        error(&text, &[]),
        "configs/x.ron:10:11: seed: expected integer, found `\"7\"`"
    );
}

#[test]
fn bad_list_element_names_its_index() {
    let text = GOOD.replace("[64, 64]", "[64, -3]");
    assert_eq!(
        error(&text, &[]),
        "configs/x.ron:11:18: layers[1]: integer `-3` is out of bounds"
    );
}

#[test]
fn float_for_integer_points_at_the_value() {
    let text = GOOD.replace("num_envs: 4", "num_envs: 4.5");
    assert_eq!(
        error(&text, &[]),
        "configs/x.ron:7:19: ppo.num_envs: cannot parse `4.5`: expected comma"
    );
}
