//! Road networks: a [`MapSpec`] (nodes and the roads between them, written by hand in RON
//! under `assets/maps/` or generated from a seed) is built into a [`RoadMap`] of lanes
//! with their centre lines, successors, junction connectors and traffic lights.
//!
//! Conventions: right-hand traffic. A road from node A to node B has `lanes` lanes in
//! each direction; lane index 0 is the innermost (next to the centre line). Roads stop
//! `junction_radius` metres short of their nodes; inside, connector lanes (Bézier curves)
//! join every incoming lane to the outgoing lanes it may turn into: straight on lane by
//! lane, left turns from and to the innermost lane, right turns from and to the outermost
//! one, no U-turns. Nodes with three or more roads are junctions with traffic lights that
//! give each approach its own green phase in turn.

use serde::{Deserialize, Serialize};

use crate::geom::{Polyline, V2, cubic_bezier, vertex_turns, wrap_angle};

/// Index of a lane in [`RoadMap::lanes`].
pub type LaneId = usize;

/// A node: a junction (three or more roads) or a bend (two roads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// Identifier roads refer to.
    pub id: u32,
    /// East, m.
    pub x: f32,
    /// North, m.
    pub y: f32,
}

/// A two-way road between two nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoadSpec {
    /// Start node id.
    pub from: u32,
    /// End node id.
    pub to: u32,
    /// Lanes in each direction, 1–3 (default 1).
    #[serde(default = "one")]
    pub lanes: u32,
    /// Sideways offset of the road's midpoint from the straight line, m (positive: to the
    /// left going from `from` to `to`; default 0, a straight road).
    #[serde(default)]
    pub bulge: f32,
    /// Speed limit, m/s (default 11.1 = 40 km/h).
    #[serde(default = "default_speed_limit")]
    pub speed_limit: f32,
}

fn one() -> u32 {
    1
}

fn default_speed_limit() -> f32 {
    11.1
}

fn default_lane_width() -> f32 {
    3.5
}

fn default_junction_radius() -> f32 {
    12.0
}

/// A road network as written in `assets/maps/*.ron`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapSpec {
    /// Nodes.
    pub nodes: Vec<NodeSpec>,
    /// Roads.
    pub roads: Vec<RoadSpec>,
    /// Lane width, m (default 3.5).
    #[serde(default = "default_lane_width")]
    pub lane_width: f32,
    /// How far roads stop short of their nodes, m (default 12; at least the half-width
    /// of the widest road at the node plus 3 m is used).
    #[serde(default = "default_junction_radius")]
    pub junction_radius: f32,
}

/// Largest |x| or |y| of a node, m: a map spans at most 4 km × 4 km, whose static
/// raster (0.5 m per pixel, two layers) takes 128 MB.
pub const MAX_COORDINATE: f32 = 2_000.0;
/// Most nodes a map may have.
pub const MAX_NODES: usize = 10_000;
/// Most roads a map may have.
pub const MAX_ROADS: usize = 20_000;

impl rapt_config::Validate for MapSpec {
    fn validate(&self, v: &mut rapt_config::Validator) {
        v.range("nodes", self.nodes.len(), 1..=MAX_NODES);
        v.range("roads", self.roads.len(), 1..=MAX_ROADS);
        for (k, n) in self.nodes.iter().enumerate().take(MAX_NODES) {
            v.range(
                &format!("nodes[{k}].x"),
                n.x,
                -MAX_COORDINATE..=MAX_COORDINATE,
            );
            v.range(
                &format!("nodes[{k}].y"),
                n.y,
                -MAX_COORDINATE..=MAX_COORDINATE,
            );
        }
        for (k, r) in self.roads.iter().enumerate().take(MAX_ROADS) {
            v.range(&format!("roads[{k}].lanes"), r.lanes, 1..=3);
            v.range(&format!("roads[{k}].bulge"), r.bulge, -500.0..=500.0);
            v.range(
                &format!("roads[{k}].speed_limit"),
                r.speed_limit,
                1.0..=40.0,
            );
        }
        v.range("lane_width", self.lane_width, 2.0..=6.0);
        v.range("junction_radius", self.junction_radius, 0.0..=100.0);
    }
}

