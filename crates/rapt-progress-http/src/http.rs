//! The HTTP/1.1 side of [`crate::RewardServer`]: accepting connections, reading requests
//! and writing answers, with the limits a server facing the network needs.
//!
//! * Each connection has its own thread, and at most [`HttpLimits::max_connections`] are
//!   open: a client that stalls holds one thread and nothing else, so `/health` and other
//!   clients are answered meanwhile. Connections over the bound get 503 and are closed.
//! * A request must arrive whole (head and body) within [`HttpLimits::request_timeout`] of
//!   its first byte, else 408 and the connection is closed; a keep-alive connection idle
//!   for [`HttpLimits::idle_timeout`] is closed. Writes time out after
//!   [`HttpLimits::write_timeout`].
//! * Heads over 16 KiB get 431; bodies must declare `Content-Length` (411 otherwise); a
//!   body over [`HttpLimits::max_body_bytes`] gets 413 before a byte of it is read, and
//!   bodies being read at once share [`HttpLimits::body_budget_bytes`] (503 past it), so
//!   memory stays bounded whatever the clients send.
//! * On stop, connections waiting for or in the middle of a request are closed at once;
//!   requests already read are answered. [`serve`] returns once every connection has
//!   ended or [`HttpLimits::shutdown_grace`] has passed.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Largest request head (request line and headers), bytes.
const MAX_HEAD_BYTES: usize = 16 << 10;
/// Longest a blocked read waits before the connection looks at the clock and stop flag.
const READ_SLICE: Duration = Duration::from_millis(100);
/// How often the accept loop looks for connections and the stop flag.
const ACCEPT_POLL: Duration = Duration::from_millis(5);

/// Bounds on what clients may cost the server.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Connections open at once (more get 503 and are closed). Default 64.
    pub max_connections: usize,
    /// Longest from a request's first byte to its last, head and body. Default 30 s.
    pub request_timeout: Duration,
    /// Longest a keep-alive connection may wait for its next request. Default 60 s.
    pub idle_timeout: Duration,
    /// Longest a write of an answer may block. Default 10 s.
    pub write_timeout: Duration,
    /// Largest request body, bytes. Default 32 MiB.
    pub max_body_bytes: usize,
    /// Bytes of request bodies being read at once, over all connections. Default 256 MiB.
    pub body_budget_bytes: usize,
    /// Longest [`serve`] waits, once stopped, for answers in hand. Default 10 s.
    pub shutdown_grace: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_connections: 64,
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(10),
            max_body_bytes: 32 << 20,
            body_budget_bytes: 256 << 20,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl HttpLimits {
    /// Why these limits cannot serve, if they cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.max_connections == 0 || self.max_connections > 4096 {
            return Err(format!(
                "max_connections {} must be 1 to 4096",
                self.max_connections
            ));
        }
        for (name, d) in [
            ("request_timeout", self.request_timeout),
            ("idle_timeout", self.idle_timeout),
            ("write_timeout", self.write_timeout),
        ] {
            if d.is_zero() || d > Duration::from_secs(3600) {
                return Err(format!("{name} {d:?} must be over 0 and at most 1 hour"));
            }
        }
        if self.max_body_bytes == 0 || self.body_budget_bytes < self.max_body_bytes {
            return Err(format!(
                "max_body_bytes {} must be at least 1 and at most body_budget_bytes {}",
                self.max_body_bytes, self.body_budget_bytes
            ));
        }
        Ok(())
    }
}

/// A request read whole.
#[derive(Debug)]
pub struct HttpRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The body (empty without one).
    pub body: Vec<u8>,
}

/// An answer: a status and a JSON body.
#[derive(Debug)]
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Vec<u8>,
}

/// What answers requests, on the connection's thread.
pub trait Service: Send + Sync {
    /// The answer to a request read whole (it may block, e.g. while the request waits
    /// to be scored).
    fn handle(&self, request: HttpRequest) -> HttpResponse;
    /// The answer this layer gives itself: 408, 411, 413, 431 or 503, with `message`.
    fn reject(&self, status: u16, message: &str) -> HttpResponse;
}

