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
pub mod opendrive;
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

fn params_with(variant: Variant) -> DriveParams {
    let mut p = DriveParams::default();
    p.traffic.vehicles = variant.vehicles;
    p.traffic.pedestrians = variant.pedestrians;
    if let Some(path) = variant.town {
        p.map = MapSource::OpenDrive { path: path.into() };
    }
    p
}

/// Register `Drive-v0` (24 traffic cars), `DriveEmpty-v0` (none), `DriveDense-v0`
/// (60 cars and 16 pedestrians), and CARLA's towns from OpenDRIVE: `DriveTown01-v0`
/// (45 cars) and `DriveTown02-v0` (19 cars): Drive-v0's cars per km of lane.
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
    })?;
    registry.register(EnvSpec {
        id: "DriveTown01-v0",
        summary: "drive routes through CARLA's Town01 (OpenDRIVE), its lights and 45 IDM cars; CaRL reward",
        max_episode_steps: MAX_EPISODE_STEPS,
        default_params: || to_ron(&params_with(TOWN01)),
        make: |text| make("DriveTown01-v0", TOWN01, text),
    })?;
    registry.register(EnvSpec {
        id: "DriveTown02-v0",
        summary: "drive routes through CARLA's Town02 (OpenDRIVE), held out from Town01's training; 19 IDM cars",
        max_episode_steps: MAX_EPISODE_STEPS,
        default_params: || to_ron(&params_with(TOWN02)),
        make: |text| make("DriveTown02-v0", TOWN02, text),
    })
}

/// What a variant changes from Drive-v0's defaults.
#[derive(Debug, Clone, Copy)]
struct Variant {
    vehicles: usize,
    pedestrians: usize,
    /// An OpenDRIVE map instead of generated towns.
    town: Option<&'static str>,
}

const DRIVE: Variant = Variant {
    vehicles: 24,
    pedestrians: 0,
    town: None,
};
const EMPTY: Variant = Variant {
    vehicles: 0,
    ..DRIVE
};
const DENSE: Variant = Variant {
    vehicles: 60,
    pedestrians: 16,
    town: None,
};
/// Town01's 5.0 km of road lanes with Drive-v0's density (24 cars on generated towns of
/// 2.64 km of road lanes on average, connectors excluded: 9.1 cars per km).
const TOWN01: Variant = Variant {
    vehicles: 45,
    pedestrians: 0,
    town: Some("carla/Town01.xodr"),
};
/// Town02's 2.1 km of road lanes, same density.
const TOWN02: Variant = Variant {
    vehicles: 19,
    pedestrians: 0,
    town: Some("carla/Town02.xodr"),
};

fn make(id: &'static str, variant: Variant, text: &str) -> Result<Box<dyn Env>, EnvError> {
    let mut params: DriveParams = parse_params(id, text)?;
    // A variant differs from Drive-v0 in its traffic density and map only: these are the
    // defaults that the parameters' own `traffic.vehicles` / `traffic.pedestrians` / `map`
    // override.
    let set: VariantFields = parse_params(id, text)?;
    params.traffic.vehicles = set.traffic.vehicles.unwrap_or(variant.vehicles);
    params.traffic.pedestrians = set.traffic.pedestrians.unwrap_or(variant.pedestrians);
    if let (None, Some(path)) = (&set.map, variant.town) {
        params.map = MapSource::OpenDrive { path: path.into() };
    }
    Ok(Box::new(DriveEnv::new(id, params)?))
}

/// The parameters a variant gives its own defaults for, as the user's parameters set them
/// (`None`: not set). Other fields are ignored here; `DriveParams` checks them.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct VariantFields {
    traffic: TrafficFields,
    map: Option<MapSource>,
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
