//! `RemoteProgress` against servers these tests control: rapt's own `RewardServer`, and a
//! scripted server whose answers (status, body, delay) each test chooses — well-formed,
//! malformed, slow, 5xx, gone.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rapt_progress_http::chat::ChatRequest;
use rapt_progress_http::{RemoteError, RemoteProgress, RewardServer, ServeOptions};
use rapt_shaping::{ProgressInput, ProgressModel, RemoteProtocol, RemoteSpec, Row};

const SIZE: usize = 4;

mod common;

use common::Brightness;

fn spec(addr: SocketAddr, protocol: RemoteProtocol, model: &str) -> RemoteSpec {
    RemoteSpec {
        url: format!("http://{addr}/v1"),
        model: model.into(),
        protocol,
        views: vec!["front".into(), "side".into(), "wrist".into()],
        image_size: SIZE,
        timeout_ms: 500,
        max_in_flight: 4,
        retries: 2,
        api_key_env: None,
    }
}

/// `n` frame sets, set `k` all bytes `values[k]`.
fn frames(values: &[u8]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|&v| vec![v; 3 * SIZE * SIZE * 3])
        .collect()
}

fn score(model: &mut RemoteProgress, values: &[u8], rows: &[Row]) -> Vec<f32> {
    let f = frames(values);
    let out = model
        .score(&ProgressInput {
            n: values.len(),
            task: "push the cube onto the target",
            privileged: None,
            frames: Some(&f),
            rows: Some(rows),
        })
        .unwrap();
    assert!(
        out.phi
            .iter()
            .all(|p| p.is_finite() && (0.0..=1.0).contains(p)),
        "{:?}",
        out.phi
    );
    out.phi
}

fn stats(model: &mut RemoteProgress) -> (f64, f64) {
    let s = rapt_shaping::pool_stats(&model.take_stats());
    let get = |name| s.iter().find(|(n, _)| *n == name).unwrap().1;
    (get("remote_failures"), get("remote_latency_ms"))
}

/// A server answering each chat request with what `answer` says (status, body, delay);
/// `GET /v1/models` lists `model`. Stops when the returned flag is set.
fn scripted(
    model: &'static str,
    answer: impl Fn(usize, &ChatRequest) -> (u16, String, Duration) + Send + Sync + 'static,
) -> (SocketAddr, Arc<AtomicBool>) {
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
    let addr = server.server_addr().to_ip().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let answer = Arc::new(answer);
    for _ in 0..4 {
        let (server, stop, calls, answer) =
            (server.clone(), stop.clone(), calls.clone(), answer.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let Ok(Some(mut request)) = server.recv_timeout(Duration::from_millis(50)) else {
                    continue;
                };
                if request.url().ends_with("/models") {
                    let body = format!(r#"{{"object":"list","data":[{{"id":"{model}"}}]}}"#);
                    let _ = request.respond(tiny_http::Response::from_string(body));
                    continue;
                }
                let mut body = String::new();
                request.as_reader().read_to_string(&mut body).unwrap();
                let chat: ChatRequest = serde_json::from_str(&body).unwrap();
                let (status, text, delay) = answer(calls.fetch_add(1, Ordering::SeqCst), &chat);
                std::thread::sleep(delay);
                let _ = request
                    .respond(tiny_http::Response::from_string(text).with_status_code(status));
            }
        });
    }
    (addr, stop)
}

/// A chat answer whose content is `content`.
fn content(content: &str) -> String {
    serde_json::json!({
        "id": "x", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
    })
    .to_string()
}

