//! The conformance checker every registered env must pass (in the spirit of Gymnasium's
//! `env_checker`): spaces respected, no NaN, same seed ⇒ bit-identical trajectory (also
//! across worker-thread counts), reset and same-step autoreset semantics, correct
//! `final_obs`, partial reset by mask, and typed errors on misuse.

use thiserror::Error;

use crate::{
    Batch, Checked, Env, EnvBuffers, EnvError, InfoBatch, Registry, Rng, Space, VecEnv,
    VecEnvOptions, rng_from_seed, sub_env_seed,
};

/// A failed check.
#[derive(Debug, Error)]
pub enum ConformanceError {
    /// A check found the env misbehaving.
    #[error("conformance check `{check}` failed: {detail}")]
    Failed {
        /// Name of the check.
        check: &'static str,
        /// What was observed.
        detail: String,
    },
    /// The env returned an error where none was expected.
    #[error("conformance check `{check}`: unexpected env error: {source}")]
    Env {
        /// Name of the check.
        check: &'static str,
        /// The error.
        source: EnvError,
    },
}

/// What to run.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Base seed (default 7).
    pub seed: u64,
    /// Steps per rollout (default 200).
    pub steps: usize,
    /// Sub-environments in the vector checks (default 5, so chunks are uneven).
    pub num_envs: usize,
    /// Thread counts whose results must be bit-identical (default 1, 2, 3).
    pub thread_counts: Vec<usize>,
    /// Episode length used in the vector checks so that autoresets happen (default 30).
    pub max_episode_steps: u32,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            seed: 7,
            steps: 200,
            num_envs: 5,
            thread_counts: vec![1, 2, 3],
            max_episode_steps: 30,
        }
    }
}

/// What passed, and what looked suspicious without being wrong.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Names of the checks that passed.
    pub passed: Vec<&'static str>,
    /// Non-fatal observations (e.g. two seeds gave the same first observation).
    pub warnings: Vec<String>,
    /// Episodes that ended during the vector checks (autoreset exercised).
    pub episodes_ended: usize,
}

type Result<T> = std::result::Result<T, ConformanceError>;

fn fail(check: &'static str, detail: impl Into<String>) -> ConformanceError {
    ConformanceError::Failed {
        check,
        detail: detail.into(),
    }
}

fn env_err(check: &'static str) -> impl Fn(EnvError) -> ConformanceError {
    move |source| ConformanceError::Env { check, source }
}

/// Run every check on registered env `id` with default parameters.
pub fn check_registered(registry: &Registry, id: &str, opts: &CheckOptions) -> Result<Report> {
    let unit = "";
    let check = "make";
    registry.spec(id).map_err(env_err(check))?;
    let mut report = check_env(&|| registry.make_raw(id, unit), opts)?;
    let steps = Some(opts.max_episode_steps);
    let vec_report = check_vec_env(
        &|threads| {
            let options = VecEnvOptions {
                num_envs: opts.num_envs,
                threads,
                max_episode_steps: steps,
            };
            Ok(Box::new(registry.make_vec(id, unit, &options)?) as Box<dyn VecEnv>)
        },
        &|| registry.make(id, unit, steps),
        opts,
    )?;
    report.passed.extend(vec_report.passed);
    report.warnings.extend(vec_report.warnings);
    report.episodes_ended = vec_report.episodes_ended;
    Ok(report)
}

/// One recorded transition, compared bit for bit.
#[derive(Debug, Clone, PartialEq)]
struct Record {
    obs: Vec<u32>,
    reward: u32,
    terminated: bool,
    truncated: bool,
    success: bool,
    terms: Vec<u32>,
    metrics: Vec<u32>,
}

