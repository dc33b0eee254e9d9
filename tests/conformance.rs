//! Every registered environment passes the conformance checker.

use rapt_core::conformance::{CheckOptions, check_registered};

#[test]
fn every_registered_env_passes_the_conformance_checker() {
    let registry = rapt::registry();
    let ids = registry.ids();
    assert!(!ids.is_empty());
    for id in &ids {
        let report = check_registered(&registry, id, &CheckOptions::default())
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert!(report.episodes_ended > 0, "{id}: autoreset not exercised");
        assert!(report.warnings.is_empty(), "{id}: {:?}", report.warnings);
        eprintln!("{id}: passed {:?}", report.passed);
    }
}

#[test]
fn every_registered_env_states_its_task_in_words() {
    let registry = rapt::registry();
    for id in registry.ids() {
        let env = registry.make(&id, "", None).unwrap();
        let task = env.task();
        assert!(
            task.len() > 20
                && task.ends_with('.')
                && task.chars().next().is_some_and(char::is_uppercase),
            "{id}: a task instruction, not `{task}`"
        );
    }
}
