//! The driving env: one ego car on a route through a road network with traffic.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rapt_core::{BoxSpace, Env, EnvError, InfoLayout, InfoMut, Space, StepOut};
use rapt_sim::rapier3d::prelude::PhysicsWorld;
use rapt_sim::{Vehicle, VehicleConfig, VehicleState, WorldConfig, add_ground, new_world};

use crate::built::{BuiltMap, builtin_map, generated_map, opendrive_map};
use crate::geom::{Polyline, V2, boxes_overlap, wrap_angle};
use crate::map::{LaneId, LightState, RoadMap};
use crate::params::{DriveParams, MapSource, ObservationMode, RouteEndWaypoints};
use crate::pedestrians::{self, PEDESTRIAN_HALF, Pedestrian};
use crate::raster::{self, CHANNELS, RasterConfig, RasterScene, StopLine, VehicleShape};
use crate::reward::{Comfort, Factors, Infraction, lane_factor, speeding_factor, step_reward};
use crate::route::{Route, sample_route};
use crate::traffic::{CAR_HALF, Traffic};

/// Measurement slots (see [`DriveEnv`]'s docs for their meaning).
pub const MEASUREMENTS: usize = 29;
/// Waypoints in the measurements, every `WAYPOINT_STEP` m along the route.
const WAYPOINTS: usize = 8;
const WAYPOINT_STEP: f32 = 5.0;
/// How far ahead lights and leaders are reported, m.
const SENSE: f32 = 60.0;

/// Reward terms in info, in order.
pub const REWARD_TERMS: [&str; 7] = [
    "progress",
    "factor_speed",
    "factor_lane",
    "factor_wrong_lane",
    "factor_ttc",
    "factor_comfort",
    "penalty",
];

/// Metrics in info, in order (values at an episode's last step are its results).
pub const METRICS: [&str; 16] = [
    "route_completion",
    "infraction_score",
    "driving_score",
    "infractions",
    "infractions_per_km",
    "collision",
    "pedestrian",
    "red_light",
    "off_road",
    "off_route",
    "blocked",
    "timeout",
    "speed",
    "distance",
    "phi",
    "speed_limit",
];

/// One episode's world.
struct Episode {
    map: Arc<BuiltMap>,
    route: Route,
    /// Arc length along the route of each stop line it crosses, with its light.
    route_stops: Vec<(f32, (usize, usize))>,
    world: PhysicsWorld,
    ego: Vehicle,
    state: VehicleState,
    traffic: Traffic,
    peds: Vec<Pedestrian>,
    t: f32,
    steps: u64,
    /// Route segment of the last projection.
    segment: usize,
    /// Arc length of the last projection, m.
    s: f32,
    /// Furthest arc length reached, m.
    s_max: f32,
    lateral: f32,
    heading_error: f32,
    distance: f32,
    still: f32,
    ttc_until: u64,
    comfort: Comfort,
    last_action: [f32; 2],
    infraction: Option<Infraction>,
    finished: bool,
    factors: Factors,
}

impl std::fmt::Debug for Episode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Episode")
            .field("t", &self.t)
            .field("s_max", &self.s_max)
            .field("route_length", &self.route.length())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// `Drive-v0` and its variants.
///
/// Observation: the bird's-eye raster (channels [`CHANNELS`]) followed by
/// [`MEASUREMENTS`] values: speed / 10, last steering and acceleration actions, lateral
/// offset from the route / 4, heading error to the route (rad), speed limit / 10, state
/// of the next light on the route within 60 m (0 none, 0.33 green, 0.66 yellow, 1 red),
/// distance to its stop line / 60, gap to the vehicle ahead on the route / 60 (1 when
/// none), its speed minus ours / 10, in-junction flag, fraction of the time budget left,
/// fraction of the route left, then 8 route waypoints every 5 m in the ego frame
/// (x / 40, y / 40). Action: steering (positive left) and acceleration (negative brakes)
/// in [−1, 1].
#[derive(Debug)]
pub struct DriveEnv {
    id: &'static str,
    params: DriveParams,
    observation_space: Space,
    action_space: Space,
    layout: InfoLayout,
    vehicle: VehicleConfig,
    rng: rand_pcg::Pcg64,
    file_map: Option<Arc<BuiltMap>>,
    episode: Option<Episode>,
    /// Reused buffers of the raster's dynamic layers.
    scratch: (Vec<VehicleShape>, Vec<(StopLine, LightState)>, Vec<V2>),
}

