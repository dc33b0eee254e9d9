//! The OpenAI chat-completions shapes rapt sends and answers: a user message whose content
//! interleaves `text` and `image_url` parts, and an answer with one choice.

use serde::{Deserialize, Serialize};

/// `POST /v1/chat/completions` body. Fields rapt does not use are ignored when read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The served model's name.
    #[serde(default)]
    pub model: String,
    /// The conversation; rapt reads the images of its user messages.
    pub messages: Vec<Message>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Most tokens to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Ask for the log-probabilities of the answer's tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// How many alternatives per token, with `logprobs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
}

/// One message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// Plain text, or parts.
    pub content: Content,
}

/// A message's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Content {
    /// Text only.
    Text(String),
    /// Text and images, in order.
    Parts(Vec<Part>),
}

/// A part of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image, usually a `data:image/png;base64,…` URL.
    ImageUrl {
        /// The image.
        image_url: ImageUrl,
    },
}

/// An image reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageUrl {
    /// A data URL (or, for other servers, a web address).
    pub url: String,
    /// `low`, `high` or `auto` (ignored by rapt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ChatRequest {
    /// The image URLs of every user message, in order.
    pub fn user_images(&self) -> Vec<&str> {
        self.messages
            .iter()
            .filter(|m| m.role == "user")
            .flat_map(|m| match &m.content {
                Content::Text(_) => Vec::new(),
                Content::Parts(parts) => parts
                    .iter()
                    .filter_map(|p| match p {
                        Part::ImageUrl { image_url } => Some(image_url.url.as_str()),
                        Part::Text { .. } => None,
                    })
                    .collect(),
            })
            .collect()
    }
}

/// The answer to a chat-completions request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// Answer id.
    pub id: String,
    /// Always `chat.completion`.
    pub object: String,
    /// Unix time, s.
    pub created: u64,
    /// The model that answered.
    pub model: String,
    /// The answers (rapt gives one).
    pub choices: Vec<Choice>,
    /// Token counts (rapt counts none: zeros).
    #[serde(default)]
    pub usage: Usage,
    /// rapt's own scores, for clients that know them (`rapt reward-serve` sets it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rapt: Option<RaptScore>,
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Index among the choices.
    pub index: u32,
    /// The answer.
    pub message: AnswerMessage,
    /// Why generation stopped (`stop`).
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// The answer tokens' log-probabilities, when asked for and the server gives them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<ChoiceLogprobs>,
}

/// `choices[i].logprobs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceLogprobs {
    /// One entry per answer token.
    #[serde(default)]
    pub content: Option<Vec<TokenLogprob>>,
}

/// An answer token with its most likely alternatives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenLogprob {
    /// The token.
    pub token: String,
    /// Its log-probability.
    pub logprob: f64,
    /// The most likely tokens at this position (the token itself among them).
    #[serde(default)]
    pub top_logprobs: Vec<TopLogprob>,
}

/// An alternative token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopLogprob {
    /// The token.
    pub token: String,
    /// Its log-probability.
    pub logprob: f64,
}

/// The assistant's message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerMessage {
    /// `assistant`.
    pub role: String,
    /// The text.
    #[serde(default)]
    pub content: Option<String>,
}

/// Token counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Generated tokens.
    #[serde(default)]
    pub completion_tokens: u64,
    /// Their sum.
    #[serde(default)]
    pub total_tokens: u64,
}

/// The `rapt` field of `rapt reward-serve`'s answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RaptScore {
    /// Φ ∈ [0, 1], the same number as the message content.
    pub phi: f32,
    /// The model's spread for this frame set, if it has one (e.g. an ensemble's std).
    #[serde(default)]
    pub uncertainty: Option<f32>,
    /// How many frame sets were scored together with this one (dynamic batching).
    pub batch: usize,
}

/// An error body, in OpenAI's shape: `{"error": {"message", "type", "code"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// For people.
    pub message: String,
    /// `invalid_request_error`, `not_found_error`, `server_error`, `overloaded_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP status.
    pub code: u16,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_openai_style_multi_image_requests() {
        let body = r#"{"model": "push", "messages": [
            {"role": "system", "content": "score it"},
            {"role": "user", "content": [
                {"type": "text", "text": "front, side"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,BB", "detail": "low"}}
            ]}], "temperature": 0.1, "stream": false, "n": 1}"#;
        let r: ChatRequest = serde_json::from_str(body).unwrap();
        assert_eq!(r.model, "push");
        assert_eq!(
            r.user_images(),
            ["data:image/png;base64,AA", "data:image/png;base64,BB"]
        );
    }
}
