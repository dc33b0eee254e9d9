//! Charts as PNG files, drawn in Rust (plotters, with DejaVu Sans embedded so no system
//! font or matplotlib is needed): lines with optional shaded ranges, labelled axes with
//! ticks and numbers, a legend, an optional `y = x` diagonal and text labels at points.
//! The one plotting path of rapt: learning curves (`rapt plot`) and reward-model
//! calibration plots (`rapt reward-model eval --plot`).

use std::path::Path;

use image::ImageEncoder as _;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::files::write_atomic;

/// DejaVu Sans (Bitstream Vera licence, `assets/fonts/LICENSE`).
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Line colours, in series order (matplotlib's "tab10", which people read without a key).
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// An axis's (low, high).
type Range = (f64, f64);

/// Why a chart could not be drawn or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The chart has nothing to draw, or values that cannot be drawn.
    #[error("{0}")]
    Invalid(String),
    /// Drawing failed.
    #[error("drawing the chart: {0}")]
    Draw(String),
    /// Writing the file failed.
    #[error(transparent)]
    File(#[from] crate::FileError),
}

/// One line of a chart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// The legend's name for it (no legend entry when empty).
    pub label: String,
    /// Its points (x, y), in x order; non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
    /// A shaded range around it (x, low, high), e.g. the min and max over seeds.
    pub band: Vec<(f64, f64, f64)>,
    /// Draw a marker at every point (for a few points, such as calibration bins).
    pub markers: bool,
}

/// A chart: axes, series, and what else to draw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Chart {
    /// Title above the plot.
    pub title: String,
    /// The x axis's label (with units).
    pub x_label: String,
    /// The y axis's label (with units).
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
    /// The x range; default: the data's.
    pub x_range: Option<(f64, f64)>,
    /// The y range; default: the data's, with a margin.
    pub y_range: Option<(f64, f64)>,
    /// Draw the `y = x` diagonal (a perfectly calibrated model).
    pub diagonal: bool,
    /// Text at points (x, y, text), e.g. the count of each calibration bin.
    pub notes: Vec<(f64, f64, String)>,
}

impl Chart {
    /// Draw the chart as a `width × height` RGB image, bytes row by row.
    pub fn render_rgb(&self, width: u32, height: u32) -> Result<Vec<u8>, PlotError> {
        // Registering twice replaces the same bytes; a failure means the embedded font
        // is broken, which every chart would show at once.
        register_font("sans-serif", FontStyle::Normal, FONT)
            .map_err(|_| PlotError::Draw("the embedded font does not load".into()))?;
        let (x_range, y_range) = self.ranges()?;
        let mut buf = vec![0u8; width as usize * height as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (width, height)).into_drawing_area();
            self.draw(&root, x_range, y_range)
                .map_err(|e| PlotError::Draw(e.to_string()))?;
            root.present().map_err(|e| PlotError::Draw(e.to_string()))?;
        }
        Ok(buf)
    }

    /// Draw the chart into a PNG file at `path` (written atomically).
    pub fn write_png(&self, path: &Path, width: u32, height: u32) -> Result<(), PlotError> {
        let rgb = self.render_rgb(width, height)?;
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(&rgb, width, height, image::ExtendedColorType::Rgb8)
            .map_err(|e| PlotError::Draw(format!("encoding {}: {e}", path.display())))?;
        write_atomic(path, &png)?;
        Ok(())
    }

    fn ranges(&self) -> Result<(Range, Range), PlotError> {
        let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
        let points: Vec<(f64, f64)> = self
            .series
            .iter()
            .flat_map(|s| {
                s.points
                    .iter()
                    .copied()
                    .chain(s.band.iter().flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)]))
            })
            .filter(finite)
            .collect();
        if points.is_empty() && (self.x_range.is_none() || self.y_range.is_none()) {
            return Err(PlotError::Invalid(format!(
                "`{}`: no finite points to draw",
                self.title
            )));
        }
        let span = |values: &mut dyn Iterator<Item = f64>| {
            values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            })
        };
        let widen = |(lo, hi): (f64, f64), margin: f64| {
            if hi > lo {
                let m = (hi - lo) * margin;
                (lo - m, hi + m)
            } else {
                (lo - 0.5, hi + 0.5)
            }
        };
        let x = self
            .x_range
            .unwrap_or_else(|| widen(span(&mut points.iter().map(|p| p.0)), 0.0));
        let y = self
            .y_range
            .unwrap_or_else(|| widen(span(&mut points.iter().map(|p| p.1)), 0.05));
        for (name, (lo, hi)) in [("x", x), ("y", y)] {
            if !(lo.is_finite() && hi.is_finite() && hi > lo) {
                return Err(PlotError::Invalid(format!(
                    "`{}`: the {name} range [{lo}, {hi}] is empty",
                    self.title
                )));
            }
        }
        Ok((x, y))
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
        (x0, x1): (f64, f64),
        (y0, y1): (f64, f64),
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .margin_right(28)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .x_label_formatter(&|v| short_number(*v))
            .y_label_formatter(&|v| short_number(*v))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        if self.diagonal {
            let (lo, hi) = (x0.max(y0), x1.min(y1));
            chart
                .draw_series(LineSeries::new(
                    [(lo, lo), (hi, hi)],
                    ShapeStyle::from(&BLACK.mix(0.4)).stroke_width(1),
                ))?
                .label("y = x")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK.mix(0.4)));
        }
        for (k, s) in self.series.iter().enumerate() {
            let colour = PALETTE[k % PALETTE.len()];
            let band: Vec<(f64, f64, f64)> = s
                .band
                .iter()
                .copied()
                .filter(|b| b.0.is_finite() && b.1.is_finite() && b.2.is_finite())
                .collect();
            if band.len() > 1 {
                let outline: Vec<(f64, f64)> = band
                    .iter()
                    .map(|b| (b.0, b.2))
                    .chain(band.iter().rev().map(|b| (b.0, b.1)))
                    .collect();
                chart.draw_series(std::iter::once(Polygon::new(outline, colour.mix(0.2))))?;
            }
            let points: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .collect();
            let line = chart.draw_series(LineSeries::new(
                points.clone(),
                ShapeStyle::from(&colour).stroke_width(2),
            ))?;
            if !s.label.is_empty() {
                line.label(s.label.clone()).legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            }
            if s.markers {
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, colour.filled())))?;
            }
        }
        for (x, y, text) in &self.notes {
            chart.draw_series(std::iter::once(Text::new(
                text.clone(),
                (*x, *y),
                ("sans-serif", 12).into_font().color(&BLACK.mix(0.7)),
            )))?;
        }
        if self.diagonal || self.series.iter().any(|s| !s.label.is_empty()) {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .label_font(("sans-serif", 14))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()?;
        }
        Ok(())
    }
}

