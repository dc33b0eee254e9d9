//! rapier3d helpers shared by rapt's environments: a z-up world with a table, arms
//! described as URDF on multibody joints driven by position motors, damped-least-squares
//! IK, a car on the ray-cast vehicle controller, and physics blow-up detection. No tch, no rapt-core types: envs compose these.
#![warn(missing_docs)]

mod arm;
mod arm_model;
mod error;
mod health;
pub mod render;
pub mod stl;
mod vehicle;
mod world;

pub use arm::{Arm, MotorGains};
pub use arm_model::{ArmModel, COARSE_CELL, JointKind, JointSpec, LinkMesh, MeshResolver};
pub use error::SimError;
pub use health::{Health, check_health};
pub use vehicle::{Vehicle, VehicleConfig, VehicleState, add_ground};
pub use world::{WorldConfig, new_world};

/// rapier3d, re-exported so envs use exactly the same version.
pub use rapier3d;
