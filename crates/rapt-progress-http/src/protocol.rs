//! How a frame set becomes a chat request and an answer becomes Φ, for the three remote
//! protocols: Robo-Dopamine's GRM (`Grm`), RoboReward's 1–5 rubric (`Rubric5`) and rapt's
//! own served models (`Progress`). The prompts are the published texts, versioned under
//! `assets/prompts/`.

use thiserror::Error;

use crate::chat::{ChatRequest, ChatResponse, Content, ImageUrl, Message, Part};

/// Robo-Dopamine GRM's prompt: `{task}` and 8 `<image>` markers.
pub const GRM_PROMPT: &str = include_str!("../../../assets/prompts/grm-v1.txt");
/// RoboReward's rubric prompt: `{task}`; the frames go before it.
pub const RUBRIC5_PROMPT: &str = include_str!("../../../assets/prompts/rubric5-v1.txt");
/// Where a prompt takes an image.
pub const IMAGE_MARKER: &str = "<image>";

/// Why an answer gave no score.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum AnswerError {
    /// The answer has no text.
    #[error("the answer has no message content")]
    Empty,
    /// No score could be read from the text.
    #[error("no {expected} in the answer `{text}`")]
    NoScore {
        /// The format looked for.
        expected: &'static str,
        /// The answer's start.
        text: String,
    },
    /// A score was read but lies outside its range.
    #[error("score {value} outside {range} in the answer `{text}`")]
    OutOfRange {
        /// The value read.
        value: f64,
        /// The allowed range.
        range: &'static str,
        /// The answer's start.
        text: String,
    },
}

fn start(text: &str) -> String {
    text.chars().take(120).collect()
}

fn image(url: &str) -> Part {
    Part::ImageUrl {
        image_url: ImageUrl {
            url: url.to_owned(),
            detail: None,
        },
    }
}

fn text(t: String) -> Part {
    Part::Text { text: t }
}

fn user(parts: Vec<Part>) -> Vec<Message> {
    vec![Message {
        role: "user".into(),
        content: Content::Parts(parts),
    }]
}

/// `template`'s text with `{task}` filled in, split at its image markers and interleaved
/// with `images` (as many as markers; text parts that would be empty are left out).
pub fn interleave(template: &str, task: &str, images: &[&str]) -> Vec<Part> {
    let pieces: Vec<&str> = template.split(IMAGE_MARKER).collect();
    assert_eq!(
        pieces.len(),
        images.len() + 1,
        "the prompt has {} image markers, {} images given",
        pieces.len() - 1,
        images.len()
    );
    let mut parts = Vec::with_capacity(pieces.len() * 2);
    for (k, piece) in pieces.iter().enumerate() {
        if !piece.is_empty() {
            parts.push(text(piece.replace("{task}", task)));
        }
        if let Some(url) = images.get(k) {
            parts.push(image(url));
        }
    }
    parts
}

/// The GRM request: reference start and end (front view), then the BEFORE and AFTER
/// three-view sets (front, left wrist, right wrist), as Robo-Dopamine's API evaluator sends
/// them (temperature 0.1).
pub fn grm_request(
    model: &str,
    task: &str,
    reference: [&str; 2],
    before: [&str; 3],
    after: [&str; 3],
) -> ChatRequest {
    let images = [
        reference[0],
        reference[1],
        before[0],
        before[1],
        before[2],
        after[0],
        after[1],
        after[2],
    ];
    ChatRequest {
        model: model.to_owned(),
        messages: user(interleave(GRM_PROMPT, task, &images)),
        temperature: Some(0.1),
        max_tokens: Some(64),
        logprobs: None,
        top_logprobs: None,
    }
}

/// GRM's hop H ∈ [−1, 1] from its answer: the number in `<score>…</score>` (a percentage),
/// else the last `±NN%` in the text, clipped to ±100 % as Robo-Dopamine does.
pub fn parse_grm(answer: &str) -> Result<f32, AnswerError> {
    let tagged = answer.find("<score>").and_then(|i| {
        let rest = &answer[i + "<score>".len()..];
        rest.find("</score>").map(|j| &rest[..j])
    });
    let value = match tagged.and_then(|t| t.replace('%', "").trim().parse::<f64>().ok()) {
        Some(v) => v,
        None => last_percentage(answer).ok_or_else(|| AnswerError::NoScore {
            expected: "`<score>±NN%</score>`",
            text: start(answer),
        })?,
    };
    if !value.is_finite() {
        return Err(AnswerError::OutOfRange {
            value,
            range: "[-100%, +100%]",
            text: start(answer),
        });
    }
    Ok((value.clamp(-100.0, 100.0) / 100.0) as f32)
}

