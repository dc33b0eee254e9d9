//! Scripted traffic: kinematic cars that follow lanes with the Intelligent Driver Model
//! (Treiber et al. 2000), stop for red and yellow lights they can stop for, enter an
//! unsignalized junction only when no other car (nor the ego) is inside it, keep their distance to the
//! car ahead — the ego included — and pick a random successor lane at every junction. Only
//! the ego is simulated by physics.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::geom::V2;
use crate::map::{LaneId, LightState, RoadMap};
use crate::pedestrians::{Crosswalks, Pedestrian, blocked_ahead};

/// IDM parameters and traffic density.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrafficConfig {
    /// Number of cars (default 24).
    pub vehicles: usize,
    /// Maximum acceleration, m/s² (default 1.5).
    pub accel: f32,
    /// Comfortable deceleration, m/s² (default 2.5).
    pub decel: f32,
    /// Hardest braking, m/s² (default 8).
    pub max_decel: f32,
    /// Standstill gap, m (default 2.5).
    pub min_gap: f32,
    /// Time headway, s (default 1.2).
    pub headway: f32,
    /// Desired speed as a fraction of the limit, drawn per car in this range
    /// (default 0.7–1.0).
    pub speed_factor: (f32, f32),
    /// How far ahead a car looks for leaders and lights, m (default 60).
    pub look_ahead: f32,
    /// Pedestrians crossing at crosswalks (default 0).
    pub pedestrians: usize,
}

impl rapt_config::Validate for TrafficConfig {
    fn validate(&self, v: &mut rapt_config::Validator) {
        for (name, x) in [
            ("accel", self.accel),
            ("decel", self.decel),
            ("max_decel", self.max_decel),
        ] {
            v.check_value(
                name,
                x.is_finite() && x > 0.0 && x <= 50.0,
                x,
                "must be in (0, 50] m/s²",
            );
        }
        v.check_value(
            "max_decel",
            self.max_decel >= self.decel,
            self.max_decel,
            format!("must be at least decel = {}", self.decel),
        );
        v.check_value(
            "min_gap",
            (0.0..=50.0).contains(&self.min_gap),
            self.min_gap,
            "must be in [0, 50] m",
        );
        v.check_value(
            "headway",
            (0.0..=10.0).contains(&self.headway),
            self.headway,
            "must be in [0, 10] s",
        );
        v.check_value(
            "look_ahead",
            self.look_ahead > 0.0 && self.look_ahead <= 500.0,
            self.look_ahead,
            "must be in (0, 500] m",
        );
        let (lo, hi) = self.speed_factor;
        v.check(
            "speed_factor",
            lo > 0.0 && lo <= hi && hi <= 2.0,
            format!("= ({lo}, {hi}) must satisfy 0 < low ≤ high ≤ 2"),
        );
    }
}

impl Default for TrafficConfig {
    fn default() -> Self {
        Self {
            vehicles: 24,
            accel: 1.5,
            decel: 2.5,
            max_decel: 8.0,
            min_gap: 2.5,
            headway: 1.2,
            speed_factor: (0.7, 1.0),
            look_ahead: 60.0,
            pedestrians: 0,
        }
    }
}

/// Half length and half width of traffic cars, m.
pub const CAR_HALF: (f32, f32) = (2.2, 0.9);

/// One scripted car.
#[derive(Debug, Clone)]
pub struct Car {
    /// Current lane.
    pub lane: LaneId,
    /// Arc length along it, m.
    pub s: f32,
    /// Speed, m/s.
    pub speed: f32,
    /// Desired fraction of the speed limit.
    pub factor: f32,
    /// The lanes after the current one, chosen ahead of time.
    pub plan: Vec<LaneId>,
    /// Centre and heading, updated every step.
    pub pose: (V2, f32),
}

/// All scripted cars of one episode.
#[derive(Debug, Clone, Default)]
pub struct Traffic {
    /// The cars.
    pub cars: Vec<Car>,
}

fn extend_plan(map: &RoadMap, car: &mut Car, rng: &mut impl Rng) {
    while car.plan.len() < 3 {
        let last = car.plan.last().copied().unwrap_or(car.lane);
        let next = &map.lanes[last].successors;
        car.plan.push(next[rng.random_range(0..next.len())]);
    }
}

