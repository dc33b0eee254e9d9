//! Parsed records → a [`RoadMap`]: one rapt lane per drivable OpenDRIVE lane and lane
//! section, successors from lane links across sections, roads and junction connections
//! (each checked by geometry: a lane's end must meet its successor's start), pruned to the
//! largest strongly connected part so that every kept lane is reachable by routes; traffic
//! lights from dynamic signals grouped into phases by their controllers.

use std::collections::{BTreeMap, HashMap};

use super::geometry::{Pose, curvature, lane_bounds, reference, width};
use super::graph::{largest_scc, without_dead_ends};
use super::lights::assign_lights;
use super::parse::{Contact, Document, RoadDef, RoadLink};
use super::roads::build_road;
use super::{ImportReport, OpenDriveError};
use crate::geom::{Polyline, V2, vertex_turns};
use crate::map::{Lane, LaneId, LightTiming, Node, Road, RoadMap, draw_light_offsets};

/// Lane types a car may drive on.
pub const DRIVABLE_TYPES: [&str; 6] = [
    "driving",
    "entry",
    "exit",
    "onRamp",
    "offRamp",
    "connectingRamp",
];

/// A drivable lane narrower than this over its whole section is dropped, m.
pub const MIN_LANE_WIDTH: f64 = 0.5;

/// How far a lane's end may lie from its successor's start, m.
pub const LINK_TOLERANCE: f32 = 0.3;

/// Speed limit of lanes whose road gives none (nor do their neighbours), m/s: 40 km/h,
/// as the generated towns' default.
pub const DEFAULT_SPEED_LIMIT: f32 = 11.1;

/// Sample spacing along lanes: 1 m, 0.5 m where the reference line curves with a
/// radius under 100 m (the chord then stays within 1 cm of the curve down to 3 m radii).
fn step(road: &RoadDef, s: f64) -> f64 {
    if curvature(road, s).abs() > 0.01 {
        0.5
    } else {
        1.0
    }
}

/// Sample positions over `[s0, s1]`, both ends included.
pub(super) fn samples(road: &RoadDef, s0: f64, s1: f64) -> Vec<f64> {
    let mut out = vec![s0];
    let mut s = s0;
    loop {
        let h = step(road, s);
        if s + 1.5 * h >= s1 {
            if s1 - s > 0.5 * h {
                out.push(0.5 * (s + s1));
            }
            out.push(s1);
            return out;
        }
        s += h;
        out.push(s);
    }
}

pub(super) fn v2((x, y): (f64, f64)) -> V2 {
    V2::new(x as f32, y as f32)
}

/// Identifies an OpenDRIVE lane: (road index, section index, lane id).
type Key = (usize, usize, i32);

/// A lane before linking.
pub(super) struct Draft {
    pub key: Key,
    points: Vec<V2>,
    width: f32,
    speed: Option<f32>,
    junction: Option<usize>,
}

pub(super) struct Builder<'a> {
    file: &'a str,
    pub doc: &'a Document,
    roads: HashMap<&'a str, usize>,
    junctions: HashMap<&'a str, usize>,
    pub warnings: Vec<String>,
}

impl<'a> Builder<'a> {
    /// A builder of `doc`, its ids and links checked.
    fn new(file: &'a str, doc: &'a Document) -> Result<Self, OpenDriveError> {
        let mut b = Self {
            file,
            doc,
            roads: HashMap::new(),
            junctions: HashMap::new(),
            warnings: Vec::new(),
        };
        b.index()?;
        Ok(b)
    }

    fn error(&self, element: impl Into<String>, message: impl Into<String>) -> OpenDriveError {
        OpenDriveError {
            file: self.file.to_string(),
            element: element.into(),
            message: message.into(),
        }
    }

    fn section_end(&self, r: usize, j: usize) -> f64 {
        let road = &self.doc.roads[r];
        road.sections.get(j + 1).map_or(road.length, |n| n.s)
    }

    fn section_at(&self, r: usize, contact: Contact) -> usize {
        match contact {
            Contact::Start => 0,
            Contact::End => self.doc.roads[r].sections.len() - 1,
        }
    }

    pub fn forward(&self, r: usize, id: i32) -> bool {
        if self.doc.roads[r].left_hand {
            id > 0
        } else {
            id < 0
        }
    }

