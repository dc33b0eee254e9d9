//! Parameters of the driving envs (`env.params` in a run config).

use serde::{Deserialize, Serialize};

use crate::generate::GeneratorConfig;
use crate::map::LightTiming;
use crate::raster::RasterConfig;
use crate::reward::RewardConfig;
use crate::traffic::TrafficConfig;

/// Where maps come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MapSource {
    /// Generated from the episode's seed: one of `pool` networks (each built once per
    /// process and shared), generated with the given settings.
    Generated {
        /// Distinct networks (default 64).
        #[serde(default = "default_pool")]
        pool: u32,
        /// Generator settings.
        #[serde(default)]
        generator: GeneratorConfig,
    },
    /// A hand-written map: a RON file (`assets/maps/*.ron`; the path is relative to the
    /// working directory, or one of the built-in names `"ring"`, `"cross"`).
    File(String),
    /// An OpenDRIVE road network (`.xodr`, `crate::opendrive`): the path is relative to the
    /// working directory or to `assets/maps/`; `carla/Town01.xodr` and `carla/Town02.xodr`
    /// are compiled in. Built once per process and shared by every env.
    OpenDrive {
        /// The file.
        path: String,
    },
}

fn default_pool() -> u32 {
    64
}

impl Default for MapSource {
    fn default() -> Self {
        MapSource::Generated {
            pool: default_pool(),
            generator: GeneratorConfig::default(),
        }
    }
}

/// What the policy sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ObservationMode {
    /// `Dict { bev: Box[5, size, size], measurements: Box[M] }` (default).
    Raster(#[serde(default)] RasterConfig),
    /// `Box[M]`: the measurement vector alone.
    Vector,
}

impl Default for ObservationMode {
    fn default() -> Self {
        ObservationMode::Raster(RasterConfig::default())
    }
}

/// Where the measurement vector's waypoints lie once they pass the route's end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RouteEndWaypoints {
    /// Straight on along the route's last heading, as the road goes on (default): the end
    /// of the route does not look like a wall. (The route is finished 2 m before its end.)
    #[default]
    Extend,
    /// All at the route's end point (before 2026-12-01). Policies trained so learned to
    /// stop a few metres short of the end, where the waypoints bunch up, and were blocked
    /// there (docs/driving-training.md).
    Clamp,
}

/// Parameters of `Drive-v0` and its variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DriveParams {
    /// Maps (default: generated, a pool of 64).
    pub map: MapSource,
    /// Route length, m (default 300).
    pub route_length: f32,
    /// Scripted traffic.
    pub traffic: TrafficConfig,
    /// Traffic-light timing.
    pub lights: LightTiming,
    /// Observation.
    pub observation: ObservationMode,
    /// The measurement waypoints past the route's end (default `Extend`).
    pub route_end_waypoints: RouteEndWaypoints,
    /// Reward and infractions.
    pub reward: RewardConfig,
    /// Control period, s (default 0.1: 10 Hz, as CaRL).
    pub control_dt: f32,
    /// Physics steps per control step (default 5: 0.02 s each).
    pub substeps: u32,
}

impl Default for DriveParams {
    fn default() -> Self {
        Self {
            map: MapSource::default(),
            route_length: 300.0,
            traffic: TrafficConfig::default(),
            lights: LightTiming::default(),
            observation: ObservationMode::default(),
            route_end_waypoints: RouteEndWaypoints::default(),
            reward: RewardConfig::default(),
            control_dt: 0.1,
            substeps: 5,
        }
    }
}

/// Upper bound on `map.pool` (generated maps are built once and kept).
pub const MAX_POOL: u32 = 4096;
/// Upper bound on `traffic.pedestrians`.
pub const MAX_PEDESTRIANS: usize = 200;

impl rapt_config::Validate for DriveParams {
    fn validate(&self, v: &mut rapt_config::Validator) {
        if let MapSource::Generated { pool, generator } = &self.map {
            v.range("map.pool", *pool, 1..=MAX_POOL);
            v.nested("map.generator", generator);
        }
        v.check_value(
            "route_length",
            (50.0..=5000.0).contains(&self.route_length),
            self.route_length,
            "must be in [50, 5000] m",
        );
        v.nested("traffic", &self.traffic);
        v.check_value(
            "traffic.vehicles",
            self.traffic.vehicles <= 200,
            self.traffic.vehicles,
            "must be at most 200",
        );
        v.check_value(
            "traffic.pedestrians",
            self.traffic.pedestrians <= MAX_PEDESTRIANS,
            self.traffic.pedestrians,
            format!("must be at most {MAX_PEDESTRIANS}"),
        );
        let l = &self.lights;
        for (name, t) in [("lights.green", l.green), ("lights.yellow", l.yellow)] {
            v.check_value(
                name,
                (0.5..=600.0).contains(&t),
                t,
                "must be in [0.5, 600] s",
            );
        }
        v.check_value(
            "lights.all_red",
            (0.0..=60.0).contains(&l.all_red),
            l.all_red,
            "must be in [0, 60] s",
        );
        if let ObservationMode::Raster(r) = &self.observation {
            v.check(
                "observation",
                (16..=256).contains(&r.size) && r.ego_from_bottom < r.size && r.resolution > 0.0,
                format!(
                    "Raster(size: {}, resolution: {}, ego_from_bottom: {}): size in [16, 256], 0 ≤ ego_from_bottom < size, resolution > 0",
                    r.size, r.resolution, r.ego_from_bottom
                ),
            );
        }
        v.check_value(
            "control_dt",
            (0.02..=0.5).contains(&self.control_dt),
            self.control_dt,
            "must be in [0.02, 0.5] s",
        );
        v.check_value(
            "substeps",
            (1..=50).contains(&self.substeps),
            self.substeps,
            "must be in [1, 50]",
        );
    }
}
