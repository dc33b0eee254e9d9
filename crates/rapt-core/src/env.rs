use crate::{EnvError, InfoLayout, InfoMut, Space};

/// Where one env writes the result of a step; all buffers are owned by the caller.
#[derive(Debug)]
pub struct StepOut<'a> {
    /// Next observation, `observation_space().flat_dim()` slots.
    pub obs: &'a mut [f32],
    /// Reward of this transition.
    pub reward: &'a mut f32,
    /// The MDP ended (success, failure, crash): do not bootstrap.
    pub terminated: &'a mut bool,
    /// The episode was cut (time limit, physics blow-up): bootstrap from `obs`.
    pub truncated: &'a mut bool,
    /// Success, reward terms, metrics, episode statistics.
    pub info: InfoMut<'a>,
}

impl StepOut<'_> {
    /// A shorter-lived copy of these borrows, so a wrapper can hand them to its inner env
    /// and read the results afterwards.
    pub fn reborrow(&mut self) -> StepOut<'_> {
        StepOut {
            obs: &mut *self.obs,
            reward: &mut *self.reward,
            terminated: &mut *self.terminated,
            truncated: &mut *self.truncated,
            info: self.info.reborrow(),
        }
    }
}

/// One environment with Gymnasium semantics, writing into caller-owned buffers.
///
/// `reset(Some(seed))` re-seeds the env's generator; `reset(None)` continues its stream,
/// so a sequence of episodes is fixed by the first seed. `step` must not be called before
/// `reset`; implementations may assume well-formed input because the registry always
/// wraps them in [`crate::Checked`], which turns misuse into [`EnvError`]s.
pub trait Env: Send {
    /// The observation space (flat layout of `obs`).
    fn observation_space(&self) -> &Space;
    /// The action space (flat layout of the action slice).
    fn action_space(&self) -> &Space;
    /// Names of the reward terms and metrics written into the info.
    fn info_layout(&self) -> &InfoLayout;
    /// Start an episode, writing the first observation and info.
    fn reset(
        &mut self,
        seed: Option<u64>,
        obs: &mut [f32],
        info: InfoMut<'_>,
    ) -> Result<(), EnvError>;
    /// Apply `action` for one control step.
    fn step(&mut self, action: &[f32], out: StepOut<'_>) -> Result<(), EnvError>;
    /// Privileged task progress Φ ∈ [0, 1] of the current state, when the env defines
    /// one (used for potential-based shaping and reward-model labels). Default: none.
    fn progress(&self) -> Option<f32> {
        None
    }
    /// Names of the task's ordered stages, when its Φ is step-aware (Φ = (completed stages
    /// + progress in the current one) / stages); empty when it has none (default).
    fn stages(&self) -> &[&'static str] {
        &[]
    }
    /// The env's privileged scripted expert: write its action for the current state into
    /// `action` and return `true`, or return `false` when the env has none (default).
    fn expert_action(&mut self, action: &mut [f32]) -> bool {
        let _ = action;
        false
    }

    /// The task in words, as an instruction a vision-language reward model can judge
    /// progress against (e.g. "Push the cube across the table onto the green target.");
    /// empty when the env states none (default).
    fn task(&self) -> &str {
        ""
    }

    /// The camera views this env can render (e.g. `front`, `side`, `wrist`); empty when
    /// it renders none.
    fn views(&self) -> &[&'static str] {
        &[]
    }

    /// Render `view` of the current state, headless, as `height × width × 3` RGB bytes
    /// (row-major from the top) into `rgb`; false when the env has no such view or has
    /// not been reset. The same state gives the same bytes.
    fn render(&self, view: &str, width: usize, height: usize, rgb: &mut Vec<u8>) -> bool {
        let _ = (view, width, height, rgb);
        false
    }
}

/// `wanted` camera views checked against what `env` (registered as `id`) renders; all of
/// its views when `wanted` is empty. Fails naming the views it has.
pub fn select_views(env: &dyn Env, id: &str, wanted: &[String]) -> Result<Vec<String>, EnvError> {
    let available = env.views();
    let invalid = |message: String| EnvError::InvalidOptions(message);
    if available.is_empty() {
        return Err(invalid(format!("`{id}` has no camera views")));
    }
    if wanted.is_empty() {
        return Ok(available.iter().map(|v| v.to_string()).collect());
    }
    match wanted.iter().find(|v| !available.contains(&v.as_str())) {
        Some(v) => Err(invalid(format!(
            "`{id}` has no view `{v}`; its views: {}",
            available.join(", ")
        ))),
        None => Ok(wanted.to_vec()),
    }
}

impl<E: Env + ?Sized> Env for Box<E> {
    fn observation_space(&self) -> &Space {
        (**self).observation_space()
    }
    fn action_space(&self) -> &Space {
        (**self).action_space()
    }
    fn info_layout(&self) -> &InfoLayout {
        (**self).info_layout()
    }
    fn reset(
        &mut self,
        seed: Option<u64>,
        obs: &mut [f32],
        info: InfoMut<'_>,
    ) -> Result<(), EnvError> {
        (**self).reset(seed, obs, info)
    }
    fn step(&mut self, action: &[f32], out: StepOut<'_>) -> Result<(), EnvError> {
        (**self).step(action, out)
    }
    fn progress(&self) -> Option<f32> {
        (**self).progress()
    }
    fn stages(&self) -> &[&'static str] {
        (**self).stages()
    }
    fn expert_action(&mut self, action: &mut [f32]) -> bool {
        (**self).expert_action(action)
    }
    fn task(&self) -> &str {
        (**self).task()
    }
    fn views(&self) -> &[&'static str] {
        (**self).views()
    }
    fn render(&self, view: &str, width: usize, height: usize, rgb: &mut Vec<u8>) -> bool {
        (**self).render(view, width, height, rgb)
    }
}
