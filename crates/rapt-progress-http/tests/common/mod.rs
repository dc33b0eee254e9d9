//! Test models shared by the integration tests (each test binary uses some of them).
#![allow(dead_code)]

use std::time::Duration;

use rapt_shaping::{ProgressInput, ProgressModel, ProgressScores, RewardError};

/// Φ = mean byte of the frame set / 255: a frame model whose answer a test can predict.
#[derive(Debug, Clone)]
pub struct Brightness {
    views: Vec<String>,
    size: usize,
}

impl Brightness {
    /// Reading `views` at `size` px.
    pub fn new(views: &[&str], size: usize) -> Self {
        Self {
            views: views.iter().map(|v| v.to_string()).collect(),
            size,
        }
    }
}

impl ProgressModel for Brightness {
    fn name(&self) -> String {
        "brightness".into()
    }
    fn needs_frames(&self) -> bool {
        true
    }
    fn views(&self) -> Option<(Vec<String>, usize)> {
        Some((self.views.clone(), self.size))
    }
    fn score(&mut self, input: &ProgressInput<'_>) -> Result<ProgressScores, RewardError> {
        let frames = input.frames.unwrap();
        let per = frames.len() / input.n;
        let phi = frames
            .chunks(per)
            .map(|c| c.iter().map(|&b| f32::from(b)).sum::<f32>() / per as f32 / 255.0)
            .collect();
        Ok(ProgressScores {
            phi,
            uncertainty: None,
        })
    }
}

/// A [`Brightness`] taking `.0` per batch.
pub struct Slow(pub Duration, pub Brightness);

impl ProgressModel for Slow {
    fn name(&self) -> String {
        "slow".into()
    }
    fn needs_frames(&self) -> bool {
        true
    }
    fn views(&self) -> Option<(Vec<String>, usize)> {
        self.1.views()
    }
    fn score(&mut self, input: &ProgressInput<'_>) -> Result<ProgressScores, RewardError> {
        std::thread::sleep(self.0);
        self.1.score(input)
    }
}
