use rapier3d::prelude::*;

/// Physics settings of a world.
#[derive(Debug, Clone, PartialEq)]
pub struct WorldConfig {
    /// Physics step, s (default 0.01: 4 substeps per 25 Hz control step).
    pub dt: f32,
    /// Gravity along -z, m/s² (default 9.81).
    pub gravity: f32,
    /// Velocity-solver iterations per step (default 4, rapier's default).
    pub solver_iterations: usize,
    /// Typical object size, m (default 1.0). rapier scales its tolerances by it: allowed
    /// penetration 0.005 × this, contact prediction 0.02 × this. Table-top manipulation of
    /// 5 cm objects wants 0.1 (0.5 mm penetration) instead of the default's 5 mm.
    pub length_unit: f32,
}

impl Default for WorldConfig {
    fn default() -> Self {
        Self {
            dt: 0.01,
            gravity: 9.81,
            solver_iterations: 4,
            length_unit: 1.0,
        }
    }
}

/// An empty z-up world with `config`'s step, gravity and solver settings.
pub fn new_world(config: &WorldConfig) -> PhysicsWorld {
    let mut world = PhysicsWorld::new();
    world.gravity = Vector::new(0.0, 0.0, -config.gravity);
    world.integration_parameters.dt = config.dt;
    world.integration_parameters.num_solver_iterations = config.solver_iterations;
    world.integration_parameters.length_unit = config.length_unit;
    // Contact recycling keeps a pair's contact points while the pair moves less than 5 cm:
    // stale normals then block motions that are free (a peg stops on the rim of a hole it
    // fits, a pusher stalls a centimetre short of a cube). Manipulation needs fresh contacts.
    world.integration_parameters.contact_recycling = false;
    world
}