#[test]
fn progress_protocol_gets_the_served_models_phi() {
    let options = ServeOptions {
        addr: "127.0.0.1:0".into(),
        model_name: "bright".into(),
        ..ServeOptions::default()
    };
    let server = RewardServer::bind(
        Box::new(Brightness::new(&["front", "side", "wrist"], SIZE)),
        options,
    )
    .unwrap();
    let addr = server.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let serving = std::thread::spawn(move || server.run(flag));

    let mut model =
        RemoteProgress::connect(&spec(addr, RemoteProtocol::Progress, "bright")).unwrap();
    let phi = score(
        &mut model,
        &[0, 51, 255, 102],
        &[Row::First(0), Row::First(1), Row::First(2), Row::First(3)],
    );
    assert_eq!(phi, vec![0.0, 0.2, 1.0, 0.4]);
    // Repeated frames come from the cache: no new calls.
    let served_before = { stop.load(Ordering::SeqCst) };
    assert!(!served_before);
    let phi = score(&mut model, &[51, 51], &[Row::Next(0), Row::Next(1)]);
    assert_eq!(phi, vec![0.2, 0.2]);
    let (failures, latency) = stats(&mut model);
    assert_eq!(failures, 0.0);
    assert!(latency > 0.0 && latency < 500.0, "{latency}");

    // The server goes away mid-run: scores are held, failures counted, nothing hangs.
    stop.store(true, Ordering::SeqCst);
    serving.join().unwrap();
    let t = Instant::now();
    let phi = score(&mut model, &[7, 9], &[Row::Next(0), Row::First(1)]);
    assert_eq!(
        phi,
        vec![0.2, 0.0],
        "env 0 holds its Φ, a new episode starts at 0"
    );
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(stats(&mut model).0, 2.0);
}

#[test]
fn the_start_up_check_names_the_url_and_what_went_wrong() {
    // Nothing listens: a port that was free a moment ago.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let e = RemoteProgress::connect(&spec(free, RemoteProtocol::Progress, "m")).unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "start-up check of http://{free}/v1: http://{free}/v1/models:"
        )),
        "{text}"
    );

    let (addr, stop) = scripted("served-model", |_, _| (200, content("0.5"), Duration::ZERO));
    let e = RemoteProgress::connect(&spec(addr, RemoteProtocol::Progress, "other")).unwrap_err();
    assert!(
        e.to_string()
            .contains("model `other` is not served there; it serves [\"served-model\"]"),
        "{e}"
    );
    stop.store(true, Ordering::SeqCst);

    let (addr, stop) = scripted("m", |_, _| {
        (200, content("very good progress"), Duration::ZERO)
    });
    let e = RemoteProgress::connect(&spec(addr, RemoteProtocol::Progress, "m")).unwrap_err();
    assert!(
        e.to_string()
            .contains("unparseable answer: no decimal Φ in the answer `very good progress`"),
        "{e}"
    );
    stop.store(true, Ordering::SeqCst);

    let (addr, stop) = scripted("m", |_, _| (200, "<html>".into(), Duration::ZERO));
    let e = RemoteProgress::connect(&spec(addr, RemoteProtocol::Rubric5, "m")).unwrap_err();
    assert!(e.to_string().contains("unexpected answer"), "{e}");
    stop.store(true, Ordering::SeqCst);

    let mut with_key = spec(addr, RemoteProtocol::Progress, "m");
    with_key.api_key_env = Some("RAPT_TEST_KEY_THAT_IS_NOT_SET".into());
    assert!(matches!(
        RemoteProgress::connect(&with_key),
        Err(RemoteError::MissingKey(_))
    ));
}

