//! Shaping settings checked like every other part of a config ([`rapt_config::Validate`]):
//! every problem at once, each at its field path (`shaping.model.url`,
//! `shaping.model.members[1].image_size`), so a run config's report names the file, line
//! and column of each.

use rapt_config::{Validate, Validator};

use crate::{ModelSpec, RemoteProtocol, RemoteSpec, Shaping, ShapingConfigError};

/// Upper bound on `Remote(max_in_flight)`: calls in flight at once, each on its own
/// long-lived thread.
pub const MAX_IN_FLIGHT: usize = 256;
/// Upper bound on `Remote(retries)`.
pub const MAX_RETRIES: u32 = 10;
/// Upper bound on `Remote(timeout_ms)`: 10 minutes.
pub const MAX_TIMEOUT_MS: u64 = 600_000;
/// Bounds on `Remote(image_size)`, px.
pub const IMAGE_SIZES: std::ops::RangeInclusive<usize> = 8..=2048;
/// Upper bound on the members of an `Ensemble`.
pub const MAX_MEMBERS: usize = 16;
/// Upper bound on `Learned(fixed_batch)`, frame sets per forward pass (as `rapt
/// reward-serve --fixed-batch`).
pub const MAX_FIXED_BATCH: usize = 65_536;

impl Validate for RemoteSpec {
    fn validate(&self, v: &mut Validator) {
        // The client is built without TLS (no certificate stores to keep on the
        // machines rapt trains on): an https URL would fail at the first call.
        let https = self.url.starts_with("https://");
        v.check_value(
            "url",
            self.url.starts_with("http://"),
            format!("`{}`", self.url),
            if https {
                "uses https, which rapt's HTTP client does not speak: reach the server over http:// (on a trusted network, or through an SSH tunnel: `ssh -L 8000:localhost:8000 HOST`)"
            } else {
                "must start with http://"
            },
        );
        v.check(
            "views",
            !self.views.is_empty(),
            "name at least one camera view to send",
        );
        if self.protocol == RemoteProtocol::Grm && !self.views.is_empty() {
            v.check_value(
                "views",
                self.views.len() == 3,
                format!("{:?}", self.views),
                "Grm sends three views (front, left wrist, right wrist)",
            );
        }
        v.range("image_size", self.image_size, IMAGE_SIZES);
        v.range("timeout_ms", self.timeout_ms, 1..=MAX_TIMEOUT_MS);
        v.range("max_in_flight", self.max_in_flight, 1..=MAX_IN_FLIGHT);
        v.range("retries", self.retries, 0..=MAX_RETRIES);
    }
}

impl Validate for ModelSpec {
    fn validate(&self, v: &mut Validator) {
        match self {
            ModelSpec::Oracle => {}
            ModelSpec::Learned { fixed_batch, .. } => {
                if let Some(rows) = fixed_batch {
                    v.range("fixed_batch", *rows, 1..=MAX_FIXED_BATCH);
                }
            }
            ModelSpec::Remote(remote) => remote.validate(v),
            ModelSpec::Ensemble { members, .. } => {
                v.check(
                    "members",
                    !members.is_empty(),
                    ShapingConfigError::EmptyEnsemble,
                );
                v.check(
                    "members",
                    members.len() <= MAX_MEMBERS,
                    format!("{} members; at most {MAX_MEMBERS}", members.len()),
                );
                for (k, member) in members.iter().enumerate() {
                    v.nested(&format!("members[{k}]"), member);
                }
            }
        }
    }
}

impl Shaping {
    /// Record every problem of this setting in `v` (at paths relative to the
    /// `shaping` section), the learner's discount being `learner_gamma`. Nothing is
    /// loaded or contacted.
    pub fn validate_for(&self, v: &mut Validator, learner_gamma: f32) {
        let (model, scale) = match self {
            Shaping::None => return,
            Shaping::Potential {
                model,
                gamma,
                scale,
            } => {
                if let Some(g) = gamma
                    && (g - learner_gamma).abs() > 1e-9
                {
                    v.problem(
                        "gamma",
                        ShapingConfigError::GammaMismatch {
                            shaping: *g,
                            learner: learner_gamma,
                        },
                    );
                }
                (model, scale)
            }
            Shaping::ProgressAsReward { model, scale } => (model, scale),
        };
        v.check_value(
            "scale",
            scale.is_finite() && *scale > 0.0 && *scale <= 1e6,
            scale,
            "must be a positive finite number of at most 1e6 (default 1)",
        );
        v.nested("model", model);
    }
}

/// Every problem `validate` records, as one error naming each field
/// (`Err(ShapingConfigError::Invalid)`), for callers outside a config file.
pub(crate) fn problems(validate: impl FnOnce(&mut Validator)) -> Result<(), ShapingConfigError> {
    let mut v = Validator::new();
    v.scope("shaping", validate);
    if v.is_empty() {
        return Ok(());
    }
    let text: Vec<String> = v.problems().iter().map(ToString::to_string).collect();
    Err(ShapingConfigError::Invalid(text.join("; ")))
}