/// The last `[+-]?digits` followed (after optional spaces) by `%`.
fn last_percentage(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut found = None;
    for (i, _) in text.match_indices('%') {
        let mut end = i;
        while end > 0 && bytes[end - 1] == b' ' {
            end -= 1;
        }
        let mut begin = end;
        while begin > 0 && bytes[begin - 1].is_ascii_digit() {
            begin -= 1;
        }
        if begin == end {
            continue;
        }
        if begin > 0 && matches!(bytes[begin - 1], b'+' | b'-') {
            begin -= 1;
        }
        found = text[begin..end].parse::<f64>().ok().or(found);
    }
    found
}

/// GRM's incremental progress update: a hop H ≥ 0 closes that share of what remained to the
/// goal (Φ + (1 − Φ)H), a negative one undoes that share of what was done (Φ + ΦH).
pub fn grm_accumulate(phi: f32, hop: f32) -> f32 {
    let next = if hop >= 0.0 {
        phi + (1.0 - phi) * hop
    } else {
        phi + phi * hop
    };
    next.clamp(0.0, 1.0)
}

/// The RoboReward request: the frames (the current state's views, as the model's video
/// frames) then the rubric, asking for the answer tokens' top log-probabilities.
pub fn rubric5_request(model: &str, task: &str, frames: &[&str]) -> ChatRequest {
    let mut parts: Vec<Part> = frames.iter().map(|u| image(u)).collect();
    parts.push(text(RUBRIC5_PROMPT.replace("{task}", task)));
    ChatRequest {
        model: model.to_owned(),
        messages: user(parts),
        temperature: Some(0.0),
        max_tokens: Some(16),
        logprobs: Some(true),
        top_logprobs: Some(10),
    }
}

/// RoboReward's score 1–5 from its answer text: `ANSWER: d` (any case), else the last
/// stand-alone digit 1–5.
pub fn parse_rubric5(answer: &str) -> Result<u8, AnswerError> {
    let lower = answer.to_ascii_lowercase();
    if let Some(i) = lower.find("answer:") {
        let digits: String = answer[i + "answer:".len()..]
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(v) = digits.parse::<u32>() {
            return match u8::try_from(v) {
                Ok(v @ 1..=5) => Ok(v),
                _ => Err(AnswerError::OutOfRange {
                    value: f64::from(v),
                    range: "1–5",
                    text: start(answer),
                }),
            };
        }
    }
    let bytes = answer.as_bytes();
    let standalone = |i: usize| {
        (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            && (i + 1 == bytes.len() || !bytes[i + 1].is_ascii_alphanumeric())
    };
    (0..bytes.len())
        .rev()
        .find(|&i| (b'1'..=b'5').contains(&bytes[i]) && standalone(i))
        .map(|i| bytes[i] - b'0')
        .ok_or_else(|| AnswerError::NoScore {
            expected: "`ANSWER: <1-5>`",
            text: start(answer),
        })
}

/// Φ from a RoboReward score: 1 → 0, 5 → 1 (the model card's `score / 4 − 0.25`).
pub fn rubric5_phi(score: f32) -> f32 {
    ((score - 1.0) / 4.0).clamp(0.0, 1.0)
}

/// The expected score E\[s\] over the digit tokens "1"–"5" at the first answer position whose
/// top log-probabilities include them (renormalized over those digits), when the server
/// returned log-probabilities.
pub fn rubric5_expectation(answer: &ChatResponse) -> Option<f32> {
    let tokens = answer
        .choices
        .first()?
        .logprobs
        .as_ref()?
        .content
        .as_ref()?;
    tokens.iter().find_map(|t| {
        let digits: Vec<(f64, f64)> = t
            .top_logprobs
            .iter()
            .filter_map(|top| {
                let d = top
                    .token
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|d| (1..=5).contains(d))?;
                Some((f64::from(d), top.logprob))
            })
            .collect();
        if digits.is_empty() {
            return None;
        }
        let max = digits.iter().map(|d| d.1).fold(f64::NEG_INFINITY, f64::max);
        let weights: Vec<f64> = digits.iter().map(|d| (d.1 - max).exp()).collect();
        let total: f64 = weights.iter().sum();
        let mean = digits
            .iter()
            .zip(&weights)
            .map(|(d, w)| d.0 * w)
            .sum::<f64>()
            / total;
        mean.is_finite().then_some(mean as f32)
    })
}

/// The request to a served rapt model: the views' images in the model's order.
pub fn progress_request(model: &str, frames: &[&str]) -> ChatRequest {
    ChatRequest {
        model: model.to_owned(),
        messages: user(frames.iter().map(|u| image(u)).collect()),
        temperature: Some(0.0),
        max_tokens: Some(16),
        logprobs: None,
        top_logprobs: None,
    }
}