/// Traffic-light timing, s.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LightTiming {
    /// Green per approach (default 10).
    pub green: f32,
    /// Yellow after it (default 3).
    pub yellow: f32,
    /// All-red clearance after the yellow (default 1.5).
    pub all_red: f32,
}

impl Default for LightTiming {
    fn default() -> Self {
        Self {
            green: 10.0,
            yellow: 3.0,
            all_red: 1.5,
        }
    }
}

/// A light's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LightState {
    /// Go.
    Green,
    /// Stop if you can.
    Yellow,
    /// Stop.
    Red,
}

/// A lane: a directed centre line with its width, speed limit and successors.
#[derive(Debug, Clone)]
pub struct Lane {
    /// Centre line, points about 1 m apart.
    pub centre: Polyline,
    /// Width, m.
    pub width: f32,
    /// Speed limit, m/s.
    pub speed_limit: f32,
    /// Lanes it leads into.
    pub successors: Vec<LaneId>,
    /// A connector inside a junction or bend.
    pub in_junction: bool,
    /// The road it belongs to (`None` for connectors).
    pub road: Option<usize>,
    /// Index across its direction of travel, 0 = innermost.
    pub index: u32,
    /// The light at the end of this lane, as (node, approach), if the node has lights.
    pub light: Option<(usize, usize)>,
    /// For connectors, the node they cross.
    pub node: Option<usize>,
}

/// A node of the built map: a junction or a bend.
#[derive(Debug, Clone)]
pub struct Node {
    /// Position.
    pub centre: V2,
    /// Radius of the junction area painted drivable, m (0 for OpenDRIVE junctions, whose
    /// connecting lanes cover them).
    pub radius: f32,
    /// The roads meeting here (generated maps: one approach each, in order of their green
    /// phases; OpenDRIVE: the junction's incoming roads).
    pub approaches: Vec<usize>,
    /// Green phases of its light cycle, each `lights.green + lights.yellow +
    /// lights.all_red` long (generated maps: one per approach; OpenDRIVE: one per signal
    /// controller of the junction).
    pub phases: usize,
    /// A junction rather than a bend (generated maps: three or more roads; OpenDRIVE:
    /// every `<junction>`).
    pub junction: bool,
    /// Has traffic lights. Traffic enters an unsignalized junction only when no other car
    /// is inside it.
    pub signalized: bool,
    /// Phase offset of its light cycle, s.
    pub offset: f32,
}

/// A painted line along a road, drawn into the raster's marking layer.
#[derive(Debug, Clone)]
pub struct Marking {
    /// The line the marking follows.
    pub line: Polyline,
    /// Sideways offset from `line`, m (positive: to the left).
    pub offset: f32,
    /// Broken (between lanes of one direction) rather than solid (between directions).
    pub broken: bool,
}

/// A crossing place for pedestrians, across a road next to a junction.
#[derive(Debug, Clone, Copy)]
pub struct Crossing {
    /// A point on the road's centre line, m.
    pub at: V2,
    /// Unit vector across the road, pointing left of its direction.
    pub across: V2,
    /// Distance from `at` to the right kerb, m.
    pub right: f32,
    /// Distance from `at` to the left kerb, m.
    pub left: f32,
}

/// A road between junctions: the lanes of both directions share it.
#[derive(Debug, Clone)]
pub struct Road {
    /// Centre line (between the two directions), trimmed at the junctions.
    pub centre: Polyline,
    /// Its lane markings.
    pub markings: Vec<Marking>,
    /// Where pedestrians cross it.
    pub crossings: Vec<Crossing>,
}

