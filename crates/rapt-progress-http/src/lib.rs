//! Progress models over the OpenAI-compatible chat-completions API, without libtorch.
//!
//! * [`chat`]: the request and answer types of `POST /v1/chat/completions` with images,
//!   as vLLM, SGLang, llama.cpp's server, Ollama and OpenAI's own clients speak them.
//! * [`client`]: [`ChatClient`], a blocking client of such servers.
//! * [`protocol`]: requests and answer parsing of the remote reward-model protocols
//!   (Robo-Dopamine's GRM, RoboReward's 1–5 rubric, rapt's served Φ), prompts from
//!   `assets/prompts/`.
//! * [`remote`]: [`RemoteProgress`], a remote server as a shaping progress model
//!   (concurrent calls, retries, cache, hold-last-Φ on failure, start-up check).
//! * [`load`]: a load generator (frame sets/s, latency percentiles) for such servers.
//! * [`frames`]: camera frames as PNG/JPEG data URLs and back.
//! * [`http`]: the HTTP/1.1 server side (connection bound, timeouts, body budget,
//!   bounded shutdown) under [`RewardServer`].
//! * [`serve`]: [`RewardServer`], any [`rapt_shaping::ProgressModel`] that reads frames
//!   served on that API with dynamic batching (`rapt reward-serve`): the frames go as
//!   `image_url` parts of one user message, one per view in the model's order, and the
//!   answer's content is Φ as a plain decimal number.
#![warn(missing_docs)]

pub mod chat;
pub mod client;
pub mod frames;
pub mod http;
pub mod load;
pub mod protocol;
pub mod remote;
pub mod serve;

pub use client::{ChatClient, ClientError};
pub use http::HttpLimits;
pub use remote::{REFERENCE_SEED, RemoteError, RemoteProgress, expert_references};
pub use serve::{RewardServer, ServeError, ServeOptions, ServeStats};
