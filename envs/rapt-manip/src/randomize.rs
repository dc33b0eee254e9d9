//! Domain randomization: physical, placement, visual and actuation parameters drawn per
//! episode from the episode's seed (so `reset(seed)` stays deterministic). Every range is
//! off by default, and a switched-off parameter draws nothing, so envs without
//! randomization produce exactly the episodes they did before it existed.

use rand::Rng as _;
use rapt_core::Rng;
use rapt_sim::rapier3d::prelude::*;
use serde::{Deserialize, Serialize};

/// Ranges to draw each episode's parameters from (`params: (randomize: (...))`).
///
/// A range `[lo, hi]` draws uniformly; `[1.0, 1.0]` (or `[x, x]`) is off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Randomization {
    /// Multiplier on the task objects' edge lengths (default `[1.0, 1.0]`; allowed within
    /// [0.5, 2.0], and within the task's own limit — a peg must still fit its hole).
    /// Objects keep resting on the table; the task's thresholds do not change.
    pub object_scale: [f32; 2],
    /// Multiplier on the objects' masses (default `[1.0, 1.0]`; within [0.1, 10]).
    pub object_mass: [f32; 2],
    /// Friction coefficient of the objects (default: none, the task's own 0.5; within
    /// [0, 2]).
    pub object_friction: Option<[f32; 2]>,
    /// Friction coefficient of the table top (default: none, 0.8; within [0, 2]).
    pub table_friction: Option<[f32; 2]>,
    /// Widening of the task's placement ranges for objects and goal, m on each side
    /// (default 0; within [0, 0.1]): e.g. Push's [−0.15, 0.15] m becomes
    /// [−0.15 − w, 0.15 + w], clamped to the workspace.
    pub placement_spread: f32,
    /// Camera pose jitter, m (default 0; within [0, 0.1]): each view's eye and target move
    /// by uniform offsets in [−j, j] on each axis, fixed for the episode.
    pub camera_jitter: f32,
    /// Light direction jitter, rad (default 0; within [0, 1.5]): the light turns by up to
    /// this angle about a random horizontal axis.
    pub light_jitter: f32,
    /// Colour jitter (default 0; within [0, 0.5]): the light's colour and each of the
    /// table's, arm's and objects' colours are scaled per channel by uniform factors in
    /// [1 − c, 1 + c].
    pub color_jitter: f32,
    /// Gaussian noise added to every action component, in action units (default 0; within
    /// [0, 1]); the noisy action is clamped to [−1, 1].
    pub action_noise: f32,
    /// Actuation latency, control steps (default 0; within 0..=5): the arm executes the
    /// action given this many steps before (holding still for the first ones).
    pub action_latency: u32,
}

impl Default for Randomization {
    fn default() -> Self {
        Self {
            object_scale: [1.0, 1.0],
            object_mass: [1.0, 1.0],
            object_friction: None,
            table_friction: None,
            placement_spread: 0.0,
            camera_jitter: 0.0,
            light_jitter: 0.0,
            color_jitter: 0.0,
            action_noise: 0.0,
            action_latency: 0,
        }
    }
}

/// One episode's draws. Fields left at their neutral values were not drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeDraws {
    /// Edge-length multiplier of the objects.
    pub object_scale: f32,
    /// Mass multiplier of the objects.
    pub object_mass: f32,
    /// Object friction (`None`: the task's own).
    pub object_friction: Option<f32>,
    /// Table friction (`None`: 0.8).
    pub table_friction: Option<f32>,
    /// Eye and target offsets of each view (`front`, `side`, `wrist`), m.
    pub camera_offsets: [[[f32; 3]; 2]; 3],
    /// Direction towards the light (any length).
    pub light_direction: [f32; 3],
    /// Light colour, per channel (1 = white).
    pub light_color: [f32; 3],
    /// Colour multipliers of the table, the arm and the objects, per channel.
    pub tints: [[f32; 3]; 3],
}