/// A built road network.
#[derive(Debug, Clone)]
pub struct RoadMap {
    /// All lanes: road lanes first, then connectors.
    pub lanes: Vec<Lane>,
    /// Nodes: junctions and bends.
    pub nodes: Vec<Node>,
    /// Roads, indexed by [`Lane::road`].
    pub roads: Vec<Road>,
    /// Light timing.
    pub timing: LightTiming,
    /// Lower-left corner of the area it covers (with margin), m.
    pub min: V2,
    /// Upper-right corner, m.
    pub max: V2,
}

/// The tightest turn a lane may make, m (the car's own minimum is 2.8 m / tan 0.55 ≈
/// 4.6 m).
pub const MIN_TURN_RADIUS: f32 = 6.0;

#[derive(Debug)]
enum BuildError {
    Spec(MapError),
    Tight(MapError, usize),
}

/// Why a map spec cannot be built; names the node or road.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct MapError(pub String);

/// Give each node's light cycle a phase offset in [0, cycle) from a cheap deterministic
/// generator started at `rng` (nodes' `phases` set).
pub(crate) fn draw_light_offsets(nodes: &mut [Node], timing: LightTiming, mut rng: u64) {
    for n in nodes {
        rng = rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let cycle = n.phases as f32 * (timing.green + timing.yellow + timing.all_red);
        n.offset = (rng >> 40) as f32 / (1u64 << 24) as f32 * cycle;
    }
}

/// How far a generated lane's end may lie from its successor's start, m.
pub const CONTINUITY_TOLERANCE: f32 = 0.05;

/// A generated road: `lanes` lanes of width `w` each way, a solid line between the
/// directions, broken ones between lanes, crossings 2 m from both ends (1 m past the
/// outer lanes).
fn generated_road(centre: Polyline, lanes: u32, w: f32) -> Road {
    let mut markings = vec![Marking {
        line: centre.clone(),
        offset: 0.0,
        broken: false,
    }];
    for k in 1..lanes {
        for side in [-1.0, 1.0] {
            markings.push(Marking {
                line: centre.clone(),
                offset: side * k as f32 * w,
                broken: true,
            });
        }
    }
    let half = lanes as f32 * w + 1.0;
    let crossings = [2.0, centre.length() - 2.0]
        .into_iter()
        .map(|s| {
            let (at, yaw) = centre.at(s);
            Crossing {
                at,
                across: V2::from_yaw(yaw).perp(),
                right: half,
                left: half,
            }
        })
        .collect();
    Road {
        centre,
        markings,
        crossings,
    }
}

fn resample(points: &[V2], step: f32) -> Vec<V2> {
    let line = Polyline::new(points.to_vec());
    let n = ((line.length() / step).ceil() as usize).max(1);
    (0..=n)
        .map(|k| line.at(line.length() * k as f32 / n as f32).0)
        .collect()
}

fn offset(points: &[V2], by: f32) -> Vec<V2> {
    let n = points.len();
    (0..n)
        .map(|k| {
            let (a, b) = (points[k.saturating_sub(1)], points[(k + 1).min(n - 1)]);
            points[k] + (b - a).normalized().perp() * by
        })
        .collect()
}

impl RoadMap {
    /// Build `spec`, checking it; `seed` sets the light cycles' offsets. A junction
    /// whose connectors would turn tighter than [`MIN_TURN_RADIUS`] (sharp angles between
    /// roads, curved roads) is widened, 4 m at a time, up to 5 times per node.
    pub fn build(spec: &MapSpec, timing: LightTiming, seed: u64) -> Result<Self, MapError> {
        let mut extra = vec![0.0f32; spec.nodes.len()];
        let mut last = None;
        for _ in 0..=5 * spec.nodes.len() {
            match Self::build_with(spec, timing, seed, &extra) {
                Ok(map) => return Ok(map),
                Err((e, Some(node))) if extra[node] < 20.0 => {
                    extra[node] += 4.0;
                    last = Some(e);
                }
                Err((e, _)) => return Err(e),
            }
        }
        Err(last.expect("at least one attempt failed"))
    }