impl DriveEnv {
    /// A driving env with `params`, reported under `id`.
    pub fn new(id: &'static str, params: DriveParams) -> Result<Self, EnvError> {
        rapt_config::check_params(id, &params)?;
        let file_map = match &params.map {
            MapSource::File(path) if path.ends_with(".xodr") => {
                return Err(EnvError::InvalidParams {
                    id: id.into(),
                    message: format!(
                        "map: File(\"{path}\") reads rapt's RON maps; an OpenDRIVE file goes in `map: OpenDrive(path: \"{path}\")`"
                    ),
                });
            }
            MapSource::File(path) => {
                let text = match builtin_map(path) {
                    Some(text) => text.to_string(),
                    None => std::fs::read_to_string(path).map_err(|e| EnvError::InvalidParams {
                        id: id.into(),
                        message: format!("map file {path}: {e} (built-in maps: ring, cross)"),
                    })?,
                };
                let invalid = |e: crate::map::MapError| EnvError::InvalidParams {
                    id: id.into(),
                    message: format!("map {path}: {e}"),
                };
                let spec = RoadMap::parse_spec(path, &text).map_err(invalid)?;
                let map = RoadMap::build(&spec, params.lights, 0).map_err(invalid)?;
                Some(Arc::new(BuiltMap::new(map)))
            }
            MapSource::OpenDrive { path } => Some(opendrive_map(id, path, params.lights)?),
            MapSource::Generated { .. } => None,
        };
        let measurements = BoxSpace::uniform(-10.0, 10.0, &[MEASUREMENTS]);
        let observation_space = match &params.observation {
            ObservationMode::Raster(r) => Space::Dict(vec![
                (
                    "bev".into(),
                    Space::Box(BoxSpace::uniform(
                        0.0,
                        1.0,
                        &[CHANNELS.len(), r.size, r.size],
                    )),
                ),
                ("measurements".into(), Space::Box(measurements)),
            ]),
            ObservationMode::Vector => Space::Box(measurements),
        };
        Ok(Self {
            id,
            params,
            observation_space,
            action_space: Space::Box(BoxSpace::uniform(-1.0, 1.0, &[2])),
            // As the CARLA leaderboard: infractions over all kilometres driven, not the
            // mean of each episode's ratio (which short episodes would dominate).
            layout: InfoLayout::new(&REWARD_TERMS, &METRICS)
                .with_ratio("infractions_per_km", "infractions", "distance", 1000.0)
                .with_headline(&crate::LEADERBOARD_METRICS),
            vehicle: VehicleConfig::default(),
            rng: rand_pcg::Pcg64::seed_from_u64(0),
            file_map,
            episode: None,
            scratch: Default::default(),
        })
    }

    /// The parameters.
    pub fn params(&self) -> &DriveParams {
        &self.params
    }

    /// The current episode's map and route, if reset.
    pub fn map_and_route(&self) -> Option<(&BuiltMap, &Route)> {
        self.episode.as_ref().map(|e| (&*e.map, &e.route))
    }

    fn timeout(&self, route_length: f32) -> f32 {
        let r = &self.params.reward;
        r.timeout_base + route_length / r.timeout_speed
    }

    fn raster_config(&self) -> Option<RasterConfig> {
        match self.params.observation {
            ObservationMode::Raster(r) => Some(r),
            ObservationMode::Vector => None,
        }
    }

