//! `RewardServer` over raw HTTP/1.1: scores, batching, every 4xx and 503 it promises.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rapt_progress_http::chat::{ChatResponse, ErrorBody};
use rapt_progress_http::frames::png_data_url;
use rapt_progress_http::{HttpLimits, RewardServer, ServeOptions, ServeStats};
use rapt_shaping::ProgressModel;

mod common;

use common::{Brightness, Slow};

/// The views every test here serves: two, at 4 px.
fn brightness() -> Brightness {
    Brightness::new(&["front", "side"], 4)
}

type Running = (
    SocketAddr,
    Arc<AtomicBool>,
    std::thread::JoinHandle<ServeStats>,
);

fn start() -> Running {
    start_with(Box::new(brightness()), 256)
}

/// Serve `model` with a queue of `queue` and batches of up to 2.
fn start_with(model: Box<dyn ProgressModel>, queue: usize) -> Running {
    let http = HttpLimits {
        max_body_bytes: 64 << 10,
        ..HttpLimits::default()
    };
    start_limited(model, queue, http)
}

fn start_limited(model: Box<dyn ProgressModel>, queue: usize, http: HttpLimits) -> Running {
    let options = ServeOptions {
        addr: "127.0.0.1:0".into(),
        model_name: "bright".into(),
        http,
        queue,
        max_batch: 2,
        ..ServeOptions::default()
    };
    let server = RewardServer::bind(model, options).unwrap();
    let addr = server.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    (addr, stop, std::thread::spawn(move || server.run(flag)))
}

/// One HTTP/1.1 exchange: (status, body).
fn call(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

fn request(model: &str, images: &[String]) -> Vec<u8> {
    let parts: Vec<_> = images
        .iter()
        .map(|u| serde_json::json!({"type": "image_url", "image_url": {"url": u}}))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "model": model,
        "messages": [{"role": "user", "content": parts}],
    }))
    .unwrap()
}

#[test]
fn scores_frame_sets_and_rejects_bad_requests_with_clear_4xx() {
    let (addr, stop, server) = start();
    let (a, b) = (
        png_data_url(&[51; 48], 4).unwrap(),
        png_data_url(&[153; 48], 4).unwrap(),
    );
    let (status, body) = call(
        addr,
        "POST",
        "/v1/chat/completions",
        &request("bright", &[a.clone(), b.clone()]),
    );
    assert_eq!(status, 200, "{body}");
    let answer: ChatResponse = serde_json::from_str(&body).unwrap();
    let phi: f32 = answer.choices[0]
        .message
        .content
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    assert!((phi - 0.4).abs() < 1e-6, "{phi}");
    assert_eq!(answer.rapt.unwrap().phi, phi);

    assert_eq!(call(addr, "GET", "/health", b"").0, 200);
    let (status, body) = call(addr, "GET", "/v1/models", b"");
    assert!(
        status == 200 && body.contains("\"id\":\"bright\""),
        "{body}"
    );

    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (
            request("bright", std::slice::from_ref(&a)),
            400,
            "expected 2 images, one per view in the order [front, side], got 1",
        ),
        (
            request("other", &[a.clone(), b.clone()]),
            404,
            "model `other` is not served here",
        ),
        (
            request("bright", &[a.clone(), "data:image/png;base64,AAAA".into()]),
            400,
            "image 1:",
        ),
        (b"{not json".to_vec(), 400, "not a chat-completions request"),
        (vec![b' '; 70 << 10], 413, "request body over 65536 bytes"),
    ];
    for (body, want, message) in cases {
        let (status, text) = call(addr, "POST", "/v1/chat/completions", &body);
        assert_eq!(status, want, "{text}");
        let e: ErrorBody = serde_json::from_str(&text).unwrap();
        assert!(e.error.message.contains(message), "{}", e.error.message);
    }
    assert_eq!(call(addr, "GET", "/v1/chat/completions", b"").0, 405);
    assert_eq!(call(addr, "GET", "/nope", b"").0, 404);

    stop.store(true, Ordering::SeqCst);
    let stats = server.join().unwrap();
    assert_eq!((stats.scored, stats.rejected, stats.failed), (1, 7, 0));
}

#[test]
fn a_full_queue_answers_503_and_good_requests_still_succeed() {
    let (addr, stop, server) =
        start_with(Box::new(Slow(Duration::from_millis(40), brightness())), 1);
    let url = png_data_url(&[9; 48], 4).unwrap();
    let body = request("bright", &[url.clone(), url]);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..12)
            .map(|_| scope.spawn(|| call(addr, "POST", "/v1/chat/completions", &body)))
            .collect();
        calls
            .into_iter()
            .map(|c| {
                let (status, text) = c.join().unwrap();
                if status == 503 {
                    assert!(text.contains("queue is full"), "{text}");
                }
                status
            })
            .collect()
    });
    let ok = statuses.iter().filter(|&&s| s == 200).count();
    assert!((1..12).contains(&ok), "{statuses:?}");
    assert!(
        statuses.iter().all(|&s| s == 200 || s == 503),
        "{statuses:?}"
    );
    stop.store(true, Ordering::SeqCst);
    let stats = server.join().unwrap();
    assert_eq!(stats.scored as usize, ok);
    assert_eq!(stats.overloaded as usize, 12 - ok);
}