/// Φ ∈ [0, 1] from a served rapt model's answer (a plain decimal number). Read straight
/// into an f32: the server writes the shortest decimal that reads back to its f32, and
/// going through an f64 could round twice.
pub fn parse_progress(answer: &str) -> Result<f32, AnswerError> {
    let value: f32 = answer.trim().parse().map_err(|_| AnswerError::NoScore {
        expected: "decimal Φ",
        text: start(answer),
    })?;
    if !(0.0..=1.0).contains(&value) {
        return Err(AnswerError::OutOfRange {
            value: f64::from(value),
            range: "[0, 1]",
            text: start(answer),
        });
    }
    Ok(value)
}

/// The text of the first choice.
pub fn answer_text(answer: &ChatResponse) -> Result<&str, AnswerError> {
    answer
        .choices
        .first()
        .and_then(|c| c.message.content.as_deref())
        .ok_or(AnswerError::Empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(parts: &[Part]) -> Vec<&str> {
        parts
            .iter()
            .filter_map(|p| match p {
                Part::Text { text } => Some(text.as_str()),
                Part::ImageUrl { .. } => None,
            })
            .collect()
    }

    /// The text parts Robo-Dopamine's API evaluator (`eval/evaluation_api.py`) sends
    /// between the 8 images, for the task "push the cube".
    #[test]
    fn grm_prompt_renders_as_robo_dopamines_api_evaluator_sends_it() {
        let images =
            ["a", "b", "c", "d", "e", "f", "g", "h"].map(|s| format!("data:image/png;base64,{s}"));
        let r = grm_request(
            "grm",
            "push the cube",
            [&images[0], &images[1]],
            [&images[2], &images[3], &images[4]],
            [&images[5], &images[6], &images[7]],
        );
        let Content::Parts(parts) = &r.messages[0].content else {
            panic!("parts")
        };
        assert_eq!(parts.len(), 17, "9 text parts around 8 images");
        let t = texts(parts);
        assert!(t[0].starts_with(
            "\nYou are a rigorous, impartial vision evaluator for robot task progress."
        ));
        assert!(t[0].contains("<Task>\n`push the cube`\n\nREFERENCE EXAMPLES"));
        assert!(t[0].ends_with("- REFERENCE START — Robot Front Image (task just starting): "));
        assert_eq!(
            t[1],
            "\n- REFERENCE END — Robot Front Image (task fully completed): "
        );
        assert_eq!(t[2], "\n</Task>\n\nBEFORE Robot Front Image: ");
        assert_eq!(t[3], "\nBEFORE Robot Left Wrist Image: ");
        assert_eq!(t[4], "\nBEFORE Robot Right Wrist Image: ");
        assert_eq!(t[5], "\n\nAFTER Robot Front Image: ");
        assert_eq!(t[6], "\nAFTER Robot Left Wrist Image: ");
        assert_eq!(t[7], "\nAFTER Robot Right Wrist Image: ");
        assert!(t[8].starts_with("\n\nGoal\nCompare the BEFORE and AFTER three-view sets"));
        assert!(t[8].contains("1) Task Alignment: Evidence directly tied to `push the cube`."));
        assert!(
            t[8].ends_with("<score>+NN%</score>  or  <score>-NN%</score>  or  <score>0%</score>\n")
        );
        // Images in order: references, BEFORE, AFTER.
        let urls: Vec<&str> = parts
            .iter()
            .filter_map(|p| match p {
                Part::ImageUrl { image_url } => Some(image_url.url.as_str()),
                Part::Text { .. } => None,
            })
            .collect();
        assert_eq!(urls, images.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(r.temperature, Some(0.1));
    }

    #[test]
    fn grm_answers_parse_as_robo_dopamine_reads_them() {
        assert_eq!(parse_grm("<score>+35%</score>"), Ok(0.35));
        assert_eq!(parse_grm("<score>-12%</score>"), Ok(-0.12));
        assert_eq!(parse_grm("<score>0%</score>"), Ok(0.0));
        assert_eq!(parse_grm("  <score> +7 % </score>\n"), Ok(0.07));
        // Out of range is clipped, as in `_extract_score`.
        assert_eq!(parse_grm("<score>+250%</score>"), Ok(1.0));
        assert_eq!(parse_grm("<score>-130%</score>"), Ok(-1.0));
        // No tags: the last percentage in the text.
        assert_eq!(
            parse_grm("AFTER is closer; I'd say +20% or maybe +25 %"),
            Ok(0.25)
        );
        // Malformed: no score at all (Robo-Dopamine falls back to 0; rapt counts a failure).
        assert!(matches!(
            parse_grm("the gripper moved"),
            Err(AnswerError::NoScore { .. })
        ));
        assert!(matches!(
            parse_grm("<score>lots</score>"),
            Err(AnswerError::NoScore { .. })
        ));
        assert!(matches!(parse_grm(""), Err(AnswerError::NoScore { .. })));
    }

    #[test]
    fn grm_progress_accumulates_as_the_paper_specifies() {
        assert!((grm_accumulate(0.2, 0.5) - 0.6).abs() < 1e-6);
        assert!((grm_accumulate(0.6, -0.5) - 0.3).abs() < 1e-6);
        assert_eq!(grm_accumulate(0.0, -1.0), 0.0);
        assert_eq!(grm_accumulate(0.3, 1.0), 1.0);
        assert_eq!(grm_accumulate(0.4, 0.0), 0.4);
    }

    #[test]
    fn rubric5_prompt_is_roborewards_after_the_frames() {
        let r = rubric5_request(
            "roboreward",
            "push the red cube to the target",
            &["data:f", "data:s"],
        );
        let Content::Parts(parts) = &r.messages[0].content else {
            panic!("parts")
        };
        assert!(matches!(&parts[0], Part::ImageUrl { image_url } if image_url.url == "data:f"));
        assert!(matches!(&parts[1], Part::ImageUrl { image_url } if image_url.url == "data:s"));
        let t = texts(parts);
        assert_eq!(t.len(), 1);
        assert!(t[0].starts_with("Given the task, assign a discrete progress score reward (1,2,3,4,5) for the robot in the video in the format: ANSWER: <score>\nRubric for end-of-episode progress (judge only the final state without time limits):\n1 - No Success:"));
        assert!(t[0].contains("\n5 - Perfect Completion: Final state satisfies all requirements.\n\nTask: push the red cube to the target"));
        assert_eq!(r.logprobs, Some(true));
    }

    #[test]
    fn rubric5_answers_parse_with_the_baselines_rules() {
        assert_eq!(parse_rubric5("ANSWER: 4"), Ok(4));
        assert_eq!(parse_rubric5("answer:5"), Ok(5));
        assert_eq!(parse_rubric5("The robot nearly made it. ANSWER: 3."), Ok(3));
        assert_eq!(parse_rubric5("I think 2, no, 3"), Ok(3));
        assert!(matches!(
            parse_rubric5("ANSWER: 7"),
            Err(AnswerError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_rubric5("no idea"),
            Err(AnswerError::NoScore { .. })
        ));
        assert!(matches!(
            parse_rubric5("score 42"),
            Err(AnswerError::NoScore { .. })
        ));
        assert_eq!(rubric5_phi(1.0), 0.0);
        assert_eq!(rubric5_phi(5.0), 1.0);
        assert_eq!(rubric5_phi(3.0), 0.5);
    }

    #[test]
    fn rubric5_expectation_reads_digit_logprobs_when_present() {
        let with = r#"{"id":"x","object":"chat.completion","created":0,"model":"m",
            "choices":[{"index":0,"message":{"role":"assistant","content":"ANSWER: 4"},
            "finish_reason":"stop","logprobs":{"content":[
              {"token":"ANSWER","logprob":-0.01,"top_logprobs":[{"token":"ANSWER","logprob":-0.01}]},
              {"token":":","logprob":0.0,"top_logprobs":[{"token":":","logprob":0.0}]},
              {"token":" 4","logprob":-0.357,"top_logprobs":[
                {"token":" 4","logprob":-0.35667494},{"token":" 3","logprob":-1.2039728},
                {"token":" 5","logprob":-2.3025851},{"token":"\n","logprob":-9.0}]}]}}]}"#;
        let answer: ChatResponse = serde_json::from_str(with).unwrap();
        // p(4, 3, 5) = (0.7, 0.3, 0.1) renormalized to 1.1: E = (2.8 + 0.9 + 0.5) / 1.1.
        let e = rubric5_expectation(&answer).unwrap();
        assert!((e - 4.2 / 1.1).abs() < 1e-4, "{e}");
        let without = with.replace(r#","logprobs":{"content":["#, r#","x":{"content":["#);
        let answer: ChatResponse = serde_json::from_str(&without).unwrap();
        assert_eq!(rubric5_expectation(&answer), None);
        assert_eq!(parse_rubric5(answer_text(&answer).unwrap()), Ok(4));
    }

    #[test]
    fn progress_answers_are_plain_numbers_in_the_unit_interval() {
        assert_eq!(parse_progress("0.734"), Ok(0.734));
        assert_eq!(parse_progress(" 1\n"), Ok(1.0));
        assert!(matches!(
            parse_progress("1.5"),
            Err(AnswerError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_progress("-0.1"),
            Err(AnswerError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_progress("NaN"),
            Err(AnswerError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_progress("high"),
            Err(AnswerError::NoScore { .. })
        ));
    }
}