    fn new_episode(&mut self) -> Result<Episode, EnvError> {
        let map = match (&self.file_map, &self.params.map) {
            (Some(m), _) => m.clone(),
            (None, source @ MapSource::Generated { pool, .. }) => {
                let index = self.rng.random_range(0..u64::from(*pool));
                generated_map(self.id, source, self.params.lights, index)?
            }
            (None, MapSource::File(_) | MapSource::OpenDrive { .. }) => {
                unreachable!("file maps are loaded in new")
            }
        };
        let route = sample_route(&map.map, &mut self.rng, self.params.route_length);
        let mut route_stops = Vec::new();
        for k in 1..route.lane_at.len() {
            let lane = &map.map.lanes[route.lane_at[k - 1]];
            if route.lane_at[k] != route.lane_at[k - 1]
                && let Some(light) = lane.light
            {
                route_stops.push((route.line.s[k - 1], light));
            }
        }
        let p = &self.params;
        let mut world = new_world(&WorldConfig {
            dt: p.control_dt / p.substeps as f32,
            ..WorldConfig::default()
        });
        let centre = (map.map.min + map.map.max) * 0.5;
        let half = 0.5 * (map.map.max.x - map.map.min.x).max(map.map.max.y - map.map.min.y) + 50.0;
        add_ground(&mut world, [centre.x, centre.y], half);
        let (start, yaw) = route.start();
        let ego = Vehicle::spawn(&mut world, self.vehicle, (start.x, start.y), yaw, 0.0);
        let state = ego.state(&world);
        let traffic = Traffic::spawn(&map.map, &p.traffic, start, &mut self.rng);
        let peds = pedestrians::spawn(p.traffic.pedestrians, &map.crosswalks, &mut self.rng);
        Ok(Episode {
            map,
            route,
            route_stops,
            world,
            ego,
            state,
            traffic,
            peds,
            t: 0.0,
            steps: 0,
            segment: 0,
            s: 0.0,
            s_max: 0.0,
            lateral: 0.0,
            heading_error: 0.0,
            distance: 0.0,
            still: 0.0,
            ttc_until: 0,
            comfort: Comfort::default(),
            last_action: [0.0; 2],
            infraction: None,
            finished: false,
            factors: Factors::default(),
        })
    }

    /// Project the ego onto its route near the last projection.
    fn track(e: &mut Episode) {
        let pos = V2::new(e.state.x, e.state.y);
        let from = e.segment.saturating_sub(3);
        let p = e.route.line.project_range(pos, from, e.segment + 40);
        e.segment = p.segment;
        e.s = p.s;
        e.lateral = p.lateral;
        e.heading_error = wrap_angle(p.yaw - e.state.yaw);
    }

    /// The next stop line on the route within `SENSE` m: (distance, light state).
    fn next_light(e: &Episode) -> Option<(f32, LightState)> {
        e.route_stops
            .iter()
            .find(|(s, _)| *s > e.s - 0.5)
            .filter(|(s, _)| s - e.s < SENSE)
            .map(|&(s, light)| (s - e.s, e.map.map.light_state(light, e.t)))
    }

    /// The nearest vehicle ahead on the route: (gap, its speed along the route).
    fn leader(e: &Episode) -> Option<(f32, f32)> {
        let ego = V2::new(e.state.x, e.state.y);
        let to = e.segment + SENSE as usize + 10;
        let mut best: Option<(f32, f32)> = None;
        for car in &e.traffic.cars {
            if car.pose.0.dist(ego) > SENSE {
                continue;
            }
            let p = e.route.line.project_range(car.pose.0, e.segment, to);
            if p.lateral.abs() > 2.5 || p.s <= e.s {
                continue;
            }
            let gap = (p.s - e.s - CAR_HALF.0 - 2.25).max(0.0);
            let along = car.speed * wrap_angle(car.pose.1 - p.yaw).cos();
            if best.is_none_or(|(g, _)| gap < g) {
                best = Some((gap, along));
            }
        }
        for ped in e
            .peds
            .iter()
            .filter(|p| p.crossing() && p.at.dist(ego) < SENSE)
        {
            // Anyone on the road near our lane counts: they are walking into it.
            let p = e.route.line.project_range(ped.at, e.segment, to);
            if p.lateral.abs() > 4.5 || p.s <= e.s {
                continue;
            }
            let gap = (p.s - e.s - 2.25 - 1.5).max(0.0);
            if best.is_none_or(|(g, _)| gap < g) {
                best = Some((gap, 0.0));
            }
        }
        best
    }

