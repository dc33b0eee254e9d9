//! A blocking client for OpenAI-compatible servers (vLLM, SGLang, llama.cpp, Ollama,
//! `rapt reward-serve`): `GET /v1/models` and `POST /v1/chat/completions`, with a timeout
//! per call and errors that name the URL and what went wrong.

use std::time::Duration;

use thiserror::Error;

use crate::chat::{ChatRequest, ChatResponse, ErrorBody};

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ClientError {
    /// No connection, a reset, or no answer within the timeout.
    #[error("{url}: {message}")]
    Transport {
        /// The URL called.
        url: String,
        /// What failed.
        message: String,
    },
    /// The server answered with an error status.
    #[error("{url}: HTTP {status}: {message}")]
    Status {
        /// The URL called.
        url: String,
        /// The status.
        status: u16,
        /// The server's error message (or the body's start).
        message: String,
    },
    /// The answer is not what the API specifies.
    #[error("{url}: unexpected answer: {message}")]
    Unparseable {
        /// The URL called.
        url: String,
        /// What is wrong.
        message: String,
    },
}

impl ClientError {
    /// Worth retrying: transport failures, 429 and 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Transport { .. } => true,
            ClientError::Status { status, .. } => *status == 429 || *status >= 500,
            ClientError::Unparseable { .. } => false,
        }
    }
}

/// A connection pool to one server.
#[derive(Debug, Clone)]
pub struct ChatClient {
    base_url: String,
    api_key: Option<String>,
    agent: ureq::Agent,
}

impl ChatClient {
    /// A client of the server at `base_url` (e.g. `http://127.0.0.1:8000/v1`) with an
    /// overall `timeout` per call, sending `api_key` as a bearer token when given.
    pub fn new(base_url: &str, timeout: Duration, api_key: Option<String>) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            agent,
        }
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The ids of the models the server serves.
    pub fn models(&self) -> Result<Vec<String>, ClientError> {
        let url = format!("{}/models", self.base_url);
        let mut request = self.agent.get(&url);
        if let Some(key) = &self.api_key {
            request = request.header("Authorization", &format!("Bearer {key}"));
        }
        let body = self.finish(&url, request.call())?;
        let value: serde_json::Value = parse(&url, &body)?;
        let ids = value["data"]
            .as_array()
            .ok_or_else(|| unparseable(&url, "no `data` list of models"))?
            .iter()
            .filter_map(|m| m["id"].as_str().map(str::to_owned))
            .collect();
        Ok(ids)
    }

    /// One chat completion.
    pub fn complete(&self, chat: &ChatRequest) -> Result<ChatResponse, ClientError> {
        let url = format!("{}/chat/completions", self.base_url);
        let mut request = self.agent.post(&url);
        if let Some(key) = &self.api_key {
            request = request.header("Authorization", &format!("Bearer {key}"));
        }
        let body = self.finish(&url, request.send_json(chat))?;
        let answer: ChatResponse = parse(&url, &body)?;
        if answer.choices.is_empty() {
            return Err(unparseable(&url, "no choices"));
        }
        Ok(answer)
    }

    /// The body of a 2xx answer, or the error.
    fn finish(
        &self,
        url: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<String, ClientError> {
        let mut response = result.map_err(|e| ClientError::Transport {
            url: url.to_owned(),
            message: e.to_string(),
        })?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .map_err(|e| ClientError::Transport {
                url: url.to_owned(),
                message: format!("reading the answer: {e}"),
            })?;
        if !(200..300).contains(&status) {
            let message = serde_json::from_str::<ErrorBody>(&body)
                .map(|e| e.error.message)
                .unwrap_or_else(|_| body.chars().take(300).collect());
            return Err(ClientError::Status {
                url: url.to_owned(),
                status,
                message,
            });
        }
        Ok(body)
    }
}

fn parse<T: serde::de::DeserializeOwned>(url: &str, body: &str) -> Result<T, ClientError> {
    serde_json::from_str(body).map_err(|e| {
        let start: String = body.chars().take(200).collect();
        unparseable(url, &format!("{e} in `{start}`"))
    })
}

fn unparseable(url: &str, message: &str) -> ClientError {
    ClientError::Unparseable {
        url: url.to_owned(),
        message: message.to_owned(),
    }
}
