//! Procedural road networks: a jittered grid of nodes with some links removed (every
//! node keeps at least two roads and the network stays connected), curved and multi-lane
//! roads, and speed limits drawn from a list.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::map::{MapSpec, NodeSpec, RoadSpec};

/// How networks are generated. Defaults make ~9 nodes on a ~300 m square.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeneratorConfig {
    /// Grid columns and rows of nodes (default (3, 3); each at least 2).
    pub grid: (u32, u32),
    /// Distance between neighbouring grid lines, drawn uniformly, m (default (100, 150)).
    pub spacing: (f32, f32),
    /// Random displacement of each node, m (default 10).
    pub jitter: f32,
    /// Fraction of grid links to try removing (default 0.3).
    pub remove_fraction: f32,
    /// Probability that a road is curved (default 0.35).
    pub curve_probability: f32,
    /// Largest sideways bulge of a curved road, m (default 15).
    pub max_bulge: f32,
    /// Probability that a road has two lanes each way (default 0.3).
    pub two_lane_probability: f32,
    /// Speed limits to draw from, m/s (default 8.3, 11.1, 13.9: 30, 40, 50 km/h).
    pub speed_limits: Vec<f32>,
    /// Lane width, m (default 3.5).
    pub lane_width: f32,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            grid: (3, 3),
            spacing: (100.0, 150.0),
            jitter: 10.0,
            remove_fraction: 0.3,
            curve_probability: 0.35,
            max_bulge: 15.0,
            two_lane_probability: 0.3,
            speed_limits: vec![8.3, 11.1, 13.9],
            lane_width: 3.5,
        }
    }
}

impl GeneratorConfig {
    /// The network for `seed`.
    pub fn generate(&self, seed: u64) -> MapSpec {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(seed ^ 0x6A09_E667_F3BC_C908);
        let (cols, rows) = (self.grid.0 as usize, self.grid.1 as usize);
        let mut lines = |n: usize| {
            let mut acc = 0.0;
            (0..n)
                .map(|k| {
                    if k > 0 {
                        acc += rng.random_range(self.spacing.0..=self.spacing.1);
                    }
                    acc
                })
                .collect::<Vec<f32>>()
        };
        let (xs, ys) = (lines(cols), lines(rows));
        let nodes: Vec<NodeSpec> = (0..rows)
            .flat_map(|r| (0..cols).map(move |c| (r, c)))
            .map(|(r, c)| NodeSpec {
                id: (r * cols + c) as u32,
                x: xs[c] + rng.random_range(-self.jitter..=self.jitter),
                y: ys[r] + rng.random_range(-self.jitter..=self.jitter),
            })
            .collect();
        let mut links: Vec<(usize, usize)> = Vec::new();
        for r in 0..rows {
            for c in 0..cols {
                let k = r * cols + c;
                if c + 1 < cols {
                    links.push((k, k + 1));
                }
                if r + 1 < rows {
                    links.push((k, k + cols));
                }
            }
        }
        // Remove some links, keeping degree ≥ 2 and connectivity.
        let mut order: Vec<usize> = (0..links.len()).collect();
        order.shuffle(&mut rng);
        let mut alive = vec![true; links.len()];
        let tries = (self.remove_fraction * links.len() as f32).round() as usize;
        for &k in order.iter().take(tries) {
            alive[k] = false;
            let degree = |n: usize| {
                links
                    .iter()
                    .zip(&alive)
                    .filter(|((a, b), on)| **on && (*a == n || *b == n))
                    .count()
            };
            let (a, b) = links[k];
            if degree(a) < 2 || degree(b) < 2 || !connected(nodes.len(), &links, &alive) {
                alive[k] = true;
            }
        }
        let roads = links
            .iter()
            .zip(&alive)
            .filter(|(_, on)| **on)
            .map(|(&(a, b), _)| RoadSpec {
                from: a as u32,
                to: b as u32,
                lanes: if rng.random_bool(f64::from(self.two_lane_probability)) {
                    2
                } else {
                    1
                },
                bulge: if self.max_bulge > 0.0 && rng.random_bool(f64::from(self.curve_probability))
                {
                    rng.random_range(-self.max_bulge..=self.max_bulge)
                } else {
                    0.0
                },
                speed_limit: self.speed_limits[rng.random_range(0..self.speed_limits.len())],
            })
            .collect();
        MapSpec {
            nodes,
            roads,
            lane_width: self.lane_width,
            junction_radius: 12.0,
        }
    }
}

fn connected(n: usize, links: &[(usize, usize)], alive: &[bool]) -> bool {
    let mut seen = vec![false; n];
    let mut stack = vec![0];
    seen[0] = true;
    while let Some(v) = stack.pop() {
        for ((a, b), on) in links.iter().zip(alive) {
            if !on {
                continue;
            }
            let w = if *a == v {
                *b
            } else if *b == v {
                *a
            } else {
                continue;
            };
            if !seen[w] {
                seen[w] = true;
                stack.push(w);
            }
        }
    }
    seen.into_iter().all(|s| s)
}

impl rapt_config::Validate for GeneratorConfig {
    fn validate(&self, v: &mut rapt_config::Validator) {
        v.check_value(
            "grid",
            self.grid.0 >= 2 && self.grid.1 >= 2 && self.grid.0 * self.grid.1 <= 64,
            format!("{:?}", self.grid),
            "needs each side ≥ 2 and at most 64 nodes",
        );
        v.check_value(
            "spacing",
            self.spacing.0 >= 60.0 && self.spacing.1 >= self.spacing.0,
            format!("{:?}", self.spacing),
            "needs 60 ≤ low ≤ high (m)",
        );
        let bulge = 0.0..=self.spacing.0 / 6.0;
        for (name, x) in [("jitter", self.jitter), ("max_bulge", self.max_bulge)] {
            v.check_value(name, bulge.contains(&x), x, "must be in [0, spacing.0 / 6]");
        }
        for (name, x) in [
            ("remove_fraction", self.remove_fraction),
            ("curve_probability", self.curve_probability),
            ("two_lane_probability", self.two_lane_probability),
        ] {
            v.check_value(name, (0.0..=1.0).contains(&x), x, "must be in [0, 1]");
        }
        v.check_value(
            "speed_limits",
            !self.speed_limits.is_empty()
                && self.speed_limits.iter().all(|x| (1.0..=40.0).contains(x)),
            format!("{:?}", self.speed_limits),
            "must be non-empty, each in [1, 40] m/s",
        );
    }
}
