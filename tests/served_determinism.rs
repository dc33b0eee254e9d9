//! A learned model scores the same bits served as in-process when both score in passes of
//! a fixed size (`fixed_batch`), however the server merges concurrent requests; without
//! it, libtorch rounds rows of small batches differently.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use rapt_progress_http::{RemoteProgress, RewardServer, ServeOptions};
use rapt_reward_model::{LearnedProgress, RewardModel};
use rapt_shaping::{ProgressInput, ProgressModel, RemoteProtocol, RemoteSpec, Row};
use tch::{Device, Kind, Tensor};

const SIZE: usize = 16;
const N: usize = 48;

fn score(model: &mut dyn ProgressModel, frames: &[u8]) -> Vec<f32> {
    let rows: Vec<Row> = (0..N).map(Row::First).collect();
    model
        .score(&ProgressInput {
            n: N,
            task: "Push-v2",
            privileged: None,
            frames: Some(frames),
            rows: Some(&rows),
        })
        .unwrap()
        .phi
}

#[test]
fn fixed_batch_scoring_is_the_same_served_and_in_process() {
    tch::manual_seed(7);
    let dir = std::env::temp_dir().join(format!("rapt-served-bits-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    RewardModel::untrained(3, SIZE, 2, Device::Cpu)
        .save(&dir)
        .unwrap();
    let frames = Vec::<u8>::try_from(Tensor::randint(
        256,
        [N as i64 * 3 * (SIZE * SIZE * 3) as i64],
        (Kind::Uint8, Device::Cpu),
    ))
    .unwrap();

    // In-process, one step's batch of 48 in passes of 8.
    let mut local = LearnedProgress::load(&dir, Device::Cpu).unwrap();
    local.set_fixed_batch(Some(8));
    let in_process = score(&mut local, &frames);

    // Served in passes of 8, the client's 16 requests in flight merged as they come.
    let mut served_model = LearnedProgress::load(&dir, Device::Cpu).unwrap();
    served_model.set_fixed_batch(Some(8));
    let server = RewardServer::bind(
        Box::new(served_model),
        ServeOptions {
            addr: "127.0.0.1:0".into(),
            model_name: "m".into(),
            ..ServeOptions::default()
        },
    )
    .unwrap();
    let addr = server.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let serving = std::thread::spawn(move || server.run(flag));
    let mut remote = RemoteProgress::connect(&RemoteSpec {
        url: format!("http://{addr}/v1"),
        model: "m".into(),
        protocol: RemoteProtocol::Progress,
        views: vec!["view0".into(), "view1".into(), "view2".into()],
        image_size: SIZE,
        timeout_ms: 5_000,
        max_in_flight: 16,
        retries: 2,
        api_key_env: None,
    })
    .unwrap();
    let served = score(&mut remote, &frames);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    serving.join().unwrap();

    let differ: Vec<usize> = (0..N)
        .filter(|&i| served[i].to_bits() != in_process[i].to_bits())
        .collect();
    assert!(
        differ.is_empty(),
        "rows {differ:?} differ: {served:?} vs {in_process:?}"
    );
    // Scoring alone in passes of 8 is the same too.
    let fsb = 3 * SIZE * SIZE * 3;
    let model = local.model();
    assert_eq!(model.fixed_batch(), Some(8));
    let one: Vec<f32> = (0..N)
        .flat_map(|i| {
            model
                .score_bytes(&frames[i * fsb..(i + 1) * fsb], 1)
                .unwrap()
        })
        .collect();
    assert!(
        one.iter()
            .zip(&in_process)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
    let _ = std::fs::remove_dir_all(&dir);
}
