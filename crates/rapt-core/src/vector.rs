use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use std::sync::Arc;

use crate::{Batch, Env, EnvError, FrameSpec, InfoLayout, InfoMut, Space, StepOut, sub_env_seed};

/// A batch of environments stepped together, Gymnasium's `VectorEnv` with same-step
/// autoreset. Every call returns the batch it wrote ([`Batch`] documents the layout).
pub trait VecEnv: Send {
    /// Number of sub-environments.
    fn num_envs(&self) -> usize;
    /// Observation space of one sub-environment.
    fn single_observation_space(&self) -> &Space;
    /// Action space of one sub-environment.
    fn single_action_space(&self) -> &Space;
    /// Names of reward terms and metrics in the infos.
    fn info_layout(&self) -> &InfoLayout;
    /// Reset every env; with `Some(seed)`, sub-env `i` is seeded with `seed + i`.
    fn reset(&mut self, seed: Option<u64>) -> Result<&Batch, EnvError>;
    /// Reset only the envs where `mask[i]` (seeded `seed + i` when a seed is given); the
    /// others keep their state and observation.
    fn reset_masked(&mut self, mask: &[bool], seed: Option<u64>) -> Result<&Batch, EnvError>;
    /// Step every env with `actions` (`num_envs × action dim`, env-major), resetting the
    /// envs whose episode ended within the same call.
    fn step(&mut self, actions: &[f32]) -> Result<&Batch, EnvError>;
    /// The buffers written by the last call.
    fn batch(&self) -> &Batch;
    /// The sub-environments' task in words ([`Env::task`]); empty by default.
    fn task(&self) -> &str {
        ""
    }
    /// Render camera frames after every reset and step into [`Batch::frames`] (and, for
    /// episodes that end, [`Batch::final_frames`] before the autoreset), or stop with
    /// `None`. Takes effect from the next call, which should be a reset. Default: not
    /// supported.
    fn set_frames(&mut self, spec: Option<FrameSpec>) -> Result<(), EnvError> {
        match spec {
            None => Ok(()),
            Some(_) => Err(EnvError::InvalidOptions(
                "this vector env cannot render camera frames".into(),
            )),
        }
    }
}

/// Render `spec`'s views of `env` into `out` (`spec.bytes()` long), reusing `scratch`.
fn render_frames(
    env: &dyn Env,
    spec: &FrameSpec,
    out: &mut [u8],
    scratch: &mut Vec<u8>,
    index: usize,
) -> Result<(), EnvError> {
    let per_view = spec.size * spec.size * 3;
    for (k, view) in spec.views.iter().enumerate() {
        if !env.render(view, spec.size, spec.size, scratch) || scratch.len() != per_view {
            return Err(EnvError::InvalidOptions(format!(
                "sub-env {index} cannot render view `{view}` at {} px",
                spec.size
            )));
        }
        out[k * per_view..(k + 1) * per_view].copy_from_slice(scratch);
    }
    Ok(())
}

/// The part of the batch a chunk of envs reads and writes; moved to its worker and back.
/// Observations and current frames go straight into the vector env's batch (through
/// `out` for a worker); the rest into `batch`, which the caller copies (a few bytes per
/// env, plus the final observation of the episodes that ended).
#[derive(Debug)]
struct ChunkIo {
    actions: Vec<f32>,
    mask: Vec<bool>,
    seed: Option<u64>,
    batch: Batch,
    /// A worker's rows of the vector env's observations and frames, during one call.
    out: Option<OutWindow>,
    /// Frames to render after each reset and step.
    frames: Option<Arc<FrameSpec>>,
    /// Render the current states' frames only when asked (`Cmd::Render`); final frames
    /// of episodes that end are still rendered in the step.
    on_demand: bool,
    scratch: Vec<u8>,
}

/// The rows of the batch's observations and current frames one chunk writes: disjoint
/// slices of the vector env's [`Batch`].
struct ChunkOut<'a> {
    obs: &'a mut [f32],
    frames: &'a mut [u8],
}

