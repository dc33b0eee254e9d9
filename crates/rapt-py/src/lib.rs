//! The native half of the `rapt` Python package (`rapt._rapt`): rapt's threaded vector
//! env behind a small, array-in/array-out class. The Gymnasium classes in
//! `python/rapt/` wrap it. Links no libtorch: environments only.
//!
//! Every array returned is a fresh NumPy array (Gymnasium's checker forbids returning
//! a buffer it has seen before); the GIL is released while the envs step.

use std::fmt::Display;
use std::sync::Mutex;

use numpy::{Ix5, PyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rapt_core::{
    Batch, FrameSpec, InfoBatch, InfoLayout, Space, ThreadedVecEnv, VecEnv, VecEnvOptions,
};
use rapt_shaping::{ModelLoader, ModelSpec, Shaper, Shaping};

fn value_error(e: impl Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// Every registered env id.
#[pyfunction]
fn ids() -> Vec<String> {
    rapt_registry::registry().ids()
}

/// `{id, summary, max_episode_steps, default_params}` of the env `id`.
#[pyfunction]
fn spec<'py>(py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyDict>> {
    let registry = rapt_registry::registry();
    let spec = registry.spec(id).map_err(value_error)?;
    let d = PyDict::new(py);
    d.set_item("id", spec.id)?;
    d.set_item("summary", spec.summary)?;
    d.set_item("max_episode_steps", spec.max_episode_steps)?;
    d.set_item("default_params", (spec.default_params)())?;
    Ok(d)
}

/// A space as plain Python data, for `rapt.spaces` to turn into Gymnasium spaces:
/// `("box", low, high, shape)`, `("discrete", n, start)`, `("multi_discrete", nvec)`,
/// `("tuple", [parts])`, `("dict", [(name, part)])`.
fn space_data<'py>(py: Python<'py>, space: &Space) -> PyResult<Bound<'py, PyAny>> {
    Ok(match space {
        Space::Box(b) => ("box", b.low.clone(), b.high.clone(), b.shape.clone())
            .into_pyobject(py)?
            .into_any(),
        Space::Discrete { n, start } => ("discrete", *n, *start).into_pyobject(py)?.into_any(),
        Space::MultiDiscrete { nvec } => ("multi_discrete", nvec.clone())
            .into_pyobject(py)?
            .into_any(),
        Space::Tuple(parts) => {
            let list = PyList::empty(py);
            for p in parts {
                list.append(space_data(py, p)?)?;
            }
            ("tuple", list).into_pyobject(py)?.into_any()
        }
        Space::Dict(parts) => {
            let list = PyList::empty(py);
            for (name, p) in parts {
                list.append((name.as_str(), space_data(py, p)?))?;
            }
            ("dict", list).into_pyobject(py)?.into_any()
        }
    })
}

/// rapt's threaded vector env: `num_envs` copies of env `id` stepped by `threads`
/// threads, resetting each one within the step that ends its episode.
#[pyclass(name = "VecEnv", module = "rapt._rapt")]
struct PyVecEnv {
    /// `None` once closed. A mutex makes the class shareable between Python threads.
    env: Mutex<Option<ThreadedVecEnv>>,
    /// Reward shaping applied to every step, once set.
    shaper: Mutex<Option<Shaper>>,
    /// Camera frames of the last reset or step, once `set_frames` turned them on.
    frames: Mutex<Frames>,
    id: String,
    /// The env parameters (RON text) the envs were made with.
    params: String,
    layout: InfoLayout,
    num_envs: usize,
    obs_dim: usize,
    act_dim: usize,
}

/// The frames of the last call: `current` of the states the envs are in, `last` of the
/// final states of episodes that ended in it; each `num_envs × views × size × size × 3`.
#[derive(Default)]
struct Frames {
    spec: Option<FrameSpec>,
    /// Current frames are rendered when `frames()` asks, not in every step.
    on_demand: bool,
    current: Vec<u8>,
    last: Vec<u8>,
}

impl PyVecEnv {
    /// Run `f` on the envs (an error once closed).
    fn with_env<T>(&self, f: impl FnOnce(&mut ThreadedVecEnv) -> T) -> PyResult<T> {
        let mut guard = self.env.lock().unwrap_or_else(|e| e.into_inner());
        let env = guard
            .as_mut()
            .ok_or_else(|| PyRuntimeError::new_err("this rapt env is closed"))?;
        Ok(f(env))
    }

