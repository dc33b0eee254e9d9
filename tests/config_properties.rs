//! Property tests: generated run configs, `--set` overrides, env parameters, drive map
//! files and remote reward-model specs get a clear error or a valid config, never a panic. `make test` runs `PROPTEST_CASES` (default
//! below) cases per property; `make test-long` runs 4,000 per property, over 10,000 in
//! all.

use proptest::prelude::*;
use rapt_run::RunConfig;

/// Cases per property unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 64;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The shipped run configs, as text.
fn shipped() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/configs");
    let mut configs: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    configs.sort();
    configs
}

/// A loaded config's error must say where: the file, or the `--set` that caused it.
fn check(result: Result<rapt_config::Loaded<RunConfig>, rapt_config::ConfigError>, name: &str) {
    if let Err(e) = result {
        let text = e.to_string();
        assert!(!text.trim().is_empty(), "an empty error");
        assert!(
            text.lines()
                .all(|l| l.starts_with(name) || l.starts_with("--set ")),
            "an error that does not say where:\n{text}"
        );
    }
}

/// `text` with up to `cut` bytes from `start` replaced by `insert` (at char boundaries).
fn splice(text: &str, start: usize, cut: usize, insert: &str) -> String {
    let mut start = start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + cut).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{insert}{}", &text[..start], &text[end..])
}

/// Text a user might type where a value goes.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|x| format!("{x:?}")),
        Just("NaN".to_owned()),
        Just("inf".to_owned()),
        Just("-inf".to_owned()),
        Just("1e308".to_owned()),
        Just("18446744073709551616".to_owned()),
        "[a-zA-Z_][a-zA-Z0-9_]{0,8}",
        "\"[^\"\\\\]{0,12}\"",
        Just("Cuda(0)".to_owned()),
        Just("Some(3)".to_owned()),
        Just("None".to_owned()),
        Just("()".to_owned()),
        Just("[]".to_owned()),
        Just("(a: 1)".to_owned()),
        "[(){}\\[\\],:\"a1 -]{1,10}",
    ]
}

/// A field path, known or not.
fn path() -> impl Strategy<Value = String> {
    let known = [
        "name",
        "seed",
        "device",
        "env.id",
        "env.num_envs",
        "env.threads",
        "env.max_episode_steps",
        "env.params",
        "train.total_steps",
        "train.policy",
        "train.eval_every_updates",
        "train.eval_episodes",
        "train.checkpoint_every_updates",
        "ppo.learning_rate",
        "ppo.num_steps",
        "ppo.num_minibatches",
        "ppo.update_epochs",
        "ppo.gamma",
        "ppo.ent_coef",
        "ppo.target_kl",
        "ppo.hidden",
        "ppo.hidden[0]",
        "ppo.action_head",
        "ppo.encoder",
        "shaping",
        "env.params.substeps",
        "env.params.traffic.pedestrians",
        "env.params.lights.green",
        "env.params.camera",
    ];
    prop_oneof![
        proptest::sample::select(known.to_vec()).prop_map(str::to_owned),
        "[a-z_.\\[\\]0-9]{1,20}",
    ]
}

