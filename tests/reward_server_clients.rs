//! `rapt reward-serve` facing clients that misbehave, on loopback: 8 clients stall in the
//! middle of their uploads and 4 send images far larger than the model reads, while a
//! well-behaved client keeps asking `/health` and scoring frames. The server answers each
//! of its requests within 1 s, refuses the oversized images with 413 before decoding them,
//! stays within 2× its idle memory, and stops on SIGTERM within seconds with the stalled
//! clients still connected.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::signal;

/// The shipped Push-v0 reward model (3 views at 32 px).
const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/reward-models/push");

/// Resident memory of process `pid`, KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// One exchange on a fresh connection, with a 5 s limit: (status, body, seconds taken).
fn call(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, String, f64) {
    let t = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
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
    (status, body, t.elapsed().as_secs_f64())
}

fn chat(urls: &[String]) -> Vec<u8> {
    let parts: Vec<_> = urls
        .iter()
        .map(|u| serde_json::json!({"type": "image_url", "image_url": {"url": u}}))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "model": "push",
        "messages": [{"role": "user", "content": parts}],
    }))
    .unwrap()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    let body: Vec<u8> = kind.iter().chain(data).copied().collect();
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// A PNG whose header says 12000×12000 RGB, padded with `pad` bytes of image data: what
/// a client sending huge frames looks like up to the first pixel.
fn huge_png_url(pad: usize) -> String {
    use base64::Engine as _;
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&12_000u32.to_be_bytes());
    ihdr.extend_from_slice(&12_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", &vec![0x55; pad]));
    png.extend(chunk(b"IEND", &[]));
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

fn frame_url(value: u8) -> String {
    rapt_progress_http::frames::png_data_url(&[value; 32 * 32 * 3], 32).unwrap()
}

/// The server's process, killed if the test fails before it stops it.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn health_stays_fast_and_memory_bounded_while_clients_stall_and_send_huge_images() {
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_rapt"))
            .args([
                "reward-serve",
                MODEL,
                "--addr",
                "127.0.0.1:0",
                "--name",
                "push",
                "--device",
                "cpu",
                "--threads",
                "1",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let child = &mut server.0;
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: SocketAddr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .parse()
        .unwrap();
    let pid = child.id();

    // Warm: a few scores (the model's buffers), then idle memory.
    let good = chat(&[frame_url(40), frame_url(90), frame_url(200)]);
    for _ in 0..3 {
        let (status, body, _) = call(addr, "POST", "/v1/chat/completions", &good);
        assert_eq!(status, 200, "{body}");
    }
    std::thread::sleep(Duration::from_millis(200));
    let idle = rss_kib(pid);

    // 8 uploads that stop half-way: their heads promise 1 MB, 64 KiB arrives.
    let stalled: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            write!(
                s,
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"
            )
            .unwrap();
            s.write_all(&[b' '; 64 << 10]).unwrap();
            s
        })
        .collect();

    // 4 clients at once, each with three 12000×12000 PNGs (1.5 MB of body each).
    let huge = chat(&[
        huge_png_url(400_000),
        huge_png_url(400_000),
        huge_png_url(400_000),
    ]);
    let (huge_answers, health) = std::thread::scope(|scope| {
        let senders: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| call(addr, "POST", "/v1/chat/completions", &huge)))
            .collect();
        let mut health = Vec::new();
        for _ in 0..10 {
            health.push(call(addr, "GET", "/health", b""));
            health.push(call(addr, "POST", "/v1/chat/completions", &good));
            std::thread::sleep(Duration::from_millis(50));
        }
        let answers: Vec<_> = senders.into_iter().map(|h| h.join().unwrap()).collect();
        (answers, health)
    });
    for (status, body, _) in &huge_answers {
        assert_eq!(*status, 413, "{body}");
        assert!(body.contains("12000×12000 px is larger"), "{body}");
    }
    for (status, body, seconds) in &health {
        assert_eq!(*status, 200, "{body}");
        assert!(
            *seconds < 1.0,
            "answered in {seconds:.2} s while clients stall"
        );
    }
    let busy = rss_kib(pid);
    let slowest = health.iter().map(|h| h.2).fold(0.0, f64::max);
    eprintln!("idle {idle} KiB, under attack {busy} KiB, slowest good answer {slowest:.3} s");
    assert!(
        busy <= 2 * idle,
        "resident memory went from {idle} KiB idle to {busy} KiB"
    );

    // SIGTERM with the 8 uploads still stalled: the server stops within seconds.
    let t = Instant::now();
    assert!(signal("TERM", pid));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if t.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            panic!("the server was still running 15 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(143));
    eprintln!("stopped {:.2} s after SIGTERM", t.elapsed().as_secs_f64());
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    drop(stalled);
}