/// A worker's [`ChunkOut`] while it is on the worker's thread: the rows the worker alone
/// writes during one call, which the vector env does not touch until the worker has
/// answered (or ended).
#[derive(Debug)]
struct OutWindow {
    obs: (*mut f32, usize),
    frames: (*mut u8, usize),
}

// Each window is handed to one worker for one call and covers rows no other thread reads
// or writes in that time (see `ThreadedVecEnv::dispatch`).
#[allow(unsafe_code)]
unsafe impl Send for OutWindow {}

impl OutWindow {
    fn new(out: ChunkOut<'_>) -> Self {
        Self {
            obs: (out.obs.as_mut_ptr(), out.obs.len()),
            frames: (out.frames.as_mut_ptr(), out.frames.len()),
        }
    }

    /// The rows as slices again, on the worker's thread.
    ///
    /// # Safety
    /// The buffers the window was made from must still be alive and unmoved, and nothing
    /// else may access those rows while the slices live: `dispatch` keeps the batch's
    /// buffers borrowed, untouched, until every worker it sent a window to has answered
    /// or its thread has ended, and a worker drops the slices before it answers.
    #[allow(unsafe_code)]
    unsafe fn rows<'a>(&self) -> ChunkOut<'a> {
        // SAFETY: the caller upholds the contract above; the pointers and lengths come
        // from live slices (`new`).
        unsafe {
            ChunkOut {
                obs: std::slice::from_raw_parts_mut(self.obs.0, self.obs.1),
                frames: std::slice::from_raw_parts_mut(self.frames.0, self.frames.1),
            }
        }
    }
}

/// Which frame buffer of the batch a render fills.
#[derive(Debug, Clone, Copy)]
enum FrameSlot {
    /// `frames`: the observation the policy acts on next.
    Current,
    /// `final_frames`: the last observation of an episode, before the autoreset.
    Final,
    /// `frames`, rendered now whether or not frames are on demand.
    Now,
}

impl ChunkIo {
    /// Render chunk env `i` (sub-env `index`) into its part of `slot` (`current`: its
    /// rows of the batch's current frames); a no-op when frames are off.
    fn render(
        &mut self,
        env: &dyn Env,
        i: usize,
        index: usize,
        slot: FrameSlot,
        current: &mut [u8],
    ) -> Result<(), EnvError> {
        let Some(spec) = &self.frames else {
            return Ok(());
        };
        let f = self.batch.frame_bytes;
        let out = match slot {
            FrameSlot::Current if self.on_demand => return Ok(()),
            FrameSlot::Current => current,
            FrameSlot::Final => &mut self.batch.final_frames[i * f..(i + 1) * f],
            FrameSlot::Now => current,
        };
        render_frames(env, spec, out, &mut self.scratch, index)
    }
}

#[derive(Debug, Clone, Copy)]
enum Cmd {
    Reset,
    ResetMasked,
    Step,
    /// Render the current states' frames (frames on demand).
    Render,
}

/// A contiguous range of sub-environments, owned by one thread for its whole life.
struct Chunk {
    envs: Vec<Box<dyn Env>>,
    first: usize,
    act_dim: usize,
}

impl Chunk {
    fn run(&mut self, cmd: Cmd, io: &mut ChunkIo, out: ChunkOut<'_>) -> Result<(), EnvError> {
        match cmd {
            Cmd::Reset => self.reset(io, out, false),
            Cmd::ResetMasked => self.reset(io, out, true),
            Cmd::Step => self.step(io, out),
            Cmd::Render => {
                let f = io.batch.frame_bytes;
                for (i, env) in self.envs.iter().enumerate() {
                    let frames = &mut out.frames[i * f..(i + 1) * f];
                    io.render(&**env, i, self.first + i, FrameSlot::Now, frames)?;
                }
                Ok(())
            }
        }
    }

