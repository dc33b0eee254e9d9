//! CARLA's Town01 and Town02 (assets/maps/carla, OpenDRIVE 1.4) through the importer:
//! what they hold, that every lane reaches every lane, and that the lanes match the file's
//! geometry evaluated independently (closed-form lines and arcs, read with roxmltree).

use rapt_drive::geom::{Polyline, V2};
use rapt_drive::map::{LightTiming, RoadMap};
use rapt_drive::opendrive;

const TOWNS: [&str; 2] = ["carla/Town01.xodr", "carla/Town02.xodr"];

/// Lanes, connectors, junctions, lights: the counts of each town, and a lane graph in
/// which every lane reaches every other (so routes can start on any road lane and reach
/// any lane).
#[test]
fn the_towns_load_whole_and_strongly_connected() {
    // (lanes, road lanes, connectors, junctions, lights)
    let expected = [(124, 52, 72, 12, 36), (88, 40, 48, 8, 24)];
    for (town, want) in TOWNS.iter().zip(expected) {
        let (map, report) = opendrive::load(town, LightTiming::default(), 0).unwrap();
        println!("{town}: {report}");
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        assert_eq!(
            (
                report.lanes,
                report.road_lanes,
                report.connectors,
                report.signalized_junctions,
                report.lights
            ),
            want
        );
        assert_eq!(report.dropped_lanes, 0);
        assert_eq!(report.junction_nodes, want.3);
        // Every lane ending at a junction has its light; connectors have none.
        for l in &map.lanes {
            let into_junction = l.successors.iter().any(|&s| map.lanes[s].in_junction);
            assert_eq!(l.light.is_some(), into_junction && !l.in_junction);
        }
        assert_eq!(reachable(&map, false), map.lanes.len(), "{town}");
        assert_eq!(reachable(&map, true), map.lanes.len(), "{town}");
        assert_eq!(report.strongly_connected_lanes, map.lanes.len());
        // 25 mph from the file.
        assert!(
            map.lanes
                .iter()
                .all(|l| (l.speed_limit - 11.176).abs() < 1e-3)
        );
    }
}

/// Lanes reached from lane 0 along successors (or, `backward`, predecessors).
fn reachable(map: &RoadMap, backward: bool) -> usize {
    let n = map.lanes.len();
    let mut next = vec![Vec::new(); n];
    for (id, l) in map.lanes.iter().enumerate() {
        for &s in &l.successors {
            if backward {
                next[s].push(id);
            } else {
                next[id].push(s);
            }
        }
    }
    let mut seen = vec![false; n];
    let mut stack = vec![0];
    seen[0] = true;
    while let Some(v) = stack.pop() {
        for &w in &next[v] {
            if !seen[w] {
                seen[w] = true;
                stack.push(w);
            }
        }
    }
    seen.iter().filter(|&&s| s).count()
}

fn num(node: roxmltree::Node, name: &str) -> f64 {
    node.attribute(name).unwrap().parse().unwrap()
}

/// The towns' roads are lines and arcs with constant lane widths and cubic lane offsets:
/// evaluate each lane centre in closed form every 2 m of s and compare with the imported
/// centre lines.
#[test]
fn town_lanes_match_the_files_lines_and_arcs_within_5_cm() {
    for town in TOWNS {
        let text = std::fs::read_to_string(format!("../../assets/maps/{town}")).unwrap();
        let (lines, _) = opendrive::lane_lines(town, &text).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        let (mut checked, mut worst) = (0usize, 0.0f32);
        for road in doc.descendants().filter(|n| n.has_tag_name("road")) {
            let id = road.attribute("id").unwrap();
            let length = num(road, "length");
            let geoms: Vec<_> = road
                .descendants()
                .filter(|n| n.has_tag_name("geometry"))
                .collect();
            let offsets: Vec<_> = road
                .descendants()
                .filter(|n| n.has_tag_name("laneOffset"))
                .collect();
            let lane_offset = |s: f64| -> f64 {
                offsets
                    .iter()
                    .rev()
                    .find(|o| num(**o, "s") <= s + 1e-9)
                    .map_or(0.0, |o| {
                        let ds = s - num(*o, "s");
                        num(*o, "a")
                            + num(*o, "b") * ds
                            + num(*o, "c") * ds * ds
                            + num(*o, "d") * ds * ds * ds
                    })
            };
            let reference = |s: f64| -> (f64, f64, f64) {
                let g = geoms
                    .iter()
                    .rev()
                    .find(|g| num(**g, "s") <= s + 1e-9)
                    .unwrap();
                let (x, y, h, ds) = (num(*g, "x"), num(*g, "y"), num(*g, "hdg"), s - num(*g, "s"));
                let shape = g.first_element_child().unwrap();
                match shape.tag_name().name() {
                    "line" => (x + ds * h.cos(), y + ds * h.sin(), h),
                    "arc" => {
                        let k = num(shape, "curvature");
                        let (cx, cy) = (x - h.sin() / k, y + h.cos() / k);
                        let a = h + k * ds;
                        (cx + a.sin() / k, cy - a.cos() / k, a)
                    }
                    other => panic!("{town} road {id}: a {other} (the towns have lines and arcs)"),
                }
            };
            let sections: Vec<_> = road
                .descendants()
                .filter(|n| n.has_tag_name("laneSection"))
                .collect();
            for (j, sec) in sections.iter().enumerate() {
                let s0 = num(*sec, "s");
                let s1 = sections.get(j + 1).map_or(length, |n| num(*n, "s"));
                let lanes: Vec<_> = sec
                    .descendants()
                    .filter(|n| n.has_tag_name("lane"))
                    .collect();
                let width = |lid: i32| -> f64 {
                    let l = lanes
                        .iter()
                        .find(|l| l.attribute("id").unwrap().parse::<i32>().unwrap() == lid)
                        .unwrap();
                    let w = l.children().find(|c| c.has_tag_name("width")).unwrap();
                    assert_eq!((num(w, "b"), num(w, "c"), num(w, "d")), (0.0, 0.0, 0.0));
                    num(w, "a")
                };
                for lane in lines.iter().filter(|l| l.road == id && l.section == j) {
                    let sign = f64::from(lane.lane.signum());
                    let inner: f64 = (1..lane.lane.abs())
                        .map(|k| width(lane.lane.signum() * k))
                        .sum();
                    let t0 = sign * (inner + 0.5 * width(lane.lane));
                    // Off the sample grid, so chords count too.
                    let mut s = s0 + 0.37;
                    while s <= s1 {
                        let (x, y, h) = reference(s);
                        let t = t0 + lane_offset(s);
                        let p = V2::new((x - t * h.sin()) as f32, (y + t * h.cos()) as f32);
                        worst = worst.max(distance_to(&lane.centre, p));
                        checked += 1;
                        s += 1.3;
                    }
                }
            }
        }
        println!("{town}: {checked} points, worst {:.1} mm", worst * 1000.0);
        assert!(checked > 1000 && worst < 0.05, "{town}: {worst} m");
    }
}

fn distance_to(line: &Polyline, p: V2) -> f32 {
    let q = line.project(p);
    line.at(q.s).0.dist(p)
}