    fn write_measurements(&self, e: &Episode, out: &mut [f32]) {
        let lane = &e.map.map.lanes[e.route.lane_at[e.segment.min(e.route.lane_at.len() - 1)]];
        let light = Self::next_light(e);
        let leader = Self::leader(e);
        let timeout = self.timeout(e.route.length());
        let mut m = [0.0f32; MEASUREMENTS];
        m[0] = e.state.speed / 10.0;
        m[1] = e.last_action[0];
        m[2] = e.last_action[1];
        m[3] = e.lateral / 4.0;
        m[4] = e.heading_error;
        m[5] = lane.speed_limit / 10.0;
        (m[6], m[7]) = match light {
            Some((d, state)) => (
                match state {
                    LightState::Green => 0.33,
                    LightState::Yellow => 0.66,
                    LightState::Red => 1.0,
                },
                d / SENSE,
            ),
            None => (0.0, 1.0),
        };
        (m[8], m[9]) = match leader {
            Some((gap, v)) => (gap / SENSE, (v - e.state.speed) / 10.0),
            None => (1.0, 0.0),
        };
        m[10] = f32::from(u8::from(lane.in_junction));
        m[11] = (1.0 - e.t / timeout).max(0.0);
        m[12] = 1.0 - e.s_max / e.route.length();
        let ego = V2::new(e.state.x, e.state.y);
        for k in 0..WAYPOINTS {
            let s = e.s + WAYPOINT_STEP * (k + 1) as f32;
            let p = waypoint(&e.route.line, s, self.params.route_end_waypoints);
            let local = p.to_frame(ego, e.state.yaw);
            m[13 + 2 * k] = local.x / 40.0;
            m[14 + 2 * k] = local.y / 40.0;
        }
        for (o, v) in out.iter_mut().zip(m) {
            *o = if v.is_finite() {
                v.clamp(-10.0, 10.0)
            } else {
                0.0
            };
        }
    }

    fn write_obs(&mut self, e: &Episode, obs: &mut [f32]) {
        let (image, meas) = obs.split_at_mut(obs.len() - MEASUREMENTS);
        if let Some(config) = self.raster_config() {
            let ego = V2::new(e.state.x, e.state.y);
            // Only what can appear in the image; buffers reused across steps.
            let reach = config.size as f32 * config.resolution * 1.5;
            let (vehicles, stop_lines, walkers) = (
                &mut self.scratch.0,
                &mut self.scratch.1,
                &mut self.scratch.2,
            );
            vehicles.clear();
            vehicles.extend(
                e.traffic
                    .cars
                    .iter()
                    .filter(|c| c.pose.0.dist(ego) <= reach)
                    .map(|c| VehicleShape {
                        at: c.pose.0,
                        yaw: c.pose.1,
                        half: CAR_HALF,
                        speed: c.speed,
                    }),
            );
            stop_lines.clear();
            stop_lines.extend(
                e.map
                    .stop_lines
                    .iter()
                    .filter(|l| l.at.dist(ego) <= reach)
                    .map(|l| (*l, e.map.map.light_state(l.light, e.t))),
            );
            walkers.clear();
            walkers.extend(e.peds.iter().map(|p| p.at));
            let scene = RasterScene {
                raster: &e.map.raster,
                ego: (ego, e.state.yaw),
                route: (&e.route.line, e.s),
                vehicles,
                pedestrians: walkers,
                stop_lines,
            };
            raster::render(&config, &scene, image);
        }
        self.write_measurements(e, meas);
    }

    fn write_info(&self, e: &Episode, info: &mut InfoMut<'_>) {
        *info.success = e.finished;
        let rc = 100.0 * (e.s_max / e.route.length()).min(1.0);
        let score = e.infraction.map_or(1.0, Infraction::score_factor);
        let lane = &e.map.map.lanes[e.route.lane_at[e.segment.min(e.route.lane_at.len() - 1)]];
        let km = (e.distance / 1000.0).max(1e-3);
        let mut m = [0.0f32; METRICS.len()];
        m[0] = rc;
        m[1] = score;
        m[2] = rc * score;
        m[3] = f32::from(u8::from(e.infraction.is_some()));
        m[4] = m[3] / km;
        for (k, i) in Infraction::ALL.iter().enumerate() {
            m[5 + k] = f32::from(u8::from(e.infraction == Some(*i)));
        }
        m[12] = e.state.speed;
        m[13] = e.distance;
        m[14] = rc / 100.0;
        m[15] = lane.speed_limit;
        info.metrics.copy_from_slice(&m);
    }

    /// Check the hard infractions, in order of precedence.
    fn infraction(&self, e: &Episode, s_before: f32) -> Option<Infraction> {
        let ego_box = (
            V2::new(e.state.x, e.state.y),
            e.state.yaw,
            self.vehicle.half_extents[0],
            self.vehicle.half_extents[1],
        );
        let r = &self.params.reward;
        if e.traffic
            .boxes()
            .any(|b| b.0.dist(ego_box.0) < 8.0 && boxes_overlap(ego_box, b))
        {
            return Some(Infraction::Collision);
        }
        if e.peds.iter().any(|p| {
            p.at.dist(ego_box.0) < 4.0
                && boxes_overlap(ego_box, (p.at, 0.0, PEDESTRIAN_HALF, PEDESTRIAN_HALF))
        }) {
            return Some(Infraction::Pedestrian);
        }
        if e.route_stops.iter().any(|&(s, light)| {
            s_before < s && e.s >= s && e.map.map.light_state(light, e.t) == LightState::Red
        }) {
            return Some(Infraction::RedLight);
        }
        if !e.map.raster.is_drivable(ego_box.0) {
            return Some(Infraction::OffRoad);
        }
        if e.lateral.abs() > r.off_route_distance {
            return Some(Infraction::OffRoute);
        }
        if e.still >= r.blocked_seconds {
            return Some(Infraction::Blocked);
        }
        if e.t >= self.timeout(e.route.length()) {
            return Some(Infraction::Timeout);
        }
        None
    }

