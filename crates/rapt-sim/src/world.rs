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
}

impl Default for WorldConfig {
    fn default() -> Self {
        Self {
            dt: 0.01,
            gravity: 9.81,
            solver_iterations: 4,
        }
    }
}

/// An empty z-up world with `config`'s step, gravity and solver settings.
pub fn new_world(config: &WorldConfig) -> PhysicsWorld {
    let mut world = PhysicsWorld::new();
    world.gravity = Vector::new(0.0, 0.0, -config.gravity);
    world.integration_parameters.dt = config.dt;
    world.integration_parameters.num_solver_iterations = config.solver_iterations;
    world
}