    /// Run `cmd` on a worker's thread, writing through the window `dispatch` sent.
    fn run_in_window(&mut self, cmd: Cmd, io: &mut ChunkIo) -> Result<(), EnvError> {
        let window = io
            .out
            .take()
            .expect("dispatch sends a window with each job");
        // SAFETY: `dispatch` sent this window with the job and waits for this worker's
        // answer before it touches those rows again; the slices end with this call.
        #[allow(unsafe_code)]
        let out = unsafe { window.rows() };
        self.run(cmd, io, out)
    }

    fn reset(&mut self, io: &mut ChunkIo, out: ChunkOut<'_>, masked: bool) -> Result<(), EnvError> {
        let d = io.batch.obs_dim;
        let f = io.batch.frame_bytes;
        for (i, env) in self.envs.iter_mut().enumerate() {
            if masked && !io.mask[i] {
                continue;
            }
            let seed = io.seed.map(|s| sub_env_seed(s, self.first + i));
            let b = &mut io.batch;
            env.reset(seed, &mut out.obs[i * d..(i + 1) * d], b.info.get_mut(i))
                .map_err(|e| at_env(e, self.first + i))?;
            b.rewards[i] = 0.0;
            b.terminated[i] = false;
            b.truncated[i] = false;
            b.ended[i] = false;
            let frames = &mut out.frames[i * f..(i + 1) * f];
            io.render(&**env, i, self.first + i, FrameSlot::Current, frames)?;
        }
        Ok(())
    }

    fn step(&mut self, io: &mut ChunkIo, out: ChunkOut<'_>) -> Result<(), EnvError> {
        let (d, a) = (io.batch.obs_dim, self.act_dim);
        let f = io.batch.frame_bytes;
        for (i, env) in self.envs.iter_mut().enumerate() {
            let b = &mut io.batch;
            let obs = &mut out.obs[i * d..(i + 1) * d];
            let step_out = StepOut {
                obs,
                reward: &mut b.rewards[i],
                terminated: &mut b.terminated[i],
                truncated: &mut b.truncated[i],
                info: b.info.get_mut(i),
            };
            env.step(&io.actions[i * a..(i + 1) * a], step_out)
                .map_err(|e| at_env(e, self.first + i))?;
            let ended = b.terminated[i] || b.truncated[i];
            b.ended[i] = ended;
            let frames = &mut out.frames[i * f..(i + 1) * f];
            if ended {
                b.final_obs[i * d..(i + 1) * d].copy_from_slice(&out.obs[i * d..(i + 1) * d]);
                b.final_info.copy_env_from(i, &b.info, i);
                io.render(&**env, i, self.first + i, FrameSlot::Final, frames)?;
                let b = &mut io.batch;
                let info: InfoMut<'_> = b.info.get_mut(i);
                env.reset(None, &mut out.obs[i * d..(i + 1) * d], info)
                    .map_err(|e| at_env(e, self.first + i))?;
            }
            io.render(&**env, i, self.first + i, FrameSlot::Current, frames)?;
        }
        Ok(())
    }
}

/// Re-label an error from a sub-env with its index in the batch.
fn at_env(e: EnvError, index: usize) -> EnvError {
    match e {
        EnvError::NonFiniteAction {
            index: j, value, ..
        } => EnvError::NonFiniteAction {
            env: index,
            index: j,
            value,
        },
        EnvError::ActionOutOfSpace { action, space, .. } => EnvError::ActionOutOfSpace {
            env: index,
            action,
            space,
        },
        other => other,
    }
}

type Reply = (ChunkIo, Result<(), EnvError>);

struct Worker {
    jobs: Sender<(Cmd, ChunkIo)>,
    replies: Receiver<Reply>,
    handle: JoinHandle<()>,
}

