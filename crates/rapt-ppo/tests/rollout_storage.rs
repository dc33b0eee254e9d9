//! The rollout storage is allocated once and reused: an update must read this rollout's
//! rows and no others. A learner that trained on a long rollout and then on a shorter one
//! (its storage still holding the long rollout's rows past the short one's) must end with
//! exactly the parameters of a learner resumed from its checkpoint in between, whose
//! storage never held the long rollout — and of one given the short rollout's
//! observations in the buffer instead.

use rand::{Rng, SeedableRng};
use rapt_ppo::{
    ActionHead, Encoder, GaeParams, ImageStorage, Learner, ObsLayout, PpoConfig, Progress,
    RolloutBuffer, StepRecord, seed_update,
};
use tch::Device;

const ENVS: usize = 3;

/// Updates draw minibatches from torch's global RNG, which the other test's sampling
/// also draws from: the tests take turns.
static TORCH_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
const PIXELS: usize = 16;
const DIM: usize = PIXELS + 2;

fn learner() -> Learner {
    let config = PpoConfig {
        num_steps: 4,
        num_minibatches: 2,
        update_epochs: 2,
        learning_rate: 1e-2,
        hidden: vec![16],
        action_head: ActionHead::Beta,
        encoder: Encoder::Cnn {
            channels: vec![4],
            features: 8,
        },
        ..PpoConfig::default()
    };
    let layout = ObsLayout {
        dim: DIM,
        image: Some([1, 4, 4]),
    };
    Learner::new(layout, 2, config, Device::Cpu, 3).unwrap()
}

/// `steps` steps of random image observations (pixels k/255), acted on by `learner` and
/// stored in it; returns the finished rollout and every step's observations.
fn collect(learner: &mut Learner, steps: usize, seed: u64) -> (RolloutBuffer, Vec<Vec<f32>>) {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let mut rollout = RolloutBuffer::new(ENVS);
    let mut all_obs = Vec::new();
    for t in 0..steps {
        let mut obs: Vec<f32> = (0..ENVS * DIM)
            .map(|k| {
                if k % DIM < PIXELS {
                    f32::from(rng.random_range(0..=255u8)) / 255.0
                } else {
                    rng.random_range(-1.0..1.0)
                }
            })
            .collect();
        learner.normalize(&mut obs, true);
        let (actions, logp, values) = learner.act(&obs);
        learner.store_obs(&obs);
        let rewards: Vec<f32> = (0..ENVS).map(|_| rng.random_range(-1.0..1.0)).collect();
        let ended: Vec<bool> = (0..ENVS).map(|i| (t + i) % 3 == 2).collect();
        rollout.push(StepRecord {
            obs: &[],
            actions: &actions,
            logp: &logp,
            values: &values,
            rewards: &rewards,
            terminated: &ended,
            ended: &ended,
            truncation_values: &[0.0; ENVS],
        });
        all_obs.push(obs);
    }
    rollout.finish(&[0.5; ENVS], GaeParams::default());
    (rollout, all_obs)
}

fn params(l: &Learner) -> Vec<u32> {
    Vec::<f32>::try_from(l.optimizer().flat_params())
        .unwrap()
        .iter()
        .map(|v| v.to_bits())
        .collect()
}

#[test]
fn a_shorter_rollout_reads_none_of_the_longer_ones_rows() {
    let _turn = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::temp_dir().join(format!("rapt-storage-{}", std::process::id()));
    let ckpt = dir.join("after-long");
    let mut a = learner();
    let (long, _) = collect(&mut a, 4, 1);
    seed_update(7, 0);
    a.update(&long, 0.0);
    a.save_checkpoint(&ckpt, Progress::default()).unwrap();
    let (short, short_obs) = collect(&mut a, 2, 2);
    assert_eq!(
        a.stored_rows(),
        2 * ENVS,
        "a new rollout starts after an update"
    );
    assert_eq!(
        a.image_storage(),
        ImageStorage::U8,
        "k/255 pixels are kept as bytes"
    );
    seed_update(7, 1);
    a.update(&short, 0.5);

    // Resumed between the two: its storage never held the long rollout.
    let (mut resumed, _) = Learner::load_checkpoint(&ckpt, Device::Cpu).unwrap();
    for obs in &short_obs {
        resumed.store_obs(obs);
    }
    seed_update(7, 1);
    resumed.update(&short, 0.5);
    assert_eq!(params(&a), params(&resumed));

    // The observations in the buffer instead of stored.
    let (mut from_buffer, _) = Learner::load_checkpoint(&ckpt, Device::Cpu).unwrap();
    let mut with_obs = short.clone();
    with_obs.obs = short_obs.concat();
    seed_update(7, 1);
    from_buffer.update(&with_obs, 0.5);
    assert_eq!(params(&a), params(&from_buffer));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[should_panic(expected = "observations were stored")]
fn an_update_without_one_stored_observation_per_transition_is_refused() {
    let _turn = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
    let mut l = learner();
    let (rollout, _) = collect(&mut l, 2, 1);
    l.update(&rollout, 0.0);
    // A new rollout of 2 steps with only one step's observations stored.
    let (mut short, obs) = collect(&mut l, 2, 3);
    let mut fresh = learner();
    fresh.store_obs(&obs[0]);
    short.obs.clear();
    fresh.update(&short, 0.0);
}
