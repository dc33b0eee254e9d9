//! Routes: a lane sequence through the network and its centre line, from a start point on
//! a road lane to a finish on a road lane (never inside a junction).

use rand::Rng;

use crate::geom::{Polyline, V2};
use crate::map::{LaneId, RoadMap};

/// A route to drive.
#[derive(Debug, Clone)]
pub struct Route {
    /// Centre line, start to finish.
    pub line: Polyline,
    /// The lane each vertex of `line` lies on.
    pub lane_at: Vec<LaneId>,
    /// The lanes in order.
    pub lanes: Vec<LaneId>,
}

impl Route {
    /// Length, m.
    pub fn length(&self) -> f32 {
        self.line.length()
    }

    /// Start point and heading (rad).
    pub fn start(&self) -> (V2, f32) {
        self.line.at(0.0)
    }
}

/// A random route of at least `length` m on `map` (it ends at the first vertex past
/// `length` that lies on a road lane).
pub fn sample_route(map: &RoadMap, rng: &mut impl Rng, length: f32) -> Route {
    let starts: Vec<LaneId> = (0..map.lanes.len())
        .filter(|&l| !map.lanes[l].in_junction && map.lanes[l].centre.length() >= 10.0)
        .collect();
    let first = starts[rng.random_range(0..starts.len())];
    let lane = &map.lanes[first];
    let s0 = rng.random_range(0.0..0.5 * lane.centre.length());
    let skip = lane.centre.s.partition_point(|&s| s < s0);
    let mut points: Vec<V2> = vec![lane.centre.at(s0).0];
    let mut lane_at = vec![first];
    let mut lanes = vec![first];
    let mut acc = 0.0;
    let mut current = first;
    let mut from_vertex = skip;
    loop {
        let centre = &map.lanes[current].centre;
        for &p in &centre.points[from_vertex.min(centre.points.len())..] {
            let last = *points.last().expect("non-empty");
            let d = p.dist(last);
            if d < 1e-3 {
                continue;
            }
            acc += d;
            points.push(p);
            lane_at.push(current);
            if acc >= length && !map.lanes[current].in_junction {
                return Route {
                    line: Polyline::new(points),
                    lane_at,
                    lanes,
                };
            }
        }
        let next = &map.lanes[current].successors;
        current = next[rng.random_range(0..next.len())];
        lanes.push(current);
        from_vertex = 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::GeneratorConfig;
    use crate::map::LightTiming;
    use rand::SeedableRng;

    /// Generated maps are valid and every sampled route is drivable: consecutive lanes are
    /// successors, the line is continuous, it starts and ends on road lanes — over 1,000
    /// seeds.
    #[test]
    fn a_thousand_generated_maps_are_valid_and_their_routes_drivable() {
        let config = GeneratorConfig::default();
        let mut junctions = [0usize; 5];
        for seed in 0..1000u64 {
            let spec = config.generate(seed);
            let map = RoadMap::build(&spec, LightTiming::default(), seed)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            for n in &map.nodes {
                junctions[n.approaches.len().min(4)] += 1;
            }
            let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
            for _ in 0..3 {
                let route = sample_route(&map, &mut rng, 400.0);
                assert!(route.length() >= 400.0, "seed {seed}");
                for w in route.lanes.windows(2) {
                    assert!(map.lanes[w[0]].successors.contains(&w[1]), "seed {seed}");
                }
                for w in route.line.points.windows(2) {
                    assert!(
                        w[0].dist(w[1]) < 1.6,
                        "seed {seed}: gap {}",
                        w[0].dist(w[1])
                    );
                }
                assert!(!map.lanes[route.lanes[0]].in_junction);
                assert!(!map.lanes[*route.lane_at.last().unwrap()].in_junction);
            }
        }
        // Both 3-way and 4-way junctions occur.
        assert!(junctions[3] > 100 && junctions[4] > 100, "{junctions:?}");
    }
}
