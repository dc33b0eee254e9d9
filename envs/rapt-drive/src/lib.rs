//! Driving environments (CaRL's setting on rapier): procedurally generated road networks
//! (straight and curved, one- and two-lane roads, 3- and 4-way junctions with traffic
//! lights) or hand-written maps (`assets/maps/*.ron`), an ego car on rapier's ray-cast
//! vehicle controller, IDM traffic, a bird's-eye raster and/or a measurement vector, and
//! CaRL's route-completion reward with the CARLA leaderboard's metrics. Cards:
//! `docs/envs/Drive-v0.md` and its variants.
#![warn(missing_docs)]

mod built;
mod env;
pub mod expert;
pub mod generate;
pub mod geom;
pub mod map;
pub mod params;
pub mod pedestrians;
pub mod raster;
pub mod reward;
pub mod route;
pub mod traffic;
pub mod views;

pub use built::BuiltMap;
pub use env::{DriveEnv, MEASUREMENTS, METRICS, REWARD_TERMS};
pub use params::{DriveParams, MapSource, ObservationMode, RouteEndWaypoints};

use rapt_core::{Env, EnvError, EnvSpec, Registry, parse_params};

/// The CARLA leaderboard's headline metrics, as evaluations report them at the top level:
/// route completion and driving score (0–100), infraction score (0–1).
pub const LEADERBOARD_METRICS: [&str; 3] =
    ["route_completion", "infraction_score", "driving_score"];

/// Longest episode the registry's time limit allows, steps (the env ends episodes itself
/// on timeout, at 60 s + route length / 2 m/s; 3,000 steps = 300 s of driving).
pub const MAX_EPISODE_STEPS: u32 = 3000;

fn to_ron<T: serde::Serialize>(value: &T) -> String {
    ron::ser::to_string_pretty(value, ron::ser::PrettyConfig::default())
        .unwrap_or_else(|e| format!("<unprintable: {e}>"))
}

fn params_with((vehicles, pedestrians): (usize, usize)) -> DriveParams {
    let mut p = DriveParams::default();
    p.traffic.vehicles = vehicles;
    p.traffic.pedestrians = pedestrians;
    p
}

/// Register `Drive-v0` (24 traffic cars), `DriveEmpty-v0` (none) and `DriveDense-v0`
/// (60 cars and 16 pedestrians).
pub fn register(registry: &mut Registry) -> Result<(), EnvError> {
    registry.register(EnvSpec {
        id: "Drive-v0",
        summary: "drive a route through generated streets with lights and 24 IDM cars; CaRL reward",
        max_episode_steps: MAX_EPISODE_STEPS,
        default_params: || to_ron(&params_with(DRIVE)),
        make: |text| make("Drive-v0", DRIVE, text),
    })?;
    registry.register(EnvSpec {
        id: "DriveEmpty-v0",
        summary: "Drive-v0 with empty roads (lights still work)",
        max_episode_steps: MAX_EPISODE_STEPS,
        default_params: || to_ron(&params_with(EMPTY)),
        make: |text| make("DriveEmpty-v0", EMPTY, text),
    })?;
    registry.register(EnvSpec {
        id: "DriveDense-v0",
        summary: "Drive-v0 with dense traffic: 60 IDM cars and 16 pedestrians at crosswalks",
        max_episode_steps: MAX_EPISODE_STEPS,
        default_params: || to_ron(&params_with(DENSE)),
        make: |text| make("DriveDense-v0", DENSE, text),
    })
}

/// (cars, pedestrians) of each variant.
const DRIVE: (usize, usize) = (24, 0);
const EMPTY: (usize, usize) = (0, 0);
const DENSE: (usize, usize) = (60, 16);

fn make(
    id: &'static str,
    (vehicles, pedestrians): (usize, usize),
    text: &str,
) -> Result<Box<dyn Env>, EnvError> {
    let mut params: DriveParams = parse_params(id, text)?;
    // A variant differs from Drive-v0 in its traffic density only: its counts are the
    // defaults that the parameters' own `traffic.vehicles` / `traffic.pedestrians` override.
    let set: VariantFields = parse_params(id, text)?;
    params.traffic.vehicles = set.traffic.vehicles.unwrap_or(vehicles);
    params.traffic.pedestrians = set.traffic.pedestrians.unwrap_or(pedestrians);
    Ok(Box::new(DriveEnv::new(id, params)?))
}

/// The parameters a variant gives its own defaults for, as the user's parameters set them
/// (`None`: not set). Other fields are ignored here; `DriveParams` checks them.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct VariantFields {
    traffic: TrafficFields,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct TrafficFields {
    vehicles: Option<usize>,
    pedestrians: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variants_traffic_counts_are_defaults_the_parameters_override() {
        let set: VariantFields = parse_params(
            "DriveDense-v0",
            "(observation: Vector, map: File(\"vehicles.ron\"), traffic: (pedestrians: 2))",
        )
        .unwrap();
        // A path that merely contains "vehicles" sets nothing.
        assert_eq!(
            (set.traffic.vehicles, set.traffic.pedestrians),
            (None, Some(2))
        );
        let set: VariantFields = parse_params("DriveDense-v0", "").unwrap();
        assert_eq!(
            (set.traffic.vehicles, set.traffic.pedestrians),
            (None, None)
        );
    }
}
