//! [`RemoteProgress`]: a progress model behind an OpenAI-compatible server, for shaping
//! (`Remote(...)` in a run's config).
//!
//! Each scored batch's frame sets are PNG-encoded on the shaper's scoring thread (off the
//! env threads) and sent as up to `max_in_flight` concurrent calls; a call that times out
//! or gets 429/5xx is retried `retries` times with back-off doubling from 100 ms, within
//! the batch's deadline: a scored batch (a rollout step) waits `timeout_ms` in all, and a
//! call unanswered by then fails, so a hung server costs a step at most that long. Answers
//! are cached by frame hash (LRU, 4,096 entries). **When a score never comes** (retries
//! spent, or an answer that cannot be parsed), the env's last Φ is held: Φ(s') = Φ(s), so
//! that transition's shaping term is (γ − 1)kΦ(s), near 0 and never NaN; the first state
//! of an episode gets Φ = 0. After [`BREAKER_FAILURES`] failed calls in a row (counted per
//! call across the concurrent calls, not per batch) the model stops calling for a
//! cool-down (1 s, doubling to 30 s; a success resets it), so a dead server costs a batch
//! eight failed calls, not one per frame set. Failures and latency are reported as
//! `remote_failures` and `remote_latency_ms` (logged under `reward/`).

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rapt_shaping::{
    ModelStats, ProgressInput, ProgressModel, ProgressScores, RemoteProtocol, RemoteSpec,
    RewardError, Row, Stat,
};
use thiserror::Error;

use crate::chat::{ChatRequest, ChatResponse};
use crate::client::ChatClient;
use crate::frames::png_data_url;
use crate::protocol::{
    AnswerError, answer_text, grm_accumulate, grm_request, parse_grm, parse_progress,
    parse_rubric5, progress_request, rubric5_expectation, rubric5_phi, rubric5_request,
};

/// Frame-hash → Φ entries kept.
const CACHE_ENTRIES: usize = 4096;
/// Calls failing in a row that make the model stop calling for a cool-down.
pub const BREAKER_FAILURES: u32 = 8;

/// Why a remote model could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The API key's environment variable is not set.
    #[error("api_key_env: the environment variable `{0}` is not set")]
    MissingKey(String),
    /// The server failed the start-up check.
    #[error("start-up check of {url}: {message}")]
    StartUp {
        /// The server.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// GRM's reference images could not be rendered from the env.
    #[error("Grm's reference images: {0}")]
    References(String),
}

/// Seed of the scripted expert episode whose first and last front frames are GRM's
/// references.
pub const REFERENCE_SEED: u64 = 0;

/// One call's outcome: a score (the protocol's raw value) or why not.
type Outcome = Result<f32, String>;

/// A small LRU map from frame hashes to scores.
#[derive(Debug, Default)]
struct Cache {
    map: HashMap<u64, f32>,
    order: VecDeque<u64>,
}

impl Cache {
    fn get(&self, key: u64) -> Option<f32> {
        self.map.get(&key).copied()
    }

    fn put(&mut self, key: u64, value: f32) {
        if self.map.insert(key, value).is_none() {
            self.order.push_back(key);
            if self.order.len() > CACHE_ENTRIES
                && let Some(old) = self.order.pop_front()
            {
                self.map.remove(&old);
            }
        }
    }
}

/// A progress model answered by a remote server.
#[derive(Debug)]
pub struct RemoteProgress {
    spec: RemoteSpec,
    caller: Arc<Caller>,
    /// Threads making calls, started on the first scored batch.
    pool: Option<CallPool>,
    /// GRM's reference start and goal images (front view), as data URLs.
    references: Option<[String; 2]>,
    /// Φ of each env's current state.
    phi: Vec<f32>,
    /// Each env's current frame set (data URLs) and its hash: GRM's BEFORE (kept for GRM
    /// only).
    current: Vec<Option<(Vec<String>, u64)>>,
    cache: Cache,
    /// Failures since the last `take_stats`, and in all.
    failures: u64,
    total_failures: u64,
    latency_ms: (f64, f64),
}