#[test]
fn transient_errors_are_retried_and_the_rest_hold_the_last_phi() {
    // Calls: 0 = the start-up check; then 5xx twice before an answer (retried), garbage,
    // an answer out of range, a slow answer past the timeout (retried, then given up).
    let (addr, stop) = scripted("m", |k, _| match k {
        0 => (200, content("0.5"), Duration::ZERO),
        1 => (500, "oops".into(), Duration::ZERO),
        2 => (
            503,
            r#"{"error":{"message":"busy","type":"overloaded_error","code":503}}"#.into(),
            Duration::ZERO,
        ),
        3 => (200, content("0.25"), Duration::ZERO),
        4 => (200, "{garbage".into(), Duration::ZERO),
        5 => (200, content("1.7"), Duration::ZERO),
        _ => (200, content("0.9"), Duration::from_millis(800)),
    });
    let mut s = spec(addr, RemoteProtocol::Progress, "m");
    s.max_in_flight = 1;
    let mut model = RemoteProgress::connect(&s).unwrap();
    assert_eq!(
        score(&mut model, &[10], &[Row::First(0)]),
        vec![0.25],
        "after two retries"
    );
    assert_eq!(stats(&mut model).0, 0.0);
    assert_eq!(
        score(&mut model, &[11], &[Row::Next(0)]),
        vec![0.25],
        "garbage: held"
    );
    assert_eq!(
        score(&mut model, &[12], &[Row::Next(0)]),
        vec![0.25],
        "out of range: held"
    );
    let t = Instant::now();
    assert_eq!(
        score(&mut model, &[13], &[Row::Next(0)]),
        vec![0.25],
        "too slow: held"
    );
    // 3 tries of 500 ms plus back-off (100 + 200 ms): bounded, never a hang.
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    assert_eq!(stats(&mut model).0, 3.0);
    stop.store(true, Ordering::SeqCst);
}

#[test]
fn grm_accumulates_hops_per_episode_from_before_and_after_sets() {
    let (addr, stop) = scripted("grm", |_, chat: &ChatRequest| {
        let images = chat.user_images();
        assert_eq!(images.len(), 8, "references, BEFORE, AFTER");
        assert_ne!(images[0], images[1], "the reference start and goal differ");
        // BEFORE and AFTER identical: no progress; otherwise +50 %.
        let hop = if images[2..5] == images[5..8] {
            "0%"
        } else {
            "+50%"
        };
        (
            200,
            content(&format!("<score>{hop}</score>")),
            Duration::ZERO,
        )
    });
    // References from Push-v0's scripted expert: its start and its goal differ.
    let mut model =
        RemoteProgress::connect_for_env(&spec(addr, RemoteProtocol::Grm, "grm"), || {
            rapt_registry::registry().make("Push-v0", "", None)
        })
        .unwrap();
    assert_eq!(
        score(&mut model, &[1, 1], &[Row::First(0), Row::First(1)]),
        vec![0.0, 0.0]
    );
    assert_eq!(
        score(&mut model, &[2, 1], &[Row::Next(0), Row::Next(1)]),
        vec![0.5, 0.0]
    );
    assert_eq!(
        score(&mut model, &[3, 4], &[Row::Next(0), Row::Next(1)]),
        vec![0.75, 0.5]
    );
    // Env 0's episode ends (Last continues it: 0.875) and a new one starts at 0.
    let phi = score(
        &mut model,
        &[9, 5, 8],
        &[Row::First(0), Row::Next(1), Row::Last(0)],
    );
    assert_eq!(phi, vec![0.0, 0.75, 0.875]);
    assert_eq!(score(&mut model, &[10], &[Row::Next(0)]), vec![0.5]);
    stop.store(true, Ordering::SeqCst);
}

#[test]
fn grm_without_a_scripted_expert_says_so() {
    let (addr, stop) = scripted("grm", |_, _| {
        (200, content("<score>0%</score>"), Duration::ZERO)
    });
    let e = RemoteProgress::connect_for_env(&spec(addr, RemoteProtocol::Grm, "grm"), || {
        rapt_registry::registry().make("CartPole-v1", "", None)
    })
    .unwrap_err();
    // CartPole-v1 draws a picture but has no expert to show the task's start and goal.
    assert!(
        e.to_string()
            .starts_with("Grm's reference images: the env has no scripted expert"),
        "{e}"
    );
    stop.store(true, Ordering::SeqCst);
}

