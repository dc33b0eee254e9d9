use serde::{Deserialize, Serialize};

use crate::randomize::Randomization;
use crate::robot::RobotKind;

/// How actions move the arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ControlMode {
    /// `[dx, dy, dz, gripper]` in [-1, 1]: the tool centre point moves by up to 5 cm per
    /// step (Fetch's convention) through damped-least-squares IK, gripper pointing down.
    #[default]
    EndEffectorDelta,
    /// `[dq1 … dqN, gripper]` in [-1, 1] (N = 6 on the RaptArm, 7 on the Panda): each arm
    /// joint target moves by up to 0.1 rad.
    JointDelta,
}

/// Which reward the env returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum RewardMode {
    /// Distance-based terms (named in the info) plus a success bonus.
    #[default]
    Dense,
    /// 1 on a successful step, 0 otherwise.
    Sparse,
}

/// Parameters shared by every manipulation task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ManipParams {
    /// The robot (default: the id's own — `RaptArm` for `Push-v2` and the other
    /// unprefixed ids, `Panda` for the `Panda*` ids).
    pub robot: Option<RobotKind>,
    /// Action convention (default `EndEffectorDelta`).
    pub control: ControlMode,
    /// Reward (default `Dense`).
    pub reward: RewardMode,
    /// End the episode (`terminated`) as soon as the task is solved (default false: like
    /// Fetch, episodes run to the time limit and `success_at_end` is meaningful).
    pub terminate_on_success: bool,
    /// Physics steps per control step (default 4: 0.01 s each at 25 Hz control).
    pub substeps: u32,
    /// Control period, s (default 0.04: 25 Hz).
    pub control_dt: f32,
    /// Velocity-solver iterations per physics step (default: the task's own, 4 or 6).
    pub solver_iterations: Option<usize>,
    /// Camera frames as observations (default: none, state only). When set, the
    /// observation is `Dict { pixels: Box[3·views, size, size] ∈ [0, 1], state: Box[..] }`
    /// (RGB of each view in order, channel-major) for pixel policies (the CNN encoder).
    pub camera: Option<CameraObs>,
    /// RGB of the task's objects in camera views (default `[210, 40, 40]`, red). Only the
    /// pixels change: a task variant for adapting reward models that read frames.
    pub object_color: Option<[u8; 3]>,
    /// Domain randomization (default: none). Drawn per episode from the episode's seed;
    /// see [`Randomization`] for each parameter's range and default.
    pub randomize: Option<Randomization>,
}

/// Which views become observations, and how big.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraObs {
    /// Views, from `front`, `side`, `wrist`.
    pub views: Vec<String>,
    /// Width and height, px (default 64).
    #[serde(default = "default_size")]
    pub size: usize,
}

fn default_size() -> usize {
    64
}

impl Default for ManipParams {
    fn default() -> Self {
        Self {
            robot: None,
            control: ControlMode::EndEffectorDelta,
            reward: RewardMode::Dense,
            terminate_on_success: false,
            substeps: 4,
            control_dt: 0.04,
            solver_iterations: None,
            camera: None,
            object_color: None,
            randomize: None,
        }
    }
}

impl rapt_config::Validate for ManipParams {
    fn validate(&self, v: &mut rapt_config::Validator) {
        v.check_value(
            "substeps",
            (1..=50).contains(&self.substeps),
            self.substeps,
            "must be in 1..=50",
        );
        v.check_value(
            "control_dt",
            self.control_dt > 0.0 && self.control_dt <= 0.5,
            self.control_dt,
            "must be in (0, 0.5] s",
        );
        v.check(
            "control_dt",
            self.substeps == 0 || self.control_dt / self.substeps as f32 <= 0.01 + 1e-6,
            format!(
                "control_dt / substeps = {} s: physics steps must be at most 0.01 s",
                self.control_dt / self.substeps as f32
            ),
        );
        if let Some(n) = self.solver_iterations {
            v.check_value(
                "solver_iterations",
                (1..=50).contains(&n),
                n,
                "must be in 1..=50",
            );
        }
        if let Some(r) = &self.randomize {
            v.nested("randomize", r);
        }
        if let Some(camera) = &self.camera {
            let known = crate::views::VIEWS;
            v.check(
                "camera.views",
                !camera.views.is_empty(),
                "is empty: name at least one of front, side, wrist",
            );
            if let Some(bad) = camera.views.iter().find(|v| !known.contains(&v.as_str())) {
                v.problem(
                    "camera.views",
                    format!(
                        "unknown view `{bad}`; this env's views: {}",
                        known.join(", ")
                    ),
                );
            }
            let repeated = camera
                .views
                .iter()
                .enumerate()
                .take(known.len() + 1)
                .find(|(i, view)| camera.views[..*i].contains(view));
            if camera.views.len() > known.len() && repeated.is_none() {
                v.problem(
                    "camera.views",
                    format!(
                        "names {} views; this env has {}, each usable once",
                        camera.views.len(),
                        known.len()
                    ),
                );
            }
            if let Some((_, view)) = repeated {
                v.problem(
                    "camera.views",
                    format!("names `{view}` twice: each view at most once"),
                );
            }
            v.check_value(
                "camera.size",
                (16..=256).contains(&camera.size),
                camera.size,
                "must be in 16..=256",
            );
        }
    }
}
