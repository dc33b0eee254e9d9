//! The OpenDRIVE importer against hand-written files: geometry checked against an
//! independent evaluation of each reference-line type, a small ring with a junction and a
//! light driven end to end, and bad or unusual files.

use rapt_drive::geom::{Polyline, V2};
use rapt_drive::map::{LightState, LightTiming};
use rapt_drive::opendrive::{self, LaneLine};

const DATA: &str = "tests/data/opendrive";

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{DATA}/{name}")).unwrap()
}

/// A reference line evaluated independently of the importer: (x, y, heading) and arc
/// length at parameter values, densely.
struct Curve {
    /// (x, y, hdg, s) at each sample.
    samples: Vec<(f64, f64, f64, f64)>,
}

impl Curve {
    /// Integrate a curvature function with fourth-order Runge-Kutta in 1 mm steps.
    fn from_curvature(x: f64, y: f64, hdg: f64, length: f64, k: impl Fn(f64) -> f64) -> Self {
        let h = 1e-3;
        let n = (length / h).round() as usize;
        let mut state = (x, y, hdg);
        let mut samples = vec![(x, y, hdg, 0.0)];
        let deriv = |s: f64, st: (f64, f64, f64)| (st.2.cos(), st.2.sin(), k(s));
        for i in 0..n {
            let s = i as f64 * h;
            let k1 = deriv(s, state);
            let add = |st: (f64, f64, f64), d: (f64, f64, f64), f: f64| {
                (st.0 + f * d.0, st.1 + f * d.1, st.2 + f * d.2)
            };
            let k2 = deriv(s + h / 2.0, add(state, k1, h / 2.0));
            let k3 = deriv(s + h / 2.0, add(state, k2, h / 2.0));
            let k4 = deriv(s + h, add(state, k3, h));
            state = (
                state.0 + h / 6.0 * (k1.0 + 2.0 * k2.0 + 2.0 * k3.0 + k4.0),
                state.1 + h / 6.0 * (k1.1 + 2.0 * k2.1 + 2.0 * k3.1 + k4.1),
                state.2 + h / 6.0 * (k1.2 + 2.0 * k2.2 + 2.0 * k3.2 + k4.2),
            );
            samples.push((state.0, state.1, state.2, s + h));
        }
        Self { samples }
    }

    /// A curve given in a local frame (u(p), v(p)) for p over [0, p_end], rotated and
    /// moved to (x, y, hdg); arc length by summing 1 mm-ish chords.
    fn from_local(x: f64, y: f64, hdg: f64, p_end: f64, uv: impl Fn(f64) -> (f64, f64)) -> Self {
        let n = 200_000;
        let (sin, cos) = hdg.sin_cos();
        let mut samples = Vec::with_capacity(n + 1);
        let mut s = 0.0;
        let mut last: Option<(f64, f64)> = None;
        for i in 0..=n {
            let p = p_end * i as f64 / n as f64;
            let (u, v) = uv(p);
            let (q, w) = uv((p + 1e-6).min(p_end));
            let (q0, w0) = uv((p - 1e-6).max(0.0));
            let dir = (w - w0).atan2(q - q0);
            let pt = (x + u * cos - v * sin, y + u * sin + v * cos);
            if let Some(l) = last {
                s += ((pt.0 - l.0).powi(2) + (pt.1 - l.1).powi(2)).sqrt();
            }
            last = Some(pt);
            samples.push((pt.0, pt.1, hdg + dir, s));
        }
        Self { samples }
    }

    /// Points of the lane centre `t(s)` m to the left of the line.
    fn offset(&self, t: impl Fn(f64) -> f64) -> Vec<V2> {
        self.samples
            .iter()
            .map(|&(x, y, h, s)| {
                let t = t(s);
                V2::new((x - t * h.sin()) as f32, (y + t * h.cos()) as f32)
            })
            .collect()
    }
}

/// A lane centre's lateral position as a function of s, m.
type Offset = Box<dyn Fn(f64) -> f64>;

fn distance_to(line: &Polyline, p: V2) -> f32 {
    let q = line.project(p);
    line.at(q.s).0.dist(p)
}