    /// The shaper, if one is set (a poisoned lock is taken as it is).
    fn shaper(&self) -> std::sync::MutexGuard<'_, Option<Shaper>> {
        self.shaper.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `{"success": bool array, "<reward term>": float array, "<metric>": float array}`.
    fn info<'py>(&self, py: Python<'py>, info: &InfoBatch) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("success", PyArray1::from_slice(py, &info.success))?;
        let n = self.num_envs;
        for (names, values) in [
            (&self.layout.reward_terms, &info.reward_terms),
            (&self.layout.metrics, &info.metrics),
        ] {
            let k = names.len();
            for (j, name) in names.iter().enumerate() {
                let column: Vec<f32> = (0..n).map(|i| values[i * k + j]).collect();
                d.set_item(name.to_string(), PyArray1::from_vec(py, column))?;
            }
        }
        Ok(d)
    }

    /// Keep the frames of `batch` (taken out of it) for `frames()`.
    fn keep_frames(&self, batch: &mut Batch) {
        let mut frames = self.frames.lock().unwrap_or_else(|e| e.into_inner());
        // A batch copied without frames keeps the ones held (their rows were stale anyway).
        if frames.spec.is_some() {
            if !batch.frames.is_empty() {
                frames.current = std::mem::take(&mut batch.frames);
            }
            if !batch.final_frames.is_empty() {
                frames.last = std::mem::take(&mut batch.final_frames);
            }
        }
    }

    /// `(num_envs, obs_dim)` over `flat` (moved into NumPy, not copied).
    fn obs<'py>(&self, py: Python<'py>, flat: Vec<f32>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        PyArray1::from_vec(py, flat).reshape([self.num_envs, self.obs_dim])
    }
}

#[pymethods]
impl PyVecEnv {
    /// `num_envs` copies of env `id` with parameters `params` (RON text, "" for the
    /// defaults), stepped by `threads` threads; `max_episode_steps` overrides the env's
    /// time limit.
    #[new]
    #[pyo3(signature = (id, num_envs = 1, threads = 1, params = "", max_episode_steps = None))]
    fn new(
        id: &str,
        num_envs: usize,
        threads: usize,
        params: &str,
        max_episode_steps: Option<u32>,
    ) -> PyResult<Self> {
        if threads == 0 || threads > num_envs.max(1) {
            return Err(value_error(format!(
                "threads = {threads} is out of range, expected 1 to num_envs = {num_envs}"
            )));
        }
        let options = VecEnvOptions {
            num_envs,
            threads,
            max_episode_steps,
        };
        let env = rapt_registry::registry()
            .make_vec(id, params, &options)
            .map_err(value_error)?;
        let obs_dim = env.single_observation_space().flat_dim();
        let act_dim = env.single_action_space().flat_dim();
        Ok(Self {
            layout: env.info_layout().clone(),
            env: Mutex::new(Some(env)),
            shaper: Mutex::new(None),
            frames: Mutex::new(Frames::default()),
            id: id.to_owned(),
            params: params.to_owned(),
            num_envs,
            obs_dim,
            act_dim,
        })
    }

    /// Number of sub-envs.
    #[getter]
    fn num_envs(&self) -> usize {
        self.num_envs
    }

    /// Flat observation slots per env.
    #[getter]
    fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// Flat action slots per env.
    #[getter]
    fn act_dim(&self) -> usize {
        self.act_dim
    }