/// A vector env stepping its sub-environments on long-lived threads.
///
/// The envs are split into `threads` contiguous chunks; the calling thread steps the
/// first chunk itself and one worker thread owns each other chunk for its whole life
/// (STACK.md: ~2× on 2 cores, where a per-step fork-join gave ~1.6×). Each env only sees
/// its own seed and actions, so results are bit-identical for any thread count.
pub struct ThreadedVecEnv {
    observation_space: Space,
    action_space: Space,
    layout: InfoLayout,
    act_dim: usize,
    batch: Batch,
    local: Chunk,
    local_io: Option<ChunkIo>,
    workers: Vec<Worker>,
    worker_io: Vec<Option<ChunkIo>>,
    ranges: Vec<std::ops::Range<usize>>,
    was_reset: bool,
}

impl std::fmt::Debug for ThreadedVecEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadedVecEnv")
            .field("num_envs", &self.batch.num_envs)
            .field("threads", &(self.workers.len() + 1))
            .field("observation_space", &self.observation_space)
            .field("action_space", &self.action_space)
            .finish()
    }
}

impl ThreadedVecEnv {
    /// Batch `envs` (all with the same spaces and info layout) over `threads` threads,
    /// counting the caller's; `threads` is capped at the number of envs.
    pub fn new(envs: Vec<Box<dyn Env>>, threads: usize) -> Result<Self, EnvError> {
        let n = envs.len();
        if n == 0 {
            return Err(EnvError::InvalidOptions(
                "num_envs must be at least 1".into(),
            ));
        }
        if threads == 0 {
            return Err(EnvError::InvalidOptions(
                "threads must be at least 1".into(),
            ));
        }
        let observation_space = envs[0].observation_space().clone();
        let action_space = envs[0].action_space().clone();
        let layout = envs[0].info_layout().clone();
        if let Some(i) = envs.iter().position(|e| {
            *e.observation_space() != observation_space
                || *e.action_space() != action_space
                || *e.info_layout() != layout
        }) {
            return Err(EnvError::InvalidOptions(format!(
                "sub-env {i} has different spaces or info layout from sub-env 0"
            )));
        }
        let (obs_dim, act_dim) = (observation_space.flat_dim(), action_space.flat_dim());
        let threads = threads.min(n);
        let ranges: Vec<_> = (0..threads)
            .map(|t| (t * n / threads)..((t + 1) * n / threads))
            .collect();
        let mut envs = envs.into_iter();
        let mut take_chunk = |r: &std::ops::Range<usize>| Chunk {
            envs: envs.by_ref().take(r.len()).collect(),
            first: r.start,
            act_dim,
        };
        let new_io = |len: usize| {
            let mut batch = Batch::new(len, obs_dim, &layout);
            // The chunk writes its observations straight into the vector env's batch.
            batch.obs = Vec::new();
            ChunkIo {
                actions: vec![0.0; len * act_dim],
                mask: vec![false; len],
                seed: None,
                batch,
                out: None,
                frames: None,
                on_demand: false,
                scratch: Vec::new(),
            }
        };
        let local = take_chunk(&ranges[0]);
        let local_io = Some(new_io(ranges[0].len()));
        let mut workers = Vec::new();
        let mut worker_io = Vec::new();
        for (w, r) in ranges.iter().enumerate().skip(1) {
            let chunk = take_chunk(r);
            workers.push(spawn_worker(w, chunk)?);
            worker_io.push(Some(new_io(r.len())));
        }
        Ok(Self {
            batch: Batch::new(n, obs_dim, &layout),
            observation_space,
            action_space,
            layout,
            act_dim,
            local,
            local_io,
            workers,
            worker_io,
            ranges,
            was_reset: false,
        })
    }

    /// Camera views the sub-environments can render (see [`VecEnv::set_frames`]).
    pub fn views(&self) -> &[&'static str] {
        self.local.envs.first().map_or(&[], |env| env.views())
    }

