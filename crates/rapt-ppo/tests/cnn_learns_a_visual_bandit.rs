//! The CNN encoder learns from pixels: a one-step task whose 1×8×8 image shows a bright
//! square on the left or the right half, and whose best action is −1 or +1 accordingly (a
//! vector slot carries noise only). PPO with the CNN encoder must pick the right side on
//! ≥ 90% of held-out images, with either action head.

use rand::{Rng, SeedableRng};
use rapt_ppo::{
    ActionHead, Encoder, GaeParams, Learner, ObsLayout, PpoConfig, RolloutBuffer, StepRecord,
};
use tch::Device;

const PIXELS: usize = 64;

/// `n` observations (image then one vector slot) and their targets (−1 or +1).
fn batch(rng: &mut impl Rng, n: usize) -> (Vec<f32>, Vec<f32>) {
    let mut obs = vec![0.0f32; n * (PIXELS + 1)];
    let mut targets = Vec::with_capacity(n);
    for row in obs.chunks_exact_mut(PIXELS + 1) {
        let right = rng.random_bool(0.5);
        let (x0, y0) = (
            rng.random_range(0..3) + if right { 5 } else { 0 },
            rng.random_range(0..6),
        );
        for y in y0..y0 + 3 {
            for x in x0..(x0 + 3).min(8) {
                row[y.min(7) * 8 + x] = 1.0;
            }
        }
        row[PIXELS] = rng.random_range(-1.0..1.0);
        targets.push(if right { 1.0 } else { -1.0 });
    }
    (obs, targets)
}

fn learn(head: ActionHead) -> f64 {
    let config = PpoConfig {
        num_steps: 1,
        num_minibatches: 4,
        update_epochs: 4,
        learning_rate: 1e-3,
        anneal_lr: false,
        hidden: vec![32],
        action_head: head,
        encoder: Encoder::Cnn {
            channels: vec![8, 16],
            features: 32,
        },
        ..PpoConfig::default()
    };
    let layout = ObsLayout {
        dim: PIXELS + 1,
        image: Some([1, 8, 8]),
    };
    let mut learner = Learner::new(layout, 1, config, Device::Cpu, 5).unwrap();
    let mut rng = rand_pcg::Pcg64::seed_from_u64(5);
    let n = 256;
    let mut env_actions = vec![0.0; n];
    for _ in 0..60 {
        let (mut obs, targets) = batch(&mut rng, n);
        learner.normalize(&mut obs, true);
        let (actions, logp, values) = learner.act(&obs);
        learner.env_actions(&actions, &[-1.0], &[1.0], &mut env_actions);
        let rewards: Vec<f32> = env_actions
            .iter()
            .zip(&targets)
            .map(|(a, t)| 1.0 - (a - t).abs())
            .collect();
        // One-step episodes: every env terminates.
        let mut rollout = RolloutBuffer::new(n);
        rollout.push(StepRecord {
            obs: &obs,
            actions: &actions,
            logp: &logp,
            values: &values,
            rewards: &rewards,
            terminated: &vec![true; n],
            ended: &vec![true; n],
            truncation_values: &vec![0.0; n],
        });
        rollout.finish(&vec![0.0; n], GaeParams::default());
        learner.update(&rollout, 0.0);
    }
    let (mut obs, targets) = batch(&mut rng, 500);
    learner.normalize(&mut obs, false);
    let actions = learner.act_deterministic(&obs);
    let mut mapped = vec![0.0; actions.len()];
    learner.env_actions(&actions, &[-1.0], &[1.0], &mut mapped);
    let right = mapped
        .iter()
        .zip(&targets)
        .filter(|(a, t)| a.signum() == t.signum())
        .count();
    right as f64 / targets.len() as f64
}

#[test]
fn a_cnn_policy_learns_which_side_the_square_is_on() {
    for head in [ActionHead::Gaussian, ActionHead::Beta] {
        let accuracy = learn(head);
        eprintln!("{head:?}: {accuracy}");
        assert!(
            accuracy >= 0.9,
            "{head:?}: right side on {accuracy} of held-out images"
        );
    }
}
