//! The conformance checker passes a correct env and catches broken ones.

use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng as _;
use rapt_core::conformance::{CheckOptions, ConformanceError, check_env, check_vec_env};
use rapt_core::{
    Batch, BoxSpace, Checked, Env, EnvError, EpisodeStatistics, InfoLayout, InfoMut, Rng, Space,
    StepOut, ThreadedVecEnv, TimeLimit, VecEnv, rng_from_seed,
};

/// What the toy env gets wrong, if anything.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Flaw {
    None,
    /// Start positions drawn from a process-wide counter instead of the seed.
    NonDeterministic,
    /// Reports positions beyond the observation bounds.
    OutOfSpace,
}

/// A point on a line moved by the action; terminates when it leaves [-1, 1].
#[derive(Debug)]
struct Walk {
    flaw: Flaw,
    obs_space: Space,
    act_space: Space,
    layout: InfoLayout,
    x: f32,
    rng: Rng,
}

static GLOBAL: AtomicU64 = AtomicU64::new(1);

impl Walk {
    fn new(flaw: Flaw) -> Self {
        Self {
            flaw,
            obs_space: Space::Box(BoxSpace::uniform(-1.5, 1.5, &[1])),
            act_space: Space::Box(BoxSpace::uniform(-0.3, 0.3, &[1])),
            layout: InfoLayout::new(&["progress"], &["x"]),
            x: 0.0,
            rng: rng_from_seed(0),
        }
    }

    fn write(&self, obs: &mut [f32], info: InfoMut<'_>) {
        obs[0] = if self.flaw == Flaw::OutOfSpace {
            self.x * 10.0 + 2.0
        } else {
            self.x
        };
        *info.success = self.x > 0.9;
        info.metrics[0] = self.x;
    }
}

impl Env for Walk {
    fn observation_space(&self) -> &Space {
        &self.obs_space
    }
    fn action_space(&self) -> &Space {
        &self.act_space
    }
    fn info_layout(&self) -> &InfoLayout {
        &self.layout
    }
    fn reset(
        &mut self,
        seed: Option<u64>,
        obs: &mut [f32],
        mut info: InfoMut<'_>,
    ) -> Result<(), EnvError> {
        if let Some(s) = seed {
            self.rng = rng_from_seed(s);
        }
        self.x = self.rng.random_range(-0.5..0.5);
        if self.flaw == Flaw::NonDeterministic {
            self.x = (GLOBAL.fetch_add(1, Ordering::Relaxed) % 7) as f32 * 0.1 - 0.3;
        }
        info.clear();
        self.write(obs, info);
        Ok(())
    }
    fn step(&mut self, action: &[f32], out: StepOut<'_>) -> Result<(), EnvError> {
        let a = action[0].clamp(-0.3, 0.3);
        self.x = (self.x + a).clamp(-1.2, 1.2);
        *out.terminated = self.x.abs() > 1.0;
        *out.reward = self.x;
        out.info.reward_terms[0] = self.x;
        self.write(out.obs, out.info);
        Ok(())
    }
}

fn wrapped(flaw: Flaw, steps: u32) -> Box<dyn Env> {
    Box::new(EpisodeStatistics::new(TimeLimit::new(
        Checked::new(Walk::new(flaw)),
        steps,
    )))
}

fn make_vec(flaw: Flaw, threads: usize) -> Result<Box<dyn VecEnv>, EnvError> {
    let envs = (0..5).map(|_| wrapped(flaw, 12)).collect();
    Ok(Box::new(ThreadedVecEnv::new(envs, threads)?))
}

fn opts() -> CheckOptions {
    CheckOptions {
        steps: 60,
        max_episode_steps: 12,
        ..CheckOptions::default()
    }
}

fn failed_check(
    r: Result<rapt_core::conformance::Report, ConformanceError>,
) -> (&'static str, String) {
    match r {
        Err(ConformanceError::Failed { check, detail }) => (check, detail),
        other => panic!("expected a failed check, got {other:?}"),
    }
}

#[test]
fn a_correct_env_passes_every_check() {
    let report = check_env(&|| Ok(Box::new(Walk::new(Flaw::None))), &opts()).unwrap();
    assert!(report.passed.contains(&"determinism"));
    let vec_report = check_vec_env(
        &|t| make_vec(Flaw::None, t),
        &|| Ok(wrapped(Flaw::None, 12)),
        &opts(),
    )
    .unwrap();
    assert!(vec_report.episodes_ended > 0, "autoreset must be exercised");
    assert_eq!(vec_report.passed.len(), 4, "{:?}", vec_report.passed);
}

#[test]
fn catches_a_non_deterministic_env() {
    let (check, detail) = failed_check(check_env(
        &|| Ok(Box::new(Walk::new(Flaw::NonDeterministic))),
        &opts(),
    ));
    assert_eq!(check, "determinism", "{detail}");
}