impl RemoteProgress {
    /// A client of `spec`'s server, after the start-up check: the server lists the model
    /// (`GET /models`) and answers one scoring call of gray frames in the protocol's
    /// format. GRM needs its reference images first ([`RemoteProgress::with_references`]),
    /// so its check runs there.
    pub fn connect(spec: &RemoteSpec) -> Result<Self, RemoteError> {
        let api_key = match &spec.api_key_env {
            Some(var) => {
                Some(std::env::var(var).map_err(|_| RemoteError::MissingKey(var.clone()))?)
            }
            None => None,
        };
        let client = ChatClient::new(&spec.url, Duration::from_millis(spec.timeout_ms), api_key);
        let model = Self {
            spec: spec.clone(),
            caller: Arc::new(Caller {
                client,
                protocol: spec.protocol,
                retries: spec.retries,
                breaker: Breaker::new(&spec.url),
            }),
            pool: None,
            references: None,
            phi: Vec::new(),
            current: Vec::new(),
            cache: Cache::default(),
            failures: 0,
            total_failures: 0,
            latency_ms: (0.0, 0.0),
        };
        let served = model
            .caller
            .client
            .models()
            .map_err(|e| model.startup(e.to_string()))?;
        if !served.contains(&spec.model) {
            return Err(model.startup(format!(
                "model `{}` is not served there; it serves {served:?}",
                spec.model
            )));
        }
        if spec.protocol != RemoteProtocol::Grm {
            model.check_answer()?;
        }
        Ok(model)
    }

    /// [`RemoteProgress::connect`], then for GRM the references: the front view
    /// (`spec.views[0]`) of the first and last state of the scripted expert's episode from
    /// [`REFERENCE_SEED`] in the env `make_env` builds (called only for GRM).
    pub fn connect_for_env<E: std::fmt::Display>(
        spec: &RemoteSpec,
        make_env: impl FnOnce() -> Result<Box<dyn rapt_core::Env>, E>,
    ) -> Result<Self, RemoteError> {
        let model = Self::connect(spec)?;
        if spec.protocol != RemoteProtocol::Grm {
            return Ok(model);
        }
        let mut env = make_env().map_err(|e| RemoteError::References(e.to_string()))?;
        let (start, goal) =
            expert_references(&mut *env, &spec.views[0], spec.image_size, REFERENCE_SEED)
                .map_err(RemoteError::References)?;
        model.with_references(&start, &goal)
    }

    /// Set GRM's reference start and goal images (`size × size × 3` RGB of the front view
    /// at `image_size` px) and run its start-up scoring call.
    pub fn with_references(mut self, start: &[u8], goal: &[u8]) -> Result<Self, RemoteError> {
        let size = self.spec.image_size;
        let url = |rgb: &[u8]| png_data_url(rgb, size).map_err(|e| self.startup(e.to_string()));
        self.references = Some([url(start)?, url(goal)?]);
        self.check_answer()?;
        Ok(self)
    }

    fn startup(&self, message: String) -> RemoteError {
        RemoteError::StartUp {
            url: self.spec.url.clone(),
            message,
        }
    }

    /// One scoring call of gray frames must come back in the protocol's format.
    fn check_answer(&self) -> Result<(), RemoteError> {
        let size = self.spec.image_size;
        let gray = png_data_url(&vec![128; size * size * 3], size)
            .map_err(|e| self.startup(e.to_string()))?;
        let urls = vec![gray; self.spec.views.len()];
        let request = self.request("the start-up check", &urls, Some(&urls));
        let answer = self
            .caller
            .client
            .complete(&request)
            .map_err(|e| self.startup(e.to_string()))?;
        self.caller
            .read(&answer)
            .map(|_| ())
            .map_err(|e| self.startup(format!("unparseable answer: {e}")))
    }

