//! A simple 2D picture of a classic-control state, as Gymnasium's envs draw one for
//! `render_mode="rgb_array"`: shapes in world coordinates (m, y up) filled onto an RGB
//! canvas, deterministic for a state.

/// An RGB canvas showing the world rectangle `[x0, x0 + span] × [y0, y0 + span·h/w]`.
pub(crate) struct Canvas<'a> {
    rgb: &'a mut Vec<u8>,
    width: usize,
    height: usize,
    x0: f64,
    y0: f64,
    /// Pixels per metre.
    scale: f64,
}

impl<'a> Canvas<'a> {
    /// A `width × height` canvas cleared to `background`, `span` metres wide from `x0`,
    /// its bottom edge at `y0`.
    pub(crate) fn new(
        rgb: &'a mut Vec<u8>,
        (width, height): (usize, usize),
        (x0, y0, span): (f64, f64, f64),
        background: [u8; 3],
    ) -> Self {
        rgb.clear();
        rgb.extend(std::iter::repeat_n(background, width * height).flatten());
        Self {
            rgb,
            width,
            height,
            x0,
            y0,
            scale: width as f64 / span,
        }
    }

    /// Colour every pixel whose centre, in world coordinates, `inside` accepts.
    fn fill(&mut self, colour: [u8; 3], inside: impl Fn(f64, f64) -> bool) {
        for row in 0..self.height {
            let y = self.y0 + (self.height - row) as f64 / self.scale - 0.5 / self.scale;
            for col in 0..self.width {
                let x = self.x0 + (col as f64 + 0.5) / self.scale;
                if inside(x, y) {
                    let k = 3 * (row * self.width + col);
                    self.rgb[k..k + 3].copy_from_slice(&colour);
                }
            }
        }
    }

    /// An axis-aligned box centred at (`cx`, `cy`), `w × h` m.
    pub(crate) fn rect(&mut self, (cx, cy): (f64, f64), (w, h): (f64, f64), colour: [u8; 3]) {
        self.fill(colour, |x, y| {
            (x - cx).abs() <= w / 2.0 && (y - cy).abs() <= h / 2.0
        });
    }

    /// A segment from `a` to `b`, `thickness` m wide.
    pub(crate) fn line(&mut self, a: (f64, f64), b: (f64, f64), thickness: f64, colour: [u8; 3]) {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len2 = (dx * dx + dy * dy).max(1e-12);
        self.fill(colour, |x, y| {
            let t = (((x - a.0) * dx + (y - a.1) * dy) / len2).clamp(0.0, 1.0);
            let (px, py) = (a.0 + t * dx - x, a.1 + t * dy - y);
            px * px + py * py <= thickness * thickness / 4.0
        });
    }

    /// A disc of `radius` m at `c`.
    pub(crate) fn disc(&mut self, c: (f64, f64), radius: f64, colour: [u8; 3]) {
        self.fill(colour, |x, y| {
            (x - c.0).powi(2) + (y - c.1).powi(2) <= radius * radius
        });
    }
}
