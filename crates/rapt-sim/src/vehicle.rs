//! A car on rapier's ray-cast vehicle controller: a box chassis on four suspended wheels
//! whose rays hit the ground, front-wheel steering, rear-wheel drive, brakes on all four.
//! Roll and pitch are locked (the chassis stays level), which keeps an RL policy's
//! mistakes from flipping the car without changing how it drives on a flat road.
//!
//! Axes: the world is z-up; the chassis' forward axis is local +x, left +y.

use rapier3d::control::{DynamicRayCastVehicleController, WheelTuning};
use rapier3d::prelude::*;

/// Geometry and limits of the car. Defaults: a 4.5 × 1.9 m, 1,500 kg saloon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VehicleConfig {
    /// Mass, kg (default 1500).
    pub mass: f32,
    /// Half length, half width and half height of the body, m (default 2.25, 0.95, 0.5).
    pub half_extents: [f32; 3],
    /// Distance between the axles, m (default 2.8).
    pub wheel_base: f32,
    /// Distance between left and right wheels, m (default 1.6).
    pub track: f32,
    /// Wheel radius, m (default 0.35).
    pub wheel_radius: f32,
    /// Largest front-wheel angle, rad (default 0.55).
    pub max_steer: f32,
    /// Acceleration at full throttle on flat ground, m/s² (default 3.5).
    pub max_accel: f32,
    /// Deceleration at full brake, m/s² (default 7.5).
    pub max_decel: f32,
    /// Deceleration when coasting (rolling resistance and drag lumped), m/s² (default 0.3).
    pub coast_decel: f32,
}

impl Default for VehicleConfig {
    fn default() -> Self {
        Self {
            mass: 1500.0,
            half_extents: [2.25, 0.95, 0.5],
            wheel_base: 2.8,
            track: 1.6,
            wheel_radius: 0.35,
            max_steer: 0.55,
            max_accel: 3.5,
            max_decel: 7.5,
            coast_decel: 0.3,
        }
    }
}

/// Where the car is and how it moves.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct VehicleState {
    /// Position of the body centre on the ground plane, m.
    pub x: f32,
    /// Position, m.
    pub y: f32,
    /// Heading, rad, counter-clockwise from +x.
    pub yaw: f32,
    /// Velocity along the heading, m/s (negative when reversing).
    pub speed: f32,
    /// Velocity across the heading, m/s (positive to the left).
    pub lateral_speed: f32,
    /// Yaw rate, rad/s.
    pub yaw_rate: f32,
}

/// A car in a [`PhysicsWorld`].
#[derive(Debug)]
pub struct Vehicle {
    controller: DynamicRayCastVehicleController,
    chassis: RigidBodyHandle,
    config: VehicleConfig,
}

/// A flat ground slab whose top is at z = 0, `half_size` m from the origin each way.
pub fn add_ground(world: &mut PhysicsWorld, centre: [f32; 2], half_size: f32) {
    let ground = ColliderBuilder::cuboid(half_size, half_size, 0.5)
        .translation(Vector::new(centre[0], centre[1], -0.5))
        .friction(1.0);
    world.insert_collider(ground, None);
}

impl Vehicle {
    /// Put a car at `(x, y)` heading `yaw` rad, moving forward at `speed` m/s, with its
    /// wheels resting on ground at z = 0.
    pub fn spawn(
        world: &mut PhysicsWorld,
        config: VehicleConfig,
        (x, y): (f32, f32),
        yaw: f32,
        speed: f32,
    ) -> Self {
        let [hl, hw, hh] = config.half_extents;
        let rest = 0.3;
        // Chassis centre so that the wheels touch the ground near the rest length.
        let z = config.wheel_radius + rest + hh - 0.05;
        let rotation = Rotation::from_rotation_z(yaw);
        let forward = rotation * Vector::X;
        let body = RigidBodyBuilder::dynamic()
            .pose(Pose::from_parts(Vector::new(x, y, z), rotation))
            .linvel(forward * speed)
            .enabled_rotations(false, false, true)
            .can_sleep(false);
        let volume = 8.0 * hl * hw * hh;
        let collider = ColliderBuilder::cuboid(hl, hw, hh).density(config.mass / volume);
        let (chassis, _) = world.insert(body, collider);
        let tuning = WheelTuning {
            suspension_stiffness: 40.0,
            suspension_compression: 3.5,
            suspension_damping: 6.0,
            max_suspension_travel: 0.25,
            side_friction_stiffness: 1.0,
            friction_slip: 1.2,
            max_suspension_force: 4.0 * config.mass * 9.81,
        };
        let mut controller = DynamicRayCastVehicleController::new(chassis);
        controller.index_up_axis = 2;
        controller.index_forward_axis = 0;
        let (fx, fy) = (0.5 * config.wheel_base, 0.5 * config.track);
        for (px, py) in [(fx, fy), (fx, -fy), (-fx, fy), (-fx, -fy)] {
            controller.add_wheel(
                Vector::new(px, py, -hh + 0.05),
                -Vector::Z,
                // Axle pointing right: with z up, rapier's forward (axle × up) is +x.
                -Vector::Y,
                rest,
                config.wheel_radius,
                &tuning,
            );
        }
        Self {
            controller,
            chassis,
            config,
        }
    }