    /// The request scoring frame set `urls` (GRM: with `before` as BEFORE).
    fn request(&self, task: &str, urls: &[String], before: Option<&[String]>) -> ChatRequest {
        let model = &self.spec.model;
        let refs: Vec<&str> = urls.iter().map(String::as_str).collect();
        match self.spec.protocol {
            RemoteProtocol::Progress => progress_request(model, &refs),
            RemoteProtocol::Rubric5 => rubric5_request(model, task, &refs),
            RemoteProtocol::Grm => {
                fn three(u: &[String]) -> [&str; 3] {
                    [u[0].as_str(), u[1].as_str(), u[2].as_str()]
                }
                let reference = self
                    .references
                    .as_ref()
                    .map_or([refs[0], refs[0]], |r| [r[0].as_str(), r[1].as_str()]);
                grm_request(
                    model,
                    task,
                    reference,
                    three(before.unwrap_or(urls)),
                    three(urls),
                )
            }
        }
    }

    /// Run `requests` on the pool's `max_in_flight` threads (started on first use).
    /// The batch gets its answers within `timeout_ms` in all (retries included): a call
    /// still unanswered then fails (its Φ is held), so a hung server costs a rollout step
    /// at most that long.
    fn call_all(&mut self, requests: Vec<ChatRequest>) -> Vec<(Outcome, Duration)> {
        let deadline = Instant::now() + Duration::from_millis(self.spec.timeout_ms);
        let pool = self
            .pool
            .get_or_insert_with(|| CallPool::start(&self.caller, self.spec.max_in_flight));
        pool.run(requests, deadline)
    }
}

/// Calls the server and reads its answers (shared by the pool's threads).
#[derive(Debug)]
struct Caller {
    client: ChatClient,
    protocol: RemoteProtocol,
    retries: u32,
    /// Shared by the pool's threads: it opens after [`BREAKER_FAILURES`] failed calls in a
    /// row, however the calls were batched.
    breaker: Breaker,
}

/// The circuit breaker of a server: after [`BREAKER_FAILURES`] calls in a row failed (a
/// dead or overloaded server) no call is made for a cool-down doubling from 1 s to 30 s;
/// a success closes it. Counted per call, so a batch of hundreds of calls to a dead server
/// costs [`BREAKER_FAILURES`] failed calls (plus those already in flight), not hundreds.
#[derive(Debug)]
struct Breaker {
    url: String,
    state: Mutex<BreakerState>,
}

#[derive(Debug)]
struct BreakerState {
    failures_in_a_row: u32,
    down_until: Option<Instant>,
    cooldown: Duration,
}