fn bits(x: &[f32]) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// One env's output buffers, for stepping single envs beside a vector env.
/// Checks on a single raw env built by `make`: spaces, output validity, determinism,
/// re-seeding, and misuse errors (through [`Checked`]).
pub fn check_env(
    make: &dyn Fn() -> std::result::Result<Box<dyn Env>, EnvError>,
    opts: &CheckOptions,
) -> Result<Report> {
    let mut report = Report::default();
    let env = make().map_err(env_err("make"))?;
    let (obs_space, act_space) = (env.observation_space().clone(), env.action_space().clone());
    obs_space
        .validate()
        .map_err(|e| fail("spaces", format!("observation space: {e}")))?;
    act_space
        .validate()
        .map_err(|e| fail("spaces", format!("action space: {e}")))?;
    if let Space::Box(b) = &act_space
        && !b.is_bounded()
    {
        return Err(fail("spaces", "a continuous action space must be bounded"));
    }
    report.passed.push("spaces");

    let first = rollout(make, opts.seed, opts)?;
    report.passed.push("observations in space, finite rewards");
    let second = rollout(make, opts.seed, opts)?;
    if let Some(t) = first.iter().zip(&second).position(|(a, b)| a != b) {
        return Err(fail(
            "determinism",
            format!(
                "two envs with seed {} diverge at step {t}: {:?} vs {:?}",
                opts.seed, first[t], second[t]
            ),
        ));
    }
    report.passed.push("determinism");

    // reset(seed) on a used env must give the same first observation as a fresh env.
    let mut used = make().map_err(env_err("reseed"))?;
    let layout = used.info_layout().clone();
    let mut s = EnvBuffers::sized(obs_space.flat_dim(), &layout);
    let mut rng = rng_from_seed(opts.seed ^ 0xA5A5);
    let mut action = vec![0.0; act_space.flat_dim()];
    used.reset(Some(opts.seed + 1), &mut s.obs, s.info.get_mut(0))
        .map_err(env_err("reseed"))?;
    for _ in 0..10 {
        act_space.sample(&mut rng, &mut action);
        let (_, te, tr) = s.step(&mut *used, &action).map_err(env_err("reseed"))?;
        if te || tr {
            break;
        }
    }
    used.reset(Some(opts.seed), &mut s.obs, s.info.get_mut(0))
        .map_err(env_err("reseed"))?;
    if bits(&s.obs) != first[0].obs {
        return Err(fail(
            "reseed",
            "reset(seed) on a used env differs from a fresh env's reset(seed)",
        ));
    }
    report.passed.push("reseed");

    let other = rollout_first_obs(make, opts.seed + 1000, &obs_space)?;
    if other == first[0].obs {
        report.warnings.push(format!(
            "seeds {} and {} give the same first observation: is the initial state randomized?",
            opts.seed,
            opts.seed + 1000
        ));
    }

    check_misuse_single(make, &act_space)?;
    report.passed.push("misuse errors");
    Ok(report)
}

fn rollout_first_obs(
    make: &dyn Fn() -> std::result::Result<Box<dyn Env>, EnvError>,
    seed: u64,
    obs_space: &Space,
) -> Result<Vec<u32>> {
    let mut env = make().map_err(env_err("seeding"))?;
    let mut s = EnvBuffers::sized(obs_space.flat_dim(), &env.info_layout().clone());
    env.reset(Some(seed), &mut s.obs, s.info.get_mut(0))
        .map_err(env_err("seeding"))?;
    Ok(bits(&s.obs))
}

/// Roll out a raw env with seeded random actions, checking every output.
fn rollout(
    make: &dyn Fn() -> std::result::Result<Box<dyn Env>, EnvError>,
    seed: u64,
    opts: &CheckOptions,
) -> Result<Vec<Record>> {
    const CHECK: &str = "observations in space, finite rewards";
    let mut env = make().map_err(env_err(CHECK))?;
    let (obs_space, act_space) = (env.observation_space().clone(), env.action_space().clone());
    let layout = env.info_layout().clone();
    let mut s = EnvBuffers::sized(obs_space.flat_dim(), &layout);
    let mut rng: Rng = rng_from_seed(seed ^ 0x5EED);
    let mut action = vec![0.0; act_space.flat_dim()];
    env.reset(Some(seed), &mut s.obs, s.info.get_mut(0))
        .map_err(env_err(CHECK))?;
    check_obs(&obs_space, &s.obs, "reset")?;
    let mut records = vec![record(&s.obs, 0.0, false, false, &s.info)];
    for t in 0..opts.steps {
        act_space.sample(&mut rng, &mut action);
        let (reward, terminated, truncated) = s.step(&mut *env, &action).map_err(env_err(CHECK))?;
        check_obs(&obs_space, &s.obs, &format!("step {t}"))?;
        if !reward.is_finite() {
            return Err(fail(CHECK, format!("step {t}: non-finite reward {reward}")));
        }
        if let Some(v) = s
            .info
            .reward_terms
            .iter()
            .chain(&s.info.metrics)
            .find(|v| !v.is_finite())
        {
            return Err(fail(CHECK, format!("step {t}: non-finite info value {v}")));
        }
        records.push(record(&s.obs, reward, terminated, truncated, &s.info));
        if terminated || truncated {
            env.reset(None, &mut s.obs, s.info.get_mut(0))
                .map_err(env_err(CHECK))?;
            check_obs(&obs_space, &s.obs, &format!("reset after step {t}"))?;
            records.push(record(&s.obs, 0.0, false, false, &s.info));
        }
    }
    Ok(records)
}

