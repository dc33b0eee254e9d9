//! Property test: whatever bytes a client sends `RewardServer` — generated request lines,
//! headers, lengths that lie, bodies of chat JSON with broken images, requests cut short —
//! it answers with one of the statuses it documents or closes the connection, never
//! panics, and goes on answering `/health`. `PROPTEST_CASES` sets the number of cases
//! (64 by default; `make test-long` runs 4,000).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use proptest::prelude::*;
use rapt_progress_http::frames::png_data_url;
use rapt_progress_http::{HttpLimits, RewardServer, ServeOptions};

mod common;

/// The statuses the server documents.
const STATUSES: [u16; 10] = [200, 400, 404, 405, 408, 411, 413, 431, 500, 503];

/// One server for every case (2 views at 4 px, small bodies, short request timeout).
fn server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let options = ServeOptions {
            addr: "127.0.0.1:0".into(),
            model_name: "bright".into(),
            http: HttpLimits {
                max_body_bytes: 16 << 10,
                body_budget_bytes: 1 << 20,
                request_timeout: Duration::from_millis(300),
                ..HttpLimits::default()
            },
            ..ServeOptions::default()
        };
        let model = common::Brightness::new(&["front", "side"], 4);
        let server = RewardServer::bind(Box::new(model), options).unwrap();
        let addr = server.local_addr().unwrap();
        std::thread::spawn(move || server.run(std::sync::Arc::new(AtomicBool::new(false))));
        addr
    })
}

fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(64),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Image URLs: good, broken base64, not a data URL, a PNG cut short.
fn image() -> impl Strategy<Value = String> {
    let good = png_data_url(&[90; 48], 4).unwrap();
    let cut = good[..good.len() / 2].to_owned();
    prop_oneof![
        Just(good),
        Just(cut),
        "data:image/png;base64,[A-Za-z0-9+/=]{0,40}",
        "[a-z:/.]{0,20}",
        Just("data:image/jpeg;base64,/9j/".to_owned()),
    ]
}

/// A body: a chat request with generated images, JSON-ish text or raw bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (proptest::collection::vec(image(), 0..4), "[a-z]{0,6}").prop_map(|(images, model)| {
            let parts: Vec<_> = images
                .iter()
                .map(|u| serde_json::json!({"type": "image_url", "image_url": {"url": u}}))
                .collect();
            serde_json::to_vec(&serde_json::json!({
                "model": model,
                "messages": [{"role": "user", "content": parts}],
            }))
            .unwrap()
        }),
        "[{}\\[\\]\":,a-z0-9 ]{0,60}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..200),
    ]
}

/// A whole request: method, path, headers (the length may lie), body, and where it is cut.
fn request() -> impl Strategy<Value = (Vec<u8>, Option<usize>)> {
    (
        prop_oneof![
            Just("GET"),
            Just("POST"),
            Just("PUT"),
            Just("DELETE"),
            Just("G\u{0}T")
        ],
        prop_oneof![
            Just("/health"),
            Just("/v1/models"),
            Just("/v1/chat/completions"),
            Just("/v1/chat/completions?x=1"),
            Just("/nope"),
            Just("*"),
        ],
        prop_oneof![Just("HTTP/1.1"), Just("HTTP/1.0"), Just("HTTP/9"), Just("")],
        body(),
        prop_oneof![
            Just(None),
            (0i64..300).prop_map(Some),
            Just(Some(-1)),
            Just(Some(1 << 40))
        ],
        proptest::collection::vec(
            prop_oneof![
                Just("Transfer-Encoding: chunked".to_owned()),
                Just("Connection: close".to_owned()),
                Just("Connection: keep-alive".to_owned()),
                Just("Expect: 100-continue".to_owned()),
                "[A-Za-z-]{1,12}: [ -~]{0,20}",
                "[ -~]{0,20}",
            ],
            0..3,
        ),
        proptest::option::of(any::<proptest::sample::Index>()),
    )
        .prop_map(|(method, path, version, body, length, headers, cut)| {
            let mut text = format!("{method} {path} {version}\r\nHost: x\r\n");
            let length = length.map_or(body.len() as i64, |l| l);
            text.push_str(&format!("Content-Length: {length}\r\n"));
            for h in headers {
                text.push_str(&h);
                text.push_str("\r\n");
            }
            text.push_str("\r\n");
            let mut bytes = text.into_bytes();
            bytes.extend_from_slice(&body);
            let cut = cut.map(|c| c.index(bytes.len().max(1)));
            (bytes, cut)
        })
}

/// Send `bytes` (up to `cut`, then stop writing) and read until the server closes or 3 s
/// pass: every answer's status.
fn exchange(addr: SocketAddr, bytes: &[u8], cut: Option<usize>) -> Vec<u16> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let sent = &bytes[..cut.unwrap_or(bytes.len()).min(bytes.len())];
    let _ = s.write_all(sent);
    let _ = s.shutdown(Shutdown::Write);
    let mut answer = Vec::new();
    let read = s.read_to_end(&mut answer);
    assert!(
        read.is_ok() || !answer.is_empty(),
        "no answer and no close within 3 s: {read:?}"
    );
    String::from_utf8_lossy(&answer)
        .match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| answer.get(i + 9..i + 12))
        .map(|code| String::from_utf8_lossy(code).parse().unwrap_or(0))
        .collect()
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn any_request_gets_a_documented_answer_or_a_close((bytes, cut) in request()) {
        let addr = server();
        for status in exchange(addr, &bytes, cut) {
            prop_assert!(
                STATUSES.contains(&status),
                "status {status} for {:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
        let health = exchange(addr, b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n", None);
        prop_assert_eq!(health, vec![200]);
    }
}