#[test]
fn catches_an_observation_outside_its_space() {
    let (check, detail) = failed_check(check_env(
        &|| Ok(Box::new(Walk::new(Flaw::OutOfSpace))),
        &opts(),
    ));
    assert_eq!(check, "observations in space, finite rewards");
    assert!(detail.contains("outside [-1.5, 1.5]"), "{detail}");
}

/// A vector env that gets `final_obs` wrong: it reports the next episode's first
/// observation instead of the last observation of the episode that ended.
struct WrongFinalObs(ThreadedVecEnv, Batch);

impl VecEnv for WrongFinalObs {
    fn num_envs(&self) -> usize {
        self.0.num_envs()
    }
    fn single_observation_space(&self) -> &Space {
        self.0.single_observation_space()
    }
    fn single_action_space(&self) -> &Space {
        self.0.single_action_space()
    }
    fn info_layout(&self) -> &InfoLayout {
        self.0.info_layout()
    }
    fn reset(&mut self, seed: Option<u64>) -> Result<&Batch, EnvError> {
        self.1 = self.0.reset(seed)?.clone();
        Ok(&self.1)
    }
    fn reset_masked(&mut self, mask: &[bool], seed: Option<u64>) -> Result<&Batch, EnvError> {
        self.1 = self.0.reset_masked(mask, seed)?.clone();
        Ok(&self.1)
    }
    fn step(&mut self, actions: &[f32]) -> Result<&Batch, EnvError> {
        let mut b = self.0.step(actions)?.clone();
        b.final_obs.copy_from_slice(&b.obs);
        self.1 = b;
        Ok(&self.1)
    }
    fn batch(&self) -> &Batch {
        &self.1
    }
}

#[test]
fn catches_a_wrong_final_obs() {
    let make = |t: usize| -> Result<Box<dyn VecEnv>, EnvError> {
        let envs = (0..5).map(|_| wrapped(Flaw::None, 12)).collect();
        let inner = ThreadedVecEnv::new(envs, t)?;
        let batch = inner.batch().clone();
        Ok(Box::new(WrongFinalObs(inner, batch)))
    };
    let (check, detail) = failed_check(check_vec_env(
        &make,
        &|| Ok(wrapped(Flaw::None, 12)),
        &opts(),
    ));
    assert_eq!(check, "autoreset and final_obs");
    assert!(detail.contains("final_obs"), "{detail}");
}

#[test]
fn misuse_is_a_typed_error_not_a_panic() {
    let mut venv = make_vec(Flaw::None, 2).unwrap();
    assert_eq!(venv.step(&[0.0; 5]).unwrap_err(), EnvError::NotReset);
    venv.reset(Some(1)).unwrap();
    assert!(matches!(
        venv.step(&[0.0; 4]),
        Err(EnvError::ActionShape {
            expected: 5,
            got: 4
        })
    ));
    let mut a = [0.0; 5];
    a[3] = f32::NEG_INFINITY;
    assert!(matches!(
        venv.step(&a),
        Err(EnvError::NonFiniteAction {
            env: 3,
            index: 0,
            ..
        })
    ));
    assert!(matches!(
        venv.reset_masked(&[true; 2], None),
        Err(EnvError::BatchShape { .. })
    ));
}

/// An env that panics on its third step.
#[derive(Debug)]
struct Panicky(Walk, u32);

impl Env for Panicky {
    fn observation_space(&self) -> &Space {
        self.0.observation_space()
    }
    fn action_space(&self) -> &Space {
        self.0.action_space()
    }
    fn info_layout(&self) -> &InfoLayout {
        self.0.info_layout()
    }
    fn reset(
        &mut self,
        seed: Option<u64>,
        obs: &mut [f32],
        info: InfoMut<'_>,
    ) -> Result<(), EnvError> {
        self.0.reset(seed, obs, info)
    }
    fn step(&mut self, action: &[f32], out: StepOut<'_>) -> Result<(), EnvError> {
        self.1 += 1;
        assert!(self.1 < 3, "simulated bug in an env");
        self.0.step(action, out)
    }
}

#[test]
fn a_panicking_env_on_a_worker_is_reported_as_an_error() {
    let envs: Vec<Box<dyn Env>> = (0..4)
        .map(|_| Box::new(Panicky(Walk::new(Flaw::None), 0)) as Box<dyn Env>)
        .collect();
    let mut venv = ThreadedVecEnv::new(envs, 2).unwrap();
    venv.reset(Some(0)).unwrap();
    venv.step(&[0.0; 4]).unwrap();
    venv.step(&[0.0; 4]).unwrap();
    let err = venv.step(&[0.0; 4]).unwrap_err();
    assert!(matches!(err, EnvError::WorkerFailed { .. }), "{err}");
    assert!(err.to_string().contains("simulated bug"), "{err}");
    assert!(matches!(
        venv.step(&[0.0; 4]),
        Err(EnvError::WorkerFailed { .. })
    ));
}