/// The light every view uses when nothing is randomized (the rasterizer's default).
pub const LIGHT: [f32; 3] = rapt_sim::render::LIGHT_DIRECTION;

impl Default for EpisodeDraws {
    fn default() -> Self {
        Self {
            object_scale: 1.0,
            object_mass: 1.0,
            object_friction: None,
            table_friction: None,
            camera_offsets: [[[0.0; 3]; 2]; 3],
            light_direction: LIGHT,
            light_color: [1.0; 3],
            tints: [[1.0; 3]; 3],
        }
    }
}

fn draw(rng: &mut Rng, [lo, hi]: [f32; 2]) -> f32 {
    if lo == hi {
        lo
    } else {
        rng.random_range(lo..=hi)
    }
}

fn symmetric(rng: &mut Rng, half: f32) -> f32 {
    rng.random_range(-half..=half)
}

impl Randomization {
    /// Draw one episode's parameters; draws nothing for switched-off parameters.
    pub fn draw(&self, rng: &mut Rng) -> EpisodeDraws {
        let mut d = EpisodeDraws::default();
        if self.object_scale[0] != 1.0 || self.object_scale[1] != 1.0 {
            d.object_scale = draw(rng, self.object_scale);
        }
        if self.object_mass[0] != 1.0 || self.object_mass[1] != 1.0 {
            d.object_mass = draw(rng, self.object_mass);
        }
        d.object_friction = self.object_friction.map(|r| draw(rng, r));
        d.table_friction = self.table_friction.map(|r| draw(rng, r));
        if self.camera_jitter > 0.0 {
            for view in &mut d.camera_offsets {
                for point in view {
                    *point = [(); 3].map(|()| symmetric(rng, self.camera_jitter));
                }
            }
        }
        if self.light_jitter > 0.0 {
            // Turn the light about a random horizontal axis by up to `light_jitter`.
            let axis_angle = rng.random_range(0.0..std::f32::consts::TAU);
            let tilt = rng.random_range(0.0..=self.light_jitter);
            let axis = [axis_angle.cos(), axis_angle.sin(), 0.0];
            d.light_direction = rotate(rapt_sim::render::normalize(LIGHT), axis, tilt);
        }
        if self.color_jitter > 0.0 {
            let c = self.color_jitter;
            let mut factor = || [(); 3].map(|()| 1.0 + symmetric(rng, c));
            d.light_color = factor();
            d.tints = [factor(), factor(), factor()];
        }
        d
    }
}

/// `v` rotated by `angle` rad about the unit `axis` (Rodrigues).
fn rotate(v: [f32; 3], axis: [f32; 3], angle: f32) -> [f32; 3] {
    let (s, c) = angle.sin_cos();
    let dot = v[0] * axis[0] + v[1] * axis[1] + v[2] * axis[2];
    let cross = [
        axis[1] * v[2] - axis[2] * v[1],
        axis[2] * v[0] - axis[0] * v[2],
        axis[0] * v[1] - axis[1] * v[0],
    ];
    [0, 1, 2].map(|k| v[k] * c + cross[k] * s + axis[k] * dot * (1.0 - c))
}

impl rapt_config::Validate for Randomization {
    fn validate(&self, v: &mut rapt_config::Validator) {
        let range =
            |v: &mut rapt_config::Validator, path: &str, [lo, hi]: [f32; 2], min: f32, max: f32| {
                v.check(
                    path,
                    lo.is_finite() && hi.is_finite() && min <= lo && lo <= hi && hi <= max,
                    format!("[{lo}, {hi}]: must be an increasing range within [{min}, {max}]"),
                );
            };
        range(v, "object_scale", self.object_scale, 0.5, 2.0);
        range(v, "object_mass", self.object_mass, 0.1, 10.0);
        if let Some(r) = self.object_friction {
            range(v, "object_friction", r, 0.0, 2.0);
        }
        if let Some(r) = self.table_friction {
            range(v, "table_friction", r, 0.0, 2.0);
        }
        v.range("placement_spread", self.placement_spread, 0.0..=0.1);
        v.range("camera_jitter", self.camera_jitter, 0.0..=0.1);
        v.range("light_jitter", self.light_jitter, 0.0..=1.5);
        v.range("color_jitter", self.color_jitter, 0.0..=0.5);
        v.range("action_noise", self.action_noise, 0.0..=1.0);
        v.range("action_latency", self.action_latency, 0..=5);
    }
}