impl Traffic {
    /// Place `config.vehicles` cars on random road lanes, at least 10 m apart and 20 m
    /// from `keep_clear` (the ego's start), at half their desired speed.
    pub fn spawn(
        map: &RoadMap,
        config: &TrafficConfig,
        keep_clear: V2,
        rng: &mut impl Rng,
    ) -> Self {
        let roads: Vec<LaneId> = (0..map.lanes.len())
            .filter(|&l| !map.lanes[l].in_junction)
            .collect();
        let mut cars: Vec<Car> = Vec::with_capacity(config.vehicles);
        let mut tries = 0;
        while cars.len() < config.vehicles && tries < config.vehicles * 50 {
            tries += 1;
            let lane = roads[rng.random_range(0..roads.len())];
            let len = map.lanes[lane].centre.length();
            let s = rng.random_range(0.0..len);
            let (at, yaw) = map.lanes[lane].centre.at(s);
            if at.dist(keep_clear) < 20.0 || cars.iter().any(|c| c.pose.0.dist(at) < 10.0) {
                continue;
            }
            let factor = rng.random_range(config.speed_factor.0..=config.speed_factor.1);
            let mut car = Car {
                lane,
                s,
                speed: 0.5 * factor * map.lanes[lane].speed_limit,
                factor,
                plan: Vec::new(),
                pose: (at, yaw),
            };
            extend_plan(map, &mut car, rng);
            cars.push(car);
        }
        Self { cars }
    }

    /// Advance every car by `dt` s at time `t` s; `ego` is the ego's centre and speed;
    /// cars yield to `peds` on `crosswalks`.
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &mut self,
        map: &RoadMap,
        config: &TrafficConfig,
        t: f32,
        dt: f32,
        ego: (V2, f32),
        (peds, crosswalks): (&[Pedestrian], &Crosswalks),
        rng: &mut impl Rng,
    ) {
        let n = self.cars.len();
        let mut accel = vec![0.0f32; n];
        for (i, a) in accel.iter_mut().enumerate() {
            let car = &self.cars[i];
            let v0 = car.factor * map.lanes[car.lane].speed_limit;
            let (gap, lead_speed) = self.leader(map, config, i, t, ego, (peds, crosswalks));
            *a = idm(config, car.speed, v0, gap, lead_speed);
        }
        for (car, a) in self.cars.iter_mut().zip(accel) {
            car.speed = (car.speed + a * dt).max(0.0);
            car.s += car.speed * dt;
            while car.s > map.lanes[car.lane].centre.length() {
                car.s -= map.lanes[car.lane].centre.length();
                car.lane = car.plan.remove(0);
                extend_plan(map, car, rng);
            }
            car.pose = map.lanes[car.lane].centre.at(car.s);
        }
    }

    /// Gap to what car `i` must keep behind (another car, the ego, or a stop line) and
    /// that obstacle's speed; infinite when the way is clear.
    fn leader(
        &self,
        map: &RoadMap,
        config: &TrafficConfig,
        i: usize,
        t: f32,
        ego: (V2, f32),
        (peds, crosswalks): (&[Pedestrian], &Crosswalks),
    ) -> (f32, f32) {
        let car = &self.cars[i];
        let mut best = (f32::INFINITY, 0.0f32);
        let mut offset = -car.s; // arc length of the current path lane's start, from the car
        for (k, &lane) in std::iter::once(&car.lane).chain(&car.plan).enumerate() {
            if offset > config.look_ahead {
                break;
            }
            for (j, other) in self.cars.iter().enumerate() {
                if j != i && other.lane == lane {
                    let d = offset + other.s;
                    if d > 0.0 && d - 2.0 * CAR_HALF.0 < best.0 {
                        best = (d - 2.0 * CAR_HALF.0, other.speed);
                    }
                }
            }
            let centre = &map.lanes[lane].centre;
            let len = centre.length();
            // A pedestrian on a crosswalk ahead on this lane.
            if !peds.is_empty() {
                let after = if k == 0 { car.s } else { f32::NEG_INFINITY };
                let half = 0.5 * map.lanes[lane].width;
                if let Some(s) = blocked_ahead(peds, crosswalks, lane, half, after) {
                    let d = offset + s - CAR_HALF.0 - 1.5;
                    if d < best.0 {
                        best = (d.max(0.0), 0.0);
                    }
                }
            }
            // The ego counts when it is on this lane ahead of the car.
            if ego.0.dist(centre.at(0.5 * len).0) < 0.5 * len + 5.0 {
                let p = centre.project(ego.0);
                let d = offset + p.s;
                if p.lateral.abs() < 0.5 * map.lanes[lane].width + 0.8
                    && d > 0.0
                    && d - 2.0 * CAR_HALF.0 < best.0
                {
                    best = ((d - 2.0 * CAR_HALF.0).max(0.0), ego.1.max(0.0));
                }
            }
            // An unsignalized junction ahead: wait at its entry while another car is
            // inside (first come, first served).
            if k > 0
                && let Some(node) = map.lanes[lane].node
                && map.nodes[node].junction
                && !map.nodes[node].signalized
            {
                let stop = offset - 1.0;
                let occupied = self
                    .cars
                    .iter()
                    .enumerate()
                    .any(|(j, other)| j != i && map.lanes[other.lane].node == Some(node))
                    || ego_inside(map, node, ego.0);
                if occupied && stop > -1.0 && stop < best.0 {
                    best = (stop.max(0.0), 0.0);
                }
            }
            if let Some(light) = map.lanes[lane].light {
                let stop = offset + len - 1.0;
                let state = map.light_state(light, t);
                let v = car.speed;
                let can_stop = stop > v * v / (2.0 * config.decel);
                let must_stop = match state {
                    LightState::Red => k > 0 || stop > -0.5,
                    LightState::Yellow => can_stop,
                    LightState::Green => false,
                };
                if must_stop && stop > -1.0 && stop < best.0 {
                    best = (stop.max(0.0), 0.0);
                }
            }
            offset += len;
        }
        best
    }

    /// Oriented boxes of all cars: (centre, yaw, half length, half width).
    pub fn boxes(&self) -> impl Iterator<Item = (V2, f32, f32, f32)> + '_ {
        self.cars
            .iter()
            .map(|c| (c.pose.0, c.pose.1, CAR_HALF.0, CAR_HALF.1))
    }
}