    /// Number of threads stepping envs, the caller's included.
    pub fn threads(&self) -> usize {
        self.workers.len() + 1
    }

    /// As [`VecEnv::set_frames`], but the current states' frames are rendered only when
    /// [`ThreadedVecEnv::render_current`] asks: stepping costs nothing more, except the
    /// final frames of episodes that end, rendered in their step (the state is gone after
    /// the autoreset). Gymnasium's `render_mode` contract.
    pub fn set_frames_on_demand(&mut self, spec: Option<FrameSpec>) -> Result<(), EnvError> {
        self.configure_frames(spec, true)
    }

    /// Render the current states' frames into the batch's [`Batch::frames`] now, and
    /// return them (`num_envs × views × size × size × 3` bytes).
    pub fn render_current(&mut self) -> Result<&[u8], EnvError> {
        self.check_alive()?;
        if !self.was_reset {
            return Err(EnvError::NotReset);
        }
        if self.batch.frame_bytes == 0 {
            return Err(EnvError::InvalidOptions(
                "frames are off: call set_frames or set_frames_on_demand first".into(),
            ));
        }
        self.dispatch(Cmd::Render)?;
        Ok(&self.batch.frames)
    }

    fn configure_frames(
        &mut self,
        spec: Option<FrameSpec>,
        on_demand: bool,
    ) -> Result<(), EnvError> {
        if let Some(spec) = &spec {
            let views = self.views();
            if let Some(v) = spec.views.iter().find(|v| !views.contains(&v.as_str())) {
                return Err(EnvError::InvalidOptions(format!(
                    "no camera view `{v}`; this env's views: [{}]",
                    views.join(", ")
                )));
            }
            if spec.views.is_empty() || spec.size == 0 {
                return Err(EnvError::InvalidOptions(
                    "frames need at least one view and a size of at least 1 px".into(),
                ));
            }
        }
        let bytes = spec.as_ref().map_or(0, FrameSpec::bytes);
        let shared = spec.map(Arc::new);
        self.batch.set_frame_bytes(bytes);
        self.for_each_io(|io, _| {
            io.batch.set_frame_bytes(bytes);
            io.frames = shared.clone();
            io.on_demand = on_demand;
        });
        self.was_reset = false;
        Ok(())
    }

