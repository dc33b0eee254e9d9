//! OpenDRIVE (ASAM OpenDRIVE 1.4–1.6) road networks → the [`RoadMap`] every driving env
//! uses: `map: OpenDrive(path: "…")` in the env's parameters.
//!
//! What is read (everything else — elevation, objects, road marks — is skipped):
//! - reference lines of `line`, `arc`, `spiral`, `poly3` and `paramPoly3` pieces, lane
//!   offsets, lane sections and lane widths: each drivable lane (types in
//!   [`DRIVABLE_TYPES`]) of each section becomes one lane, its centre line sampled every
//!   1 m (0.5 m where the road curves with a radius under 100 m);
//! - successors from lane links across sections, road links and junction connections, each
//!   checked by geometry (a lane must end within [`LINK_TOLERANCE`] of its successor's
//!   start); lanes that lead only into dead ends are dropped (and reported), so every route
//!   can go on;
//! - speed limits from `<type><speed>` or the lane's `<speed>` (mph, km/h, m/s); lanes
//!   without one take their neighbours' lowest, else [`DEFAULT_SPEED_LIMIT`];
//! - traffic lights: every dynamic signal of type 1000001 governs the lanes its
//!   `<signalReference>`s (or, without any, the signal itself) name by `<validity>` or by
//!   orientation; the light sits at the end of the road lane before the junction. Signals
//!   of one `<controller>` switch together; a junction's controllers are its phases, in
//!   `sequence` order, each getting the env's `lights:` timing in turn. Junctions without
//!   signals stay unsignalized (traffic enters them when no other car, nor the ego, is
//!   inside).
//!
//! Right-hand traffic unless a road says `rule="LHT"`. Problems that leave no usable map
//! (malformed XML, a missing attribute, a link to a road or junction that does not exist,
//! an unknown geometry) are errors naming the file and the element; problems that leave a
//! usable map (zero-width lanes, links between points that do not meet, signals that
//! govern no lane, lanes that lead nowhere) are warnings in the [`ImportReport`], and the
//! env logs them.

mod build;
pub mod geometry;
mod graph;
mod lights;
pub mod parse;
mod roads;

use crate::map::{LightTiming, RoadMap};

pub use build::{DEFAULT_SPEED_LIMIT, DRIVABLE_TYPES, LINK_TOLERANCE, MIN_LANE_WIDTH};

/// Why an OpenDRIVE file cannot be used: the file, the element (`road 12, lane -1`,
/// `signal 360`, `junction 26, connection 3`) and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {element}: {message}")]
pub struct OpenDriveError {
    /// The file's path or name.
    pub file: String,
    /// The element at fault.
    pub element: String,
    /// What is wrong.
    pub message: String,
}

/// What an import found and kept.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    /// `<road>` elements in the file.
    pub roads: usize,
    /// `<junction>` elements in the file.
    pub junctions: usize,
    /// Drivable lanes over all lane sections in the file (before pruning).
    pub file_driving_lanes: usize,
    /// Lanes of the built map.
    pub lanes: usize,
    /// Of which on roads outside junctions.
    pub road_lanes: usize,
    /// Of which connectors inside junctions.
    pub connectors: usize,
    /// Drivable lanes dropped (leading nowhere).
    pub dropped_lanes: usize,
    /// Lanes in the largest strongly connected part of the lane graph (every lane there
    /// reaches every other); equal to `lanes` when every lane reaches every lane.
    pub strongly_connected_lanes: usize,
    /// Junctions of the built map.
    pub junction_nodes: usize,
    /// Of which with traffic lights.
    pub signalized_junctions: usize,
    /// Traffic-light signals that govern at least one lane.
    pub lights: usize,
    /// Lanes ending at a stop line.
    pub lit_lanes: usize,
    /// Total length of road lanes (connectors excluded), m.
    pub lane_length_m: f32,
    /// The tightest turn of any lane, m.
    pub tightest_turn_m: f32,
    /// Problems that left a usable map, one line each.
    pub warnings: Vec<String>,
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} roads, {} junctions in the file; {} lanes ({} on roads, {} connectors; {} of {} drivable lanes dropped; {} in the largest strongly connected part), {:.1} km of road lanes; {} junctions, {} with lights; {} lights on {} stop lines; tightest turn {:.1} m; {} warnings",
            self.roads,
            self.junctions,
            self.lanes,
            self.road_lanes,
            self.connectors,
            self.dropped_lanes,
            self.file_driving_lanes,
            self.strongly_connected_lanes,
            self.lane_length_m / 1000.0,
            self.junction_nodes,
            self.signalized_junctions,
            self.lights,
            self.lit_lanes,
            self.tightest_turn_m,
            self.warnings.len()
        )
    }
}

/// One drivable lane of a file, as [`lane_lines`] gives it.
#[derive(Debug, Clone)]
pub struct LaneLine {
    /// The road's id.
    pub road: String,
    /// The lane section's index in the road.
    pub section: usize,
    /// The lane's id (negative: right of the reference line).
    pub lane: i32,
    /// Its centre line in the direction of travel, m.
    pub centre: crate::geom::Polyline,
    /// Its median width, m.
    pub width: f32,
}

/// The centre line of every drivable lane in the OpenDRIVE `text` (before linking: also
/// lanes that lead nowhere), with the warnings of reading them.
pub fn lane_lines(file: &str, text: &str) -> Result<(Vec<LaneLine>, Vec<String>), OpenDriveError> {
    let doc = parse::parse(file, text)?;
    build::lane_lines(file, &doc)
}

/// Build the map in the OpenDRIVE `text` of a file named `file` (for messages), with
/// light timing `timing`; `seed` sets the light cycles' offsets.
pub fn from_str(
    file: &str,
    text: &str,
    timing: LightTiming,
    seed: u64,
) -> Result<(RoadMap, ImportReport), OpenDriveError> {
    let doc = parse::parse(file, text)?;
    build::build(file, &doc, timing, seed)
}

/// The maps shipped in `assets/maps/` and compiled in, by their path there.
pub fn builtin(path: &str) -> Option<&'static str> {
    match path.trim_start_matches("assets/maps/") {
        "carla/Town01.xodr" => Some(include_str!("../../../../assets/maps/carla/Town01.xodr")),
        "carla/Town02.xodr" => Some(include_str!("../../../../assets/maps/carla/Town02.xodr")),
        _ => None,
    }
}

/// Read the OpenDRIVE file at `path`: relative to the working directory, else to
/// `assets/maps/`, else one of the maps compiled in (`carla/Town01.xodr`,
/// `carla/Town02.xodr`).
pub fn read(path: &str) -> Result<String, OpenDriveError> {
    let candidates = [
        std::path::PathBuf::from(path),
        std::path::Path::new("assets/maps").join(path),
    ];
    for p in &candidates {
        if p.is_file() {
            return std::fs::read_to_string(p).map_err(|e| OpenDriveError {
                file: p.display().to_string(),
                element: "file".into(),
                message: e.to_string(),
            });
        }
    }
    builtin(path).map(str::to_string).ok_or_else(|| OpenDriveError {
        file: path.into(),
        element: "file".into(),
        message: "no such file here or under assets/maps/ (built in: carla/Town01.xodr, carla/Town02.xodr)".into(),
    })
}

/// Read and build the OpenDRIVE file at `path` (see [`read`]).
pub fn load(
    path: &str,
    timing: LightTiming,
    seed: u64,
) -> Result<(RoadMap, ImportReport), OpenDriveError> {
    from_str(path, &read(path)?, timing, seed)
}
