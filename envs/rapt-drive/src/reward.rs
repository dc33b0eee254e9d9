//! CaRL's reward (Jaeger et al. 2025, REFERENCES.md §1): per step, the increase of route
//! completion times the product of soft factors; hard infractions end the episode as
//! `terminated` with an optional penalty. No survival bonus: standing still earns 0.
//! Every number is a config value. Also the CARLA leaderboard's metrics.

use serde::{Deserialize, Serialize};

/// Reward and infraction settings (CaRL's defaults where CaRL has one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RewardConfig {
    /// Reward for completing the whole route (default 100: route completion in percent).
    pub route_total: f32,
    /// Added on the step a collision (with a vehicle or a pedestrian) ends the episode
    /// (default −1, CaRL's `terminal_hint`).
    pub collision_penalty: f32,
    /// Added when running a red light ends the episode (default −1).
    pub red_light_penalty: f32,
    /// Added when leaving the road ends the episode (default 0).
    pub off_road_penalty: f32,
    /// Added when leaving the route ends the episode (default 0).
    pub off_route_penalty: f32,
    /// Added when being blocked or timing out ends the episode (default 0).
    pub blocked_penalty: f32,
    /// Distance from the route's centre line beyond which the ego is off route, m
    /// (default 8).
    pub off_route_distance: f32,
    /// Standing still (below 0.1 m/s) this long ends the episode as blocked, s
    /// (default 90: longer than any red phase).
    pub blocked_seconds: f32,
    /// The episode times out after `timeout_base + route length / timeout_speed` s
    /// (default 60 s + length / 2 m/s).
    pub timeout_base: f32,
    /// See `timeout_base`, m/s (default 2).
    pub timeout_speed: f32,
    /// Speeding factor `max(0, 1 − (v − limit) / speeding_tolerance)`, m/s (default 2.23,
    /// 5 mph); 0 turns the factor off.
    pub speeding_tolerance: f32,
    /// Lane-centre factor `1 − clip(d / (lane width / 2), 0, 1)` outside junctions
    /// (default true).
    pub lane_centre_factor: bool,
    /// Factor while in an opposite-direction lane (default 0).
    pub wrong_lane_factor: f32,
    /// Factor while a constant-velocity forecast 0.1–`ttc_horizon` s ahead collides
    /// (default 0.5), held for `ttc_hold_steps` steps.
    pub ttc_factor: f32,
    /// Forecast horizon, s (default 0.9).
    pub ttc_horizon: f32,
    /// Steps a TTC violation keeps its factor (default 50 = 5 s).
    pub ttc_hold_steps: u32,
    /// Comfort factor `1 − 0.5·k/6`, k = comfort limits violated within the last
    /// `comfort_window` steps (default 50 = 5 s); 0 turns the factor off.
    pub comfort_window: u32,
    /// Comfort limits: longitudinal acceleration (−min, max), lateral acceleration, jerk
    /// magnitude, longitudinal jerk, yaw rate, yaw acceleration (SI units; defaults are
    /// nuPlan's: (4.05, 2.4), 4.89, 8.37, 4.13, 0.95, 1.93).
    pub comfort_limits: ComfortLimits,
}

/// nuPlan's comfort limits (SI units).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ComfortLimits {
    /// Largest braking (positive), m/s².
    pub max_decel: f32,
    /// Largest acceleration, m/s².
    pub max_accel: f32,
    /// |lateral acceleration|, m/s².
    pub lateral_accel: f32,
    /// |jerk| (vector), m/s³.
    pub jerk: f32,
    /// |longitudinal jerk|, m/s³.
    pub lon_jerk: f32,
    /// |yaw rate|, rad/s.
    pub yaw_rate: f32,
    /// |yaw acceleration|, rad/s².
    pub yaw_accel: f32,
}

impl Default for ComfortLimits {
    fn default() -> Self {
        Self {
            max_decel: 4.05,
            max_accel: 2.4,
            lateral_accel: 4.89,
            jerk: 8.37,
            lon_jerk: 4.13,
            yaw_rate: 0.95,
            yaw_accel: 1.93,
        }
    }
}

impl Default for RewardConfig {
    fn default() -> Self {
        Self {
            route_total: 100.0,
            collision_penalty: -1.0,
            red_light_penalty: -1.0,
            off_road_penalty: 0.0,
            off_route_penalty: 0.0,
            blocked_penalty: 0.0,
            off_route_distance: 8.0,
            blocked_seconds: 90.0,
            timeout_base: 60.0,
            timeout_speed: 2.0,
            speeding_tolerance: 2.23,
            lane_centre_factor: true,
            wrong_lane_factor: 0.0,
            ttc_factor: 0.5,
            ttc_horizon: 0.9,
            ttc_hold_steps: 50,
            comfort_window: 50,
            comfort_limits: ComfortLimits::default(),
        }
    }
}