/// Every 25th independent point lies within 5 cm of the imported centre line, every
/// imported vertex within 5 cm of the independent curve, and the lane runs the right way.
fn assert_matches(lane: &LaneLine, expected: &[V2], forward: bool, what: &str) {
    let mut worst = 0.0f32;
    for p in expected.iter().step_by(25) {
        worst = worst.max(distance_to(&lane.centre, *p));
    }
    let dense = Polyline::new(expected.iter().step_by(10).copied().collect());
    for p in &lane.centre.points {
        worst = worst.max(distance_to(&dense, *p));
    }
    assert!(worst < 0.05, "{what}: {worst:.4} m from the reference");
    let start = if forward {
        expected[0]
    } else {
        *expected.last().unwrap()
    };
    assert!(
        lane.centre.points[0].dist(start) < 0.05,
        "{what}: starts at the wrong end"
    );
    println!("{what}: within {:.1} mm", worst * 1000.0);
}

/// `geometry.xodr`: one road per reference-line type, each with lanes 1, -1 (3.5 m) and
/// -2 (3 m + 0.02 m per m of s), a lane offset of 0.5 m.
#[test]
fn lane_centres_match_an_independent_evaluation_of_each_geometry_type() {
    let (lanes, warnings) = opendrive::lane_lines("geometry.xodr", &read("geometry.xodr")).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let curves = [
        (
            "1",
            "line",
            Curve::from_curvature(10.0, 5.0, 0.3, 40.0, |_| 0.0),
        ),
        (
            "2",
            "arc",
            Curve::from_curvature(100.0, -20.0, 1.0, 60.0, |_| 0.025),
        ),
        (
            "3",
            "spiral",
            Curve::from_curvature(-50.0, 80.0, -0.5, 50.0, |s| 0.01 + (-0.05) * s / 50.0),
        ),
        (
            "4",
            "paramPoly3",
            Curve::from_local(0.0, -100.0, 2.0, 1.0, |p| {
                (
                    45.0 * p - 5.0 * p * p + 2.0 * p * p * p,
                    12.0 * p * p - 4.0 * p * p * p,
                )
            }),
        ),
        (
            "5",
            "poly3",
            // u runs until the arc length is 35 m (about 33.6 m of u).
            Curve::from_local(200.0, 200.0, -2.5, 40.0, |u| {
                (u, 0.01 * u * u - 0.0002 * u * u * u)
            }),
        ),
    ];
    for (road, what, curve) in &curves {
        let length = match *road {
            "1" => 40.0,
            "2" => 60.0,
            "3" => 50.0,
            "4" => 42.9168,
            _ => 35.0,
        };
        // The independent curve cut at the road's length (poly3 and paramPoly3 are given by
        // parameter; their length is the arc length).
        let cut = Curve {
            samples: curve
                .samples
                .iter()
                .copied()
                .filter(|s| s.3 <= length + 1e-9)
                .collect(),
        };
        let offsets: [(i32, Offset); 3] = [
            (1, Box::new(|_| 0.5 + 1.75)),
            (-1, Box::new(|_| 0.5 - 1.75)),
            (-2, Box::new(|s| 0.5 - 3.5 - 0.5 * (3.0 + 0.02 * s))),
        ];
        for (id, t) in &offsets {
            let lane = lanes
                .iter()
                .find(|l| l.road == *road && l.lane == *id)
                .unwrap_or_else(|| panic!("road {road} lane {id} missing"));
            assert_matches(lane, &cut.offset(t), *id < 0, &format!("{what} lane {id}"));
        }
    }
}

