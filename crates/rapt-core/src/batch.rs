use crate::{InfoBatch, InfoLayout};

/// The output buffers of a vector env, structure of arrays, preallocated once.
///
/// Same-step autoreset (Gymnasium's `AutoresetMode.SAME_STEP`): for an env whose episode
/// ended at this step (`ended[i]`), `rewards`, `terminated` and `truncated` belong to
/// that last step, `final_obs`/`final_info` hold its last observation and info, and
/// `obs`/`info` already hold the first observation and info of the next episode. For
/// other envs `final_obs`/`final_info` are stale and must not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Number of sub-environments.
    pub num_envs: usize,
    /// Observation slots per env.
    pub obs_dim: usize,
    /// Observations, `num_envs × obs_dim`, env-major.
    pub obs: Vec<f32>,
    /// Rewards of the last step.
    pub rewards: Vec<f32>,
    /// MDP ended at the last step.
    pub terminated: Vec<bool>,
    /// Episode cut at the last step (time limit, blow-up): bootstrap from `final_obs`.
    pub truncated: Vec<bool>,
    /// `terminated || truncated`: the env was reset within this step.
    pub ended: Vec<bool>,
    /// Infos of the last step (of the new episode where `ended`).
    pub info: InfoBatch,
    /// Last observations of the episodes that ended, `num_envs × obs_dim`.
    pub final_obs: Vec<f32>,
    /// Last infos of the episodes that ended (with episode statistics).
    pub final_info: InfoBatch,
    /// Bytes of one env's camera frames (0 unless the vector env renders them, see
    /// [`crate::VecEnv::set_frames`]).
    pub frame_bytes: usize,
    /// Camera frames of the current states, `num_envs × frame_bytes`: per env each view
    /// in order, `size × size × 3` RGB row-major from the top.
    pub frames: Vec<u8>,
    /// Camera frames of the last states of the episodes that ended (like `final_obs`).
    pub final_frames: Vec<u8>,
}

/// Camera frames a vector env renders after every reset and step, for progress models
/// that read pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameSpec {
    /// Views, in order.
    pub views: Vec<String>,
    /// Width and height, px.
    pub size: usize,
}

impl FrameSpec {
    /// Bytes of one env's frames.
    pub fn bytes(&self) -> usize {
        self.views.len() * self.size * self.size * 3
    }
}

impl Batch {
    /// A copy without the current frames (for envs whose frames are drawn on demand, where
    /// they are stale), with the final frames only if an episode ended.
    pub fn clone_without_current_frames(&self) -> Self {
        let ended = self.ended.iter().any(|&e| e);
        Self {
            num_envs: self.num_envs,
            obs_dim: self.obs_dim,
            obs: self.obs.clone(),
            rewards: self.rewards.clone(),
            terminated: self.terminated.clone(),
            truncated: self.truncated.clone(),
            ended: self.ended.clone(),
            info: self.info.clone(),
            final_obs: self.final_obs.clone(),
            final_info: self.final_info.clone(),
            frame_bytes: self.frame_bytes,
            frames: Vec::new(),
            final_frames: if ended {
                self.final_frames.clone()
            } else {
                Vec::new()
            },
        }
    }

    /// Zeroed buffers.
    pub fn new(num_envs: usize, obs_dim: usize, layout: &InfoLayout) -> Self {
        Self {
            num_envs,
            obs_dim,
            obs: vec![0.0; num_envs * obs_dim],
            rewards: vec![0.0; num_envs],
            terminated: vec![false; num_envs],
            truncated: vec![false; num_envs],
            ended: vec![false; num_envs],
            info: InfoBatch::new(num_envs, layout),
            final_obs: vec![0.0; num_envs * obs_dim],
            final_info: InfoBatch::new(num_envs, layout),
            frame_bytes: 0,
            frames: Vec::new(),
            final_frames: Vec::new(),
        }
    }

    /// Size the frame buffers for `frame_bytes` per env (0: none).
    pub fn set_frame_bytes(&mut self, frame_bytes: usize) {
        self.frame_bytes = frame_bytes;
        self.frames = vec![0; self.num_envs * frame_bytes];
        self.final_frames = vec![0; self.num_envs * frame_bytes];
    }

    /// Env `i`'s frames.
    pub fn frames_of(&self, i: usize) -> &[u8] {
        &self.frames[i * self.frame_bytes..(i + 1) * self.frame_bytes]
    }

    /// Env `i`'s final frames (meaningful only where `ended[i]`).
    pub fn final_frames_of(&self, i: usize) -> &[u8] {
        &self.final_frames[i * self.frame_bytes..(i + 1) * self.frame_bytes]
    }

    /// Env `i`'s observation.
    pub fn obs_of(&self, i: usize) -> &[f32] {
        &self.obs[i * self.obs_dim..(i + 1) * self.obs_dim]
    }

    /// Env `i`'s final observation (meaningful only where `ended[i]`).
    pub fn final_obs_of(&self, i: usize) -> &[f32] {
        &self.final_obs[i * self.obs_dim..(i + 1) * self.obs_dim]
    }

    /// Copy env `src_i` of `src` into slot `dst_i` of `self`; same dims and layout.
    pub fn copy_env_from(&mut self, dst_i: usize, src: &Batch, src_i: usize) {
        let d = self.obs_dim;
        let (dst, s) = (dst_i * d..(dst_i + 1) * d, src_i * d..(src_i + 1) * d);
        self.obs[dst.clone()].copy_from_slice(&src.obs[s.clone()]);
        self.final_obs[dst].copy_from_slice(&src.final_obs[s]);
        self.rewards[dst_i] = src.rewards[src_i];
        self.terminated[dst_i] = src.terminated[src_i];
        self.truncated[dst_i] = src.truncated[src_i];
        self.ended[dst_i] = src.ended[src_i];
        self.info.copy_env_from(dst_i, &src.info, src_i);
        self.final_info.copy_env_from(dst_i, &src.final_info, src_i);
        let f = self.frame_bytes;
        if f > 0 {
            let (dst, s) = (dst_i * f..(dst_i + 1) * f, src_i * f..(src_i + 1) * f);
            self.frames[dst.clone()].copy_from_slice(&src.frames[s.clone()]);
            self.final_frames[dst].copy_from_slice(&src.final_frames[s]);
        }
    }
}