    /// One env's observation space, as data (see `rapt.spaces`).
    #[getter]
    fn observation_space<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let space = self.with_env(|env| env.single_observation_space().clone())?;
        space_data(py, &space)
    }

    /// One env's action space, as data.
    #[getter]
    fn action_space<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let space = self.with_env(|env| env.single_action_space().clone())?;
        space_data(py, &space)
    }

    /// Reset every env (`mask`: only those where it is true); with a seed, sub-env `i`
    /// is seeded `seed + i`. Returns `(obs, info)`.
    #[pyo3(signature = (seed = None, mask = None))]
    fn reset<'py>(
        &self,
        py: Python<'py>,
        seed: Option<u64>,
        mask: Option<PyReadonlyArray1<'py, bool>>,
    ) -> PyResult<(Bound<'py, PyArray2<f32>>, Bound<'py, PyDict>)> {
        let mask: Option<Vec<bool>> = mask.map(|m| m.as_array().to_vec());
        if let Some(m) = &mask
            && m.len() != self.num_envs
        {
            return Err(value_error(format!(
                "reset_mask has {} entries, expected num_envs = {}",
                m.len(),
                self.num_envs
            )));
        }
        let mut batch: Batch = py
            .detach(|| {
                self.with_env(|env| match &mask {
                    Some(m) => env.reset_masked(m, seed).cloned(),
                    None => env.reset(seed).cloned(),
                })
            })?
            .map_err(value_error)?;
        if let Some(shaper) = self.shaper().as_mut() {
            shaper.reset(&batch).map_err(value_error)?;
        }
        self.keep_frames(&mut batch);
        let info = self.info(py, &batch.info)?;
        Ok((self.obs(py, batch.obs)?, info))
    }

    /// Step every env with `actions` (`num_envs × act_dim` float32). Returns `(obs,
    /// rewards, terminated, truncated, info, final_obs, final_info)`: where an episode
    /// ended, `obs` and `info` are the new episode's and `final_obs`/`final_info` the
    /// ended one's (elsewhere those rows are meaningless).
    #[allow(clippy::type_complexity)]
    fn step<'py>(
        &self,
        py: Python<'py>,
        actions: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<(
        Bound<'py, PyArray2<f32>>,
        Bound<'py, PyArray1<f32>>,
        Bound<'py, PyArray1<bool>>,
        Bound<'py, PyArray1<bool>>,
        Bound<'py, PyDict>,
        Bound<'py, PyArray2<f32>>,
        Bound<'py, PyDict>,
    )> {
        let shape = actions.as_array().shape().to_vec();
        if shape != [self.num_envs, self.act_dim] {
            return Err(value_error(format!(
                "actions have shape {shape:?}, expected (num_envs, action slots) = ({}, {})",
                self.num_envs, self.act_dim
            )));
        }
        let actions: Vec<f32> = actions.as_array().iter().copied().collect();
        // Frames drawn on demand are not copied out (they are stale until `frames()`).
        let lean = self.shaper().is_none()
            && self
                .frames
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .on_demand;
        let mut batch: Batch = py
            .detach(|| {
                self.with_env(|env| match lean {
                    true => env.step(&actions).map(Batch::clone_without_current_frames),
                    false => env.step(&actions).cloned(),
                })
            })?
            .map_err(value_error)?;
        if let Some(shaper) = self.shaper().as_mut() {
            let mut rewards = std::mem::take(&mut batch.rewards);
            shaper.apply(&batch, &mut rewards, 0).map_err(value_error)?;
            shaper.finish(&mut rewards).map_err(value_error)?;
            batch.rewards = rewards;
        }
        self.keep_frames(&mut batch);
        // The batch was copied out of the envs once; its buffers move into NumPy.
        let (info, final_info) = (
            self.info(py, &batch.info)?,
            self.info(py, &batch.final_info)?,
        );
        Ok((
            self.obs(py, batch.obs)?,
            PyArray1::from_vec(py, batch.rewards),
            PyArray1::from_vec(py, batch.terminated),
            PyArray1::from_vec(py, batch.truncated),
            info,
            self.obs(py, batch.final_obs)?,
            final_info,
        ))
    }

    /// Shape every reward from the next step on as `shaping` says (RON text of
    /// `rapt_shaping::Shaping`, e.g. `Potential(model: Oracle, scale: 10.0)`), with the
    /// learner's discount `gamma`: the same rules as the Rust trainer (Φ of a terminal
    /// state is 0; a truncated episode keeps its real Φ). A remote model (`Remote(...)`)
    /// reads camera frames: reset the envs before stepping. Learned models need libtorch,
    /// which this package does not link.
    fn set_shaping(&self, shaping: &str, gamma: f32) -> PyResult<()> {
        // In run configs' RON dialect (`Remote(url: …)`, bare optional values).
        let shaping: Shaping = rapt_config::ron_options()
            .from_str(shaping)
            .map_err(|e| value_error(format!("shaping: {e}")))?;
        let load: ModelLoader<'_> = &|spec| match spec {
            ModelSpec::Remote(remote) => {
                let model = rapt_progress_http::RemoteProgress::connect_for_env(remote, || {
                    rapt_registry::registry().make(&self.id, &self.params, None)
                })?;
                Ok(Box::new(model) as Box<dyn rapt_shaping::ProgressModel>)
            }
            other => Err(format!(
                "{other:?}: learned reward models need the rapt CLI (libtorch); the Python \
                 package shapes with the env's own progress (model: Oracle) or a remote \
                 server (model: Remote(...))"
            )
            .into()),
        };
        let rendering = self
            .frames
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .spec
            .is_some();
        if rendering
            && shaping
                .model()
                .is_some_and(|m| !matches!(m, ModelSpec::Oracle))
        {
            return Err(value_error(
                "shaping with a model that reads camera frames cannot be combined with \
                 render_mode yet: make the env without render_mode",
            ));
        }
        // Φ of the current states: shaping starts with the next step. A model that reads
        // frames gets them from the next reset on (the envs must be reset first).
        let shaper = self
            .with_env(|env| {
                let mut shaper = Shaper::for_vec_env(&shaping, &self.id, env, gamma, load)?;
                if let Some(s) = shaper.as_mut()
                    && !s.reads_frames()
                {
                    s.reset(env.batch())?;
                }
                Ok::<_, rapt_shaping::ShaperError>(shaper)
            })?
            .map_err(value_error)?;
        *self.shaper() = shaper;
        Ok(())
    }

    /// Camera views the envs can render.
    #[getter]
    fn views(&self) -> PyResult<Vec<String>> {
        self.with_env(|env| env.views().iter().map(|v| v.to_string()).collect())
    }

    /// Render `views` at `size` × `size` px after every reset and step from the next
    /// reset on (`views=None`: stop); `frames()` returns them. With `on_demand=True` the
    /// current states are rendered only when `frames()` is called (stepping costs nothing
    /// more, except the last frame of each episode that ends, rendered in its step).
    #[pyo3(signature = (views, size = 128, on_demand = false))]
    fn set_frames(&self, views: Option<Vec<String>>, size: usize, on_demand: bool) -> PyResult<()> {
        let spec = views.map(|views| FrameSpec { views, size });
        self.with_env(|env| match on_demand {
            true => env.set_frames_on_demand(spec.clone()),
            false => env.set_frames(spec.clone()),
        })?
        .map_err(value_error)?;
        *self.frames.lock().unwrap_or_else(|e| e.into_inner()) = Frames {
            spec,
            on_demand,
            ..Frames::default()
        };
        Ok(())
    }

    /// The camera frames of the last reset or step as uint8 `(num_envs, views, size, size,
    /// 3)`: of the states the envs are in, or with `final=True` of the last states of the
    /// episodes that ended in the last step (rows of other envs are meaningless). `None`
    /// unless `set_frames` turned frames on.
    #[pyo3(signature = (r#final = false))]
    fn frames<'py>(
        &self,
        py: Python<'py>,
        r#final: bool,
    ) -> PyResult<Option<Bound<'py, PyArray<u8, Ix5>>>> {
        let mut frames = self.frames.lock().unwrap_or_else(|e| e.into_inner());
        let Some(spec) = frames.spec.clone() else {
            return Ok(None);
        };
        if frames.on_demand && !r#final {
            frames.current = py
                .detach(|| self.with_env(|env| env.render_current().map(<[u8]>::to_vec)))?
                .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        }
        let data = if r#final {
            &frames.last
        } else {
            &frames.current
        };
        if data.len() != self.num_envs * spec.bytes() {
            return Err(PyRuntimeError::new_err(
                "no frames yet: reset the env after set_frames",
            ));
        }
        let shape = [self.num_envs, spec.views.len(), spec.size, spec.size, 3];
        Ok(Some(PyArray1::from_slice(py, data).reshape(shape)?))
    }

    /// Drop the envs; later calls raise `RuntimeError`. Closing twice is fine.
    fn close(&self) {
        *self.env.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// The native module.
#[pymodule]
fn _rapt(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ids, m)?)?;
    m.add_function(wrap_pyfunction!(spec, m)?)?;
    m.add_class::<PyVecEnv>()?;
    Ok(())
}