fn record(obs: &[f32], reward: f32, terminated: bool, truncated: bool, info: &InfoBatch) -> Record {
    Record {
        obs: bits(obs),
        reward: reward.to_bits(),
        terminated,
        truncated,
        success: info.success[0],
        terms: bits(&info.reward_terms),
        metrics: bits(&info.metrics),
    }
}

fn check_obs(space: &Space, obs: &[f32], when: &str) -> Result<()> {
    const CHECK: &str = "observations in space, finite rewards";
    if let Some(i) = obs.iter().position(|v| !v.is_finite()) {
        return Err(fail(
            CHECK,
            format!("{when}: observation[{i}] = {}", obs[i]),
        ));
    }
    if !space.contains(obs) {
        let detail = match space {
            Space::Box(b) => {
                let i = (0..obs.len())
                    .find(|&i| obs[i] < b.low[i] || obs[i] > b.high[i])
                    .unwrap_or(0);
                format!(
                    "{when}: observation[{i}] = {} outside [{}, {}]",
                    obs[i], b.low[i], b.high[i]
                )
            }
            _ => format!("{when}: observation {obs:?} not in {space}"),
        };
        return Err(fail(CHECK, detail));
    }
    Ok(())
}

fn check_misuse_single(
    make: &dyn Fn() -> std::result::Result<Box<dyn Env>, EnvError>,
    act_space: &Space,
) -> Result<()> {
    const CHECK: &str = "misuse errors";
    let mut env = Checked::new(make().map_err(env_err(CHECK))?);
    let layout = env.info_layout().clone();
    let mut s = EnvBuffers::sized(env.observation_space().flat_dim(), &layout);
    let mut good_action = vec![0.0; act_space.flat_dim()];
    act_space.sample(&mut rng_from_seed(0), &mut good_action);
    let try_step = |env: &mut Checked<Box<dyn Env>>, s: &mut EnvBuffers, a: &[f32]| s.step(env, a);
    expect(
        CHECK,
        "step before reset",
        try_step(&mut env, &mut s, &good_action),
        |e| matches!(e, EnvError::NotReset),
    )?;
    env.reset(Some(0), &mut s.obs, s.info.get_mut(0))
        .map_err(env_err(CHECK))?;
    let mut long = good_action.clone();
    long.push(0.0);
    expect(
        CHECK,
        "action too long",
        try_step(&mut env, &mut s, &long),
        |e| matches!(e, EnvError::ActionShape { .. }),
    )?;
    let mut nan = good_action.clone();
    nan[0] = f32::NAN;
    expect(CHECK, "NaN action", try_step(&mut env, &mut s, &nan), |e| {
        matches!(e, EnvError::NonFiniteAction { index: 0, .. })
    })?;
    nan[0] = f32::INFINITY;
    expect(
        CHECK,
        "infinite action",
        try_step(&mut env, &mut s, &nan),
        |e| matches!(e, EnvError::NonFiniteAction { index: 0, .. }),
    )?;
    Ok(())
}

fn expect<T: std::fmt::Debug>(
    check: &'static str,
    what: &str,
    got: std::result::Result<T, EnvError>,
    ok: impl Fn(&EnvError) -> bool,
) -> Result<()> {
    match got {
        Err(e) if ok(&e) => Ok(()),
        other => Err(fail(
            check,
            format!("{what}: expected a typed error, got {other:?}"),
        )),
    }
}

/// Checks on vector envs: bit-identical batches for every thread count, same-step
/// autoreset against single-env references (`final_obs`, rewards, flags, episode
/// statistics, the next episode's first observation), partial reset, misuse errors.
///
/// `make_single` must build the same (wrapped) env as one sub-env of `make_vec`.
pub fn check_vec_env(
    make_vec: &dyn Fn(usize) -> std::result::Result<Box<dyn VecEnv>, EnvError>,
    make_single: &dyn Fn() -> std::result::Result<Box<dyn Env>, EnvError>,
    opts: &CheckOptions,
) -> Result<Report> {
    let mut report = Report::default();
    let threads = opts.thread_counts.first().copied().unwrap_or(1);
    let (reference, ended) = vec_rollout(make_vec, threads, opts)?;
    report.episodes_ended = ended;
    for &t in opts.thread_counts.iter().skip(1) {
        let (other, _) = vec_rollout(make_vec, t, opts)?;
        if let Some(step) = reference.iter().zip(&other).position(|(a, b)| a != b) {
            return Err(fail(
                "determinism across threads",
                format!("{threads} vs {t} threads: batches differ at step {step}"),
            ));
        }
    }
    report.passed.push("determinism across threads");

    check_autoreset(make_vec, make_single, opts)?;
    report.passed.push("autoreset and final_obs");
    if ended == 0 {
        report.warnings.push(format!(
            "no episode ended within {} steps: autoreset was not exercised",
            opts.steps
        ));
    }
    check_partial_reset(make_vec, make_single, opts)?;
    report.passed.push("partial reset");
    check_misuse_vec(make_vec, opts)?;
    report.passed.push("vector misuse errors");
    Ok(report)
}