impl Breaker {
    fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            state: Mutex::new(BreakerState {
                failures_in_a_row: 0,
                down_until: None,
                cooldown: Duration::from_secs(1),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BreakerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether calls are held back now.
    fn is_open(&self) -> bool {
        self.lock().down_until.is_some_and(|t| Instant::now() < t)
    }

    /// Count a call's outcome.
    fn record(&self, ok: bool) {
        let mut s = self.lock();
        if ok {
            s.failures_in_a_row = 0;
            s.cooldown = Duration::from_secs(1);
            s.down_until = None;
            return;
        }
        s.failures_in_a_row += 1;
        if s.failures_in_a_row >= BREAKER_FAILURES {
            s.down_until = Some(Instant::now() + s.cooldown);
            tracing::warn!(
                "remote progress model at {}: {} calls in a row failed; no calls for {:?}, holding Φ",
                self.url,
                s.failures_in_a_row,
                s.cooldown
            );
            s.cooldown = (s.cooldown * 2).min(Duration::from_secs(30));
            s.failures_in_a_row = 0;
        }
    }
}

/// The outcome of a call the breaker held back.
fn held_back() -> (Outcome, Duration) {
    (
        Err("the server is cooling down after repeated failures".to_string()),
        Duration::ZERO,
    )
}

impl Caller {
    /// The protocol's raw value from an answer: Φ (`Progress`, `Rubric5`) or GRM's hop.
    fn read(&self, answer: &ChatResponse) -> Result<f32, AnswerError> {
        match self.protocol {
            RemoteProtocol::Progress => parse_progress(answer_text(answer)?),
            RemoteProtocol::Rubric5 => match rubric5_expectation(answer) {
                Some(e) => Ok(rubric5_phi(e)),
                None => parse_rubric5(answer_text(answer)?).map(|d| rubric5_phi(f32::from(d))),
            },
            RemoteProtocol::Grm => parse_grm(answer_text(answer)?),
        }
    }

    /// One call with retries (none while the breaker is open, none that would start past
    /// `deadline`); the outcome and the time it took.
    fn call(&self, request: &ChatRequest, deadline: Instant) -> (Outcome, Duration) {
        if self.breaker.is_open() {
            return held_back();
        }
        let start = Instant::now();
        if start >= deadline {
            return (Err(past_deadline()), Duration::ZERO);
        }
        let mut delay = Duration::from_millis(100);
        let mut attempt = 0;
        let outcome = loop {
            match self.client.complete(request) {
                Ok(answer) => break self.read(&answer).map_err(|e| e.to_string()),
                Err(e)
                    if e.is_transient()
                        && attempt < self.retries
                        && Instant::now() + delay < deadline =>
                {
                    attempt += 1;
                    std::thread::sleep(delay);
                    delay *= 2;
                }
                Err(e) => break Err(e.to_string()),
            }
        };
        self.breaker.record(outcome.is_ok());
        (outcome, start.elapsed())
    }
}

/// Why a call of a batch failed when the batch's deadline passed first.
fn past_deadline() -> String {
    "no answer within the batch's timeout_ms".to_string()
}

/// A call to make, by when, and where its result goes (with its index in the batch).
type CallJob = (
    usize,
    ChatRequest,
    Instant,
    Sender<(usize, (Outcome, Duration))>,
);

/// Long-lived threads making calls (spawning threads per scored batch cost more CPU in the
/// kernel than the calls themselves).
struct CallPool {
    caller: Arc<Caller>,
    jobs: Sender<CallJob>,
    /// Threads started. They are detached: each ends once the pool's sender is dropped
    /// and its call in hand returns, so dropping a model whose server hangs does not hang
    /// (late answers are dropped).
    threads: usize,
}

impl std::fmt::Debug for CallPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallPool")
            .field("threads", &self.threads)
            .finish()
    }
}

impl CallPool {
    fn start(caller: &Arc<Caller>, threads: usize) -> Self {
        let (jobs, queue) = channel::<CallJob>();
        let queue = Arc::new(Mutex::new(queue));
        let threads = threads.max(1);
        for k in 0..threads {
            let (caller, queue) = (caller.clone(), queue.clone());
            std::thread::Builder::new()
                .name(format!("rapt-remote-{k}"))
                .spawn(move || {
                    loop {
                        let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok((k, request, deadline, reply)) = job else {
                            break;
                        };
                        let _ = reply.send((k, caller.call(&request, deadline)));
                    }
                })
                .expect("spawning a remote-call thread");
        }
        Self {
            caller: caller.clone(),
            jobs,
            threads,
        }
    }

    /// The outcomes of `requests`, each by `deadline`: calls unanswered then fail, and
    /// count as failed for the breaker (their late answers are dropped). Nothing is sent
    /// while the breaker is open.
    fn run(&self, requests: Vec<ChatRequest>, deadline: Instant) -> Vec<(Outcome, Duration)> {
        let n = requests.len();
        if self.caller.breaker.is_open() {
            return vec![held_back(); n];
        }
        let start = Instant::now();
        let (reply, results) = channel();
        let jobs = &self.jobs;
        for (k, request) in requests.into_iter().enumerate() {
            let _ = jobs.send((k, request, deadline, reply.clone()));
        }
        drop(reply);
        let mut out: Vec<Option<(Outcome, Duration)>> = vec![None; n];
        let mut answered = 0;
        while answered < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match results.recv_timeout(left) {
                Ok((k, result)) => {
                    out[k] = Some(result);
                    answered += 1;
                }
                Err(_) => break,
            }
        }
        let waited = start.elapsed();
        out.into_iter()
            .map(|o| {
                o.unwrap_or_else(|| {
                    self.caller.breaker.record(false);
                    (Err(past_deadline()), waited)
                })
            })
            .collect()
    }
}