proptest! {
    #![proptest_config(config())]

    /// A shipped config with a byte range replaced by generated text.
    #[test]
    fn edited_config_files_error_clearly_or_load(
        which in any::<proptest::sample::Index>(),
        at in any::<proptest::sample::Index>(),
        cut in 0usize..12,
        insert in value(),
    ) {
        let configs = shipped();
        let (name, text) = &configs[which.index(configs.len())];
        let edited = splice(text, at.index(text.len()), cut, &insert);
        check(rapt_config::from_str::<RunConfig>(&edited, name, &[]), name);
    }

    /// `--set path=value` with generated paths and values, on a shipped config.
    #[test]
    fn overrides_error_clearly_or_load(
        which in any::<proptest::sample::Index>(),
        sets in proptest::collection::vec((path(), value()), 1..3),
    ) {
        let configs = shipped();
        let (name, text) = &configs[which.index(configs.len())];
        let sets: Vec<String> = sets.iter().map(|(p, v)| format!("{p}={v}")).collect();
        check(rapt_config::from_str::<RunConfig>(text, name, &sets), name);
    }

    /// Every registered env built from generated parameters: an env or an error.
    #[test]
    fn env_params_error_clearly_or_build(
        which in any::<proptest::sample::Index>(),
        fields in proptest::collection::vec((
            proptest::sample::select(vec![
                "substeps", "control_dt", "control", "reward", "camera", "object_color",
                "route_length", "traffic", "lights", "map", "observation", "gravity",
                "length", "solver_iterations", "terminate_on_success", "pedestrians",
            ]),
            value(),
        ), 0..3),
    ) {
        let registry = rapt_registry::registry();
        let ids = registry.ids();
        let id = &ids[which.index(ids.len())];
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let params = format!("({})", body.join(", "));
        if let Err(e) = registry.make_raw(id, &params) {
            let text = e.to_string();
            prop_assert!(text.contains(id.as_str()), "{params}: {text}");
        }
    }

    /// The shipped cross map with a byte range replaced by generated text, as a map file
    /// of Drive-v0: an env that resets and steps, or an error naming the file.
    #[test]
    fn edited_map_files_error_clearly_or_drive(
        at in any::<proptest::sample::Index>(),
        cut in 0usize..8,
        insert in value(),
    ) {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/maps/cross.ron")).unwrap();
        let edited = splice(&text, at.index(text.len()), cut, &insert);
        let file = std::env::temp_dir().join(format!(
            "rapt-prop-map-{}-{:?}.ron",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&file, edited).unwrap();
        let params = format!("(map: File({:?}))", file.to_str().unwrap());
        let registry = rapt_registry::registry();
        match registry.make_raw("Drive-v0", &params) {
            Ok(mut env) => {
                let mut b = rapt_core::EnvBuffers::new(&env);
                b.reset(&mut env, Some(1)).unwrap();
                let action = vec![0.5f32; env.action_space().flat_dim()];
                for _ in 0..3 {
                    b.step(&mut env, &action).unwrap();
                }
            }
            Err(e) => {
                let text = e.to_string();
                prop_assert!(text.contains("rapt-prop-map"), "an error not naming the file: {text}");
            }
        }
    }

    /// A `Remote(...)` shaping model with generated settings: a clear error at its field or
    /// settings within their documented bounds.
    #[test]
    fn remote_specs_error_clearly_or_stay_in_bounds(
        fields in proptest::collection::vec((
            proptest::sample::select(vec![
                "url", "model", "views", "image_size", "timeout_ms", "max_in_flight",
                "retries", "api_key_env", "protocol",
            ]),
            value(),
        ), 0..4),
    ) {
        let mut spec = vec![
            ("url", "\"http://127.0.0.1:9/v1\"".to_owned()),
            ("model", "\"m\"".to_owned()),
            ("protocol", "Progress".to_owned()),
            ("views", "[\"front\"]".to_owned()),
        ];
        for (k, v) in &fields {
            match spec.iter_mut().find(|(name, _)| name == k) {
                Some(slot) => slot.1 = v.clone(),
                None => spec.push((k, v.clone())),
            }
        }
        let body: Vec<String> = spec.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let text = format!(
            "(env: (id: \"Push-v0\"), shaping: Potential(model: Remote({}), scale: 1.0))",
            body.join(", ")
        );
        let name = "remote.ron";
        let loaded = rapt_config::from_str::<RunConfig>(&text, name, &[]);
        if let Ok(loaded) = &loaded {
            let Some(rapt_shaping::ModelSpec::Remote(r)) = loaded.config.shaping.model() else {
                panic!("a Remote spec loads as one: {text}");
            };
            prop_assert!(r.max_in_flight >= 1 && r.max_in_flight <= rapt_shaping::MAX_IN_FLIGHT, "{r:?}");
            prop_assert!(r.retries <= rapt_shaping::MAX_RETRIES, "{r:?}");
            prop_assert!(r.timeout_ms >= 1 && r.timeout_ms <= rapt_shaping::MAX_TIMEOUT_MS, "{r:?}");
            prop_assert!(rapt_shaping::IMAGE_SIZES.contains(&r.image_size), "{r:?}");
            prop_assert!(r.url.starts_with("http://"), "{r:?}");
        }
        check(loaded, name);
    }
}
