//! A bad run config names file:line:column and the field.

use std::path::PathBuf;

fn write(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rapt-bad-configs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn error_of(name: &str, text: &str, sets: &[&str]) -> String {
    let path = write(name, text);
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let err = rapt::config::load(&path, &sets).expect_err("config must be rejected");
    // The message as `rapt train` prints it, with the file's name only.
    err.to_string()
        .replace(&format!("{}", path.display()), name)
}

const GOOD: &str = "(\n    env: (\n        id: \"CartPole-v1\",\n        num_envs: 4,\n    ),\n    train: (\n        total_steps: 1000,\n    ),\n)\n";

#[test]
fn the_shipped_configs_load() {
    let configs = concat!(env!("CARGO_MANIFEST_DIR"), "/configs");
    for entry in std::fs::read_dir(configs).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            rapt::config::load(&path, &[]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
    // The ablation specs (`scripts/ablate.sh`): every line's config with its overrides.
    for entry in std::fs::read_dir(format!("{configs}/ablations")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let sets: Vec<String> = words[2..]
                .chunks(2)
                .map(|pair| {
                    assert_eq!(pair[0], "--set", "{}: {line}", path.display());
                    pair[1].to_owned()
                })
                .collect();
            let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(words[1]);
            rapt::config::load(&config, &sets)
                .unwrap_or_else(|e| panic!("{}: {line}: {e}", path.display()));
        }
    }
    // Reward-model training settings, and the recipes (`rapt reward-model build`), whose
    // run configs must be shaped by the oracle as the recipe accepts: potential shaping
    // (Push, PickPlace) or progress as reward (Insert; docs/ARCHITECTURE.md).
    for entry in std::fs::read_dir(format!("{configs}/reward-models")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        if name.starts_with("recipe-") {
            let recipe = rapt::reward_recipe::RecipeConfig::load(&path, &[])
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let run = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&recipe.ppo_config);
            let cfg = rapt::config::load(&run, &[]).unwrap().config;
            assert!(
                matches!(
                    cfg.shaping,
                    rapt_shaping::Shaping::Potential { .. }
                        | rapt_shaping::Shaping::ProgressAsReward { .. }
                ),
                "{}: {} is not shaped by a progress model",
                path.display(),
                run.display()
            );
            continue;
        }
        rapt_reward_model::RewardModelConfig::from_ron(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let err = rapt_reward_model::RewardModelConfig::from_ron("(epochs: 0, view_dropout: 1.5)")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("epochs") && err.contains("view_dropout"),
        "{err}"
    );
    let err = rapt_reward_model::RewardModelConfig::from_ron("(\n  epoch: 3)")
        .unwrap_err()
        .to_string();
    assert!(err.contains("2:3") && err.contains("epoch"), "{err}");
    let path = write("good.ron", GOOD);
    let loaded = rapt::config::load(&path, &[]).unwrap();
    assert_eq!(loaded.config.env.num_envs, 4);
}

#[test]
fn a_typo_in_a_field_names_its_position_and_the_expected_fields() {
    let text = GOOD.replace("num_envs: 4", "num_env: 4");
    let msg = error_of("typo.ron", &text, &[]);
    assert!(msg.contains("typo.ron:4:9"), "{msg}");
    assert!(msg.contains("num_env"), "{msg}");
    assert!(msg.contains("num_envs"), "expected fields listed: {msg}");
}

#[test]
fn a_wrong_type_names_its_position_and_the_field() {
    let text = GOOD.replace("total_steps: 1000", "total_steps: \"many\"");
    let msg = error_of("type.ron", &text, &[]);
    assert!(msg.contains("type.ron:7:22"), "{msg}");
    assert!(msg.contains("train.total_steps"), "{msg}");
}

#[test]
fn an_out_of_range_value_names_its_position_the_field_and_the_range() {
    let text = GOOD.replace("num_envs: 4", "num_envs: 4,\n        threads: 9");
    let msg = error_of("range.ron", &text, &[]);
    assert!(msg.contains("range.ron:5:18"), "{msg}");
    assert!(msg.contains("env.threads = 9"), "{msg}");
    assert!(msg.contains("1 ≤ threads ≤ 4"), "{msg}");
}

#[test]
fn an_unknown_env_id_lists_the_registered_ones() {
    let text = GOOD.replace("CartPole-v1", "CartPole-v9");
    let msg = error_of("id.ron", &text, &[]);
    assert!(msg.contains("id.ron:3:13"), "{msg}");
    assert!(msg.contains("env.id"), "{msg}");
    assert!(msg.contains("Pendulum-v1"), "{msg}");
}

#[test]
fn bad_env_params_name_the_parameter() {
    let text = GOOD.replace(
        "num_envs: 4,",
        "num_envs: 4,\n        params: (gravity: -1.0),",
    );
    let msg = error_of("params.ron", &text, &[]);
    assert!(msg.contains("params.ron:5:27"), "{msg}");
    assert!(msg.contains("gravity"), "{msg}");
    // 100,000 camera views (each step would render them all): a view at most once.
    let views = vec!["\"front\""; 100_000].join(", ");
    let text = format!(
        "(\n    env: (\n        id: \"Push-v0\",\n        params: (camera: Some((views: [{views}]))),\n    ),\n)\n"
    );
    let msg = error_of("views.ron", &text, &[]);
    assert!(
        msg.contains("camera.views") && msg.contains("`front` twice"),
        "{msg}"
    );
}

#[test]
fn a_mistake_inside_env_params_names_its_own_line_and_column() {
    let text = GOOD.replace(
        "num_envs: 4,",
        "num_envs: 4,\n        params: (\n            gravity: 9.8,\n            masspole: 0.1,\n        ),",
    );
    let msg = error_of("inner.ron", &text, &[]);
    assert!(msg.contains("inner.ron:7:13"), "{msg}");
    assert!(
        msg.contains("env.params") && msg.contains("masspole"),
        "{msg}"
    );
    // On the first line of the parameters, the column counts from the file's line.
    let text = GOOD.replace("num_envs: 4,", "num_envs: 4, params: (gravty: 1.0),");
    let msg = error_of("inline.ron", &text, &[]);
    assert!(msg.contains("inline.ron:4:31"), "{msg}");
}

#[test]
fn an_override_with_a_bad_value_names_the_override() {
    let msg = error_of("set.ron", GOOD, &["env.num_envs=0"]);
    assert!(msg.contains("--set env.num_envs=0"), "{msg}");
    // A string whose quotes the shell ate gets the spelling that survives a shell.
    for set in ["env.id=Pendulum-v1", "name=foo"] {
        let (path, value) = set.split_once('=').unwrap();
        let msg = error_of("set.ron", GOOD, &[set]);
        let hint = format!("write --set '{path}=\"{value}\"' in a shell");
        assert!(
            msg.starts_with(&format!("--set {set}:")) && msg.contains(&hint),
            "{msg}"
        );
    }
    // An element of a list the file holds: the problem with the list is the override's.
    let text = GOOD.replace("    train: (", "    ppo: (hidden: [64, 64]),\n    train: (");
    let msg = error_of("set.ron", &text, &["ppo.hidden[0]=0"]);
    assert!(msg.starts_with("--set ppo.hidden[0]=0:"), "{msg}");
    assert!(msg.contains("every width must be 1 to 65536"), "{msg}");
    // The same problem written in the file stays the file's.
    let msg = error_of("set.ron", &text.replace("[64, 64]", "[0, 64]"), &[]);
    assert!(msg.starts_with("set.ron:"), "{msg}");
}

#[test]
fn an_empty_cnn_is_rejected_naming_the_field() {
    let err = error_of(
        "cnn.ron",
        "(env: (id: \"Reach-v0\"), ppo: (encoder: Cnn(channels: [])))",
        &[],
    );
    assert!(
        err.contains("ppo.encoder") && err.contains("at least one convolution"),
        "{err}"
    );
}

#[test]
fn a_cnn_encoder_on_a_vector_observation_says_what_is_missing() {
    let sets = ["train.total_steps=800", "ppo.encoder=Cnn()"].map(String::from);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/reach.ron");
    let cfg = rapt::config::load(&path, &sets).unwrap().config;
    let dir = std::env::temp_dir().join(format!("rapt-cnn-vector-{}", std::process::id()));
    let err = format!("{:#}", rapt_run::train_new(&cfg, &dir).unwrap_err());
    assert!(
        err.contains("Reach-v0") && err.contains("Cnn needs an image"),
        "{err}"
    );
    assert!(!dir.exists(), "a run that cannot start claims no directory");
}

#[test]
fn a_shaping_gamma_other_than_the_learners_is_a_config_error() {
    let err = error_of(
        "gamma.ron",
        "(env: (id: \"Push-v0\"), ppo: (gamma: 0.98), shaping: Potential(model: Oracle, gamma: Some(0.9)))",
        &[],
    );
    assert!(
        err.contains("shaping") && err.contains("0.9") && err.contains("0.98"),
        "{err}"
    );
}

#[test]
fn shaping_an_env_without_progress_says_so() {
    let err = error_of(
        "cartpole.ron",
        "(env: (id: \"CartPole-v1\"), shaping: Potential(model: Oracle))",
        &[],
    );
    assert!(
        err.contains("shaping") && err.contains("CartPole-v1") && err.contains("phi"),
        "{err}"
    );
}

#[test]
fn every_shaping_problem_names_its_line_column_and_field() {
    let text = "(\n    env: (id: \"Push-v0\"),\n    ppo: (gamma: 0.98),\n    shaping: Potential(\n        model: Remote(\n            url: \"ftp://host/v1\",\n            model: \"m\",\n            protocol: Progress,\n            views: [\"front\"],\n            max_in_flight: 1000000,\n        ),\n        scale: 1e30,\n    ),\n)\n";
    let err = error_of("remote.ron", text, &[]);
    for (at, field) in [
        ("remote.ron:6:18", "shaping.model.url"),
        ("remote.ron:10:28", "shaping.model.max_in_flight"),
        ("remote.ron:12:16", "shaping.scale"),
    ] {
        assert!(
            err.contains(at) && err.contains(field),
            "{at} {field} in {err}"
        );
    }
}

#[test]
fn coefficients_that_overflow_f32_and_endless_layers_are_out_of_range() {
    let err = error_of(
        "coef.ron",
        GOOD,
        &[
            "ppo.vf_coef=1e300",
            "ppo.ent_coef=1e300",
            "ppo.hidden=[8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8]",
        ],
    );
    for field in ["ppo.vf_coef", "ppo.ent_coef", "ppo.hidden"] {
        assert!(err.contains(field), "{field} in {err}");
    }
    assert!(err.contains("17 layers"), "{err}");
}