/// Why an episode ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Infraction {
    /// Hit another vehicle.
    Collision,
    /// Hit a pedestrian.
    Pedestrian,
    /// Crossed a stop line on red.
    RedLight,
    /// Centre left the drivable area.
    OffRoad,
    /// Farther than `off_route_distance` from the route.
    OffRoute,
    /// Stood still for `blocked_seconds`.
    Blocked,
    /// Ran out of time.
    Timeout,
}

impl Infraction {
    /// All, in metric order.
    pub const ALL: [Infraction; 7] = [
        Infraction::Collision,
        Infraction::Pedestrian,
        Infraction::RedLight,
        Infraction::OffRoad,
        Infraction::OffRoute,
        Infraction::Blocked,
        Infraction::Timeout,
    ];

    /// The metric name.
    pub fn name(self) -> &'static str {
        match self {
            Infraction::Collision => "collision",
            Infraction::Pedestrian => "pedestrian",
            Infraction::RedLight => "red_light",
            Infraction::OffRoad => "off_road",
            Infraction::OffRoute => "off_route",
            Infraction::Blocked => "blocked",
            Infraction::Timeout => "timeout",
        }
    }

    /// The leaderboard's infraction-score factor: vehicle collision 0.6, pedestrian 0.5,
    /// red light 0.7,
    /// off-road (as a static collision) 0.65, blocked and timeout 0.7 (scenario
    /// timeout); leaving the route costs route completion, not score.
    pub fn score_factor(self) -> f32 {
        match self {
            Infraction::Collision => 0.6,
            Infraction::Pedestrian => 0.5,
            Infraction::RedLight => 0.7,
            Infraction::OffRoad => 0.65,
            Infraction::OffRoute => 1.0,
            Infraction::Blocked | Infraction::Timeout => 0.7,
        }
    }

    /// The terminal penalty `config` sets for it.
    pub fn penalty(self, config: &RewardConfig) -> f32 {
        match self {
            Infraction::Collision | Infraction::Pedestrian => config.collision_penalty,
            Infraction::RedLight => config.red_light_penalty,
            Infraction::OffRoad => config.off_road_penalty,
            Infraction::OffRoute => config.off_route_penalty,
            Infraction::Blocked | Infraction::Timeout => config.blocked_penalty,
        }
    }
}

/// The soft factors of one step, each in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Factors {
    /// Speeding.
    pub speed: f32,
    /// Distance from the lane centre.
    pub lane: f32,
    /// Opposite-direction lane.
    pub wrong_lane: f32,
    /// Time to collision.
    pub ttc: f32,
    /// Comfort.
    pub comfort: f32,
}

impl Default for Factors {
    fn default() -> Self {
        Self {
            speed: 1.0,
            lane: 1.0,
            wrong_lane: 1.0,
            ttc: 1.0,
            comfort: 1.0,
        }
    }
}

impl Factors {
    /// Their product.
    pub fn product(&self) -> f32 {
        self.speed * self.lane * self.wrong_lane * self.ttc * self.comfort
    }
}

/// The speeding factor at speed `v` under `limit` (m/s).
pub fn speeding_factor(config: &RewardConfig, v: f32, limit: f32) -> f32 {
    if config.speeding_tolerance <= 0.0 {
        return 1.0;
    }
    (1.0 - (v - limit).max(0.0) / config.speeding_tolerance).clamp(0.0, 1.0)
}

/// The lane-centre factor at lateral distance `d` (m) in a lane of `width` m.
pub fn lane_factor(config: &RewardConfig, d: f32, width: f32) -> f32 {
    if !config.lane_centre_factor {
        return 1.0;
    }
    1.0 - (d.abs() / (0.5 * width)).clamp(0.0, 1.0)
}

/// The step's reward: the completion gained (fraction of the route) times `route_total`
/// times the factors, plus the penalty of a hard infraction.
pub fn step_reward(
    config: &RewardConfig,
    completion_gain: f32,
    factors: &Factors,
    infraction: Option<Infraction>,
) -> f32 {
    completion_gain.max(0.0) * config.route_total * factors.product()
        + infraction.map_or(0.0, |i| i.penalty(config))
}

/// Comfort bookkeeping: the last step each limit was violated.
#[derive(Debug, Clone, Default)]
pub struct Comfort {
    last_violation: [Option<u64>; 6],
    prev: Option<(f32, f32, f32)>, // speed, lateral acceleration, yaw rate
    prev_accel: Option<(f32, f32)>, // longitudinal, lateral acceleration
}