    fn build_with(
        spec: &MapSpec,
        timing: LightTiming,
        seed: u64,
        extra: &[f32],
    ) -> Result<Self, (MapError, Option<usize>)> {
        Self::build_inner(spec, timing, seed, extra).map_err(|e| match e {
            BuildError::Spec(e) => (e, None),
            BuildError::Tight(e, node) => (e, Some(node)),
        })
    }

    fn build_inner(
        spec: &MapSpec,
        timing: LightTiming,
        seed: u64,
        extra: &[f32],
    ) -> Result<Self, BuildError> {
        let err = |m: String| Err(BuildError::Spec(MapError(m)));
        if spec.nodes.is_empty() || spec.roads.is_empty() {
            return err("a map needs at least one node and one road".into());
        }
        if !(2.0..=6.0).contains(&spec.lane_width) {
            return err(format!(
                "lane_width = {} must be in [2, 6] m",
                spec.lane_width
            ));
        }
        let index_of = |id: u32, what: &str, road: usize| -> Result<usize, BuildError> {
            spec.nodes.iter().position(|n| n.id == id).ok_or_else(|| {
                BuildError::Spec(MapError(format!(
                    "road {road}: {what} node {id} does not exist"
                )))
            })
        };
        for (k, n) in spec.nodes.iter().enumerate() {
            if spec.nodes[..k].iter().any(|m| m.id == n.id) {
                return err(format!("node id {} appears twice", n.id));
            }
        }
        let mut ends = Vec::with_capacity(spec.roads.len());
        for (k, r) in spec.roads.iter().enumerate() {
            let (a, b) = (index_of(r.from, "from", k)?, index_of(r.to, "to", k)?);
            if a == b {
                return err(format!("road {k} starts and ends at node {}", r.from));
            }
            if !(1..=3).contains(&r.lanes) {
                return err(format!("road {k}: lanes = {} must be 1, 2 or 3", r.lanes));
            }
            if !(1.0..=40.0).contains(&r.speed_limit) {
                return err(format!(
                    "road {k}: speed_limit = {} m/s must be in [1, 40]",
                    r.speed_limit
                ));
            }
            if spec.roads[..k]
                .iter()
                .any(|o| (o.from, o.to) == (r.from, r.to) || (o.from, o.to) == (r.to, r.from))
            {
                return err(format!(
                    "road {k} joins nodes {} and {} again",
                    r.from, r.to
                ));
            }
            ends.push((a, b));
        }
        let w = spec.lane_width;
        // Junction radius per node: wide enough for the widest road.
        let mut nodes: Vec<Node> = spec
            .nodes
            .iter()
            .zip(extra)
            .map(|(n, extra)| Node {
                centre: V2::new(n.x, n.y),
                radius: spec.junction_radius + extra,
                approaches: Vec::new(),
                phases: 0,
                junction: false,
                signalized: false,
                offset: 0.0,
            })
            .collect();
        for (k, &(a, b)) in ends.iter().enumerate() {
            let half = spec.roads[k].lanes as f32 * w;
            for n in [a, b] {
                nodes[n].radius = nodes[n].radius.max(half + 3.0);
                nodes[n].approaches.push(k);
            }
        }
        for (k, n) in nodes.iter().enumerate() {
            if n.approaches.len() < 2 {
                return err(format!(
                    "node {} has {} road(s): dead ends are not supported (every node needs at least two roads)",
                    spec.nodes[k].id,
                    n.approaches.len()
                ));
            }
        }
        for n in &mut nodes {
            n.junction = n.approaches.len() >= 3;
            n.signalized = n.junction;
            n.phases = n.approaches.len();
        }
        draw_light_offsets(&mut nodes, timing, seed ^ 0x5DEE_CE66);

        // Road centre lines, trimmed at both nodes.
        let mut lanes: Vec<Lane> = Vec::new();
        let mut roads = Vec::with_capacity(spec.roads.len());
        // (incoming lanes, outgoing lanes) per node, as (lane, road).
        let mut incoming: Vec<Vec<(LaneId, usize)>> = vec![Vec::new(); nodes.len()];
        let mut outgoing: Vec<Vec<(LaneId, usize)>> = vec![Vec::new(); nodes.len()];
        for (k, (r, &(a, b))) in spec.roads.iter().zip(&ends).enumerate() {
            let (pa, pb) = (nodes[a].centre, nodes[b].centre);
            let chord = pb - pa;
            let control = (pa + pb) * 0.5 + chord.normalized().perp() * (2.0 * r.bulge);
            let dense: Vec<V2> = (0..=200)
                .map(|i| {
                    let t = i as f32 / 200.0;
                    let u = 1.0 - t;
                    pa * (u * u) + control * (2.0 * u * t) + pb * (t * t)
                })
                .collect();
            let full = Polyline::new(dense);
            let (ra, rb) = (nodes[a].radius, nodes[b].radius);
            if full.length() < ra + rb + 5.0 {
                return err(format!(
                    "road {k} ({} → {}) is {:.0} m long: too short for its junctions (needs > {:.0} m)",
                    r.from,
                    r.to,
                    full.length(),
                    ra + rb + 5.0
                ));
            }
            let trimmed: Vec<V2> = {
                let n = ((full.length() - ra - rb).ceil() as usize).max(2);
                (0..=n)
                    .map(|i| {
                        full.at(ra + (full.length() - ra - rb) * i as f32 / n as f32)
                            .0
                    })
                    .collect()
            };
            let centre = resample(&trimmed, 1.0);
            for dir in [true, false] {
                let base: Vec<V2> = if dir {
                    centre.clone()
                } else {
                    centre.iter().rev().copied().collect()
                };
                for i in 0..r.lanes {
                    let id = lanes.len();
                    lanes.push(Lane {
                        centre: Polyline::new(offset(&base, -(i as f32 + 0.5) * w)),
                        width: w,
                        speed_limit: r.speed_limit,
                        successors: Vec::new(),
                        in_junction: false,
                        road: Some(k),
                        index: i,
                        light: None,
                        node: None,
                    });
                    let (from, to) = if dir { (a, b) } else { (b, a) };
                    outgoing[from].push((id, k));
                    incoming[to].push((id, k));
                }
            }
            roads.push(generated_road(Polyline::new(centre), r.lanes, w));
        }

        // Connectors.
        for (node, ins) in incoming.iter().enumerate() {
            let bend = nodes[node].approaches.len() == 2;
            for &(lin, road_in) in ins {
                let approach = nodes[node]
                    .approaches
                    .iter()
                    .position(|&r| r == road_in)
                    .expect("the road meets this node");
                if nodes[node].signalized {
                    lanes[lin].light = Some((node, approach));
                }
                let (p0, yaw_in) = {
                    let c = &lanes[lin].centre;
                    c.at(c.length())
                };
                let n_in = spec.roads[road_in].lanes;
                let k_in = lanes[lin].index;
                // Turns by the lane rules; a lane the rules leave without any way on
                // (e.g. the outer lane at a T-junction with only left turns) may take
                // every turn, lane by lane.
                let rule = |relaxed: bool, lout: LaneId, road_out: usize| {
                    let n_out = spec.roads[road_out].lanes;
                    let k_out = lanes[lout].index;
                    let turn = wrap_angle(lanes[lout].centre.at(0.0).1 - yaw_in);
                    if relaxed || bend || turn.abs() < 0.6 {
                        k_out == k_in.min(n_out - 1)
                    } else if turn > 0.0 {
                        k_in == 0 && k_out == 0
                    } else {
                        k_in == n_in - 1 && k_out == n_out - 1
                    }
                };
                let others = || outgoing[node].iter().filter(|(_, r)| *r != road_in);
                let relaxed = !others().any(|&(lout, road_out)| rule(false, lout, road_out));
                let targets: Vec<LaneId> = others()
                    .filter(|&&(lout, road_out)| rule(relaxed, lout, road_out))
                    .map(|&(lout, _)| lout)
                    .collect();
                for lout in targets {
                    let (p3, yaw_out) = lanes[lout].centre.at(0.0);
                    let k_out = lanes[lout].index;
                    let turn = wrap_angle(yaw_out - yaw_in);
                    // Handles of a circular arc through the turn angle (a third of the
                    // chord when straight).
                    let chord = p0.dist(p3);
                    let theta = turn.abs();
                    let handle = if theta < 0.05 {
                        chord / 3.0
                    } else {
                        let radius = chord / (2.0 * (0.5 * theta).sin());
                        4.0 / 3.0 * (0.25 * theta).tan() * radius
                    };
                    let points = cubic_bezier(
                        p0,
                        p0 + V2::from_yaw(yaw_in) * handle,
                        p3 - V2::from_yaw(yaw_out) * handle,
                        p3,
                        1.0,
                    );
                    let id = lanes.len();
                    lanes.push(Lane {
                        centre: Polyline::new(points),
                        width: w,
                        speed_limit: lanes[lin].speed_limit.min(lanes[lout].speed_limit),
                        successors: vec![lout],
                        in_junction: true,
                        road: None,
                        index: k_out,
                        light: None,
                        node: Some(node),
                    });
                    lanes[lin].successors.push(id);
                }
            }
        }
        let map = Self::new(lanes, nodes, roads, timing);
        map.validate(CONTINUITY_TOLERANCE)
            .and_then(|()| map.check_turns())
            .map_err(|e| {
                // A tight connector: widen its junction.
                let node = map
                    .lanes
                    .iter()
                    .enumerate()
                    .find(|(id, _)| e.0.starts_with(&format!("lane {id} turns")))
                    .and_then(|(_, l)| l.node);
                match node {
                    Some(n) => BuildError::Tight(e, n),
                    None => BuildError::Spec(e),
                }
            })?;
        Ok(map)
    }

