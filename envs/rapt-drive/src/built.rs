//! Maps with everything derived from them (static raster, stop lines, crosswalks), built
//! once per process for generated maps and shared by every env.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rapt_core::EnvError;

use crate::map::{LaneId, LightTiming, RoadMap};
use crate::params::MapSource;
use crate::pedestrians::Crosswalks;
use crate::raster::{StaticRaster, StopLine};

/// A map with everything derived from it, shared between envs.
#[derive(Debug)]
pub struct BuiltMap {
    /// The network.
    pub map: RoadMap,
    /// Its static raster.
    pub raster: StaticRaster,
    /// Stop lines of all lanes with lights.
    pub stop_lines: Vec<StopLine>,
    /// The lanes of each road.
    pub road_lanes: Vec<Vec<LaneId>>,
    /// Crosswalks at every road end.
    pub crosswalks: Crosswalks,
}

impl BuiltMap {
    /// Derive everything from `map`.
    pub fn new(map: RoadMap) -> Self {
        let raster = StaticRaster::build(&map);
        let stop_lines = map
            .lanes
            .iter()
            .filter_map(|l| {
                let (at, yaw) = l.centre.at(l.centre.length());
                l.light.map(|light| StopLine {
                    at,
                    yaw,
                    half_width: 0.5 * l.width,
                    light,
                })
            })
            .collect();
        let mut road_lanes = vec![Vec::new(); map.roads.len()];
        for (id, l) in map.lanes.iter().enumerate() {
            if let Some(r) = l.road {
                road_lanes[r].push(id);
            }
        }
        Self {
            crosswalks: Crosswalks::build(&map),
            map,
            raster,
            stop_lines,
            road_lanes,
        }
    }
}

/// The map under `key`, built by `make` on first use and shared by every env of the
/// process afterwards.
fn cached(
    key: String,
    make: impl FnOnce() -> Result<RoadMap, EnvError>,
) -> Result<Arc<BuiltMap>, EnvError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<BuiltMap>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(m) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(m.clone());
    }
    let built = Arc::new(BuiltMap::new(make()?));
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, built.clone());
    Ok(built)
}

/// Generated maps, built once per process and shared by every env.
pub(crate) fn generated_map(
    id: &str,
    source: &MapSource,
    lights: LightTiming,
    index: u64,
) -> Result<Arc<BuiltMap>, EnvError> {
    let MapSource::Generated { generator, .. } = source else {
        unreachable!("called for generated maps only");
    };
    cached(
        format!("generated {generator:?}/{lights:?}/{index}"),
        || {
            let spec = generator.generate(index);
            RoadMap::build(&spec, lights, index).map_err(|e| EnvError::InvalidParams {
                id: id.into(),
                message: format!("generated map {index}: {e}"),
            })
        },
    )
}

/// OpenDRIVE maps, built once per process (per light timing) and shared by every env;
/// the import's warnings are logged once.
pub(crate) fn opendrive_map(
    id: &str,
    path: &str,
    lights: LightTiming,
) -> Result<Arc<BuiltMap>, EnvError> {
    cached(format!("opendrive {path}/{lights:?}"), || {
        let (map, report) =
            crate::opendrive::load(path, lights, 0).map_err(|e| EnvError::InvalidParams {
                id: id.into(),
                message: format!("map: {e}"),
            })?;
        for w in &report.warnings {
            tracing::warn!("{path}: {w}");
        }
        Ok(map)
    })
}

/// Built-in hand-written maps (also in `assets/maps/`).
pub(crate) fn builtin_map(name: &str) -> Option<&'static str> {
    match name {
        "ring" => Some(include_str!("../../../assets/maps/ring.ron")),
        "cross" => Some(include_str!("../../../assets/maps/cross.ron")),
        _ => None,
    }
}
