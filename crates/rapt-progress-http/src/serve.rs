//! [`RewardServer`]: a progress model that reads camera frames, served on the
//! OpenAI-compatible chat-completions API so that any client can score frame sets.
//!
//! * `POST /v1/chat/completions`: the frames as `image_url` data URLs (PNG or JPEG) in the
//!   user messages, one per view in the model's view order; other sizes are resized. The
//!   answer's `choices[0].message.content` is Φ as a plain decimal number (shortest form
//!   that reads back to the same `f32`), and the extra field `rapt` holds
//!   `{phi, uncertainty, batch}`.
//! * `GET /v1/models`: the one served model. `GET /health`: `{"status": "ok"}`.
//! * Concurrent requests are scored together (dynamic batching): the scorer takes what is
//!   queued and, while more requests are being read and decoded, waits up to
//!   [`ServeOptions::max_wait`] for up to [`ServeOptions::max_batch`] frame sets (a lone
//!   request is scored at once). The queue is bounded: a full queue answers 503.
//! * Malformed requests get a 4xx with an OpenAI-style JSON error body that says what was
//!   wrong; bodies over [`HttpLimits::max_body_bytes`] get 413 and are not read. Stalled,
//!   oversized and excess connections are bounded by the HTTP layer ([`crate::http`]).

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rapt_shaping::{ProgressInput, ProgressModel};
use serde::Serialize;
use thiserror::Error;

use crate::chat::{
    AnswerMessage, ChatRequest, ChatResponse, Choice, ErrorBody, ErrorDetail, RaptScore, Usage,
};
use crate::frames::decode_data_url;
use crate::http::{HttpLimits, HttpRequest, HttpResponse};

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on, e.g. `127.0.0.1:8000` (port 0: any free port).
    pub addr: String,
    /// The model's name in `/v1/models` and in requests' `model` field.
    pub model_name: String,
    /// Most frame sets scored together. Default 32.
    pub max_batch: usize,
    /// Longest wait for more requests once one is queued, while others are being
    /// decoded (a lone request is scored at once). Default 2 ms.
    pub max_wait: Duration,
    /// Requests waiting to be scored before new ones get 503. Default 256.
    pub queue: usize,
    /// Requests decoded at once (PNG/JPEG → RGB; the others wait their turn, their
    /// connections open), so many clients cannot starve the scorer. Default 4.
    pub decoders: usize,
    /// Connections, timeouts and body sizes ([`HttpLimits`]; body 32 MiB, 64 connections,
    /// 30 s per request by default).
    pub http: HttpLimits,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8000".into(),
            model_name: "rapt".into(),
            max_batch: 32,
            max_wait: Duration::from_millis(2),
            queue: 256,
            decoders: 4,
            http: HttpLimits::default(),
        }
    }
}

/// Why the server could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {message}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        message: String,
    },
    /// The model reads no camera frames, or the options are out of range.
    #[error("{0}")]
    Invalid(String),
}

/// What a server did, returned when it stops.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServeStats {
    /// Frame sets scored.
    pub scored: u64,
    /// Batches the scorer ran.
    pub batches: u64,
    /// Requests answered with a 4xx.
    pub rejected: u64,
    /// Requests answered 503 because the queue was full.
    pub overloaded: u64,
    /// Requests answered with another 5xx (scoring failed).
    pub failed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    scored: AtomicU64,
    batches: AtomicU64,
    rejected: AtomicU64,
    overloaded: AtomicU64,
    failed: AtomicU64,
    /// Scoring requests being decoded right now (their bodies read): the scorer waits for
    /// more only while some are on their way.
    arriving: AtomicUsize,
}

/// A frame set's score: Φ, the model's spread, the size of the batch it was scored in.
type Scored = (f32, Option<f32>, usize);

/// A frame set waiting to be scored, with where its answer goes: the connection's thread
/// waits for it while others go on reading requests, so every queued request can join a
/// batch.
struct Job {
    frames: Vec<u8>,
    reply: SyncSender<Result<Scored, String>>,
}