    /// Run `cmd` on every chunk: send the workers theirs, do the local one, gather.
    ///
    /// Every chunk writes its observations and current frames straight into its rows of
    /// the batch (a worker through an [`OutWindow`]), so nothing of that size is copied
    /// on this thread; the rest of each chunk's results is copied in after it answers.
    fn dispatch(&mut self, cmd: Cmd) -> Result<(), EnvError> {
        let (d, f) = (self.batch.obs_dim, self.batch.frame_bytes);
        // The batch's observation and frame buffers stay borrowed here, and are not
        // otherwise touched, until every worker sent a window has answered or ended.
        let (obs, frames) = (&mut self.batch.obs, &mut self.batch.frames);
        let mut outs = Vec::with_capacity(self.ranges.len());
        let (mut obs_rest, mut frames_rest) = (&mut obs[..], &mut frames[..]);
        for r in &self.ranges {
            let (o, o_rest) = obs_rest.split_at_mut(r.len() * d);
            let (fr, f_rest) = frames_rest.split_at_mut(r.len() * f);
            outs.push(ChunkOut { obs: o, frames: fr });
            (obs_rest, frames_rest) = (o_rest, f_rest);
        }
        let mut outs = outs.into_iter();
        let local_out = outs.next().expect("at least one chunk");
        let mut first_err = None;
        let mut sent = vec![false; self.workers.len()];
        for ((w, worker), out) in self.workers.iter().enumerate().zip(outs) {
            let mut io = self.worker_io[w]
                .take()
                .expect("worker io present between calls");
            io.out = Some(OutWindow::new(out));
            if worker.jobs.send((cmd, io)).is_ok() {
                sent[w] = true;
            } else if first_err.is_none() {
                first_err = Some(worker_failed(w + 1, "job channel closed"));
            }
        }
        let mut io = self
            .local_io
            .take()
            .expect("local io present between calls");
        let local = &mut self.local;
        let result = catch_unwind(AssertUnwindSafe(|| local.run(cmd, &mut io, local_out)))
            .unwrap_or_else(|p| Err(worker_failed(0, &panic_message(p))));
        let mut answers = Vec::with_capacity(self.workers.len());
        for (w, worker) in self.workers.iter().enumerate() {
            if sent[w] {
                // Ok: the worker is done with its window; Err: its thread has ended.
                answers.push((w, recv_soon(&worker.replies)));
            }
        }
        // Every window is closed: the batch is ours again.
        copy_chunk(&mut self.batch, self.ranges[0].start, &io.batch);
        self.local_io = Some(io);
        if let Err(e) = result {
            first_err.get_or_insert(e);
        }
        for (w, answer) in answers {
            match answer {
                Ok((io, result)) => {
                    copy_chunk(&mut self.batch, self.ranges[w + 1].start, &io.batch);
                    self.worker_io[w] = Some(io);
                    if let Err(e) = result {
                        first_err.get_or_insert(e);
                    }
                }
                Err(_) => {
                    first_err.get_or_insert(worker_failed(w + 1, "worker panicked"));
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn check_alive(&self) -> Result<(), EnvError> {
        match self.worker_io.iter().position(Option::is_none) {
            Some(w) => Err(worker_failed(w + 1, "worker stopped earlier")),
            None => Ok(()),
        }
    }

    fn for_each_io(&mut self, mut f: impl FnMut(&mut ChunkIo, std::ops::Range<usize>)) {
        let ranges = self.ranges.clone();
        if let Some(io) = self.local_io.as_mut() {
            f(io, ranges[0].clone());
        }
        for (w, io) in self.worker_io.iter_mut().enumerate() {
            if let Some(io) = io.as_mut() {
                f(io, ranges[w + 1].clone());
            }
        }
    }
}

/// Copy a chunk's results other than its observations and current frames (which it
/// wrote into `dst` itself) into `dst` from row `start`.
fn copy_chunk(dst: &mut Batch, start: usize, src: &Batch) {
    let d = dst.obs_dim;
    let n = src.num_envs;
    let f = dst.frame_bytes;
    dst.rewards[start..start + n].copy_from_slice(&src.rewards);
    dst.terminated[start..start + n].copy_from_slice(&src.terminated);
    dst.truncated[start..start + n].copy_from_slice(&src.truncated);
    dst.ended[start..start + n].copy_from_slice(&src.ended);
    for i in 0..n {
        dst.info.copy_env_from(start + i, &src.info, i);
        if src.ended[i] {
            dst.final_obs[(start + i) * d..(start + i + 1) * d]
                .copy_from_slice(src.final_obs_of(i));
            if f > 0 {
                dst.final_frames[(start + i) * f..(start + i + 1) * f]
                    .copy_from_slice(src.final_frames_of(i));
            }
            dst.final_info.copy_env_from(start + i, &src.final_info, i);
        }
    }
}

fn spawn_worker(index: usize, mut chunk: Chunk) -> Result<Worker, EnvError> {
    let (jobs, job_rx) = channel::<(Cmd, ChunkIo)>();
    let (reply_tx, replies) = channel::<Reply>();
    let handle = std::thread::Builder::new()
        .name(format!("rapt-env-{index}"))
        .spawn(move || {
            while let Ok((cmd, mut io)) = recv_soon(&job_rx) {
                let result = catch_unwind(AssertUnwindSafe(|| chunk.run_in_window(cmd, &mut io)));
                let result = match result {
                    Ok(r) => r,
                    Err(p) => {
                        // The envs may be in a broken state: report and stop.
                        let _ = reply_tx.send((io, Err(worker_failed(index, &panic_message(p)))));
                        return;
                    }
                };
                if reply_tx.send((io, result)).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| worker_failed(index, &e.to_string()))?;
    Ok(Worker {
        jobs,
        replies,
        handle,
    })
}

/// How long [`recv_soon`] polls before it blocks.
const SPIN: std::time::Duration = std::time::Duration::from_micros(50);

/// `rx.recv()`, polling for [`SPIN`] first: the answer of a worker stepping the same
/// number of envs (or the next step's job) usually comes within microseconds, and waking
/// a blocked thread costs tens of them on every step.
fn recv_soon<T>(rx: &Receiver<T>) -> Result<T, std::sync::mpsc::RecvError> {
    let start = std::time::Instant::now();
    loop {
        match rx.try_recv() {
            Ok(v) => return Ok(v),
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                return Err(std::sync::mpsc::RecvError);
            }
            Err(std::sync::mpsc::TryRecvError::Empty) if start.elapsed() < SPIN => {
                std::hint::spin_loop();
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => return rx.recv(),
        }
    }
}

fn worker_failed(worker: usize, message: &str) -> EnvError {
    EnvError::WorkerFailed {
        worker,
        message: message.to_string(),
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".into()
    }
}

impl Drop for ThreadedVecEnv {
    fn drop(&mut self) {
        for Worker { jobs, handle, .. } in self.workers.drain(..) {
            // Closing the job channel ends the worker loop.
            drop(jobs);
            let _ = handle.join();
        }
    }
}

impl VecEnv for ThreadedVecEnv {
    fn num_envs(&self) -> usize {
        self.batch.num_envs
    }

    fn single_observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn single_action_space(&self) -> &Space {
        &self.action_space
    }

    fn info_layout(&self) -> &InfoLayout {
        &self.layout
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<&Batch, EnvError> {
        self.check_alive()?;
        self.for_each_io(|io, _| io.seed = seed);
        self.dispatch(Cmd::Reset)?;
        self.batch.ended.fill(false);
        self.was_reset = true;
        Ok(&self.batch)
    }

    fn reset_masked(&mut self, mask: &[bool], seed: Option<u64>) -> Result<&Batch, EnvError> {
        self.check_alive()?;
        if mask.len() != self.num_envs() {
            return Err(EnvError::BatchShape {
                what: "reset mask",
                expected: self.num_envs(),
                got: mask.len(),
            });
        }
        if !self.was_reset && !mask.iter().all(|m| *m) {
            return Err(EnvError::NotReset);
        }
        self.for_each_io(|io, r| {
            io.seed = seed;
            io.mask.copy_from_slice(&mask[r]);
        });
        self.dispatch(Cmd::ResetMasked)?;
        self.was_reset = true;
        Ok(&self.batch)
    }

    fn step(&mut self, actions: &[f32]) -> Result<&Batch, EnvError> {
        self.check_alive()?;
        if !self.was_reset {
            return Err(EnvError::NotReset);
        }
        let a = self.act_dim;
        if actions.len() != self.num_envs() * a {
            return Err(EnvError::ActionShape {
                expected: self.num_envs() * a,
                got: actions.len(),
            });
        }
        if let Some(k) = actions.iter().position(|v| !v.is_finite()) {
            return Err(EnvError::NonFiniteAction {
                env: k / a,
                index: k % a,
                value: actions[k],
            });
        }
        self.for_each_io(|io, r| io.actions.copy_from_slice(&actions[r.start * a..r.end * a]));
        self.dispatch(Cmd::Step)?;
        Ok(&self.batch)
    }

    fn batch(&self) -> &Batch {
        &self.batch
    }

    fn task(&self) -> &str {
        self.local.envs.first().map_or("", |env| env.task())
    }

    fn set_frames(&mut self, spec: Option<FrameSpec>) -> Result<(), EnvError> {
        self.configure_frames(spec, false)
    }
}
