//! `rapt reward-serve`: a learned reward model on the OpenAI-compatible API
//! (`rapt_progress_http::RewardServer` does the serving).

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, Result};
use rapt_progress_http::{RewardServer, ServeOptions};
use rapt_reward_model::LearnedProgress;

use crate::cli::RewardServeArgs;

pub fn run(args: &RewardServeArgs) -> Result<()> {
    if let Some(n) = args.torch.threads {
        rapt_ppo::configure_torch_threads(n);
    }
    let device = args.torch.device.resolve().context("--device")?;
    let mut model = LearnedProgress::load(&args.model, device)?;
    model.set_fixed_batch(args.fixed_batch);
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| rapt_reward_model::model_name(&args.model));
    let options = ServeOptions {
        addr: args.addr.clone(),
        model_name: name.clone(),
        max_batch: args.max_batch,
        max_wait: Duration::from_millis(args.max_wait_ms),
        queue: args.queue,
        ..ServeOptions::default()
    };
    let server = RewardServer::bind(Box::new(model), options)?;
    let addr = server
        .local_addr()
        .map_or_else(|| args.addr.clone(), |a| a.to_string());
    let (views, size) = server.views();
    println!(
        "serving `{name}` on http://{addr}/v1 (POST /v1/chat/completions: {} images, views [{}], {size}×{size} px)",
        views.len(),
        views.join(", ")
    );
    std::io::stdout().flush()?;
    crate::interrupt::on_stop_say("finishing the requests in hand, then stopping");
    let stats = server.run(crate::interrupt::stop_flag());
    println!(
        "stopped: {} frame sets scored in {} batches; {} requests rejected (4xx), {} overloaded (503), {} failed (5xx)",
        stats.scored, stats.batches, stats.rejected, stats.overloaded, stats.failed
    );
    crate::interrupt::outcome()
}