#[test]
fn a_ring_with_a_junction_and_a_light_builds_and_drives() {
    let (map, report) =
        opendrive::from_str("ring.xodr", &read("ring.xodr"), LightTiming::default(), 0).unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(
        (report.lanes, report.road_lanes, report.connectors),
        (6, 4, 2),
        "{report}"
    );
    assert_eq!(
        (
            report.junction_nodes,
            report.signalized_junctions,
            report.lights
        ),
        (1, 1, 1)
    );
    // Centre lines on circles of 50 ∓ 1.75 m; the speed limit from km/h.
    for lane in &map.lanes {
        let r = lane.centre.points[0].length();
        assert!(
            lane.centre
                .points
                .iter()
                .all(|p| (p.length() - r).abs() < 0.01),
            "a lane leaves its circle"
        );
        assert!((r - 48.25).abs() < 0.01 || (r - 51.75).abs() < 0.01, "{r}");
        assert!((lane.speed_limit - 30.0 / 3.6).abs() < 1e-4);
    }
    // The light sits on road A's lane -1 (counter-clockwise, outer circle), and it cycles.
    let lit: Vec<_> = map.lanes.iter().filter(|l| l.light.is_some()).collect();
    assert_eq!(lit.len(), 1);
    let end = *lit[0].centre.points.last().unwrap();
    assert!((end.length() - 51.75).abs() < 0.01 && !lit[0].in_junction);
    let light = lit[0].light.unwrap();
    let states: Vec<LightState> = (0..145)
        .map(|t| map.light_state(light, t as f32 * 0.1))
        .collect();
    assert!(states.contains(&LightState::Green) && states.contains(&LightState::Red));
    // Pedestrians cross road A and B next to the junction, kerb to kerb (sidewalk middles).
    let crossings: Vec<_> = map.roads.iter().flat_map(|r| &r.crossings).collect();
    assert_eq!(crossings.len(), 2);
    for c in crossings {
        assert!((c.left - 4.5).abs() < 1e-3 && (c.right - 4.5).abs() < 1e-3);
    }
}

#[test]
fn the_env_drives_an_opendrive_file_with_its_expert() {
    use rapt_core::{Env, EnvBuffers};
    let mut params = rapt_drive::DriveParams {
        map: rapt_drive::MapSource::OpenDrive {
            path: format!("{DATA}/ring.xodr"),
        },
        route_length: 200.0,
        observation: rapt_drive::ObservationMode::Vector,
        ..rapt_drive::DriveParams::default()
    };
    // Four cars on the ring's 0.6 km of lanes: Drive-v0's density.
    params.traffic.vehicles = 4;
    let mut env = rapt_drive::DriveEnv::new("Drive-v0", params).unwrap();
    let rc = rapt_drive::METRICS
        .iter()
        .position(|m| *m == "route_completion")
        .unwrap();
    for seed in 0..4 {
        let mut b = EnvBuffers::new(&env);
        b.reset(&mut env, Some(seed)).unwrap();
        let mut action = [0.0; 2];
        for _ in 0..3000 {
            assert!(env.expert_action(&mut action));
            b.step(&mut env, &action).unwrap();
            if b.terminated || b.truncated {
                break;
            }
        }
        let metrics: Vec<(&str, f32)> = rapt_drive::METRICS
            .iter()
            .copied()
            .zip(b.info.metrics_of(0).iter().copied())
            .collect();
        assert!(
            b.info.success[0],
            "seed {seed}: the expert finishes its route: {metrics:?}"
        );
        assert_eq!(b.info.metrics_of(0)[rc], 100.0);
    }
}

fn error_of(text: &str) -> String {
    match opendrive::from_str("bad.xodr", text, LightTiming::default(), 0) {
        Ok((_, report)) => panic!("expected an error, got a map: {report}"),
        Err(e) => e.to_string(),
    }
}

fn warnings_of(text: &str) -> Vec<String> {
    opendrive::from_str("odd.xodr", text, LightTiming::default(), 0)
        .unwrap()
        .1
        .warnings
}