    /// The chassis body.
    pub fn chassis(&self) -> RigidBodyHandle {
        self.chassis
    }

    /// The parameters.
    pub fn config(&self) -> &VehicleConfig {
        &self.config
    }

    /// Set steering (−1 … 1, positive left) and throttle/brake (−1 … 1, negative brakes)
    /// for the next physics steps of `dt` s each.
    pub fn set_controls(&mut self, steer: f32, accel: f32, dt: f32) {
        let c = self.config;
        let steer = steer.clamp(-1.0, 1.0) * c.max_steer;
        let accel = accel.clamp(-1.0, 1.0);
        // Impulse per wheel and step that decelerates the whole car by `decel`.
        let brake_impulse = |decel: f32| decel * c.mass * dt / 4.0;
        for (k, wheel) in self.controller.wheels_mut().iter_mut().enumerate() {
            let front = k < 2;
            wheel.steering = if front { steer } else { 0.0 };
            if accel > 0.0 {
                wheel.engine_force = if front {
                    0.0
                } else {
                    accel * c.max_accel * c.mass / 2.0
                };
                wheel.brake = 0.0;
            } else {
                wheel.engine_force = 0.0;
                wheel.brake = brake_impulse(c.coast_decel + -accel * c.max_decel);
            }
        }
    }

    /// Advance the world by one physics step with the current controls.
    pub fn step(&mut self, world: &mut PhysicsWorld) {
        let dt = world.integration_parameters.dt;
        let queries = world.broad_phase.as_query_pipeline_mut(
            world.narrow_phase.query_dispatcher(),
            &mut world.bodies,
            &mut world.colliders,
            QueryFilter::exclude_dynamic().exclude_rigid_body(self.chassis),
        );
        self.controller.update_vehicle(dt, queries);
        world.step();
    }

    /// The car's pose and velocity.
    pub fn state(&self, world: &PhysicsWorld) -> VehicleState {
        let body = &world.bodies[self.chassis];
        let p = body.translation();
        let forward = body.rotation() * Vector::X;
        let yaw = forward.y.atan2(forward.x);
        let v = body.linvel();
        let (s, c) = yaw.sin_cos();
        VehicleState {
            x: p.x,
            y: p.y,
            yaw,
            speed: c * v.x + s * v.y,
            lateral_speed: -s * v.x + c * v.y,
            yaw_rate: body.angvel().z,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{WorldConfig, new_world};

    fn world() -> PhysicsWorld {
        let mut w = new_world(&WorldConfig {
            dt: 0.02,
            ..WorldConfig::default()
        });
        add_ground(&mut w, [0.0, 0.0], 500.0);
        w
    }

    fn drive(w: &mut PhysicsWorld, car: &mut Vehicle, steer: f32, accel: f32, seconds: f32) {
        for _ in 0..(seconds / 0.02).round() as usize {
            car.set_controls(steer, accel, 0.02);
            car.step(w);
        }
    }

    #[test]
    fn the_car_accelerates_brakes_and_turns_like_a_car() {
        let mut w = world();
        let mut car = Vehicle::spawn(&mut w, VehicleConfig::default(), (0.0, 0.0), 0.0, 0.0);
        drive(&mut w, &mut car, 0.0, 0.0, 1.0); // settle
        let s = car.state(&w);
        assert!(s.speed.abs() < 0.1 && s.x.abs() < 0.1, "{s:?}");
        // Full throttle for 3 s: about 3.5 m/s² → ~10 m/s, straight ahead.
        drive(&mut w, &mut car, 0.0, 1.0, 3.0);
        let s = car.state(&w);
        assert!((8.0..12.0).contains(&s.speed), "{s:?}");
        assert!(s.y.abs() < 0.2 && s.yaw.abs() < 0.02, "{s:?}");
        // Full brake: stops within v²/(2·7.5) ≈ 7 m plus slack.
        let x0 = s.x;
        drive(&mut w, &mut car, 0.0, -1.0, 3.0);
        let s = car.state(&w);
        assert!(
            s.speed.abs() < 0.1 && s.x - x0 < 12.0,
            "{s:?} after {}",
            s.x - x0
        );
        // Turning left at a walking pace: yaw increases, the car goes left.
        drive(&mut w, &mut car, 0.5, 0.3, 3.0);
        let s = car.state(&w);
        assert!(s.yaw > 0.3 && s.y > 0.5, "{s:?}");
    }

    #[test]
    fn two_identical_runs_are_bit_identical() {
        let run = || {
            let mut w = world();
            let mut car = Vehicle::spawn(&mut w, VehicleConfig::default(), (1.0, 2.0), 0.3, 5.0);
            drive(&mut w, &mut car, 0.3, 0.5, 2.0);
            car.state(&w)
        };
        assert_eq!(run(), run());
    }
}
