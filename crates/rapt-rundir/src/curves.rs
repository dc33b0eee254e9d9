//! Learning curves from run directories' `metrics.csv`: one metric against env steps,
//! several runs of one setting (seeds) drawn as their mean with the range between the
//! lowest and the highest shaded ([`learning_curves`]; `rapt plot`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::plot::{Chart, Series};

/// Why curves could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CurveError {
    /// `metrics.csv` could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file has no such column, or a malformed line.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A group of runs with no step they all logged.
    #[error("`{0}`: its runs have no logged step in common")]
    Empty(String),
}

/// Several runs of one setting, drawn as one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunGroup {
    /// The legend's name for them.
    pub label: String,
    /// Their run directories.
    pub runs: Vec<PathBuf>,
    /// The column to draw for them, when not the chart's.
    pub metric: Option<String>,
}

impl RunGroup {
    /// `LABEL=RUN[,RUN...][:COLUMN]`, or a bare `RUN` labelled with its directory's name.
    pub fn parse(spec: &str) -> Self {
        let (label, rest) = match spec.split_once('=') {
            Some((label, rest)) => (Some(label.to_owned()), rest),
            None => (None, spec),
        };
        // A column names a metric (`eval/driving_score`): after the last colon, with a
        // slash and no comma in it.
        let (runs, metric) = match rest.rsplit_once(':') {
            Some((runs, column)) if column.contains('/') && !column.contains(',') => {
                (runs, Some(column.to_owned()))
            }
            _ => (rest, None),
        };
        let runs: Vec<PathBuf> = runs.split(',').map(PathBuf::from).collect();
        let label = label.unwrap_or_else(|| {
            runs[0].file_name().map_or_else(
                || runs[0].display().to_string(),
                |n| n.to_string_lossy().into(),
            )
        });
        Self {
            label,
            runs,
            metric,
        }
    }
}

/// The values of `column` in `run_dir/metrics.csv`, by env step (`global_step`); rows
/// whose value is NaN (not logged yet) are left out, and a step logged twice (by a
/// resumed run) keeps its last value.
pub fn read_metric(run_dir: &Path, column: &str) -> Result<BTreeMap<u64, f64>, CurveError> {
    let path = run_dir.join("metrics.csv");
    let text = std::fs::read_to_string(&path).map_err(|source| CurveError::Io {
        path: path.clone(),
        source,
    })?;
    let format = |message: String| CurveError::Format {
        path: path.clone(),
        message,
    };
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let k = header.iter().position(|h| *h == column).ok_or_else(|| {
        format(format!(
            "no column `{column}`; it has {}",
            header[1.min(header.len())..].join(", ")
        ))
    })?;
    let mut points = BTreeMap::new();
    for (n, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != header.len() {
            // A torn last line of a killed run: the rows before it stand.
            continue;
        }
        let step: u64 = fields[0].parse().map_err(|_| {
            format(format!(
                "line {}: step `{}` is not a count",
                n + 2,
                fields[0]
            ))
        })?;
        let value: f64 = fields[k]
            .parse()
            .map_err(|_| format(format!("line {}: `{}` is not a number", n + 2, fields[k])))?;
        if value.is_nan() {
            continue;
        }
        points.insert(step, value);
    }
    Ok(points)
}

/// The chart of `metric` (the y axis's label, and each group's column unless the group
/// names its own) against env steps for `groups`: each group's mean over the steps all
/// its runs logged, shaded between its lowest and highest run.
pub fn learning_curves(
    groups: &[RunGroup],
    metric: &str,
    title: &str,
) -> Result<Chart, CurveError> {
    let mut series = Vec::new();
    for group in groups {
        let runs: Vec<BTreeMap<u64, f64>> = group
            .runs
            .iter()
            .map(|r| read_metric(r, group.metric.as_deref().unwrap_or(metric)))
            .collect::<Result<_, _>>()?;
        let Some((first, rest)) = runs.split_first() else {
            return Err(CurveError::Empty(group.label.clone()));
        };
        let common: Vec<u64> = first
            .keys()
            .copied()
            .filter(|s| rest.iter().all(|r| r.contains_key(s)))
            .collect();
        if common.is_empty() {
            return Err(CurveError::Empty(group.label.clone()));
        }
        let mut points = Vec::with_capacity(common.len());
        let mut band = Vec::with_capacity(common.len());
        for step in common {
            let values: Vec<f64> = runs.iter().map(|r| r[&step]).collect();
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            points.push((step as f64, mean));
            band.push((step as f64, lo, hi));
        }
        let label = match runs.len() {
            1 => group.label.clone(),
            n => format!("{} (mean of {n}, range shaded)", group.label),
        };
        series.push(Series {
            label,
            points,
            band: if runs.len() > 1 { band } else { Vec::new() },
            markers: false,
        });
    }
    let unit_interval = metric.ends_with("success_rate") || metric.ends_with("_once_rate");
    Ok(Chart {
        title: title.to_owned(),
        x_label: "env steps".into(),
        y_label: metric.to_owned(),
        series,
        y_range: unit_interval.then_some((0.0, 1.0)),
        ..Chart::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, csv: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rapt-curves-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("metrics.csv"), csv).unwrap();
        dir
    }

    #[test]
    fn seeds_are_averaged_over_their_common_steps_with_their_range() {
        let a = run(
            "a",
            "global_step,eval/success_rate,x\n10,NaN,1\n20,0.2,1\n30,0.6,1\n40,0.9,1\n",
        );
        let b = run(
            "b",
            "global_step,eval/success_rate,x\n10,NaN,1\n20,0.4,1\n30,0.8,1\n30,1.0,1\n4",
        );
        let spec = format!("reach={},{}", a.display(), b.display());
        let groups = [RunGroup::parse(&spec)];
        assert_eq!(groups[0].runs, [a.clone(), b.clone()]);
        let own = RunGroup::parse(&format!("x={}:eval/x", a.display()));
        assert_eq!((own.metric.as_deref(), own.runs.len()), (Some("eval/x"), 1));
        assert_eq!(RunGroup::parse("runs/push-s1").label, "push-s1");
        let chart = learning_curves(&groups, "eval/success_rate", "t").unwrap();
        let s = &chart.series[0];
        assert_eq!(s.points, [(20.0, 0.30000000000000004), (30.0, 0.8)]);
        assert_eq!(s.band, [(20.0, 0.2, 0.4), (30.0, 0.6, 1.0)]);
        assert_eq!(chart.y_range, Some((0.0, 1.0)));
        assert!(s.label.contains("mean of 2"));
        let err = learning_curves(&groups, "nope", "t")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no column `nope`") && err.contains("eval/success_rate"),
            "{err}"
        );
        for d in [a, b] {
            std::fs::remove_dir_all(d).unwrap();
        }
    }
}
