//! The locator maps dotted paths to source positions and offsets to paths.

use rapt_config::{BodyKind, Locator, Position};

const TEXT: &str = r#"Config(
    env: (
        name: "reach /* not a comment */",
        params: { "gravity": -9.81, friction: 0.5 },
    ),
    layers: [(units: 64), (units: 32)],
    device: Cuda(0), // trailing comment
)"#;

#[test]
fn position_of_finds_keys_by_path() {
    let l = Locator::scan(TEXT);
    assert!(l.is_complete());
    assert_eq!(
        l.position_of("env.params.gravity"),
        Some(Position {
            line: 4,
            column: 19
        })
    );
    assert_eq!(
        l.position_of("env.params.friction"),
        Some(Position {
            line: 4,
            column: 37
        })
    );
    assert_eq!(
        l.position_of("layers[1].units"),
        Some(Position {
            line: 6,
            column: 28
        })
    );
    assert_eq!(
        l.position_of("layers[1]"),
        Some(Position {
            line: 6,
            column: 27
        })
    );
    assert_eq!(l.position_of("env.nope"), None);
}

#[test]
fn path_at_finds_innermost_field() {
    let l = Locator::scan(TEXT);
    let at = |needle: &str| l.path_at(TEXT.find(needle).unwrap());
    assert_eq!(at("-9.81"), Some("env.params.gravity"));
    assert_eq!(at("not a comment"), Some("env.name"));
    assert_eq!(at("units: 32"), Some("layers[1].units"));
    assert_eq!(at("Cuda"), Some("device"));
    assert_eq!(at("// trailing"), None);
}

#[test]
fn bodies_and_value_spans_are_recorded() {
    let l = Locator::scan(TEXT);
    assert_eq!(&TEXT[l.field("device").unwrap().value.clone()], "Cuda(0)");
    assert_eq!(l.body("").unwrap().kind, BodyKind::Struct);
    let params = l.body("env.params").unwrap();
    assert_eq!(params.kind, BodyKind::Map);
    assert_eq!(
        &TEXT[params.span.clone()],
        r#" "gravity": -9.81, friction: 0.5 "#
    );
}