fn batch_actions(space: &Space, n: usize, rng: &mut Rng, out: &mut [f32]) {
    let d = space.flat_dim();
    for i in 0..n {
        space.sample(rng, &mut out[i * d..(i + 1) * d]);
    }
}

fn vec_rollout(
    make_vec: &dyn Fn(usize) -> std::result::Result<Box<dyn VecEnv>, EnvError>,
    threads: usize,
    opts: &CheckOptions,
) -> Result<(Vec<Batch>, usize)> {
    const CHECK: &str = "determinism across threads";
    let mut venv = make_vec(threads).map_err(env_err(CHECK))?;
    let space = venv.single_action_space().clone();
    let n = venv.num_envs();
    let mut rng = rng_from_seed(opts.seed ^ 0xBA7C);
    let mut actions = vec![0.0; n * space.flat_dim()];
    let mut out = vec![venv.reset(Some(opts.seed)).map_err(env_err(CHECK))?.clone()];
    let mut ended = 0;
    for _ in 0..opts.steps {
        batch_actions(&space, n, &mut rng, &mut actions);
        let b = venv.step(&actions).map_err(env_err(CHECK))?;
        ended += b.ended.iter().filter(|e| **e).count();
        out.push(b.clone());
    }
    Ok((out, ended))
}

fn check_autoreset(
    make_vec: &dyn Fn(usize) -> std::result::Result<Box<dyn VecEnv>, EnvError>,
    make_single: &dyn Fn() -> std::result::Result<Box<dyn Env>, EnvError>,
    opts: &CheckOptions,
) -> Result<()> {
    const CHECK: &str = "autoreset and final_obs";
    let threads = opts.thread_counts.last().copied().unwrap_or(1);
    let mut venv = make_vec(threads).map_err(env_err(CHECK))?;
    let n = venv.num_envs();
    let space = venv.single_action_space().clone();
    let a = space.flat_dim();
    let mut singles = (0..n)
        .map(|_| make_single())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(env_err(CHECK))?;
    let layout = venv.info_layout().clone();
    let d = venv.single_observation_space().flat_dim();
    let mut scratch: Vec<EnvBuffers> = (0..n).map(|_| EnvBuffers::sized(d, &layout)).collect();
    let b = venv.reset(Some(opts.seed)).map_err(env_err(CHECK))?;
    for (i, (env, s)) in singles.iter_mut().zip(&mut scratch).enumerate() {
        env.reset(
            Some(sub_env_seed(opts.seed, i)),
            &mut s.obs,
            s.info.get_mut(0),
        )
        .map_err(env_err(CHECK))?;
        if bits(&s.obs) != bits(b.obs_of(i)) {
            return Err(fail(
                CHECK,
                format!("env {i}: reset(seed) differs from a single env seeded seed + {i}"),
            ));
        }
    }
    let mut rng = rng_from_seed(opts.seed ^ 0xA07);
    let mut actions = vec![0.0; n * a];
    let mut lengths = vec![0u32; n];
    for t in 0..opts.steps {
        batch_actions(&space, n, &mut rng, &mut actions);
        let b = venv.step(&actions).map_err(env_err(CHECK))?;
        for (i, (env, s)) in singles.iter_mut().zip(&mut scratch).enumerate() {
            let (r, te, tr) = s
                .step(env, &actions[i * a..(i + 1) * a])
                .map_err(env_err(CHECK))?;
            lengths[i] += 1;
            let at = format!("step {t}, env {i}");
            if r.to_bits() != b.rewards[i].to_bits()
                || te != b.terminated[i]
                || tr != b.truncated[i]
            {
                return Err(fail(
                    CHECK,
                    format!("{at}: reward or flags differ from a single env"),
                ));
            }
            if b.ended[i] != (te || tr) {
                return Err(fail(
                    CHECK,
                    format!("{at}: `ended` is not terminated || truncated"),
                ));
            }
            if te || tr {
                if bits(&s.obs) != bits(b.final_obs_of(i)) {
                    return Err(fail(
                        CHECK,
                        format!("{at}: final_obs is not the last observation of the episode"),
                    ));
                }
                if b.final_info.success[i] != s.info.success[0] {
                    return Err(fail(CHECK, format!("{at}: final_info.success differs")));
                }
                match b.final_info.episode[i] {
                    Some(ep) if ep.length == lengths[i] => {}
                    other => {
                        return Err(fail(
                            CHECK,
                            format!(
                                "{at}: final_info.episode = {other:?}, expected length {}",
                                lengths[i]
                            ),
                        ));
                    }
                }
                lengths[i] = 0;
                env.reset(None, &mut s.obs, s.info.get_mut(0))
                    .map_err(env_err(CHECK))?;
            }
            if bits(&s.obs) != bits(b.obs_of(i)) {
                return Err(fail(
                    CHECK,
                    format!(
                        "{at}: obs differs from a single env (after autoreset: not the next episode's first observation)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn check_partial_reset(
    make_vec: &dyn Fn(usize) -> std::result::Result<Box<dyn VecEnv>, EnvError>,
    make_single: &dyn Fn() -> std::result::Result<Box<dyn Env>, EnvError>,
    opts: &CheckOptions,
) -> Result<()> {
    const CHECK: &str = "partial reset";
    let threads = opts.thread_counts.last().copied().unwrap_or(1);
    let mut venv = make_vec(threads).map_err(env_err(CHECK))?;
    let n = venv.num_envs();
    let space = venv.single_action_space().clone();
    let mut actions = vec![0.0; n * space.flat_dim()];
    let mut rng = rng_from_seed(opts.seed ^ 0x9A7);
    venv.reset(Some(opts.seed)).map_err(env_err(CHECK))?;
    for _ in 0..3 {
        batch_actions(&space, n, &mut rng, &mut actions);
        venv.step(&actions).map_err(env_err(CHECK))?;
    }
    let before = venv.batch().obs.clone();
    let mask: Vec<bool> = (0..n).map(|i| i % 2 == 1).collect();
    let seed = opts.seed + 77;
    let layout = venv.info_layout().clone();
    let after = venv
        .reset_masked(&mask, Some(seed))
        .map_err(env_err(CHECK))?;
    let d = after.obs_dim;
    for i in 0..n {
        let now = bits(after.obs_of(i));
        if mask[i] {
            let mut env = make_single().map_err(env_err(CHECK))?;
            let mut s = EnvBuffers::sized(d, &layout);
            env.reset(Some(sub_env_seed(seed, i)), &mut s.obs, s.info.get_mut(0))
                .map_err(env_err(CHECK))?;
            if now != bits(&s.obs) {
                return Err(fail(
                    CHECK,
                    format!("masked env {i} was not reset with seed + {i}"),
                ));
            }
        } else if now != bits(&before[i * d..(i + 1) * d]) {
            return Err(fail(CHECK, format!("unmasked env {i} changed")));
        }
    }
    Ok(())
}

fn check_misuse_vec(
    make_vec: &dyn Fn(usize) -> std::result::Result<Box<dyn VecEnv>, EnvError>,
    opts: &CheckOptions,
) -> Result<()> {
    const CHECK: &str = "vector misuse errors";
    let threads = opts.thread_counts.last().copied().unwrap_or(1);
    let mut venv = make_vec(threads).map_err(env_err(CHECK))?;
    let n = venv.num_envs();
    let space = venv.single_action_space().clone();
    let a = space.flat_dim();
    let mut actions = vec![0.0; n * a];
    batch_actions(&space, n, &mut rng_from_seed(3), &mut actions);
    expect(
        CHECK,
        "step before reset",
        venv.step(&actions).map(|_| ()),
        |e| matches!(e, EnvError::NotReset),
    )?;
    venv.reset(Some(opts.seed)).map_err(env_err(CHECK))?;
    expect(
        CHECK,
        "short action batch",
        venv.step(&actions[1..]).map(|_| ()),
        |e| matches!(e, EnvError::ActionShape { .. }),
    )?;
    let last = n * a - 1;
    let mut bad = actions.clone();
    bad[last] = f32::NAN;
    expect(
        CHECK,
        "NaN action",
        venv.step(&bad).map(|_| ()),
        |e| matches!(e, EnvError::NonFiniteAction { env, index, .. } if *env == n - 1 && *index == a - 1),
    )?;
    expect(
        CHECK,
        "short reset mask",
        venv.reset_masked(&[true], None).map(|_| ()),
        |e| n == 1 || matches!(e, EnvError::BatchShape { .. }),
    )?;
    venv.step(&actions).map_err(env_err(CHECK)).map(|_| ())
}