/// Serve `listener` with `service` until `stop` is set, then close connections that have
/// no request in hand and wait (up to [`HttpLimits::shutdown_grace`]) for the others.
pub fn serve(
    listener: &TcpListener,
    service: Arc<dyn Service>,
    limits: &HttpLimits,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let shared = Arc::new(Shared {
        open: AtomicUsize::new(0),
        body_bytes: AtomicUsize::new(0),
        stopping: AtomicBool::new(false),
        limits: limits.clone(),
        service,
    });
    while !stop.load(Ordering::SeqCst) {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(ACCEPT_POLL);
                continue;
            }
            // A connection that failed before it was accepted (reset, out of descriptors
            // for a moment): the listener itself is fine.
            Err(_) => {
                std::thread::sleep(ACCEPT_POLL);
                continue;
            }
        };
        if shared.open.fetch_add(1, Ordering::SeqCst) >= limits.max_connections {
            shared.open.fetch_sub(1, Ordering::SeqCst);
            let message = format!(
                "{} connections are open, the most this server takes; retry later",
                limits.max_connections
            );
            refuse(
                stream,
                &shared.service.reject(503, &message),
                limits.write_timeout,
            );
            continue;
        }
        let connection = Connection {
            stream,
            shared: shared.clone(),
        };
        let spawned = std::thread::Builder::new()
            .name("rapt-serve-conn".into())
            .spawn(move || connection.run());
        if spawned.is_err() {
            // Out of threads: the connection (moved into the failed spawn) is closed.
            shared.open.fetch_sub(1, Ordering::SeqCst);
        }
    }
    shared.stopping.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + limits.shutdown_grace;
    while shared.open.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// Answer `response` on a connection that will not be served, best effort, and close it
/// (on the accept loop's thread, so without draining: the client may see a reset).
fn refuse(mut stream: TcpStream, response: &HttpResponse, write_timeout: Duration) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_write_timeout(Some(write_timeout.min(Duration::from_millis(100))));
    let _ = write_response(&mut stream, response, false);
}

/// Longest a connection answered early (413, 408, …) is drained before it is closed.
const LINGER: Duration = Duration::from_secs(2);