    /// Check ids, links and section order; fill the indices.
    fn index(&mut self) -> Result<(), OpenDriveError> {
        for (k, road) in self.doc.roads.iter().enumerate() {
            if self.roads.insert(&road.id, k).is_some() {
                return Err(self.error(format!("road {}", road.id), "the id appears twice"));
            }
        }
        for (k, j) in self.doc.junctions.iter().enumerate() {
            if self.junctions.insert(&j.id, k).is_some() {
                return Err(self.error(format!("junction {}", j.id), "the id appears twice"));
            }
        }
        for road in &self.doc.roads {
            let at = format!("road {}", road.id);
            for (what, link) in [
                ("predecessor", &road.predecessor),
                ("successor", &road.successor),
            ] {
                match link {
                    Some(RoadLink::Road { id, .. }) if !self.roads.contains_key(id.as_str()) => {
                        return Err(self.error(&at, format!("its {what} road {id} does not exist")));
                    }
                    Some(RoadLink::Junction(id)) if !self.junctions.contains_key(id.as_str()) => {
                        return Err(
                            self.error(&at, format!("its {what} junction {id} does not exist"))
                        );
                    }
                    _ => {}
                }
            }
            if let Some(j) = &road.junction
                && !self.junctions.contains_key(j.as_str())
            {
                return Err(self.error(
                    &at,
                    format!("it lies in junction {j}, which does not exist"),
                ));
            }
            for (k, sec) in road.sections.iter().enumerate() {
                let end = road.sections.get(k + 1).map_or(road.length, |n| n.s);
                if !(sec.s >= 0.0 && end - sec.s > 1e-3) {
                    return Err(self.error(
                        format!("{at}, laneSection {k}"),
                        format!(
                            "starts at s = {} but the next section (or the road's end) is at s = {end}: sections must be in order and at least 1 mm long",
                            sec.s
                        ),
                    ));
                }
            }
            let mut g_end = 0.0;
            for g in &road.geometries {
                if (g.s - g_end).abs() > 0.01 {
                    return Err(self.error(
                        format!("{at}, geometry at s = {}", g.s),
                        format!(
                            "leaves a gap or overlap: the previous geometry ends at s = {g_end}"
                        ),
                    ));
                }
                g_end = g.s + g.length;
            }
            if (g_end - road.length).abs() > 0.01 {
                return Err(self.error(
                    &at,
                    format!(
                        "its geometries end at s = {g_end} but the road is {} m long",
                        road.length
                    ),
                ));
            }
        }
        for j in &self.doc.junctions {
            for c in &j.connections {
                for (what, id) in [("incoming", &c.incoming), ("connecting", &c.connecting)] {
                    if !self.roads.contains_key(id.as_str()) {
                        return Err(self.error(
                            format!("junction {}, connection {}", j.id, c.id),
                            format!("its {what} road {id} does not exist"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// One draft per drivable lane of every section.
    fn drafts(&mut self) -> Vec<Draft> {
        let mut out = Vec::new();
        for (r, road) in self.doc.roads.iter().enumerate() {
            let junction = road.junction.as_ref().map(|j| self.junctions[j.as_str()]);
            for (j, sec) in road.sections.iter().enumerate() {
                let (s0, s1) = (sec.s, self.section_end(r, j));
                let ss = samples(road, s0, s1);
                let poses: Vec<Pose> = ss.iter().map(|&s| reference(road, s)).collect();
                for lane in sec
                    .lanes
                    .iter()
                    .filter(|l| DRIVABLE_TYPES.contains(&l.kind.as_str()))
                {
                    let widths: Vec<f64> = ss.iter().map(|&s| width(lane, sec.s, s)).collect();
                    let widest = widths.iter().copied().fold(0.0, f64::max);
                    if widest < MIN_LANE_WIDTH {
                        self.warnings.push(format!(
                            "road {}, laneSection {j}, lane {}: a {} lane {widest:.2} m wide at most, dropped (lanes under {MIN_LANE_WIDTH} m are)",
                            road.id, lane.id, lane.kind
                        ));
                        continue;
                    }
                    let mut points: Vec<V2> = ss
                        .iter()
                        .zip(&poses)
                        .map(|(&s, pose)| {
                            let (inner, outer) = lane_bounds(road, sec, lane.id, s);
                            v2(pose.offset(0.5 * (inner + outer)))
                        })
                        .collect();
                    points.dedup_by(|a, b| a.dist(*b) < 1e-4);
                    if points.len() < 2 {
                        continue;
                    }
                    if !self.forward(r, lane.id) {
                        points.reverse();
                    }
                    let mut sorted = widths.clone();
                    sorted.sort_by(f64::total_cmp);
                    let speed = lane.speed.or_else(|| {
                        road.speeds
                            .iter()
                            .rev()
                            .find(|(s, _)| *s <= s0 + 1e-6)
                            .or(road.speeds.first())
                            .map(|&(_, v)| v)
                    });
                    out.push(Draft {
                        key: (r, j, lane.id),
                        points,
                        width: sorted[sorted.len() / 2] as f32,
                        speed: speed.map(|v| v as f32),
                        junction,
                    });
                }
            }
        }
        out
    }

    /// Candidate successor links of every draft, from both ends of every link.
    fn candidates(&self, drafts: &[Draft]) -> Vec<(Key, Key)> {
        let mut out = Vec::new();
        for d in drafts {
            let (r, j, id) = d.key;
            let road = &self.doc.roads[r];
            let lane = road.sections[j]
                .lanes
                .iter()
                .find(|l| l.id == id)
                .expect("drafts come from lanes");
            let last = road.sections.len() - 1;
            let fwd = self.forward(r, id);
            // Where this lane goes (its exit) and where it comes from (its entry).
            let (exit_link, exit_next, exit_road_link) = if fwd {
                (lane.successor, (j < last).then(|| j + 1), &road.successor)
            } else {
                (lane.predecessor, j.checked_sub(1), &road.predecessor)
            };
            let (entry_link, entry_prev, entry_road_link) = if fwd {
                (lane.predecessor, j.checked_sub(1), &road.predecessor)
            } else {
                (lane.successor, (j < last).then(|| j + 1), &road.successor)
            };
            match (exit_next, exit_link) {
                (Some(n), Some(x)) => out.push((d.key, (r, n, x))),
                (Some(_), None) => {}
                (None, _) => match exit_road_link {
                    Some(RoadLink::Road { id: other, contact }) => {
                        if let Some(x) = exit_link {
                            let r2 = self.roads[other.as_str()];
                            out.push((d.key, (r2, self.section_at(r2, *contact), x)));
                        }
                    }
                    Some(RoadLink::Junction(jid)) => {
                        let junction = &self.doc.junctions[self.junctions[jid.as_str()]];
                        for c in junction
                            .connections
                            .iter()
                            .filter(|c| c.incoming == road.id)
                        {
                            let r2 = self.roads[c.connecting.as_str()];
                            for &(from, to) in &c.lane_links {
                                if from == id {
                                    out.push((d.key, (r2, self.section_at(r2, c.contact), to)));
                                }
                            }
                        }
                    }
                    None => {}
                },
            }
            match (entry_prev, entry_link) {
                (Some(p), Some(x)) => out.push(((r, p, x), d.key)),
                (Some(_), None) => {}
                (None, Some(x)) => {
                    if let Some(RoadLink::Road { id: other, contact }) = entry_road_link {
                        let r2 = self.roads[other.as_str()];
                        out.push(((r2, self.section_at(r2, *contact), x), d.key));
                    }
                }
                (None, None) => {}
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn lane_exists(&self, (r, j, id): Key) -> bool {
        self.doc.roads[r].sections[j]
            .lanes
            .iter()
            .any(|l| l.id == id)
    }

    fn name((r, j, id): Key, doc: &Document) -> String {
        format!("road {}, laneSection {j}, lane {id}", doc.roads[r].id)
    }

    /// Successor lists (indices into `drafts`), each link checked by geometry.
    fn link(&mut self, drafts: &[Draft]) -> Vec<Vec<usize>> {
        let by_key: HashMap<Key, usize> =
            drafts.iter().enumerate().map(|(k, d)| (d.key, k)).collect();
        let mut succ = vec![Vec::new(); drafts.len()];
        for (a, b) in self.candidates(drafts) {
            let (Some(&ia), Some(&ib)) = (by_key.get(&a), by_key.get(&b)) else {
                for k in [a, b] {
                    if !self.lane_exists(k) {
                        let (from, to) = (Self::name(a, self.doc), Self::name(b, self.doc));
                        self.warnings.push(format!(
                            "the link {from} → {to} names a lane that does not exist: ignored"
                        ));
                    }
                }
                continue;
            };
            let (pa, pb) = (&drafts[ia].points, &drafts[ib].points);
            let gap = pa.last().expect("drafts have points").dist(pb[0]);
            if gap <= LINK_TOLERANCE {
                succ[ia].push(ib);
            } else {
                // A link read against the direction of travel (e.g. a junction connection
                // listed from the lane leaving it) is not a way on; anything else is a
                // broken link.
                let reverse = pb.last().expect("drafts have points").dist(pa[0]);
                if reverse > LINK_TOLERANCE {
                    self.warnings.push(format!(
                        "the link {} → {} joins points {gap:.2} m apart: ignored",
                        Self::name(a, self.doc),
                        Self::name(b, self.doc)
                    ));
                }
            }
        }
        for s in &mut succ {
            s.sort_unstable();
            s.dedup();
        }
        succ
    }
}

/// The centre lines of every drivable lane of a parsed file, in travel direction, as the
/// map will hold them (before linking and pruning), with their warnings.
pub(super) fn lane_lines(
    file: &str,
    doc: &Document,
) -> Result<(Vec<super::LaneLine>, Vec<String>), OpenDriveError> {
    let mut b = Builder::new(file, doc)?;
    let lines = b
        .drafts()
        .into_iter()
        .map(|d| super::LaneLine {
            road: doc.roads[d.key.0].id.clone(),
            section: d.key.1,
            lane: d.key.2,
            centre: Polyline::new(d.points),
            width: d.width,
        })
        .collect();
    Ok((lines, b.warnings))
}

/// Build the map of a parsed file.
pub(super) fn build(
    file: &str,
    doc: &Document,
    timing: LightTiming,
    seed: u64,
) -> Result<(RoadMap, ImportReport), OpenDriveError> {
    let mut b = Builder::new(file, doc)?;
    let drafts = b.drafts();
    if drafts.is_empty() {
        return Err(b.error("OpenDRIVE", "the file has no drivable lane"));
    }
    let succ = b.link(&drafts);
    let keep = without_dead_ends(&succ);
    let kept = keep.iter().filter(|&&k| k).count();
    if kept < drafts.len() {
        let mut roads: Vec<&str> = drafts
            .iter()
            .zip(&keep)
            .filter(|(_, k)| !**k)
            .map(|(d, _)| doc.roads[d.key.0].id.as_str())
            .collect();
        roads.dedup();
        let shown = roads
            .iter()
            .take(12)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        b.warnings.push(format!(
            "{} of {} driving lanes lead nowhere (dead ends, missing junction connections, or lanes leading only into those): dropped, so that every route can go on (roads {shown}{})",
            drafts.len() - kept,
            drafts.len(),
            if roads.len() > 12 { ", …" } else { "" }
        ));
    }
    if kept == 0 {
        let why: Vec<&str> = b.warnings.iter().take(4).map(String::as_str).collect();
        return Err(b.error(
            "OpenDRIVE",
            format!(
                "every driving lane leads into a dead end: routes need a network with loops ({})",
                why.join("; ")
            ),
        ));
    }
    // Road lanes first, then connectors.
    let mut order: Vec<usize> = (0..drafts.len()).filter(|&k| keep[k]).collect();
    order.sort_by_key(|&k| (drafts[k].junction.is_some(), k));
    let mut new_id = vec![usize::MAX; drafts.len()];
    for (n, &k) in order.iter().enumerate() {
        new_id[k] = n;
    }
    // rapt roads: the OpenDRIVE roads outside junctions that kept a lane.
    let mut road_of: BTreeMap<usize, usize> = BTreeMap::new();
    for &k in &order {
        let r = drafts[k].key.0;
        if drafts[k].junction.is_none() && !road_of.contains_key(&r) {
            let n = road_of.len();
            road_of.insert(r, n);
        }
    }
    let mut node_of: BTreeMap<usize, usize> = BTreeMap::new();
    for &k in &order {
        if let Some(j) = drafts[k].junction
            && !node_of.contains_key(&j)
        {
            let n = node_of.len();
            node_of.insert(j, n);
        }
    }
    let mut lanes: Vec<Lane> = order
        .iter()
        .map(|&k| {
            let d = &drafts[k];
            let (r, j, id) = d.key;
            let same_side_inner = doc.roads[r].sections[j]
                .lanes
                .iter()
                .filter(|l| {
                    DRIVABLE_TYPES.contains(&l.kind.as_str())
                        && l.id.signum() == id.signum()
                        && l.id.abs() < id.abs()
                })
                .count();
            Lane {
                centre: Polyline::new(d.points.clone()),
                width: d.width,
                speed_limit: d.speed.unwrap_or(f32::NAN),
                successors: succ[k]
                    .iter()
                    .filter(|&&s| keep[s])
                    .map(|&s| new_id[s])
                    .collect(),
                in_junction: d.junction.is_some(),
                road: road_of.get(&r).copied().filter(|_| d.junction.is_none()),
                index: same_side_inner as u32,
                light: None,
                node: d.junction.map(|j| node_of[&j]),
            }
        })
        .collect();
    let mut preds: Vec<Vec<LaneId>> = vec![Vec::new(); lanes.len()];
    for (id, l) in lanes.iter().enumerate() {
        for &s in &l.successors {
            preds[s].push(id);
        }
    }
    fill_speeds(&mut lanes, &preds);

    let roads: Vec<Road> = road_of.keys().map(|&r| build_road(&doc.roads[r])).collect();
    let mut nodes: Vec<Node> = node_of
        .keys()
        .map(|_| Node {
            centre: V2::default(),
            radius: 0.0,
            approaches: Vec::new(),
            phases: 0,
            junction: true,
            signalized: false,
            offset: 0.0,
        })
        .collect();
    let mut counts = vec![0usize; nodes.len()];
    for (id, l) in lanes.iter().enumerate() {
        if let Some(n) = l.node {
            for p in &l.centre.points {
                nodes[n].centre = nodes[n].centre + *p;
                counts[n] += 1;
            }
            for &p in &preds[id] {
                if let Some(r) = lanes[p].road
                    && !nodes[n].approaches.contains(&r)
                {
                    nodes[n].approaches.push(r);
                }
            }
        }
    }
    for (n, c) in nodes.iter_mut().zip(&counts) {
        n.centre = n.centre * (1.0 / (*c).max(1) as f32);
    }
    let lights = assign_lights(
        &mut b, &drafts, &new_id, &mut lanes, &preds, &node_of, &mut nodes,
    );

    for n in &mut nodes {
        n.signalized = n.phases > 0;
    }
    draw_light_offsets(&mut nodes, timing, seed ^ 0x0D0E_5EED);
    let tightest = lanes
        .iter()
        .map(|l| tightest_radius(&l.centre.points))
        .fold(f32::INFINITY, f32::min);
    let loop_lanes = {
        let succ: Vec<Vec<usize>> = lanes.iter().map(|l| l.successors.clone()).collect();
        largest_scc(&succ).iter().filter(|&&k| k).count()
    };
    let report = ImportReport {
        strongly_connected_lanes: loop_lanes,
        roads: doc.roads.len(),
        junctions: doc.junctions.len(),
        file_driving_lanes: drafts.len(),
        lanes: lanes.len(),
        road_lanes: lanes.iter().filter(|l| !l.in_junction).count(),
        connectors: lanes.iter().filter(|l| l.in_junction).count(),
        dropped_lanes: drafts.len() - kept,
        junction_nodes: nodes.len(),
        signalized_junctions: nodes.iter().filter(|n| n.signalized).count(),
        lights,
        lit_lanes: lanes.iter().filter(|l| l.light.is_some()).count(),
        lane_length_m: lanes
            .iter()
            .filter(|l| !l.in_junction)
            .map(|l| l.centre.length())
            .sum(),
        tightest_turn_m: tightest,
        warnings: std::mem::take(&mut b.warnings),
    };
    let map = RoadMap::new(lanes, nodes, roads, timing);
    map.validate(LINK_TOLERANCE)
        .map_err(|e| b.error("lane graph", e.0))?;
    Ok((map, report))
}

/// The tightest turn radius along `points`, m.
fn tightest_radius(p: &[V2]) -> f32 {
    vertex_turns(p)
        .filter(|&(_, turn, arc)| turn > 1e-6 && arc > 1e-3)
        .map(|(_, turn, arc)| arc / turn)
        .fold(f32::INFINITY, f32::min)
}

/// Lanes without a limit take the lowest of their neighbours' (connectors inside
/// junctions usually give none), else [`DEFAULT_SPEED_LIMIT`].
fn fill_speeds(lanes: &mut [Lane], preds: &[Vec<LaneId>]) {
    for _ in 0..4 {
        let known: Vec<f32> = lanes.iter().map(|l| l.speed_limit).collect();
        for (id, l) in lanes.iter_mut().enumerate() {
            if l.speed_limit.is_nan() {
                let near = l
                    .successors
                    .iter()
                    .chain(&preds[id])
                    .map(|&n| known[n])
                    .filter(|v| !v.is_nan())
                    .fold(f32::NAN, f32::min);
                l.speed_limit = near;
            }
        }
    }
    for l in lanes {
        if l.speed_limit.is_nan() {
            l.speed_limit = DEFAULT_SPEED_LIMIT;
        }
        l.speed_limit = l.speed_limit.clamp(1.0, 40.0);
    }
}