    /// A map of these parts, its area the lanes' bounding box with a 40 m margin.
    pub fn new(lanes: Vec<Lane>, nodes: Vec<Node>, roads: Vec<Road>, timing: LightTiming) -> Self {
        let mut min = V2::new(f32::INFINITY, f32::INFINITY);
        let mut max = V2::new(f32::NEG_INFINITY, f32::NEG_INFINITY);
        for p in lanes.iter().flat_map(|l| &l.centre.points) {
            min = V2::new(min.x.min(p.x), min.y.min(p.y));
            max = V2::new(max.x.max(p.x), max.y.max(p.y));
        }
        let margin = 40.0;
        Self {
            lanes,
            nodes,
            roads,
            timing,
            min: min - V2::new(margin, margin),
            max: max + V2::new(margin, margin),
        }
    }

    /// Check that every lane leads somewhere and ends within `tolerance` m of the start
    /// of each of its successors.
    pub fn validate(&self, tolerance: f32) -> Result<(), MapError> {
        for (id, lane) in self.lanes.iter().enumerate() {
            if lane.successors.is_empty() {
                return Err(MapError(format!(
                    "lane {id} (road {:?}) leads nowhere",
                    lane.road
                )));
            }
            let end = *lane.centre.points.last().expect("lanes have points");
            for &s in &lane.successors {
                let start = self.lanes[s].centre.points[0];
                if end.dist(start) > tolerance {
                    return Err(MapError(format!(
                        "lane {id} ends {:.2} m from the start of its successor {s}",
                        end.dist(start)
                    )));
                }
            }
        }
        Ok(())
    }

