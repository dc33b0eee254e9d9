//! `VecEnv::set_frames`: the frames a vector env renders in its workers are the frames a
//! single env renders for the same state, final frames included, for any thread count.

use rapt_core::{Env, EnvBuffers, FrameSpec, VecEnv, VecEnvOptions};

fn render(env: &dyn Env, spec: &FrameSpec) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rgb = Vec::new();
    for v in &spec.views {
        assert!(env.render(v, spec.size, spec.size, &mut rgb));
        out.extend_from_slice(&rgb);
    }
    out
}

#[test]
fn vector_frames_match_single_env_renders_including_final_frames() {
    let registry = rapt::registry();
    let spec = FrameSpec {
        views: vec!["front".into(), "wrist".into()],
        size: 12,
    };
    let steps = 14;
    let mut per_threads = Vec::new();
    for threads in [1, 2] {
        let options = VecEnvOptions {
            num_envs: 3,
            threads,
            max_episode_steps: Some(5),
        };
        let mut venv = registry.make_vec("Reach-v0", "", &options).unwrap();
        venv.set_frames(Some(spec.clone())).unwrap();
        let first = venv.reset(Some(7)).unwrap();
        assert_eq!(first.frame_bytes, spec.bytes());
        let mut log = vec![first.frames.clone()];
        let actions = vec![0.3f32; 3 * venv.single_action_space().flat_dim()];
        let mut finals = Vec::new();
        for _ in 0..steps {
            let b = venv.step(&actions).unwrap();
            log.push(b.frames.clone());
            for i in (0..3).filter(|&i| b.ended[i]) {
                finals.push(b.final_frames_of(i).to_vec());
            }
        }
        assert!(!finals.is_empty());
        per_threads.push((log, finals));
    }
    assert_eq!(
        per_threads[0], per_threads[1],
        "frames depend on the thread count"
    );

    // Env 1 alone, same seed and actions: its renders are the batch's slot 1, and the
    // state before each time-limit reset is the final frame.
    let (log, _) = &per_threads[0];
    let mut env = registry.make("Reach-v0", "", Some(5)).unwrap();
    let mut b = EnvBuffers::new(&env);
    b.reset(&mut env, Some(rapt_core::sub_env_seed(7, 1)))
        .unwrap();
    let fb = spec.bytes();
    assert_eq!(render(&*env, &spec), log[0][fb..2 * fb]);
    let action = vec![0.3f32; env.action_space().flat_dim()];
    for (t, frames) in log.iter().enumerate().skip(1) {
        b.step(&mut env, &action).unwrap();
        if b.ended() {
            b.reset(&mut env, None).unwrap();
        }
        assert_eq!(render(&*env, &spec), frames[fb..2 * fb], "step {t}");
    }

    // A view the env does not have is refused up front.
    let mut venv = registry
        .make_vec(
            "Reach-v0",
            "",
            &VecEnvOptions {
                num_envs: 1,
                threads: 1,
                max_episode_steps: None,
            },
        )
        .unwrap();
    let err = venv
        .set_frames(Some(FrameSpec {
            views: vec!["chase".into()],
            size: 8,
        }))
        .unwrap_err()
        .to_string();
    assert!(err.contains("chase") && err.contains("front"), "{err}");
}

#[test]
fn frames_on_demand_match_frames_rendered_every_step() {
    let registry = rapt::registry();
    let spec = FrameSpec {
        views: vec!["front".into()],
        size: 16,
    };
    let options = VecEnvOptions {
        num_envs: 3,
        threads: 2,
        max_episode_steps: Some(4),
    };
    let mut always = registry.make_vec("Push-v0", "", &options).unwrap();
    let mut lazy = registry.make_vec("Push-v0", "", &options).unwrap();
    always.set_frames(Some(spec.clone())).unwrap();
    lazy.set_frames_on_demand(Some(spec.clone())).unwrap();
    assert!(
        lazy.render_current().is_err(),
        "nothing to render before a reset"
    );
    always.reset(Some(3)).unwrap();
    lazy.reset(Some(3)).unwrap();
    assert_eq!(always.batch().frames, lazy.render_current().unwrap());
    let actions = vec![0.4f32; 3 * always.single_action_space().flat_dim()];
    let mut ended = 0;
    for t in 0..10 {
        always.step(&actions).unwrap();
        let b = lazy.step(&actions).unwrap();
        // Final frames are rendered in the step that ends an episode.
        for i in (0..3).filter(|&i| b.ended[i]) {
            assert_eq!(always.batch().final_frames_of(i), b.final_frames_of(i));
            ended += 1;
        }
        if t % 3 == 0 {
            assert_eq!(always.batch().frames, lazy.render_current().unwrap());
        }
    }
    assert!(ended >= 6, "{ended} episodes ended");
}
