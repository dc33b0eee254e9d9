//! TensorBoard event files, written directly: TFRecord framing (length, masked CRC-32C,
//! payload, masked CRC-32C) around `Event` protocol buffers holding scalar summaries. Only
//! the fields TensorBoard needs for scalars are encoded, so no protobuf compiler is needed.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Appends scalar events to `events.out.tfevents.<time>.<host>` in a log directory.
#[derive(Debug)]
pub struct EventWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl EventWriter {
    /// Create a new event file in `dir` (created if missing), starting with the
    /// `brain.Event:2` version record TensorBoard expects.
    pub fn create(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let now = wall_time();
        let path = dir.join(format!("events.out.tfevents.{}.rapt", now as u64));
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let mut writer = Self {
            path,
            out: BufWriter::new(file),
        };
        let mut event = Vec::new();
        put_f64(&mut event, 1, now);
        put_bytes(&mut event, 3, b"brain.Event:2");
        writer.record(&event)?;
        writer.out.flush()?;
        Ok(writer)
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Add a scalar `value` under `tag` at `step`.
    pub fn scalar(&mut self, tag: &str, step: i64, value: f32) -> io::Result<()> {
        let mut summary_value = Vec::new();
        put_bytes(&mut summary_value, 1, tag.as_bytes());
        put_f32(&mut summary_value, 2, value);
        let mut summary = Vec::new();
        put_bytes(&mut summary, 1, &summary_value);
        let mut event = Vec::new();
        put_f64(&mut event, 1, wall_time());
        put_varint_field(&mut event, 2, step as u64);
        put_bytes(&mut event, 5, &summary);
        self.record(&event)
    }

    /// Mark a restart at `step`, as PyTorch's `SummaryWriter(purge_step=…)` does: a
    /// `SessionLog.START` event makes TensorBoard drop every event of this run at `step`
    /// or later that earlier files hold (the work of a killed process after its last
    /// checkpoint).
    pub fn purge_from(&mut self, step: i64) -> io::Result<()> {
        let mut session_log = Vec::new();
        put_varint_field(&mut session_log, 1, 1); // status: START
        let mut event = Vec::new();
        put_f64(&mut event, 1, wall_time());
        put_varint_field(&mut event, 2, step as u64);
        put_bytes(&mut event, 7, &session_log);
        self.record(&event)?;
        self.out.flush()
    }

    /// Push buffered events to disk.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn record(&mut self, data: &[u8]) -> io::Result<()> {
        let len = (data.len() as u64).to_le_bytes();
        self.out.write_all(&len)?;
        self.out.write_all(&masked_crc32c(&len).to_le_bytes())?;
        self.out.write_all(data)?;
        self.out.write_all(&masked_crc32c(data).to_le_bytes())
    }
}

fn wall_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_varint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    put_varint(out, u64::from(field << 3));
    put_varint(out, v);
}

fn put_f64(out: &mut Vec<u8>, field: u32, v: f64) {
    put_varint(out, u64::from((field << 3) | 1));
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_f32(out: &mut Vec<u8>, field: u32, v: f32) {
    put_varint(out, u64::from((field << 3) | 5));
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_varint(out, u64::from((field << 3) | 2));
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// CRC-32C (Castagnoli), bitwise: event files are small, speed does not matter.
pub fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// TFRecord's masked CRC: rotate right by 15 and add a constant.
pub fn masked_crc32c(data: &[u8]) -> u32 {
    crc32c(data).rotate_right(15).wrapping_add(0xA282_EAD8)
}

/// Read back the records of an event file, checking both CRCs of each (for tests and
/// tools): the payloads in order.
pub fn read_records(path: &Path) -> io::Result<Vec<Vec<u8>>> {
    let bytes = std::fs::read(path)?;
    let bad = |what: &str, at: usize| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {what} at byte {at}", path.display()),
        )
    };
    let mut records = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if at + 12 > bytes.len() {
            return Err(bad("truncated record header", at));
        }
        let len_bytes = &bytes[at..at + 8];
        let len = u64::from_le_bytes(len_bytes.try_into().expect("8 bytes")) as usize;
        let crc = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().expect("4 bytes"));
        if crc != masked_crc32c(len_bytes) {
            return Err(bad("length CRC mismatch", at));
        }
        let start = at + 12;
        if start + len + 4 > bytes.len() {
            return Err(bad("truncated record", at));
        }
        let data = &bytes[start..start + len];
        let crc = u32::from_le_bytes(
            bytes[start + len..start + len + 4]
                .try_into()
                .expect("4 bytes"),
        );
        if crc != masked_crc32c(data) {
            return Err(bad("data CRC mismatch", at));
        }
        records.push(data.to_vec());
        at = start + len + 4;
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        // The CRC-32C check value of "123456789".
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn events_round_trip_through_the_record_framing() {
        let dir = std::env::temp_dir().join(format!("rapt-tb-{}", std::process::id()));
        let mut w = EventWriter::create(&dir).unwrap();
        w.scalar("charts/SPS", 100, 1234.5).unwrap();
        w.scalar("losses/value_loss", 100, 0.25).unwrap();
        w.flush().unwrap();
        let records = read_records(w.path()).unwrap();
        assert_eq!(records.len(), 3);
        assert!(records[0].windows(13).any(|x| x == b"brain.Event:2"));
        assert!(records[1].windows(10).any(|x| x == b"charts/SPS"));
        assert!(records[2].windows(4).any(|x| x == 0.25f32.to_le_bytes()));
    }
}