    /// Check that no lane turns tighter than [`MIN_TURN_RADIUS`].
    pub fn check_turns(&self) -> Result<(), MapError> {
        for (id, lane) in self.lanes.iter().enumerate() {
            let p = &lane.centre.points;
            for (k, turn, arc) in vertex_turns(p) {
                if arc > 1e-3 && turn / arc > 1.0 / MIN_TURN_RADIUS {
                    return Err(MapError(format!(
                        "lane {id} turns with a radius of {:.1} m near ({:.1}, {:.1}) (minimum {MIN_TURN_RADIUS} m)",
                        arc / turn,
                        p[k].x,
                        p[k].y
                    )));
                }
            }
        }
        Ok(())
    }

    /// The state of light `(node, approach)` at time `t` s.
    pub fn light_state(&self, (node, approach): (usize, usize), t: f32) -> LightState {
        let n = &self.nodes[node];
        let period = self.timing.green + self.timing.yellow + self.timing.all_red;
        let cycle = period * n.phases as f32;
        let local = (t + n.offset).rem_euclid(cycle) - approach as f32 * period;
        if (0.0..self.timing.green).contains(&local) {
            LightState::Green
        } else if (self.timing.green..self.timing.green + self.timing.yellow).contains(&local) {
            LightState::Yellow
        } else {
            LightState::Red
        }
    }

