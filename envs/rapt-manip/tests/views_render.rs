//! Every manipulation env renders its front, side and wrist views headlessly: the same
//! state gives the same bytes, the views differ, and the cube (red) and the goal (green)
//! are in the front view.

use rapt_core::{Env, EnvBuffers, Registry};

fn count(rgb: &[u8], pred: impl Fn(&[u8]) -> bool) -> usize {
    rgb.chunks_exact(3).filter(|p| pred(p)).count()
}

#[test]
fn every_task_renders_three_deterministic_views_showing_cube_and_goal() {
    let mut registry = Registry::new();
    rapt_manip::register(&mut registry).unwrap();
    for id in ["Reach-v0", "Push-v0", "PickPlace-v0", "Insert-v0"] {
        let render_all = || {
            let mut env = registry.make(id, "", None).unwrap();
            assert_eq!(env.views(), ["front", "side", "wrist"]);
            let mut b = EnvBuffers::new(&env);
            b.reset(&mut env, Some(4)).unwrap();
            let mut action = vec![0.0; env.action_space().flat_dim()];
            for _ in 0..5 {
                env.expert_action(&mut action);
                b.step(&mut env, &action).unwrap();
            }
            let mut frames = Vec::new();
            for view in ["front", "side", "wrist"] {
                let mut rgb = Vec::new();
                assert!(env.render(view, 64, 64, &mut rgb), "{id} {view}");
                assert_eq!(rgb.len(), 64 * 64 * 3);
                frames.push(rgb);
            }
            assert!(!env.render("top", 64, 64, &mut Vec::new()), "unknown view");
            frames
        };
        let (a, b) = (render_all(), render_all());
        assert_eq!(a, b, "{id}: same state, same pixels");
        assert_ne!(a[0], a[1], "{id}: front and side differ");
        assert_ne!(a[0], a[2], "{id}: front and wrist differ");
        let green = count(&a[0], |p| p[1] > 120 && p[0] < 90 && p[2] < 90);
        assert!(green > 0, "{id}: the goal is in the front view");
        if id != "Reach-v0" {
            let red = count(&a[0], |p| p[0] > 120 && p[1] < 60 && p[2] < 60);
            assert!(red > 0, "{id}: the cube is in the front view");
        }
    }
}

#[test]
fn camera_frames_can_be_the_observation_and_a_bad_view_is_named() {
    let mut registry = Registry::new();
    rapt_manip::register(&mut registry).unwrap();
    let params = "(camera: (views: [\"front\", \"wrist\"], size: 32))";
    let mut env = registry.make("Push-v0", params, None).unwrap();
    let dim = env.observation_space().flat_dim();
    let pixels = 2 * 3 * 32 * 32;
    let mut state_env = registry.make("Push-v0", "", None).unwrap();
    assert_eq!(dim, pixels + state_env.observation_space().flat_dim());
    let mut b = EnvBuffers::new(&env);
    b.reset(&mut env, Some(2)).unwrap();
    let mut s = EnvBuffers::new(&state_env);
    s.reset(&mut state_env, Some(2)).unwrap();
    // The pixels are the rendered front view, channel-major, in [0, 1]; the state follows.
    let mut rgb = Vec::new();
    assert!(env.render("front", 32, 32, &mut rgb));
    let plane = 32 * 32;
    for k in [0, 500, 1000] {
        for ch in 0..3 {
            assert_eq!(b.obs[ch * plane + k], f32::from(rgb[3 * k + ch]) / 255.0);
        }
    }
    assert_eq!(&b.obs[pixels..], &s.obs[..]);
    let Err(err) = registry.make("Push-v0", "(camera: (views: [\"top\"]))", None) else {
        panic!("an unknown view must be rejected");
    };
    let err = err.to_string();
    assert!(
        err.contains("top") && err.contains("front, side, wrist"),
        "{err}"
    );
}