impl Comfort {
    /// Record a step of `dt` s at `step` with speed `v`, yaw rate `w`; the factor.
    pub fn update(&mut self, config: &RewardConfig, step: u64, dt: f32, v: f32, w: f32) -> f32 {
        if config.comfort_window == 0 {
            return 1.0;
        }
        let l = config.comfort_limits;
        let lat = v * w;
        let mut violated = [false; 6];
        if let Some((pv, _, pw)) = self.prev {
            let lon = (v - pv) / dt;
            let yaw_accel = (w - pw) / dt;
            violated[0] = lon > l.max_accel || lon < -l.max_decel;
            violated[1] = lat.abs() > l.lateral_accel;
            violated[4] = w.abs() > l.yaw_rate;
            violated[5] = yaw_accel.abs() > l.yaw_accel;
            if let Some((plon, plat)) = self.prev_accel {
                let (jl, jt) = ((lon - plon) / dt, (lat - plat) / dt);
                violated[2] = (jl * jl + jt * jt).sqrt() > l.jerk;
                violated[3] = jl.abs() > l.lon_jerk;
            }
            self.prev_accel = Some((lon, lat));
        }
        self.prev = Some((v, lat, w));
        for (last, v) in self.last_violation.iter_mut().zip(violated) {
            if v {
                *last = Some(step);
            }
        }
        let window = u64::from(config.comfort_window);
        let k = self
            .last_violation
            .iter()
            .filter(|l| l.is_some_and(|s| step - s < window))
            .count();
        1.0 - 0.5 * k as f32 / 6.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_soft_factor_scales_progress_as_configured() {
        let c = RewardConfig::default();
        let gain = 0.01; // 1% of the route
        let all = |f: Factors| step_reward(&c, gain, &f, None);
        assert!((all(Factors::default()) - 1.0).abs() < 1e-6);
        // Speeding 1.115 m/s over a tolerance of 2.23: half.
        let speed = speeding_factor(&c, 12.215, 11.1);
        assert!((speed - 0.5).abs() < 1e-4, "{speed}");
        assert!(
            (all(Factors {
                speed,
                ..Factors::default()
            }) - 0.5)
                .abs()
                < 1e-4
        );
        assert_eq!(speeding_factor(&c, 20.0, 11.1), 0.0);
        assert_eq!(speeding_factor(&c, 5.0, 11.1), 1.0);
        // A quarter lane width off centre: 1 − 0.25/0.5 = 0.5; at the edge: 0.
        assert!((lane_factor(&c, 0.875, 3.5) - 0.5).abs() < 1e-6);
        assert_eq!(lane_factor(&c, 2.0, 3.5), 0.0);
        // Wrong lane multiplies by 0; TTC by 0.5; comfort by 1 − 0.5·k/6.
        let f = Factors {
            wrong_lane: c.wrong_lane_factor,
            ..Factors::default()
        };
        assert_eq!(all(f), 0.0);
        let f = Factors {
            ttc: c.ttc_factor,
            comfort: 1.0 - 0.5 * 2.0 / 6.0,
            ..Factors::default()
        };
        assert!((all(f) - 0.5 * (1.0 - 1.0 / 6.0)).abs() < 1e-6);
        // No progress, no reward, whatever the factors (no survival bonus).
        assert_eq!(step_reward(&c, 0.0, &Factors::default(), None), 0.0);
        // Hard infractions add their penalty.
        let r = step_reward(&c, 0.0, &Factors::default(), Some(Infraction::Collision));
        assert_eq!(r, -1.0);
    }

    #[test]
    fn comfort_counts_limits_violated_in_the_window() {
        let c = RewardConfig::default();
        let mut comfort = Comfort::default();
        assert_eq!(comfort.update(&c, 0, 0.1, 10.0, 0.0), 1.0);
        // Braking at 10 m/s²: deceleration and (from the step after) jerk limits.
        let f = comfort.update(&c, 1, 0.1, 9.0, 0.0);
        assert!((f - (1.0 - 0.5 / 6.0)).abs() < 1e-6, "{f}");
        // Cruising again: the violations stay counted for the window.
        for step in 2..40 {
            assert!(comfort.update(&c, step, 0.1, 9.0, 0.0) < 1.0);
        }
        let f = (60..70)
            .map(|s| comfort.update(&c, s, 0.1, 9.0, 0.0))
            .last()
            .unwrap();
        assert_eq!(f, 1.0);
    }
}
