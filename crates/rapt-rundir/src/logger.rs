//! One metrics layer (Stable-Baselines3's `Logger`): a metric is recorded by name once per
//! row with [`Logger::record`], and [`Logger::dump`] hands the row to every sink: a CSV
//! file ([`CsvSink`], CleanRL's names as columns), TensorBoard ([`TensorBoardSink`]), a
//! progress bar ([`ProgressSink`]), or any [`Sink`] a caller writes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use crate::tensorboard::EventWriter;

/// One row: (name, value) pairs in the order they were first recorded.
pub type MetricsRow = [(String, f64)];

/// Where rows go.
pub trait Sink: Send {
    /// Write the row logged at env step `step`.
    fn write(&mut self, step: u64, row: &MetricsRow) -> io::Result<()>;

    /// The run is over (close bars, flush files).
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Collects one row of metrics and writes it to its sinks.
#[derive(Default)]
pub struct Logger {
    row: Vec<(String, f64)>,
    sinks: Vec<Box<dyn Sink>>,
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("row", &self.row)
            .field("sinks", &self.sinks.len())
            .finish()
    }
}

impl Logger {
    /// A logger with no sinks (rows are dropped).
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a sink.
    pub fn with_sink(mut self, sink: impl Sink + 'static) -> Self {
        self.sinks.push(Box::new(sink));
        self
    }

    /// Add a sink to a logger in use.
    pub fn add_sink(&mut self, sink: Box<dyn Sink>) {
        self.sinks.push(sink);
    }

    /// Set `name` to `value` in the current row (recording it again replaces the value
    /// and keeps its place). NaN means "no value yet".
    pub fn record(&mut self, name: &str, value: f64) {
        match self.row.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.row.push((name.to_string(), value)),
        }
    }

    /// The value of `name` in the current row.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.row.iter().find(|(n, _)| n == name).map(|m| m.1)
    }

    /// Write the current row at env step `step` to every sink, then start a new row.
    pub fn dump(&mut self, step: u64) -> io::Result<()> {
        for sink in &mut self.sinks {
            sink.write(step, &self.row)?;
        }
        self.row.clear();
        Ok(())
    }

    /// Tell every sink the run is over.
    pub fn finish(&mut self) -> io::Result<()> {
        self.sinks.iter_mut().try_for_each(|s| s.finish())
    }
}

/// `metrics.csv`: a `global_step` column, then one column per metric. The columns are
/// those of the first row written, or of the header already in the file (a resumed run);
/// a metric missing from a row is written `NaN`.
#[derive(Debug)]
pub struct CsvSink {
    path: PathBuf,
    file: File,
    columns: Option<Vec<String>>,
}

impl CsvSink {
    /// Open `path` for appending (created if missing).
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let columns = fs::File::open(path)
            .ok()
            .and_then(|f| io::BufReader::new(f).lines().next())
            .and_then(Result::ok)
            .filter(|header| !header.is_empty())
            .map(|header| header.split(',').skip(1).map(str::to_string).collect());
        Ok(Self {
            path: path.to_path_buf(),
            file,
            columns,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Sink for CsvSink {
    fn write(&mut self, step: u64, row: &MetricsRow) -> io::Result<()> {
        let columns = match &self.columns {
            Some(c) => c,
            None => {
                let names: Vec<String> = row.iter().map(|(n, _)| n.clone()).collect();
                writeln!(self.file, "global_step,{}", names.join(","))?;
                self.columns.insert(names)
            }
        };
        let mut line = step.to_string();
        for column in columns {
            let value = row
                .iter()
                .find(|(n, _)| n == column)
                .map_or(f64::NAN, |m| m.1);
            line.push(',');
            line.push_str(&value.to_string());
        }
        writeln!(self.file, "{line}")?;
        self.file.flush()
    }
}

/// TensorBoard scalars; non-finite values (metrics without a value yet) are skipped.
#[derive(Debug)]
pub struct TensorBoardSink {
    writer: EventWriter,
}

impl TensorBoardSink {
    /// A new event file in `dir`. When `purge_after` is a step, TensorBoard drops what
    /// earlier files of the run logged after it (the work of a killed process after its
    /// last checkpoint, which a resumed run does again).
    pub fn create(dir: &Path, purge_after: Option<u64>) -> io::Result<Self> {
        let mut writer = EventWriter::create(dir)?;
        if let Some(step) = purge_after {
            writer.purge_from(step as i64 + 1)?;
        }
        Ok(Self { writer })
    }
}

impl Sink for TensorBoardSink {
    fn write(&mut self, step: u64, row: &MetricsRow) -> io::Result<()> {
        for (tag, value) in row {
            if value.is_finite() {
                self.writer.scalar(tag, step as i64, *value as f32)?;
            }
        }
        self.writer.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// A progress bar of `len` units on stderr with an indicatif `template`; hidden when
/// `quiet` or when stderr is not a terminal.
pub fn progress_bar(len: u64, template: &str, quiet: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if quiet || !io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    let style = indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// A progress bar on stderr over `total` env steps, with the run's headline numbers
/// (SPS, return, success, last evaluation); hidden when stderr is not a terminal.
#[derive(Debug)]
pub struct ProgressSink {
    bar: indicatif::ProgressBar,
}

impl ProgressSink {
    /// A bar from `start` to `total` steps.
    pub fn new(start: u64, total: u64) -> Self {
        let bar = progress_bar(
            total,
            "{elapsed_precise} [{bar:30}] {human_pos}/{human_len} steps {msg}",
            false,
        );
        bar.set_position(start);
        Self { bar }
    }
}

impl Sink for ProgressSink {
    fn write(&mut self, step: u64, row: &MetricsRow) -> io::Result<()> {
        let get = |name: &str| {
            row.iter()
                .find(|(n, _)| n == name)
                .map_or(f64::NAN, |m| m.1)
        };
        self.bar.set_position(step);
        self.bar.set_message(format!(
            "SPS {:.0} | return {:.2} | success {:.0}% | eval {:.0}%",
            get("charts/SPS"),
            get("charts/episodic_return"),
            get("charts/success_rate") * 100.0,
            get("eval/success_rate") * 100.0
        ));
        tracing::debug!(step, ?row, "metrics");
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.bar.finish_and_clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_columns_come_from_the_first_row_or_the_existing_header() {
        let dir = std::env::temp_dir().join(format!("rapt-logger-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("metrics.csv");
        let _ = fs::remove_file(&path);
        let mut logger = Logger::new().with_sink(CsvSink::open(&path).unwrap());
        logger.record("a", 1.0);
        logger.record("b", f64::NAN);
        logger.record("a", 2.0); // replaced in place
        logger.dump(10).unwrap();
        logger.record("b", 0.5);
        logger.record("new", 9.0); // not a column: CSV ignores it
        logger.dump(20).unwrap();
        drop(logger);
        // Reopened (a resumed run): the header is kept, not repeated.
        let mut logger = Logger::new().with_sink(CsvSink::open(&path).unwrap());
        logger.record("b", 3.0);
        logger.record("a", 4.0);
        logger.dump(30).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "global_step,a,b\n10,2,NaN\n20,NaN,0.5\n30,4,3\n"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
