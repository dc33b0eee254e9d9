//! An OpenDRIVE road outside junctions as a rapt [`Road`]: centre line, markings and
//! pedestrian crossings.

use super::build::{DRIVABLE_TYPES, samples, v2};
use super::geometry::{lane_bounds, lane_offset, reference};
use super::parse::{RoadDef, RoadLink, SectionDef};
use crate::geom::{Polyline, V2};
use crate::map::{Crossing, Marking, Road};

/// The centre line, markings and crossings of an OpenDRIVE road outside junctions.
pub(super) fn build_road(road: &RoadDef) -> Road {
    let lane_line = |s: f64| {
        let pose = reference(road, s);
        v2(pose.offset(lane_offset(&road.lane_offsets, s)))
    };
    let drivable = |sec: &SectionDef, id: i32| {
        sec.lanes
            .iter()
            .any(|l| l.id == id && DRIVABLE_TYPES.contains(&l.kind.as_str()))
    };
    let ss = samples(road, 0.0, road.length);
    let centre = Polyline::new(ss.iter().map(|&s| lane_line(s)).collect());
    let mut markings = Vec::new();
    for (j, sec) in road.sections.iter().enumerate() {
        let end = road.sections.get(j + 1).map_or(road.length, |n| n.s);
        let ss = samples(road, sec.s, end);
        let line = |t: &dyn Fn(f64) -> f64| {
            Polyline::new(
                ss.iter()
                    .map(|&s| v2(reference(road, s).offset(t(s))))
                    .collect(),
            )
        };
        if drivable(sec, 1) && drivable(sec, -1) {
            markings.push(Marking {
                line: line(&|s| lane_offset(&road.lane_offsets, s)),
                offset: 0.0,
                broken: false,
            });
        }
        for l in &sec.lanes {
            let next = l.id + l.id.signum();
            if drivable(sec, l.id) && drivable(sec, next) {
                markings.push(Marking {
                    line: line(&|s| lane_bounds(road, sec, l.id, s).1),
                    offset: 0.0,
                    broken: true,
                });
            }
        }
    }
    // Crossings 2 m from each end that meets a junction, from kerb to kerb: the middle of
    // the sidewalk where there is one, else 1 m past the outermost drivable lane.
    let mut crossings = Vec::new();
    let ends = [
        (
            matches!(road.predecessor, Some(RoadLink::Junction(_))),
            2.0,
            0,
        ),
        (
            matches!(road.successor, Some(RoadLink::Junction(_))),
            road.length - 2.0,
            road.sections.len() - 1,
        ),
    ];
    for (at_junction, s, j) in ends {
        if !at_junction || road.length < 8.0 {
            continue;
        }
        let sec = &road.sections[j];
        let kerb = |sign: i32| -> f64 {
            let mut ids: Vec<i32> = sec
                .lanes
                .iter()
                .filter(|l| l.id.signum() == sign)
                .map(|l| l.id)
                .collect();
            ids.sort_by_key(|id| id.abs());
            let mut last_drivable = None;
            for &id in &ids {
                let (inner, outer) = lane_bounds(road, sec, id, s);
                let kind = sec
                    .lanes
                    .iter()
                    .find(|l| l.id == id)
                    .map(|l| l.kind.as_str());
                if kind == Some("sidewalk") {
                    return 0.5 * (inner + outer);
                }
                if kind.is_some_and(|k| DRIVABLE_TYPES.contains(&k)) {
                    last_drivable = Some(outer);
                }
            }
            last_drivable.map_or(sign as f64 * 1.0, |o| o + sign as f64 * 1.0)
        };
        let pose = reference(road, s);
        let t0 = lane_offset(&road.lane_offsets, s);
        let (left, right) = (kerb(1), kerb(-1));
        crossings.push(Crossing {
            at: v2(pose.offset(t0)),
            across: V2::from_yaw(pose.hdg as f32).perp(),
            right: (t0 - right).max(1.0) as f32,
            left: (left - t0).max(1.0) as f32,
        });
    }
    Road {
        centre,
        markings,
        crossings,
    }
}
