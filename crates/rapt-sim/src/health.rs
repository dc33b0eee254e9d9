use rapier3d::prelude::*;

/// The physical sanity of a world after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Every position and velocity is finite and below the speed limit.
    Ok,
    /// A NaN or infinite position or velocity.
    NonFinite,
    /// A body moves faster than the limit: the solver is diverging.
    Runaway,
}

/// Check the last step: nothing quarantined by rapier (it rolls back and disables bodies
/// whose state became NaN or infinite), and every dynamic body with finite state, linear
/// speed ≤ `max_speed` (m/s) and angular speed ≤ `max_angular_speed` (rad/s).
pub fn check_health(world: &PhysicsWorld, max_speed: f32, max_angular_speed: f32) -> Health {
    if !world.quarantine().is_empty() {
        return Health::NonFinite;
    }
    let mut health = Health::Ok;
    for (_, body) in world.bodies.iter() {
        if !body.is_dynamic() {
            continue;
        }
        let (v, w) = (body.linvel(), body.angvel());
        if !body.position().is_finite() || !v.is_finite() || !w.is_finite() {
            return Health::NonFinite;
        }
        if v.length() > max_speed || w.length() > max_angular_speed {
            health = Health::Runaway;
        }
    }
    health
}