#[test]
fn malformed_or_truncated_files_are_errors_naming_the_file() {
    let ring = read("ring.xodr");
    let e = error_of(&ring[..ring.len() / 2]);
    assert!(e.contains("bad.xodr"), "{e}");
    assert!(e.starts_with("bad.xodr: XML: not well-formed"), "{e}");
    let e = error_of("<html></html>");
    assert!(e.contains("not <OpenDRIVE>"), "{e}");
    let e = error_of(&ring.replacen(r#"length="10.0""#, r#"length="ten""#, 1));
    assert!(e.contains("road C") && e.contains("length=\"ten\""), "{e}");
    let e = error_of(&ring.replacen(
        r#"<width sOffset="0" a="3.5"/>"#,
        r#"<width sOffset="0"/>"#,
        1,
    ));
    assert!(
        e.contains("road A, laneSection 0, lane 1") && e.contains("`a`"),
        "{e}"
    );
}

#[test]
fn an_unknown_geometry_is_an_error_naming_the_road() {
    let text = read("geometry.xodr").replace("<line/>", "<clothoid/>");
    let e = error_of(&text);
    assert!(
        e.contains("road 1, geometry at s = 0") && e.contains("unknown geometry <clothoid>"),
        "{e}"
    );
}

#[test]
fn zero_width_lanes_are_dropped_with_a_warning() {
    let text = read("ring.xodr").replacen(
        r#"<lane id="-2" type="sidewalk"><width sOffset="0" a="2.0"/></lane>"#,
        r#"<lane id="-2" type="driving"><width sOffset="0" a="0"/></lane>"#,
        1,
    );
    let w = warnings_of(&text);
    assert!(
        w.iter()
            .any(|w| w.contains("road A, laneSection 0, lane -2") && w.contains("dropped")),
        "{w:?}"
    );
}

#[test]
fn missing_junctions_and_connections_are_named() {
    let ring = read("ring.xodr");
    // A junction that does not exist.
    let e = error_of(&ring.replace(
        r#"<successor elementType="junction" elementId="7"/>"#,
        r#"<successor elementType="junction" elementId="8"/>"#,
    ));
    assert!(
        e.contains("road A") && e.contains("junction 8 does not exist"),
        "{e}"
    );
    // A junction without the connection from road A: A's lane -1 leads nowhere, and with
    // it everything else stops being a loop.
    let text = ring
        .replace(r#"<laneLink from="-1" to="-1"/>"#, "")
        .replace(
            r#"<link><predecessor id="-1"/><successor id="-1"/></link>"#,
            r#"<link><successor id="-1"/></link>"#,
        );
    let (map, report) = opendrive::from_str("odd.xodr", &text, LightTiming::default(), 0).unwrap();
    assert!(report.dropped_lanes > 0, "{report}");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("lead nowhere") && w.contains('A')),
        "{:?}",
        report.warnings
    );
    assert!(map.lanes.iter().all(|l| !l.successors.is_empty()));
    // A connection naming a road that does not exist.
    let e = error_of(&ring.replace(
        r#"connectingRoad="C" contactPoint="end""#,
        r#"connectingRoad="Q" contactPoint="end""#,
    ));
    assert!(
        e.contains("junction 7, connection 1") && e.contains("road Q"),
        "{e}"
    );
}

#[test]
fn a_signal_pointing_at_no_lane_is_ignored_with_a_warning() {
    let text = read("ring.xodr").replace(
        r#"<validity fromLane="-1" toLane="-1"/>"#,
        r#"<validity fromLane="-5" toLane="-4"/>"#,
    );
    let (map, report) = opendrive::from_str("odd.xodr", &text, LightTiming::default(), 0).unwrap();
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("signal 900") && w.contains("no driving lane")),
        "{:?}",
        report.warnings
    );
    assert!(map.lanes.iter().all(|l| l.light.is_none()));
    assert_eq!(report.signalized_junctions, 0);
}