/// Close a connection answered before its request was read whole without resetting it:
/// closing with unread bytes sends a reset that can destroy the answer before the client
/// reads it. Stop writing, then read and drop what the client still sends until it
/// closes, up to [`LINGER`].
fn linger(stream: &mut TcpStream, stopping: &AtomicBool) {
    if stream.shutdown(std::net::Shutdown::Write).is_err() {
        return;
    }
    let _ = stream.set_read_timeout(Some(READ_SLICE));
    let until = Instant::now() + LINGER;
    let mut sink = [0u8; 16 << 10];
    while Instant::now() < until && !stopping.load(Ordering::SeqCst) {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// What every connection thread shares.
struct Shared {
    /// Connections open (their threads running).
    open: AtomicUsize,
    /// Bytes of bodies being read now.
    body_bytes: AtomicUsize,
    /// Set once the server stops accepting.
    stopping: AtomicBool,
    limits: HttpLimits,
    service: Arc<dyn Service>,
}

struct Connection {
    stream: TcpStream,
    shared: Arc<Shared>,
}

/// Why a connection stops reading requests.
enum Ended {
    /// The client closed it, or broke it, or the server is stopping: nothing to answer.
    Quietly,
    /// Answer this, then close.
    With(HttpResponse),
}

impl Connection {
    fn run(mut self) {
        self.serve_requests();
        self.shared.open.fetch_sub(1, Ordering::SeqCst);
    }

    fn serve_requests(&mut self) {
        let limits = &self.shared.limits;
        if self.stream.set_nonblocking(false).is_err()
            || self.stream.set_read_timeout(Some(READ_SLICE)).is_err()
            || self
                .stream
                .set_write_timeout(Some(limits.write_timeout))
                .is_err()
        {
            return;
        }
        let _ = self.stream.set_nodelay(true);
        // Bytes read past the end of the last request (a pipelining client's next one).
        let mut pending = Vec::new();
        loop {
            let (request, keep_alive) = match self.read_request(&mut pending) {
                Ok(read) => read,
                Err(Ended::Quietly) => return,
                Err(Ended::With(response)) => {
                    if write_response(&mut self.stream, &response, false).is_ok() {
                        linger(&mut self.stream, &self.shared.stopping);
                    }
                    return;
                }
            };
            let response = self.shared.service.handle(request);
            let keep_alive = keep_alive && !self.shared.stopping.load(Ordering::SeqCst);
            if write_response(&mut self.stream, &response, keep_alive).is_err() || !keep_alive {
                return;
            }
        }
    }

    /// Read the next request whole, and whether the connection may be kept open after it.
    fn read_request(&mut self, pending: &mut Vec<u8>) -> Result<(HttpRequest, bool), Ended> {
        let shared = self.shared.clone();
        let limits = &shared.limits;
        let reject = |status: u16, message: &str| shared.service.reject(status, message);
        let idle_since = Instant::now();
        let mut started = (!pending.is_empty()).then(Instant::now);
        let head_end = loop {
            if let Some(end) = find_head_end(pending) {
                break end;
            }
            if pending.len() > MAX_HEAD_BYTES {
                return Err(Ended::With(reject(
                    431,
                    &format!("request head over {MAX_HEAD_BYTES} bytes"),
                )));
            }
            match started {
                None if idle_since.elapsed() > limits.idle_timeout => return Err(Ended::Quietly),
                Some(t) if t.elapsed() > limits.request_timeout => {
                    return Err(Ended::With(timed_out(reject, limits)));
                }
                _ => {}
            }
            if self.shared.stopping.load(Ordering::SeqCst) {
                return Err(Ended::Quietly);
            }
            if self.read_some(pending)? {
                started.get_or_insert_with(Instant::now);
            }
        };
        let started = started.unwrap_or_else(Instant::now);
        let head = parse_head(&pending[..head_end]).map_err(|m| Ended::With(reject(400, &m)))?;
        if head.chunked {
            return Err(Ended::With(reject(
                411,
                "chunked request bodies are not accepted: send Content-Length",
            )));
        }
        let length = head.content_length.unwrap_or(0);
        if length > limits.max_body_bytes {
            return Err(Ended::With(reject(
                413,
                &format!("request body over {} bytes", limits.max_body_bytes),
            )));
        }
        let budget = BodyBudget::reserve(&shared, length).ok_or_else(|| {
            Ended::With(reject(
                503,
                "the server is reading as many request bodies as it holds at once; retry later",
            ))
        })?;
        // What arrived past the head is the body's start; the head itself is done with.
        let mut body = pending.split_off(head_end);
        pending.clear();
        while body.len() < length {
            if started.elapsed() > limits.request_timeout {
                return Err(Ended::With(timed_out(reject, limits)));
            }
            if self.shared.stopping.load(Ordering::SeqCst) {
                return Err(Ended::Quietly);
            }
            self.read_some(&mut body)?;
        }
        // A pipelined next request starts after this body.
        pending.extend_from_slice(&body[length..]);
        body.truncate(length);
        drop(budget);
        let request = HttpRequest {
            method: head.method,
            path: head.path,
            body,
        };
        Ok((request, head.keep_alive))
    }

    /// Read what has arrived into `buffer` (waiting at most [`READ_SLICE`]): whether
    /// anything was read. The client closing or breaking the connection ends it.
    fn read_some(&mut self, buffer: &mut Vec<u8>) -> Result<bool, Ended> {
        let mut chunk = [0u8; 16 << 10];
        match self.stream.read(&mut chunk) {
            Ok(0) => Err(Ended::Quietly),
            Ok(n) => {
                buffer.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(false),
            Err(e) if e.kind() == ErrorKind::Interrupted => Ok(false),
            Err(_) => Err(Ended::Quietly),
        }
    }
}

fn timed_out(reject: impl Fn(u16, &str) -> HttpResponse, limits: &HttpLimits) -> HttpResponse {
    reject(
        408,
        &format!(
            "the request did not arrive whole within {} s",
            limits.request_timeout.as_secs_f64()
        ),
    )
}

/// Bytes of one body held against [`HttpLimits::body_budget_bytes`] until dropped.
struct BodyBudget<'a> {
    shared: &'a Shared,
    bytes: usize,
}

impl<'a> BodyBudget<'a> {
    fn reserve(shared: &'a Shared, bytes: usize) -> Option<Self> {
        let limit = shared.limits.body_budget_bytes;
        shared
            .body_bytes
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |held| {
                (held + bytes <= limit).then_some(held + bytes)
            })
            .ok()
            .map(|_| Self { shared, bytes })
    }
}

impl Drop for BodyBudget<'_> {
    fn drop(&mut self) {
        self.shared
            .body_bytes
            .fetch_sub(self.bytes, Ordering::SeqCst);
    }
}

