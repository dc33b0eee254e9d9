//! A load generator for OpenAI-compatible progress servers: `clients` threads each send one
//! frame set after another for a while, and the report gives frame sets/s and latency
//! percentiles (`rapt reward-model bench --served`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rapt_shaping::ProgressModel;
use serde::Serialize;

use crate::chat::{ChatRequest, Content, ImageUrl, Message, Part};
use crate::client::ChatClient;
use crate::frames::png_data_url;
use crate::serve::{RewardServer, ServeError, ServeOptions};

/// What a load run measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadReport {
    /// Concurrent clients.
    pub clients: usize,
    /// Seconds measured.
    pub seconds: f64,
    /// Frame sets answered with a score.
    pub answered: u64,
    /// Calls that failed (any error).
    pub failed: u64,
    /// Answered frame sets per second.
    pub sets_per_s: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th-percentile latency, ms.
    pub p99_ms: f64,
    /// Mean frame sets per scored batch (known when the server ran in this process).
    pub mean_batch: Option<f64>,
}

/// A chat request asking `model` to score the frame set `image_urls` (one per view).
pub fn score_request(model: &str, image_urls: &[String]) -> ChatRequest {
    let parts = image_urls
        .iter()
        .map(|url| Part::ImageUrl {
            image_url: ImageUrl {
                url: url.clone(),
                detail: None,
            },
        })
        .collect();
    ChatRequest {
        model: model.to_owned(),
        messages: vec![Message {
            role: "user".into(),
            content: Content::Parts(parts),
        }],
        temperature: Some(0.0),
        max_tokens: Some(16),
        logprobs: None,
        top_logprobs: None,
    }
}

/// Send `request` from `clients` threads, one call after another each, for `duration`.
pub fn run_load(
    client: &ChatClient,
    request: &ChatRequest,
    clients: usize,
    duration: Duration,
) -> LoadReport {
    let start = Instant::now();
    let results: Vec<(Vec<f64>, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients.max(1))
            .map(|k| {
                std::thread::Builder::new()
                    .name(format!("rapt-load-{k}"))
                    .spawn_scoped(scope, || {
                        let (mut latencies, mut failed) = (Vec::new(), 0u64);
                        while start.elapsed() < duration {
                            let t = Instant::now();
                            match client.complete(request) {
                                Ok(_) => latencies.push(t.elapsed().as_secs_f64() * 1e3),
                                Err(_) => failed += 1,
                            }
                        }
                        (latencies, failed)
                    })
                    .expect("spawning a load thread")
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    let failed = results.iter().map(|r| r.1).sum();
    let mut latencies: Vec<f64> = results.into_iter().flat_map(|r| r.0).collect();
    latencies.sort_by(f64::total_cmp);
    LoadReport {
        clients,
        seconds,
        answered: latencies.len() as u64,
        failed,
        sets_per_s: latencies.len() as f64 / seconds,
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        mean_batch: None,
    }
}

/// Serve `model` on a free loopback port (scoring up to `batch` frame sets together) and
/// load it from `clients` threads for `duration`, each call one frame set of noise.
pub fn bench_served(
    model: Box<dyn ProgressModel>,
    batch: usize,
    clients: usize,
    duration: Duration,
) -> Result<LoadReport, ServeError> {
    let (views, size) = model.views().ok_or_else(|| {
        ServeError::Invalid(format!("progress model `{}` reads no frames", model.name()))
    })?;
    let options = ServeOptions {
        addr: "127.0.0.1:0".into(),
        model_name: "bench".into(),
        max_batch: batch,
        ..ServeOptions::default()
    };
    let server = RewardServer::bind(model, options)?;
    let addr = server
        .local_addr()
        .ok_or_else(|| ServeError::Invalid("the server has no IP address".into()))?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let serving = std::thread::spawn(move || server.run(flag));
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let urls = views
        .iter()
        .map(|_| {
            let noise: Vec<u8> = (0..size * size * 3)
                .map(|_| {
                    // xorshift64: noise frames cost the PNG codec what real ones do at most.
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 56) as u8
                })
                .collect();
            png_data_url(&noise, size).map_err(|e| ServeError::Invalid(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let client = ChatClient::new(&format!("http://{addr}/v1"), Duration::from_secs(30), None);
    let mut report = run_load(&client, &score_request("bench", &urls), clients, duration);
    stop.store(true, Ordering::SeqCst);
    if let Ok(stats) = serving.join() {
        report.mean_batch = Some(stats.scored as f64 / stats.batches.max(1) as f64);
    }
    Ok(report)
}

/// The `q` quantile of sorted `values` (nearest rank; NaN when empty).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        assert!(percentile(&[], 0.5).is_nan());
    }
}