#[test]
fn a_link_between_points_that_do_not_meet_is_ignored_with_a_warning() {
    // Road B's start moved 2 m: C's lane -1 no longer meets it.
    let ring = read("ring.xodr");
    let start = ring.find(r#"<road name="B""#).unwrap();
    let x_at = start + ring[start..].find(" x=\"").unwrap() + 4;
    let x_end = x_at + ring[x_at..].find('"').unwrap();
    let x: f64 = ring[x_at..x_end].parse().unwrap();
    let text = format!("{}{}{}", &ring[..x_at], x + 2.0, &ring[x_end..]);
    // Both directions lose a link there, so nothing is left: the error says why.
    let e = error_of(&text);
    assert!(
        e.contains("dead end")
            && e.contains("road C, laneSection 0, lane -1 → road B")
            && e.contains("2.00 m apart: ignored"),
        "{e}"
    );
}

/// Without its signal the ring's junction is unsignalized: a car waits at its entry while
/// another car or the ego is inside, and drives on once it is free.
#[test]
fn traffic_waits_at_an_unsignalized_junction_while_another_car_is_inside() {
    use rand::SeedableRng;
    use rapt_drive::pedestrians::Crosswalks;
    use rapt_drive::traffic::{Car, Traffic, TrafficConfig};
    let text = read("ring.xodr").replace(r#"type="1000001""#, r#"type="206""#);
    let (map, report) = opendrive::from_str("ring.xodr", &text, LightTiming::default(), 0).unwrap();
    assert_eq!((report.junction_nodes, report.signalized_junctions), (1, 0));
    let node = &map.nodes[0];
    assert!(node.junction && !node.signalized);
    // Lane ids: road lanes first (A 1, A -1, B 1, B -1 in file order), then C's.
    let approach = map
        .lanes
        .iter()
        .position(|l| !l.in_junction && l.successors.iter().any(|&s| map.lanes[s].in_junction))
        .unwrap();
    let inside = map.lanes.iter().position(|l| l.in_junction).unwrap();
    let car = |lane: usize, s: f32, speed: f32| {
        let mut plan = vec![];
        let mut last = lane;
        for _ in 0..3 {
            last = map.lanes[last].successors[0];
            plan.push(last);
        }
        Car {
            lane,
            s,
            speed,
            factor: 1.0,
            plan,
            pose: map.lanes[lane].centre.at(s),
        }
    };
    let length = map.lanes[approach].centre.length();
    let run = |cars: Vec<Car>, steps: usize, ego: V2| {
        let mut traffic = Traffic { cars };
        let mut rng = rand_pcg::Pcg64::seed_from_u64(0);
        let config = TrafficConfig::default();
        for k in 0..steps {
            traffic.step(
                &map,
                &config,
                k as f32 * 0.1,
                0.1,
                (ego, 0.0),
                (&[], &Crosswalks::default()),
                &mut rng,
            );
        }
        traffic
    };
    // The car inside stands still (a desired speed of ~0).
    let mut parked = car(inside, 1.0, 0.0);
    parked.factor = 1e-6;
    let away = V2::new(1e4, 1e4);
    let t = run(vec![car(approach, length - 30.0, 8.0), parked], 100, away);
    assert_eq!(t.cars[0].lane, approach, "entered an occupied junction");
    // Stopped at the entry, IDM's standstill gap (2.5 m) short of it, as at a red light.
    assert!(
        t.cars[0].s > length - 6.0 && t.cars[0].speed < 0.5,
        "{:?}",
        (t.cars[0].s, length)
    );
    // The ego inside the junction (on the other direction's connector) holds it too.
    let other = map.lanes.iter().rposition(|l| l.in_junction).unwrap();
    assert_ne!(other, inside);
    let ego = map.lanes[other].centre.at(5.0).0;
    let t = run(vec![car(approach, length - 30.0, 8.0)], 100, ego);
    assert_eq!(t.cars[0].lane, approach, "entered a junction the ego is in");
    let t = run(vec![car(approach, length - 30.0, 8.0)], 100, away);
    assert_ne!(t.cars[0].lane, approach, "waited at a free junction");
}

#[test]
fn map_parameters_that_name_a_wrong_or_missing_file_say_what_to_do() {
    let env = |map| {
        let params = rapt_drive::DriveParams {
            map,
            ..rapt_drive::DriveParams::default()
        };
        rapt_drive::DriveEnv::new("Drive-v0", params)
            .err()
            .unwrap()
            .to_string()
    };
    let e = env(rapt_drive::MapSource::File("town.xodr".into()));
    assert!(e.contains(r#"OpenDrive(path: "town.xodr")"#), "{e}");
    let e = env(rapt_drive::MapSource::OpenDrive {
        path: "no/such/town.xodr".into(),
    });
    assert!(
        e.contains("no/such/town.xodr") && e.contains("carla/Town01.xodr"),
        "{e}"
    );
}