    /// The soft factors of the current state.
    fn factors(&self, e: &mut Episode) -> Factors {
        let r = &self.params.reward;
        let lane_id = e.route.lane_at[e.segment.min(e.route.lane_at.len() - 1)];
        let lane = &e.map.map.lanes[lane_id];
        let mut f = Factors {
            speed: speeding_factor(r, e.state.speed, lane.speed_limit),
            ..Factors::default()
        };
        let pos = V2::new(e.state.x, e.state.y);
        if let Some(road) = lane.road {
            // The route's direction here, from the projection `track` made this step.
            let route_yaw = wrap_angle(e.state.yaw + e.heading_error);
            let (mut same, mut opposite) = (f32::INFINITY, f32::INFINITY);
            for &l in &e.map.road_lanes[road] {
                let p = e.map.map.lanes[l].centre.project(pos);
                if wrap_angle(p.yaw - route_yaw).abs() < std::f32::consts::FRAC_PI_2 {
                    same = same.min(p.lateral.abs());
                } else {
                    opposite = opposite.min(p.lateral.abs());
                }
            }
            f.lane = lane_factor(r, same, lane.width);
            if opposite < same {
                f.wrong_lane = r.wrong_lane_factor;
            }
        }
        // Time to collision: constant-velocity forecasts of the ego and nearby cars.
        let (hl, hw) = (self.vehicle.half_extents[0], self.vehicle.half_extents[1]);
        let v = V2::from_yaw(e.state.yaw) * e.state.speed
            + V2::from_yaw(e.state.yaw).perp() * e.state.lateral_speed;
        let mut tau = 0.1;
        let mut violated = false;
        while tau <= r.ttc_horizon + 1e-6 && !violated {
            let ego = (pos + v * tau, e.state.yaw + e.state.yaw_rate * tau, hl, hw);
            violated = e.traffic.cars.iter().any(|c| {
                c.pose.0.dist(pos) < 25.0 && {
                    let at = c.pose.0 + V2::from_yaw(c.pose.1) * (c.speed * tau);
                    boxes_overlap(ego, (at, c.pose.1, CAR_HALF.0, CAR_HALF.1))
                }
            });
            tau += 0.1;
        }
        if violated {
            e.ttc_until = e.steps + u64::from(r.ttc_hold_steps);
        }
        if e.steps < e.ttc_until {
            f.ttc = r.ttc_factor;
        }
        f.comfort = e.comfort.update(
            r,
            e.steps,
            self.params.control_dt,
            e.state.speed,
            e.state.yaw_rate,
        );
        f
    }
}

impl Env for DriveEnv {
    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn info_layout(&self) -> &InfoLayout {
        &self.layout
    }

    fn reset(
        &mut self,
        seed: Option<u64>,
        obs: &mut [f32],
        mut info: InfoMut<'_>,
    ) -> Result<(), EnvError> {
        if let Some(seed) = seed {
            self.rng = rand_pcg::Pcg64::seed_from_u64(seed);
        }
        let mut e = self.new_episode()?;
        Self::track(&mut e);
        info.clear();
        self.write_obs(&e, obs);
        self.write_info(&e, &mut info);
        self.episode = Some(e);
        Ok(())
    }