#[test]
fn good_bad_and_oversized_requests_mixed_under_load_each_get_their_answer() {
    let (addr, stop, server) = start();
    let good = |v: u8| {
        let url = png_data_url(&[v; 48], 4).unwrap();
        request("bright", &[url.clone(), url])
    };
    let bad: Vec<(Vec<u8>, u16)> = vec![
        (b"{\"messages\": 3}".to_vec(), 400),
        (vec![b'x'; 100 << 10], 413),
        (
            request("bright", &["data:image/png;base64,AAAA".into(), "x".into()]),
            400,
        ),
        (b"".to_vec(), 400),
    ];
    std::thread::scope(|scope| {
        for k in 0..8u8 {
            let (good, bad) = (&good, &bad);
            scope.spawn(move || {
                for round in 0..10u8 {
                    if (k + round) % 2 == 0 {
                        let (status, text) =
                            call(addr, "POST", "/v1/chat/completions", &good(round));
                        assert_eq!(status, 200, "{text}");
                    } else {
                        let (body, want) = &bad[usize::from(round) % bad.len()];
                        let (status, text) = call(addr, "POST", "/v1/chat/completions", body);
                        assert_eq!(status, *want, "{text}");
                        assert!(serde_json::from_str::<ErrorBody>(&text).is_ok(), "{text}");
                    }
                }
            });
        }
    });
    stop.store(true, Ordering::SeqCst);
    let stats = server.join().unwrap();
    assert_eq!((stats.scored, stats.rejected, stats.failed), (40, 40, 0));
}

#[test]
fn concurrent_requests_are_batched_and_each_gets_its_own_score() {
    let (addr, stop, server) = start();
    let clients: Vec<_> = (0..16u8)
        .map(|k| {
            std::thread::spawn(move || {
                for round in 0..5u8 {
                    let v = k * 10 + round;
                    let url = png_data_url(&[v; 48], 4).unwrap();
                    let (status, body) = call(
                        addr,
                        "POST",
                        "/v1/chat/completions",
                        &request("", &[url.clone(), url]),
                    );
                    assert_eq!(status, 200, "{body}");
                    let answer: ChatResponse = serde_json::from_str(&body).unwrap();
                    assert_eq!(answer.rapt.unwrap().phi, f32::from(v) / 255.0);
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let stats = server.join().unwrap();
    assert_eq!(stats.scored, 80);
    assert!(stats.batches <= 80);
}

/// Read one answer off `s`: its status and body (by its Content-Length).
fn read_answer(s: &mut TcpStream) -> (u16, String) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut body = vec![0u8; length];
    s.read_exact(&mut body).unwrap();
    (
        head[9..12].parse().unwrap(),
        String::from_utf8(body).unwrap(),
    )
}

#[test]
fn slow_chunked_excess_and_pipelined_connections_each_get_their_answer() {
    let http = HttpLimits {
        max_connections: 4,
        request_timeout: Duration::from_millis(300),
        ..HttpLimits::default()
    };
    let (addr, stop, server) = start_limited(Box::new(brightness()), 8, http);
    let connect = || {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    };

    // Two requests in one write on a kept-alive connection: two answers, in order.
    let mut s = connect();
    s.write_all(
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .unwrap();
    assert_eq!(read_answer(&mut s), (200, r#"{"status":"ok"}"#.into()));
    let (status, body) = read_answer(&mut s);
    assert!(status == 200 && body.contains("bright"), "{body}");
    drop(s);

    // An upload that stops half-way gets 408 once the request timeout has passed.
    let mut s = connect();
    let t = Instant::now();
    s.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"mo")
        .unwrap();
    let (status, body) = read_answer(&mut s);
    assert_eq!(status, 408, "{body}");
    assert!(body.contains("did not arrive whole within 0.3 s"), "{body}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    drop(s);

    // A chunked body is refused with 411, naming what to send instead.
    let mut s = connect();
    s.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        .unwrap();
    let (status, body) = read_answer(&mut s);
    assert!(status == 411 && body.contains("Content-Length"), "{body}");
    drop(s);
    std::thread::sleep(Duration::from_millis(300));

    // Four silent connections take every place: the fifth gets 503; once they leave,
    // requests are served again.
    let silent: Vec<_> = (0..4).map(|_| connect()).collect();
    std::thread::sleep(Duration::from_millis(100));
    let mut s = connect();
    s.write_all(b"GET /health HTTP/1.1\r\n\r\n").unwrap();
    let (status, body) = read_answer(&mut s);
    assert!(
        status == 503 && body.contains("4 connections are open"),
        "{body}"
    );
    drop(silent);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(call(addr, "GET", "/health", b"").0, 200);

    // Stopping with uploads stalled mid-body ends within a second.
    let stalled: Vec<_> = (0..3)
        .map(|_| {
            let mut s = connect();
            s.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 1000\r\n\r\n{")
                .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let t = Instant::now();
    stop.store(true, Ordering::SeqCst);
    let stats = server.join().unwrap();
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!((stats.rejected, stats.overloaded), (2, 1));
    drop(stalled);
}