/// A progress model served over HTTP; [`RewardServer::run`] serves until a stop flag is
/// set.
pub struct RewardServer {
    listener: TcpListener,
    model: Box<dyn ProgressModel>,
    views: Vec<String>,
    size: usize,
    options: ServeOptions,
}

impl std::fmt::Debug for RewardServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RewardServer")
            .field("addr", &self.local_addr())
            .field("model", &self.model.name())
            .field("views", &self.views)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl RewardServer {
    /// Listen on `options.addr` for `model`, which must read camera frames.
    pub fn bind(model: Box<dyn ProgressModel>, options: ServeOptions) -> Result<Self, ServeError> {
        let (views, size) = model.views().ok_or_else(|| {
            ServeError::Invalid(format!(
                "progress model `{}` reads no camera frames; only frame models can be served",
                model.name()
            ))
        })?;
        if options.max_batch == 0 || options.queue == 0 || options.decoders == 0 {
            return Err(ServeError::Invalid(
                "max_batch, queue and decoders must be at least 1".into(),
            ));
        }
        options.http.check().map_err(ServeError::Invalid)?;
        let listener = TcpListener::bind(&options.addr).map_err(|e| ServeError::Bind {
            addr: options.addr.clone(),
            message: e.to_string(),
        })?;
        Ok(Self {
            listener,
            model,
            views,
            size,
            options,
        })
    }

    /// The address it listens on (with the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// The views (in the order requests must send them) and the frame size, px.
    pub fn views(&self) -> (&[String], usize) {
        (&self.views, self.size)
    }

    /// Serve until `stop` is set (checked every few ms), then answer the requests in hand
    /// (up to [`HttpLimits::shutdown_grace`]; stalled uploads are dropped) and return what
    /// was done.
    pub fn run(self, stop: Arc<AtomicBool>) -> ServeStats {
        let counters = Arc::new(Counters::default());
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(self.options.queue);
        let context = Arc::new(Context {
            model_name: self.options.model_name.clone(),
            views: self.views.clone(),
            size: self.size,
            counters: counters.clone(),
            jobs,
            decoders: Slots::new(self.options.decoders),
        });
        let (mut model, max_batch, max_wait) =
            (self.model, self.options.max_batch, self.options.max_wait);
        let scorer = {
            let counters = counters.clone();
            let set_bytes = self.views.len() * self.size * self.size * 3;
            std::thread::Builder::new()
                .name("rapt-serve-scorer".into())
                .spawn(move || {
                    let limits = (max_batch, max_wait, set_bytes);
                    score_loop(&mut *model, &queue, limits, &counters)
                })
                .expect("spawning the scorer thread")
        };
        let limits = &self.options.http;
        if let Err(e) = crate::http::serve(&self.listener, context, limits, &stop) {
            tracing::error!("the reward server's listener failed: {e}");
        }
        // Once the connections are gone, so is the last sender: the scorer drains the
        // queue and ends. A connection still writing past the grace is left to its timeout.
        let deadline = Instant::now() + limits.shutdown_grace;
        while !scorer.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if scorer.is_finished() {
            let _ = scorer.join();
        }
        ServeStats {
            scored: counters.scored.load(Ordering::SeqCst),
            batches: counters.batches.load(Ordering::SeqCst),
            rejected: counters.rejected.load(Ordering::SeqCst),
            overloaded: counters.overloaded.load(Ordering::SeqCst),
            failed: counters.failed.load(Ordering::SeqCst),
        }
    }
}

