//! Pedestrians crossing at crosswalks: one crosswalk across each road end, next to the
//! junction. A pedestrian waits at the kerb (2–10 s, and until no car is within 25 m of
//! the crosswalk on the lanes it crosses), walks across at 1.2–1.6 m/s, then reappears at
//! the kerb of another random crosswalk. Cars yield to pedestrians on their lane; the ego
//! must too (hitting one ends the episode, infraction score × 0.5).

use rand::Rng;

use crate::geom::V2;
use crate::map::{LaneId, RoadMap};

/// Half size of a pedestrian's box, m.
pub const PEDESTRIAN_HALF: f32 = 0.3;

/// A crosswalk across one road.
#[derive(Debug, Clone)]
pub struct Crosswalk {
    /// Kerb on one side.
    pub a: V2,
    /// Kerb on the other side.
    pub b: V2,
    /// Length, m.
    pub length: f32,
}

/// The crosswalks of a map and, per lane, where they cross it.
#[derive(Debug, Clone, Default)]
pub struct Crosswalks {
    /// All crosswalks.
    pub list: Vec<Crosswalk>,
    /// Per lane: (crosswalk, arc length on the lane, distance along the crosswalk from
    /// its kerb `a` to the lane centre).
    pub by_lane: Vec<Vec<(usize, f32, f32)>>,
}

impl Crosswalks {
    /// One crosswalk at each of the map's [crossings](crate::map::Road::crossings).
    pub fn build(map: &RoadMap) -> Self {
        let mut list = Vec::new();
        let mut by_lane = vec![Vec::new(); map.lanes.len()];
        for (road, r) in map.roads.iter().enumerate() {
            for c in &r.crossings {
                let (p, across) = (c.at, c.across);
                let (a, b) = (p - across * c.right, p + across * c.left);
                let k = list.len();
                list.push(Crosswalk {
                    a,
                    b,
                    length: c.right + c.left,
                });
                for (lane_id, lane) in map.lanes.iter().enumerate() {
                    if lane.road != Some(road) {
                        continue;
                    }
                    let q = lane.centre.project(p);
                    let (at, _) = lane.centre.at(q.s);
                    by_lane[lane_id].push((k, q.s, (at - a).dot(across)));
                }
            }
        }
        Self { list, by_lane }
    }
}

/// One pedestrian.
#[derive(Debug, Clone)]
pub struct Pedestrian {
    /// The crosswalk.
    pub crosswalk: usize,
    /// Walking from kerb `a` to `b` (otherwise `b` to `a`).
    pub forward: bool,
    /// Distance walked, m.
    pub walked: f32,
    /// Seconds left to wait at the kerb.
    pub wait: f32,
    /// Walking speed, m/s.
    pub speed: f32,
    /// Position, m.
    pub at: V2,
}

impl Pedestrian {
    /// On the road (walking), not waiting at a kerb.
    pub fn crossing(&self) -> bool {
        self.wait <= 0.0 && self.walked > 0.0
    }

    /// Distance from kerb `a`, m.
    pub fn offset(&self, crosswalks: &Crosswalks) -> f32 {
        let length = crosswalks.list[self.crosswalk].length;
        if self.forward {
            self.walked
        } else {
            length - self.walked
        }
    }
}

fn place(p: &mut Pedestrian, crosswalks: &Crosswalks) {
    let c = &crosswalks.list[p.crosswalk];
    let dir = (c.b - c.a).normalized();
    p.at = c.a + dir * p.offset(crosswalks);
}

fn respawn(p: &mut Pedestrian, crosswalks: &Crosswalks, rng: &mut impl Rng) {
    p.crosswalk = rng.random_range(0..crosswalks.list.len());
    p.forward = rng.random_bool(0.5);
    p.walked = 0.0;
    p.wait = rng.random_range(2.0..10.0);
    p.speed = rng.random_range(1.2..1.6);
    place(p, crosswalks);
}

/// Spawn `n` pedestrians at random kerbs.
pub fn spawn(n: usize, crosswalks: &Crosswalks, rng: &mut impl Rng) -> Vec<Pedestrian> {
    if crosswalks.list.is_empty() {
        return Vec::new();
    }
    (0..n)
        .map(|_| {
            let mut p = Pedestrian {
                crosswalk: 0,
                forward: true,
                walked: 0.0,
                wait: 0.0,
                speed: 1.4,
                at: V2::default(),
            };
            respawn(&mut p, crosswalks, rng);
            p
        })
        .collect()
}

/// Advance pedestrians by `dt` s. `cars` gives each car's (lane, arc length); a waiting
/// pedestrian starts only when no car is within 25 m before the crosswalk on its lanes
/// and the ego (at `ego`) is more than 25 m from the crosswalk.
pub fn step(
    peds: &mut [Pedestrian],
    crosswalks: &Crosswalks,
    cars: &[(LaneId, f32)],
    ego: V2,
    dt: f32,
    rng: &mut impl Rng,
) {
    for p in peds.iter_mut() {
        if p.wait > 0.0 {
            p.wait -= dt;
            if p.wait <= 0.0 {
                let c = &crosswalks.list[p.crosswalk];
                let approaching = (c.a + c.b) * 0.5 - ego;
                let approaching = approaching.length() < 25.0
                    || cars.iter().any(|&(lane, s)| {
                        crosswalks.by_lane[lane].iter().any(|&(c, s_cross, _)| {
                            c == p.crosswalk && (0.0..25.0).contains(&(s_cross - s))
                        })
                    });
                if approaching {
                    p.wait = 0.5;
                }
            }
            continue;
        }
        p.walked += p.speed * dt;
        if p.walked >= crosswalks.list[p.crosswalk].length {
            respawn(p, crosswalks, rng);
        } else {
            place(p, crosswalks);
        }
    }
}

/// Where the nearest crosswalk on `lane` beyond arc length `after` (m) has a pedestrian
/// crossing within the lane's half width plus 1 m: that crosswalk's arc length on the lane.
pub fn blocked_ahead(
    peds: &[Pedestrian],
    crosswalks: &Crosswalks,
    lane: LaneId,
    half_width: f32,
    after: f32,
) -> Option<f32> {
    let mut best: Option<f32> = None;
    for &(c, s, offset) in &crosswalks.by_lane[lane] {
        if s <= after {
            continue;
        }
        let on_it = peds.iter().any(|p| {
            p.crosswalk == c
                && p.crossing()
                && (p.offset(crosswalks) - offset).abs() < half_width + 1.0
        });
        if on_it && best.is_none_or(|b| s < b) {
            best = Some(s);
        }
    }
    best
}
