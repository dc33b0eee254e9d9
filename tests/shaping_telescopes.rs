//! `rapt_shaping::Shaper` on real rollouts: the shaping terms telescope along every
//! episode, through terminations and truncations alike.

use rapt_core::{VecEnv, VecEnvOptions, rng_from_seed};
use rapt_shaping::{LoadError, ModelSpec, ProgressModel, Shaper, Shaping};

/// On real rollouts (Drive-v0, random actions: episodes end by infractions —
/// `terminated` — and by a 40-step limit — `truncated`), the shaping summed along each
/// episode telescopes to k(γ^T Φ(s_T) − Φ(s_0)) for weight k, with Φ(s_T) = 0 after a termination and
/// the final observation's Φ after a truncation.
#[test]
fn shaping_telescopes_on_real_rollouts() {
    let registry = rapt_registry::registry();
    let options = VecEnvOptions {
        num_envs: 4,
        threads: 1,
        max_episode_steps: Some(40),
    };
    let mut venv = registry
        .make_vec("Drive-v0", "(observation: Vector)", &options)
        .unwrap();
    let gamma = 0.95f32;
    // A weight k = 2: the sum telescopes to k(γ^T Φ(s_T) − Φ(s_0)).
    let k = 2.0f64;
    let shaping = Shaping::Potential {
        model: ModelSpec::Oracle,
        gamma: None,
        scale: k as f32,
    };
    let no_learned = |_: &ModelSpec| -> Result<Box<dyn ProgressModel>, LoadError> {
        Err("no learned or remote models here".into())
    };
    let (mut shaper, frames) =
        Shaper::new(&shaping, "Drive-v0", venv.info_layout(), gamma, &no_learned)
            .unwrap()
            .unwrap();
    assert!(frames.is_none());
    let phi = venv.info_layout().metric_index("phi").unwrap();
    let b = venv.reset(Some(3)).unwrap();
    shaper.reset(b).unwrap();
    let n = 4;
    let mut start: Vec<f64> = (0..n)
        .map(|i| f64::from(b.info.metrics_of(i)[phi]))
        .collect();
    let (mut sum, mut discount) = (vec![0.0f64; n], vec![1.0f64; n]);
    let space = venv.single_action_space().clone();
    let mut rng = rng_from_seed(5);
    let mut actions = vec![0.0; n * 2];
    let (mut terminated, mut truncated) = (0, 0);
    for _ in 0..400 {
        for i in 0..n {
            space.sample(&mut rng, &mut actions[i * 2..i * 2 + 2]);
            // Half the envs drive off the road at full lock (terminated), the others
            // dawdle until the time limit (truncated).
            if i % 2 == 0 {
                actions[i * 2..i * 2 + 2].copy_from_slice(&[1.0, 1.0]);
            }
        }
        let b = venv.step(&actions).unwrap();
        let mut rewards = b.rewards.clone();
        shaper.apply(b, &mut rewards, 0).unwrap();
        for i in 0..n {
            sum[i] += discount[i] * f64::from(rewards[i] - b.rewards[i]);
            discount[i] *= f64::from(gamma);
            if b.ended[i] {
                let end = if b.terminated[i] {
                    terminated += 1;
                    0.0
                } else {
                    truncated += 1;
                    f64::from(b.final_info.metrics_of(i)[phi])
                };
                let expected = k * (discount[i] * end - start[i]);
                assert!(
                    (sum[i] - expected).abs() < 1e-4,
                    "env {i}: shaping summed to {} but k(γ^T Φ(s_T) − Φ(s_0)) = {expected}",
                    sum[i]
                );
                (sum[i], discount[i]) = (0.0, 1.0);
                start[i] = f64::from(b.info.metrics_of(i)[phi]);
            }
        }
    }
    assert!(
        terminated > 3 && truncated > 3,
        "{terminated} terminated, {truncated} truncated"
    );
    let stats = shaper.take();
    assert!(stats.phi > 0.0, "{stats:?}");
}