/// Take queued jobs in batches (up to `max_batch`, waiting up to `max_wait` for more once
/// one is in hand), score them and pass them to the responder, until every sender is gone.
fn score_loop(
    model: &mut dyn ProgressModel,
    queue: &Receiver<Job>,
    (max_batch, max_wait, set_bytes): (usize, Duration, usize),
    counters: &Counters,
) {
    let mut frames = Vec::new();
    loop {
        let first = match queue.recv_timeout(Duration::from_millis(100)) {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut batch = vec![first];
        let deadline = Instant::now() + max_wait;
        while batch.len() < max_batch {
            if let Ok(job) = queue.try_recv() {
                batch.push(job);
                continue;
            }
            // Nothing queued: wait (in short slices, up to the deadline) only while
            // requests are being decoded, so a lone request is scored at once.
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || counters.arriving.load(Ordering::SeqCst) == 0 {
                break;
            }
            if let Ok(job) = queue.recv_timeout(left.min(Duration::from_micros(200))) {
                batch.push(job);
            }
        }
        frames.clear();
        for job in &batch {
            debug_assert_eq!(job.frames.len(), set_bytes);
            frames.extend_from_slice(&job.frames);
        }
        let n = batch.len();
        let input = ProgressInput {
            n,
            task: "",
            privileged: None,
            frames: Some(&frames),
            rows: None,
        };
        let result = model.score(&input);
        counters.batches.fetch_add(1, Ordering::SeqCst);
        let scores = match result {
            Ok(scores) if scores.phi.len() == n => Ok(scores),
            Ok(scores) => Err(format!(
                "the model gave {} scores for {n} frame sets",
                scores.phi.len()
            )),
            Err(e) => Err(e.to_string()),
        };
        if scores.is_ok() {
            counters.scored.fetch_add(n as u64, Ordering::SeqCst);
        }
        for (i, job) in batch.into_iter().enumerate() {
            let answer = match &scores {
                Ok(s) => Ok((s.phi[i], s.uncertainty.as_ref().map(|u| u[i]), n)),
                Err(e) => Err(e.clone()),
            };
            let _ = job.reply.send(answer);
        }
    }
}

/// What the connection threads share.
struct Context {
    model_name: String,
    views: Vec<String>,
    size: usize,
    counters: Arc<Counters>,
    jobs: SyncSender<Job>,
    /// Bounds the requests decoded at once, leaving the scorer its share of the CPU.
    decoders: Slots,
}

/// A counting semaphore: at most `limit` holders at once, the others wait.
struct Slots {
    held: std::sync::Mutex<usize>,
    freed: std::sync::Condvar,
    limit: usize,
}

impl Slots {
    fn new(limit: usize) -> Self {
        Self {
            held: std::sync::Mutex::new(0),
            freed: std::sync::Condvar::new(),
            limit: limit.max(1),
        }
    }

    /// Wait for a slot; it is given back when the guard drops.
    fn enter(&self) -> SlotGuard<'_> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        while *held >= self.limit {
            held = self.freed.wait(held).unwrap_or_else(|e| e.into_inner());
        }
        *held += 1;
        SlotGuard(self)
    }
}

struct SlotGuard<'a>(&'a Slots);

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        *self.0.held.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        self.0.freed.notify_one();
    }
}

/// An answer that is not a score.
struct Failure {
    status: u16,
    message: String,
}

fn fail(status: u16, message: impl Into<String>) -> Failure {
    Failure {
        status,
        message: message.into(),
    }
}

impl crate::http::Service for Context {
    fn handle(&self, request: HttpRequest) -> HttpResponse {
        let path = request.path.as_str();
        let result = match (request.method.as_str(), path) {
            ("GET", "/health") => Ok(json(&serde_json::json!({"status": "ok"}))),
            ("GET", "/v1/models") => Ok(json(&serde_json::json!({
                "object": "list",
                "data": [{"id": self.model_name, "object": "model", "created": 0, "owned_by": "rapt"}],
            }))),
            ("POST", "/v1/chat/completions") => self.score(&request.body),
            (method, "/health" | "/v1/models" | "/v1/chat/completions") => {
                Err(fail(405, format!("{method} {path} is not allowed")))
            }
            _ => Err(fail(
                404,
                format!(
                    "no endpoint {path}; this server has POST /v1/chat/completions, GET /v1/models, GET /health"
                ),
            )),
        };
        result.unwrap_or_else(|f| self.failure(&f))
    }