/// The task's movable objects (fixtures such as Insert's socket are not randomized).
fn movable(scene: &crate::TaskScene) -> Vec<RigidBodyHandle> {
    scene
        .objects
        .iter()
        .copied()
        .filter(|&h| scene.world.bodies[h].is_dynamic())
        .collect()
}

/// Apply the episode's physical draws (object size, mass and friction, table friction)
/// to a scene the task has just set up; scaled objects are moved to rest on the table as
/// before.
pub(crate) fn apply_physical(scene: &mut crate::TaskScene) {
    let d = scene.draws.clone();
    for body in movable(scene) {
        let colliders: Vec<ColliderHandle> = scene.world.bodies[body].colliders().to_vec();
        for c in colliders {
            let collider = &mut scene.world.colliders[c];
            let mass = collider.mass();
            if d.object_scale != 1.0 {
                let shape = collider.shape();
                let scaled = match shape.shape_type() {
                    ShapeType::Cuboid => {
                        let h = shape.as_cuboid().expect("a cuboid").half_extents;
                        Some(SharedShape::cuboid(
                            h.x * d.object_scale,
                            h.y * d.object_scale,
                            h.z * d.object_scale,
                        ))
                    }
                    ShapeType::Ball => Some(SharedShape::ball(
                        shape.as_ball().expect("a ball").radius * d.object_scale,
                    )),
                    _ => None,
                };
                if let Some(shape) = scaled {
                    collider.set_shape(shape);
                }
            }
            // The mass is the task's (or its multiple), whatever the new size.
            collider.set_mass(mass * d.object_mass);
            if let Some(f) = d.object_friction {
                collider.set_friction(f);
            }
        }
        // The body's mass and inertia follow its colliders' now, not at the next step.
        let world = &mut scene.world;
        world.bodies[body].recompute_mass_properties_from_colliders(&world.colliders);
    }
    if let Some(f) = d.table_friction {
        let table: Vec<ColliderHandle> = scene.world.bodies[scene.table].colliders().to_vec();
        for c in table {
            scene.world.colliders[c].set_friction(f);
        }
    }
    rest_scaled_objects(scene);
}

/// Lift (or lower) each scaled object by the change of its half height, so that objects
/// the task placed resting on the table still rest on it.
fn rest_scaled_objects(scene: &mut crate::TaskScene) {
    let s = scene.draws.object_scale;
    if s == 1.0 {
        return;
    }
    for body in movable(scene) {
        let b = &scene.world.bodies[body];
        let Some(&c) = b.colliders().first() else {
            continue;
        };
        let aabb = scene.world.colliders[c].compute_aabb();
        let half_height = 0.5 * (aabb.maxs.z - aabb.mins.z);
        let lift = half_height - half_height / s;
        let p = b.translation() + Vector::new(0.0, 0.0, lift);
        scene.world.bodies[body].set_translation(p, true);
    }
}

/// Add N(0, `std`²) noise to each action component, then clamp to [−1, 1].
pub(crate) fn add_noise(action: &mut [f32], std: f32, rng: &mut Rng) {
    if std <= 0.0 {
        return;
    }
    for a in action {
        // Box–Muller: one normal draw from two uniforms.
        let (u1, u2): (f32, f32) = (rng.random_range(f32::EPSILON..1.0), rng.random());
        let z = (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos();
        *a = (*a + std * z).clamp(-1.0, 1.0);
    }
}