/// A tick label: `1.5M`, `250k`, `0.75`, `12`.
fn short_number(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if a >= 1e4 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    let text = format!("{v:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> Chart {
        Chart {
            title: "curve".into(),
            x_label: "env steps".into(),
            y_label: "success rate".into(),
            series: vec![Series {
                label: "run".into(),
                points: vec![(0.0, 0.1), (1e6, 0.5), (2e6, 0.9)],
                band: vec![(0.0, 0.0, 0.2), (1e6, 0.4, 0.6), (2e6, 0.8, 1.0)],
                markers: false,
            }],
            y_range: Some((0.0, 1.0)),
            ..Chart::default()
        }
    }

    #[test]
    fn a_chart_draws_axes_lines_and_text_on_white() {
        let rgb = chart().render_rgb(320, 240).unwrap();
        assert_eq!(rgb.len(), 320 * 240 * 3);
        let pixels: Vec<&[u8]> = rgb.chunks_exact(3).collect();
        let white = pixels.iter().filter(|p| **p == [255, 255, 255]).count();
        let line = pixels.iter().filter(|p| **p == [31, 119, 180]).count();
        let dark = pixels.iter().filter(|p| p.iter().all(|&c| c < 80)).count();
        assert!(white > pixels.len() / 2, "a white background");
        assert!(line > 100, "the line is drawn ({line} px)");
        assert!(dark > 200, "axes, ticks and labels are drawn ({dark} px)");
    }

    #[test]
    fn charts_without_points_or_with_empty_ranges_are_refused() {
        let empty = Chart {
            title: "t".into(),
            ..Chart::default()
        };
        assert!(
            empty
                .render_rgb(100, 100)
                .unwrap_err()
                .to_string()
                .contains("no finite points")
        );
        let mut bad = chart();
        bad.x_range = Some((1.0, 1.0));
        assert!(
            bad.render_rgb(100, 100)
                .unwrap_err()
                .to_string()
                .contains("range")
        );
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(short_number(2_500_000.0), "2.5M");
        assert_eq!(short_number(250_000.0), "250k");
        assert_eq!(short_number(0.75), "0.75");
        assert_eq!(short_number(12.0), "12");
        assert_eq!(short_number(-0.0), "0");
    }
}