/// 1, 10, 100, …
fn is_power_of_ten(k: u64) -> bool {
    let mut p = 1;
    while p < k {
        p *= 10;
    }
    p == k
}

fn hash_bytes(parts: &[&[u8]]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}

/// What to do for one row.
enum Plan {
    /// The raw value is known without a call (cached, or GRM's 0 at an episode's start).
    Value(f32),
    /// Call the server with request `k`.
    Call(usize),
}

impl ProgressModel for RemoteProgress {
    fn name(&self) -> String {
        format!(
            "Remote({:?} {} at {})",
            self.spec.protocol, self.spec.model, self.spec.url
        )
    }

    fn needs_frames(&self) -> bool {
        true
    }

    fn merges_batches(&self) -> bool {
        // GRM keeps per-episode state: one step per call.
        self.spec.protocol != RemoteProtocol::Grm
    }

    fn views(&self) -> Option<(Vec<String>, usize)> {
        Some((self.spec.views.clone(), self.spec.image_size))
    }

    fn score(&mut self, input: &ProgressInput<'_>) -> Result<ProgressScores, RewardError> {
        let name = self.name();
        let bad = |message: String| RewardError::BadInput {
            model: name.clone(),
            message,
        };
        let frames = input.frames.ok_or_else(|| RewardError::MissingInput {
            model: self.name(),
            what: "camera frames",
        })?;
        let n = input.n;
        let rows: Vec<Row> = match input.rows {
            Some(rows) => rows.to_vec(),
            None if self.spec.protocol == RemoteProtocol::Grm => {
                return Err(bad(
                    "Grm keeps per-episode progress and needs the shaper's row kinds".into(),
                ));
            }
            None => (0..n).map(Row::Next).collect(),
        };
        let per_set = frames.len() / n.max(1);
        let per_view = per_set / self.spec.views.len();
        if n == 0 || rows.len() != n || per_set * n != frames.len() {
            return Err(bad(format!(
                "{} bytes of frames for {n} rows",
                frames.len()
            )));
        }
        let envs = rows.iter().map(|r| r.env() + 1).max().unwrap_or(0);
        if self.phi.len() < envs {
            self.phi.resize(envs, 0.0);
            self.current.resize(envs, None);
        }
        let size = self.spec.image_size;
        let grm = self.spec.protocol == RemoteProtocol::Grm;
        let sets: Vec<&[u8]> = frames.chunks(per_set).collect();
        let hashes: Vec<u64> = sets.iter().map(|set| hash_bytes(&[set])).collect();
        // PNG data URLs of the rows that need them: those that call the server and, for GRM,
        // those that become an env's current state (the BEFORE of its next call). A row the
        // cache answers is never encoded.
        let mut urls: Vec<Option<Vec<String>>> = vec![None; n];
        let mut encode = |r: usize| -> Result<Vec<String>, RewardError> {
            if urls[r].is_none() {
                let set = sets[r]
                    .chunks(per_view)
                    .map(|view| png_data_url(view, size))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| bad(e.to_string()))?;
                urls[r] = Some(set);
            }
            Ok(urls[r].clone().expect("encoded above"))
        };
        let mut requests = Vec::new();
        let mut plans = Vec::with_capacity(n);
        for (r, row) in rows.iter().enumerate() {
            let before = match row {
                Row::First(_) => None,
                Row::Next(i) | Row::Last(i) => self.current[*i].as_ref(),
            };
            let key = match (grm, row, before) {
                // GRM's incremental progress starts at 0 with each episode.
                (true, Row::First(_), _) | (true, _, None) => None,
                (true, _, Some((_, before_hash))) => Some(hash_bytes(&[
                    &before_hash.to_le_bytes(),
                    &hashes[r].to_le_bytes(),
                ])),
                (false, _, _) => Some(hashes[r]),
            };
            let plan = match key.map(|k| (k, self.cache.get(k))) {
                None => Plan::Value(0.0),
                Some((_, Some(v))) => Plan::Value(v),
                Some((key, None)) => {
                    let before_urls = before.filter(|_| grm).map(|b| b.0.as_slice());
                    requests.push((key, self.request(input.task, &encode(r)?, before_urls)));
                    Plan::Call(requests.len() - 1)
                }
            };
            plans.push(plan);
        }
        let (keys, calls): (Vec<u64>, Vec<ChatRequest>) = requests.into_iter().unzip();
        let outcomes = if self.caller.breaker.is_open() {
            // The server failed repeatedly: skip calls until the cool-down ends.
            vec![held_back(); calls.len()]
        } else {
            self.call_all(calls)
        };
        for (key, (outcome, took)) in keys.iter().zip(&outcomes) {
            self.latency_ms.0 += took.as_secs_f64() * 1e3;
            self.latency_ms.1 += 1.0;
            match outcome {
                Ok(v) => self.cache.put(*key, *v),
                Err(e) => {
                    self.failures += 1;
                    self.total_failures += 1;
                    // The 1st, 10th, 100th, … failure: a dead server does not flood the log.
                    let k = self.total_failures;
                    if is_power_of_ten(k) {
                        tracing::warn!(
                            "remote progress model at {}: {e}; holding the last Φ ({k} failures so far)",
                            self.spec.url
                        );
                    }
                }
            }
        }
        let mut phi = Vec::with_capacity(n);
        for (row, plan) in rows.iter().zip(&plans) {
            let env = row.env();
            let raw = match plan {
                Plan::Value(v) => Some(*v),
                Plan::Call(k) => outcomes[*k].0.as_ref().ok().copied(),
            };
            let value = match (raw, row) {
                (Some(v), Row::First(_)) if !grm => v,
                (Some(_), Row::First(_)) => 0.0,
                (Some(hop), _) if grm => grm_accumulate(self.phi[env], hop),
                (Some(v), _) => v,
                // No score: an episode's first state gets 0, others hold the env's Φ.
                (None, Row::First(_)) => 0.0,
                (None, _) => self.phi[env],
            };
            phi.push(if value.is_finite() {
                value.clamp(0.0, 1.0)
            } else {
                self.phi[env]
            });
        }
        // The envs' current states: an episode's first row where one began, else its next
        // (their frames only for GRM, whose next call sends them as BEFORE).
        for (r, row) in rows.iter().enumerate() {
            if let Row::First(i) | Row::Next(i) = *row {
                self.phi[i] = phi[r];
                if grm {
                    self.current[i] = Some((encode(r)?, hashes[r]));
                }
            }
        }
        Ok(ProgressScores {
            phi,
            uncertainty: None,
        })
    }

    fn take_stats(&mut self) -> ModelStats {
        let (sum, n) = std::mem::take(&mut self.latency_ms);
        vec![
            (
                "remote_failures",
                Stat::Count(std::mem::take(&mut self.failures) as f64),
            ),
            ("remote_latency_ms", Stat::Mean { sum, n }),
        ]
    }
}

/// GRM's reference images: view `view` at `size` px of the first and the last state of
/// `env`'s scripted expert episode from reset `seed` (`env` must end its episodes, as a
/// registered env does with its time limit).
pub fn expert_references(
    env: &mut dyn rapt_core::Env,
    view: &str,
    size: usize,
    seed: u64,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let render = |env: &dyn rapt_core::Env| {
        let mut rgb = Vec::new();
        if env.render(view, size, size, &mut rgb) {
            Ok(rgb)
        } else {
            Err(format!("the env cannot render view `{view}` at {size} px"))
        }
    };
    let mut buffers = rapt_core::EnvBuffers::new(&*env);
    let mut action = vec![0.0; env.action_space().flat_dim()];
    buffers.reset(env, Some(seed)).map_err(|e| e.to_string())?;
    let start = render(env)?;
    for _ in 0..100_000 {
        if !env.expert_action(&mut action) {
            return Err("the env has no scripted expert to show the task's start and goal".into());
        }
        buffers.step(env, &action).map_err(|e| e.to_string())?;
        if buffers.ended() {
            return Ok((start, render(env)?));
        }
    }
    Err("the expert's episode did not end within 100,000 steps".into())
}