    fn step(&mut self, action: &[f32], out: StepOut<'_>) -> Result<(), EnvError> {
        let mut e = self.episode.take().ok_or(EnvError::NotReset)?;
        let (steer, accel) = (action[0].clamp(-1.0, 1.0), action[1].clamp(-1.0, 1.0));
        e.last_action = [steer, accel];
        let p = &self.params;
        let dt = p.control_dt / p.substeps as f32;
        e.ego.set_controls(steer, accel, dt);
        let before = V2::new(e.state.x, e.state.y);
        for _ in 0..p.substeps {
            e.ego.step(&mut e.world);
        }
        e.state = e.ego.state(&e.world);
        e.t += p.control_dt;
        e.steps += 1;
        let ego = V2::new(e.state.x, e.state.y);
        e.distance += ego.dist(before);
        let cars: Vec<(LaneId, f32)> = e.traffic.cars.iter().map(|c| (c.lane, c.s)).collect();
        pedestrians::step(
            &mut e.peds,
            &e.map.crosswalks,
            &cars,
            ego,
            p.control_dt,
            &mut self.rng,
        );
        e.traffic.step(
            &e.map.map,
            &p.traffic,
            e.t,
            p.control_dt,
            (ego, e.state.speed),
            (&e.peds, &e.map.crosswalks),
            &mut self.rng,
        );
        let s_before = e.s;
        Self::track(&mut e);
        e.still = if e.state.speed.abs() < 0.1 {
            e.still + p.control_dt
        } else {
            0.0
        };
        let length = e.route.length();
        let old_max = e.s_max;
        if e.lateral.abs() <= p.reward.off_route_distance {
            e.s_max = e.s_max.max(e.s.min(length));
        }
        let infraction = self.infraction(&e, s_before);
        if infraction.is_none() && e.s_max >= length - 2.0 {
            e.finished = true;
            e.s_max = length;
        }
        let factors = self.factors(&mut e);
        let gain = (e.s_max - old_max) / length;
        let reward = step_reward(&p.reward, gain, &factors, infraction);
        e.infraction = infraction;
        e.factors = factors;
        let mut info = out.info;
        info.clear();
        let terms = [
            gain * p.reward.route_total,
            factors.speed,
            factors.lane,
            factors.wrong_lane,
            factors.ttc,
            factors.comfort,
            infraction.map_or(0.0, |i| i.penalty(&p.reward)),
        ];
        info.reward_terms.copy_from_slice(&terms);
        *out.reward = reward;
        *out.terminated = infraction.is_some() || e.finished;
        *out.truncated = false;
        self.write_obs(&e, out.obs);
        self.write_info(&e, &mut info);
        self.episode = Some(e);
        Ok(())
    }

    fn progress(&self) -> Option<f32> {
        self.episode
            .as_ref()
            .map(|e| (e.s_max / e.route.length()).min(1.0))
    }

    fn task(&self) -> &str {
        "Drive along the route to its end: follow the lane, stop at red lights and avoid \
         collisions with cars and pedestrians."
    }

    fn views(&self) -> &[&'static str] {
        &crate::views::VIEWS
    }

    fn render(&self, view: &str, width: usize, height: usize, rgb: &mut Vec<u8>) -> bool {
        let Some(e) = self.episode.as_ref() else {
            return false;
        };
        let ego = (V2::new(e.state.x, e.state.y), e.state.yaw);
        if view == "map" {
            let (traffic, peds) = (&e.traffic, &e.peds);
            crate::views::draw_map(
                &e.map,
                &e.route,
                traffic,
                peds,
                ego,
                e.t,
                (width, height),
                rgb,
            );
            return true;
        }
        let Some(camera) = crate::views::camera(view, ego, width, height) else {
            return false;
        };
        let route = (view == "top_down").then_some(&e.route);
        let items = crate::views::items(&e.map, route, &e.traffic, &e.peds, ego, e.t);
        rapt_sim::render::render_rgb(&camera, &items, rgb);
        true
    }

    fn expert_action(&mut self, action: &mut [f32]) -> bool {
        let Some(e) = self.episode.as_ref() else {
            return false;
        };
        let a = crate::expert::act(
            e.map.as_ref(),
            &e.route,
            &e.state,
            e.s,
            Self::leader(e),
            Self::next_light(e),
            &self.vehicle,
            self.params.control_dt,
        );
        action.copy_from_slice(&a);
        true
    }
}

/// The point `s` m along `line`; past its end, as `past_end` says.
pub(crate) fn waypoint(line: &Polyline, s: f32, past_end: RouteEndWaypoints) -> V2 {
    let (p, yaw) = line.at(s);
    let beyond = s - line.length();
    match past_end {
        RouteEndWaypoints::Extend if beyond > 0.0 => p + V2::from_yaw(yaw) * beyond,
        _ => p,
    }
}

#[cfg(test)]
#[path = "env_tests.rs"]
mod tests;
