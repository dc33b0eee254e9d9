//! The privileged scripted driver: pure pursuit along the route for steering, the
//! Intelligent Driver Model for speed (towards 90% of the limit, slower in curves),
//! stopping behind the vehicle ahead and at red lights (and yellow ones it can stop for).

use rapt_sim::{VehicleConfig, VehicleState};

use crate::built::BuiltMap;
use crate::geom::{V2, wrap_angle};
use crate::map::LightState;
use crate::route::Route;
use crate::traffic::{TrafficConfig, idm};

/// Lateral acceleration the expert allows in curves, m/s².
const CURVE_ACCEL: f32 = 2.0;

/// The expert's action `[steer, accel]` for the ego in `state` at route arc length `s`,
/// with the vehicle ahead `leader` (gap m, speed m/s) and the next light `light`
/// (distance m, state).
#[allow(clippy::too_many_arguments)]
pub fn act(
    map: &BuiltMap,
    route: &Route,
    state: &VehicleState,
    s: f32,
    leader: Option<(f32, f32)>,
    light: Option<(f32, LightState)>,
    vehicle: &VehicleConfig,
    _dt: f32,
) -> [f32; 2] {
    let ego = V2::new(state.x, state.y);
    let v = state.speed.max(0.0);
    // Pure pursuit on the route.
    let look = 3.0 + 0.5 * v;
    let (target, _) = route.line.at(s + look);
    let local = target.to_frame(ego, state.yaw);
    let d2 = local.x * local.x + local.y * local.y;
    let curvature = if d2 > 1e-6 { 2.0 * local.y / d2 } else { 0.0 };
    let steer = (vehicle.wheel_base * curvature).atan() / vehicle.max_steer;

    // Desired speed: the limits here and 20 m ahead, and the curves within 30 m.
    let limit_at = |s: f32| {
        let k = route
            .line
            .s
            .partition_point(|&x| x < s)
            .min(route.lane_at.len() - 1);
        map.map.lanes[route.lane_at[k]].speed_limit
    };
    let mut v_des = 0.9 * limit_at(s).min(limit_at(s + 20.0));
    let mut d = 0.0;
    while d < 30.0 {
        let (_, y0) = route.line.at(s + d);
        let (_, y1) = route.line.at(s + d + 5.0);
        let k = wrap_angle(y1 - y0).abs() / 5.0;
        if k > 1e-3 {
            v_des = v_des.min((CURVE_ACCEL / k).sqrt());
        }
        d += 2.5;
    }
    // Obstacles: the vehicle ahead, a red light, a yellow one we can stop for.
    let config = TrafficConfig {
        accel: 2.0,
        decel: 3.0,
        min_gap: 2.0,
        max_decel: vehicle.max_decel,
        ..TrafficConfig::default()
    };
    let front = vehicle.half_extents[0];
    let mut gap = f32::INFINITY;
    let mut lead_speed = 0.0;
    if let Some((g, u)) = leader {
        (gap, lead_speed) = (g, u.max(0.0));
    }
    if let Some((dist, state)) = light {
        let stop_gap = dist - front - 1.0;
        let stop = match state {
            LightState::Red => stop_gap > -front,
            LightState::Yellow => stop_gap > v * v / (2.0 * config.decel),
            LightState::Green => false,
        };
        if stop && stop_gap.max(0.0) < gap {
            (gap, lead_speed) = (stop_gap.max(0.0), 0.0);
        }
    }
    let a = idm(&config, v, v_des.max(0.5), gap, lead_speed);
    let accel = if gap < 0.5 && v < 0.5 {
        -1.0 // hold at the line
    } else if a >= 0.0 {
        a / vehicle.max_accel
    } else if -a <= vehicle.coast_decel {
        0.0
    } else {
        -(-a - vehicle.coast_decel) / vehicle.max_decel
    };
    [steer.clamp(-1.0, 1.0), accel.clamp(-1.0, 1.0)]
}