    fn reject(&self, status: u16, message: &str) -> HttpResponse {
        self.failure(&fail(status, message))
    }
}

impl Context {
    /// Count a failure and turn it into its response.
    fn failure(&self, f: &Failure) -> HttpResponse {
        let counter = match f.status {
            503 => &self.counters.overloaded,
            400..=499 => &self.counters.rejected,
            _ => &self.counters.failed,
        };
        counter.fetch_add(1, Ordering::SeqCst);
        error_response(f)
    }

    /// Decode a chat-completions request, queue its frames for the scorer and wait for
    /// the score; counted as arriving while it is decoded.
    fn score(&self, body: &[u8]) -> Result<HttpResponse, Failure> {
        self.counters.arriving.fetch_add(1, Ordering::SeqCst);
        let frames = {
            let _slot = self.decoders.enter();
            self.decode(body)
        };
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        let sent = frames.map(|frames| self.jobs.try_send(Job { frames, reply }));
        self.counters.arriving.fetch_sub(1, Ordering::SeqCst);
        match sent? {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(fail(503, "the scoring queue is full; retry later"));
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(fail(503, "the server is shutting down"));
            }
        }
        match answer.recv() {
            Ok(scored) => self.answer(scored),
            Err(_) => Err(fail(503, "the server is shutting down")),
        }
    }

    /// The RGB frame set of a chat-completions request body (views in order), or why not.
    fn decode(&self, body: &[u8]) -> Result<Vec<u8>, Failure> {
        let chat: ChatRequest = serde_json::from_slice(body)
            .map_err(|e| fail(400, format!("not a chat-completions request: {e}")))?;
        if !chat.model.is_empty() && chat.model != self.model_name {
            return Err(fail(
                404,
                format!(
                    "model `{}` is not served here; this server serves `{}`",
                    chat.model, self.model_name
                ),
            ));
        }
        let images = chat.user_images();
        if images.len() != self.views.len() {
            return Err(fail(
                400,
                format!(
                    "expected {} images, one per view in the order [{}], got {}",
                    self.views.len(),
                    self.views.join(", "),
                    images.len()
                ),
            ));
        }
        let mut frames = Vec::with_capacity(self.views.len() * self.size * self.size * 3);
        for (i, url) in images.iter().enumerate() {
            let rgb = decode_data_url(url, i, self.size).map_err(|e| match e {
                crate::frames::FrameError::TooLarge { .. } => fail(413, e.to_string()),
                e => fail(400, e.to_string()),
            })?;
            frames.extend_from_slice(&rgb);
        }
        Ok(frames)
    }

    /// The answer to a scored request.
    fn answer(&self, result: Result<Scored, String>) -> Result<HttpResponse, Failure> {
        let (phi, uncertainty, batch) =
            result.map_err(|e| fail(500, format!("scoring failed: {e}")))?;
        Ok(json(&ChatResponse {
            id: format!("rapt-{}", next_id()),
            object: "chat.completion".into(),
            created: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            model: self.model_name.clone(),
            choices: vec![Choice {
                index: 0,
                message: AnswerMessage {
                    role: "assistant".into(),
                    content: Some(phi.to_string()),
                },
                finish_reason: Some("stop".into()),
                logprobs: None,
            }],
            usage: Usage::default(),
            rapt: Some(RaptScore {
                phi,
                uncertainty,
                batch,
            }),
        }))
    }
}

fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn json(value: &impl Serialize) -> HttpResponse {
    HttpResponse {
        status: 200,
        body: serde_json::to_vec(value).unwrap_or_default(),
    }
}

fn error_response(f: &Failure) -> HttpResponse {
    let kind = match f.status {
        404 => "not_found_error",
        400..=499 => "invalid_request_error",
        503 => "overloaded_error",
        _ => "server_error",
    };
    let body = ErrorBody {
        error: ErrorDetail {
            message: f.message.clone(),
            kind: kind.into(),
            code: f.status,
        },
    };
    HttpResponse {
        status: f.status,
        body: serde_json::to_vec(&body).unwrap_or_default(),
    }
}
