//! Driving environments (CaRL's setting on rapier): procedurally generated road networks
//! (straight and curved, one- and two-lane roads, 3- and 4-way junctions with traffic
//! lights) or hand-written maps (`assets/maps/*.ron`), an ego car on rapier's ray-cast
//! vehicle controller, IDM traffic, a bird's-eye raster and/or a measurement vector, and
//! CaRL's route-completion reward with the CARLA leaderboard's metrics. Cards:
//! `docs/envs/Drive-v0.md` and its variants.
#![warn(missing_docs)]

pub mod generate;
pub mod geom;
pub mod map;
pub mod params;
pub mod raster;
pub mod reward;
pub mod route;
pub mod traffic;