    /// Load a map spec from RON text, checked like a config ([`MapSpec`]'s `Validate`):
    /// every number finite and within its documented bounds, each problem named with
    /// `name:line:column` and its field (`nodes[3].x`).
    pub fn parse_spec(name: &str, text: &str) -> Result<MapSpec, MapError> {
        rapt_config::from_str::<MapSpec>(text, name, &[])
            .map(|loaded| loaded.config)
            .map_err(|e| MapError(e.to_string()))
    }

    /// Total length of all road lanes (connectors excluded), m.
    pub fn lane_length(&self) -> f32 {
        self.lanes
            .iter()
            .filter(|l| !l.in_junction)
            .map(|l| l.centre.length())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square() -> MapSpec {
        // Four bends on a 100 m square plus a diagonal-free cross road: node 4 in the
        // middle of the bottom and top edges would make junctions; keep it simple: a
        // square with one crossing road makes two 3-way junctions.
        RoadMap::parse_spec(
            "square",
            "(nodes: [(id: 0, x: 0, y: 0), (id: 1, x: 100, y: 0), (id: 2, x: 100, y: 100), (id: 3, x: 0, y: 100), (id: 4, x: 50, y: 0), (id: 5, x: 50, y: 100)],
              roads: [(from: 0, to: 4), (from: 4, to: 1, lanes: 2), (from: 1, to: 2, bulge: 8.0), (from: 2, to: 5), (from: 5, to: 3), (from: 3, to: 0), (from: 4, to: 5)])",
        )
        .unwrap()
    }

    #[test]
    fn a_hand_written_map_builds_with_connected_lanes_and_lights() {
        let map = RoadMap::build(&square(), LightTiming::default(), 0).unwrap();
        // Nodes 4 and 5 have three roads: lights; the corners do not.
        let lit: Vec<bool> = map.nodes.iter().map(|n| n.signalized).collect();
        assert_eq!(lit, [false, false, false, false, true, true]);
        assert!(map.lanes.iter().any(|l| l.light.is_some()));
        // Every lane leads somewhere (checked by build); connectors carry no lights.
        assert!(
            map.lanes
                .iter()
                .filter(|l| l.in_junction)
                .all(|l| l.light.is_none())
        );
        // One green approach at a time.
        for t in 0..200 {
            let greens = (0..3)
                .filter(|&a| map.light_state((4, a), t as f32 * 0.5) == LightState::Green)
                .count();
            assert!(greens <= 1);
        }
    }

    #[test]
    fn bad_specs_name_what_is_wrong() {
        let mut spec = square();
        spec.roads[0].to = 9;
        let e = RoadMap::build(&spec, LightTiming::default(), 0).unwrap_err();
        assert!(e.0.contains("road 0") && e.0.contains("node 9"), "{e}");
        let mut spec = square();
        spec.roads.remove(5); // 3 → 0: nodes 0 and 3 keep one road each
        let e = RoadMap::build(&spec, LightTiming::default(), 0).unwrap_err();
        assert!(e.0.contains("node 0") && e.0.contains("dead ends"), "{e}");
        let e = RoadMap::parse_spec("x.ron", "(nodes: [], roadz: [])").unwrap_err();
        assert!(e.0.contains("x.ron") && e.0.contains("roadz"), "{e}");
    }
}