/// Where the head ends (just past its blank line), if it has arrived.
fn find_head_end(buffer: &[u8]) -> Option<usize> {
    buffer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// What the server needs from a request head.
#[derive(Debug, PartialEq)]
struct Head {
    method: String,
    path: String,
    content_length: Option<usize>,
    chunked: bool,
    keep_alive: bool,
}

fn parse_head(bytes: &[u8]) -> Result<Head, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(bytes) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err("incomplete request head".into()),
        Err(e) => return Err(format!("malformed request head: {e}")),
    }
    let (method, target, version) = (
        request.method.unwrap_or_default(),
        request.path.unwrap_or_default(),
        request.version.unwrap_or(1),
    );
    let mut content_length = None;
    let mut chunked = false;
    let mut keep_alive = version >= 1;
    for h in request.headers.iter() {
        let value = String::from_utf8_lossy(h.value);
        let value = value.trim();
        if h.name.eq_ignore_ascii_case("content-length") {
            let n: usize = value
                .parse()
                .map_err(|_| format!("Content-Length `{value}` is not a byte count"))?;
            if content_length.is_some_and(|m| m != n) {
                return Err("two different Content-Length headers".into());
            }
            content_length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = !value.eq_ignore_ascii_case("identity");
        } else if h.name.eq_ignore_ascii_case("connection") {
            let value = value.to_ascii_lowercase();
            if value.contains("close") {
                keep_alive = false;
            } else if value.contains("keep-alive") {
                keep_alive = true;
            }
        }
    }
    Ok(Head {
        method: method.to_owned(),
        path: target.split('?').next().unwrap_or("").to_owned(),
        content_length,
        chunked,
        keep_alive,
    })
}

fn write_response(
    stream: &mut TcpStream,
    response: &HttpResponse,
    keep_alive: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
        response.status,
        reason(response.status),
        response.body.len(),
        if keep_alive { "keep-alive" } else { "close" }
    );
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&response.body);
    stream.write_all(&bytes)?;
    stream.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_read_for_length_encoding_and_keep_alive() {
        let head = parse_head(
            b"POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: a\r\ncontent-length: 12\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            head,
            Head {
                method: "POST".into(),
                path: "/v1/chat/completions".into(),
                content_length: Some(12),
                chunked: false,
                keep_alive: true,
            }
        );
        let head = parse_head(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        assert!(!head.keep_alive);
        let head = parse_head(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        assert!(head.chunked && !head.keep_alive);
        for bad in [
            &b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"\x00\x01 / HTTP/1.1\r\n\r\n",
        ] {
            assert!(
                parse_head(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn limits_out_of_range_are_named() {
        let limits = HttpLimits {
            max_connections: 0,
            ..HttpLimits::default()
        };
        assert!(limits.check().unwrap_err().contains("max_connections"));
        let limits = HttpLimits {
            body_budget_bytes: 1,
            ..HttpLimits::default()
        };
        assert!(limits.check().unwrap_err().contains("body_budget_bytes"));
    }
}