/// Whether `p` (the ego's centre) lies on a connector lane of junction `node`.
fn ego_inside(map: &RoadMap, node: usize, p: V2) -> bool {
    map.lanes.iter().filter(|l| l.node == Some(node)).any(|l| {
        let q = l.centre.project(p);
        q.s > 0.0 && q.s < l.centre.length() && q.lateral.abs() < 0.5 * l.width
    })
}

/// IDM acceleration for speed `v`, desired speed `v0`, gap `gap` m to a leader moving at
/// `lead` m/s, clamped to the hardest braking.
pub fn idm(c: &TrafficConfig, v: f32, v0: f32, gap: f32, lead: f32) -> f32 {
    let free = 1.0 - (v / v0.max(0.1)).powi(4);
    let interaction = if gap.is_finite() {
        let s_star = c.min_gap
            + (v * c.headway + v * (v - lead) / (2.0 * (c.accel * c.decel).sqrt())).max(0.0);
        (s_star / gap.max(0.1)).powi(2)
    } else {
        0.0
    };
    (c.accel * (free - interaction)).max(-c.max_decel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idm_cruises_follows_and_stops() {
        let c = TrafficConfig::default();
        // Free road at the desired speed: no acceleration.
        assert!(idm(&c, 10.0, 10.0, f32::INFINITY, 0.0).abs() < 1e-5);
        // From standstill: full acceleration.
        assert!((idm(&c, 0.0, 10.0, f32::INFINITY, 0.0) - c.accel).abs() < 1e-5);
        // Closing fast on a stopped obstacle 10 m ahead: hard braking.
        assert!(idm(&c, 10.0, 10.0, 10.0, 0.0) <= -c.decel);
        // Standing at the standstill gap behind a stopped car: no creeping forward.
        assert!(idm(&c, 0.0, 10.0, c.min_gap, 0.0) <= 0.0);
    }
}