#[test]
fn rubric5_uses_logprobs_when_given_and_the_digit_otherwise() {
    let (addr, stop) = scripted("rr", |k, chat: &ChatRequest| {
        assert_eq!(chat.logprobs, Some(true));
        let body = if k % 2 == 1 {
            serde_json::json!({
                "id": "x", "object": "chat.completion", "created": 0, "model": "rr",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ANSWER: 5"},
                  "logprobs": {"content": [{"token": "ANSWER", "logprob": 0.0, "top_logprobs": []},
                    {"token": " 5", "logprob": -1.2, "top_logprobs": [
                      {"token": " 5", "logprob": -1.2}, {"token": " 3", "logprob": -1.2}]}]}}],
            })
            .to_string()
        } else {
            content("ANSWER: 2")
        };
        (200, body, Duration::ZERO)
    });
    let mut s = spec(addr, RemoteProtocol::Rubric5, "rr");
    s.max_in_flight = 1;
    let mut model = RemoteProgress::connect(&s).unwrap();
    // Call 1: E = (5 + 3) / 2 = 4 → Φ 0.75; call 2: the digit 2 → Φ 0.25.
    assert_eq!(score(&mut model, &[1], &[Row::First(0)]), vec![0.75]);
    assert_eq!(score(&mut model, &[2], &[Row::Next(0)]), vec![0.25]);
    stop.store(true, Ordering::SeqCst);
}

#[test]
fn the_breaker_opens_after_eight_failed_calls_not_a_whole_batch() {
    // Call 0 is the start-up check; every call after it fails at once.
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    let (addr, stop) = scripted("m", move |k, _| {
        count.fetch_add(1, Ordering::SeqCst);
        match k {
            0 => (200, content("0.5"), Duration::ZERO),
            _ => (500, "down".into(), Duration::ZERO),
        }
    });
    let mut s = spec(addr, RemoteProtocol::Progress, "m");
    (s.max_in_flight, s.retries) = (2, 0);
    let mut model = RemoteProgress::connect(&s).unwrap();
    // One batch of 100 distinct frame sets: 100 calls to make.
    let values: Vec<u8> = (0..100).collect();
    let rows: Vec<Row> = (0..100).map(Row::First).collect();
    let t = Instant::now();
    let phi = score(&mut model, &values, &rows);
    assert_eq!(phi, vec![0.0; 100], "held: the first Φ of an episode is 0");
    assert_eq!(
        stats(&mut model).0,
        100.0,
        "every row's call failed or was held back"
    );
    // The server saw the check, the failures that opened the breaker and those in flight.
    let served = served.load(Ordering::SeqCst);
    assert!(served <= 1 + 8 + 2, "{served} calls reached the server");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    stop.store(true, Ordering::SeqCst);
}

#[test]
fn a_hung_server_costs_a_batch_its_timeout_and_then_nothing() {
    // Call 0 is the start-up check; every call after it waits a minute for its answer.
    let (addr, stop) = scripted("m", move |k, _| match k {
        0 => (200, content("0.5"), Duration::ZERO),
        _ => (200, content("0.9"), Duration::from_secs(60)),
    });
    let mut s = spec(addr, RemoteProtocol::Progress, "m");
    (s.max_in_flight, s.retries, s.timeout_ms) = (4, 3, 400);
    let mut model = RemoteProgress::connect(&s).unwrap();
    let values: Vec<u8> = (0..20).collect();
    let rows: Vec<Row> = (0..20).map(Row::First).collect();
    let t = Instant::now();
    let phi = score(&mut model, &values, &rows);
    let first = t.elapsed();
    assert_eq!(phi, vec![0.0; 20], "held: the first Φ of an episode is 0");
    assert!(
        first >= Duration::from_millis(400) && first < Duration::from_millis(1500),
        "the batch took {first:?} with a 400 ms timeout"
    );
    assert_eq!(stats(&mut model).0, 20.0);
    // The breaker is open: the next batch is held back without waiting.
    let values: Vec<u8> = (100..120).collect();
    let rows: Vec<Row> = (0..20).map(Row::Next).collect();
    let t = Instant::now();
    assert_eq!(score(&mut model, &values, &rows), vec![0.0; 20]);
    assert!(
        t.elapsed() < Duration::from_millis(100),
        "{:?}",
        t.elapsed()
    );
    stop.store(true, Ordering::SeqCst);
}
