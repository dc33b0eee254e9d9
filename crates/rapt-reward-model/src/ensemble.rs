//! Ensembles of trained models in one model directory: members of the same shape and
//! tasks, trained apart (other seeds), scored together and combined per frame set —
//! pessimistically by default, so that a policy cannot climb where the members disagree
//! (Coste et al. 2024, REFERENCES.md §4).
//!
//! An ensemble is saved like any model (`model.json` with an `ensemble` entry, one
//! `weights.safetensors` holding every member under `memberK.`), so everything that
//! loads a model — shaping's `Learned(path)`, `rapt reward-model eval`/`score`,
//! `rapt reward-serve` — loads an ensemble the same way.

pub use rapt_shaping::Aggregate;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::reward_model::{ModelError, RewardModel};

/// Most members an ensemble may have.
pub const MAX_MEMBERS: usize = 16;

/// What `model.json` says about an ensemble.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EnsembleMeta {
    /// Members (2 to [`MAX_MEMBERS`]).
    pub members: usize,
    /// How their Φ combine per frame set.
    pub aggregate: Aggregate,
}

impl EnsembleMeta {
    /// What makes this no ensemble rapt scores: members outside 2..=[`MAX_MEMBERS`], or
    /// the aggregate's problem ([`aggregate_problem`]).
    pub fn problem(&self) -> Option<String> {
        if !(2..=MAX_MEMBERS).contains(&self.members) {
            return Some(format!(
                "an ensemble has 2 to {MAX_MEMBERS} members, not {}",
                self.members
            ));
        }
        aggregate_problem(self.aggregate)
    }
}

/// Problems with an aggregate as an ensemble's: `MeanMinusStd(k)` needs a finite `k ≥ 0`.
pub fn aggregate_problem(aggregate: Aggregate) -> Option<String> {
    match aggregate {
        Aggregate::MeanMinusStd(k) if !(k.is_finite() && k >= 0.0) => {
            Some(format!("MeanMinusStd({k}): k must be a finite number ≥ 0"))
        }
        _ => None,
    }
}

/// `phi` (`[K, B]`, one row per member) combined per column by `aggregate`, clamped to
/// [0, 1]; the spread is the population standard deviation, as
/// [`rapt_shaping::Ensemble`] computes it.
pub fn combine(phi: &Tensor, aggregate: Aggregate) -> Tensor {
    combine_with_spread(phi, &spread(phi), aggregate)
}

/// The members' spread per column of `phi` (`[K, B]`): the population standard deviation.
pub(crate) fn spread(phi: &Tensor) -> Tensor {
    phi.std_dim(&[0i64][..], false, false)
}

/// As [`combine`], given the members' [`spread`] of `phi` already computed.
pub(crate) fn combine_with_spread(phi: &Tensor, spread: &Tensor, aggregate: Aggregate) -> Tensor {
    let out = match aggregate {
        Aggregate::Mean => phi.mean_dim(0, false, Kind::Float),
        Aggregate::Min => phi.amin(0, false),
        Aggregate::MeanMinusStd(k) => phi.mean_dim(0, false, Kind::Float) - spread * f64::from(k),
    };
    out.clamp(0.0, 1.0)
}

/// One model of `members` (two or more, each a model of one network: same views, frame
/// size, stages, tasks and layers), combined by `aggregate`, on `device`; the members'
/// weights are copied.
pub fn ensemble(
    members: &[RewardModel],
    aggregate: Aggregate,
    device: Device,
) -> Result<RewardModel, ModelError> {
    let invalid = |message: String| ModelError::Mismatch(message);
    let ensemble = EnsembleMeta {
        members: members.len(),
        aggregate,
    };
    if let Some(problem) = ensemble.problem() {
        return Err(invalid(problem));
    }
    let first = members[0].meta();
    for (k, m) in members.iter().enumerate() {
        let meta = m.meta();
        if meta.ensemble.is_some() {
            return Err(invalid(format!(
                "member {k} is itself an ensemble: give its members"
            )));
        }
        if (&meta.env, &meta.stages, &meta.shape, &meta.net, &meta.tasks)
            != (
                &first.env,
                &first.stages,
                &first.shape,
                &first.net,
                &first.tasks,
            )
        {
            return Err(invalid(format!(
                "member {k} ({}, {:?} at {} px, {:?}) differs from member 0 ({}, {:?} at {} px, {:?}): members need the same env, views, frame size, stages, tasks and layers",
                meta.env,
                meta.shape.views,
                meta.shape.size,
                meta.net,
                first.env,
                first.shape.views,
                first.shape.size,
                first.net
            )));
        }
    }
    let mut meta = first.clone();
    meta.ensemble = Some(ensemble);
    let mut out = RewardModel::new(meta, device);
    let _guard = tch::no_grad_guard();
    let mut vars = out.var_store_mut().variables();
    for (k, m) in members.iter().enumerate() {
        for (name, value) in m.var_store().variables() {
            let key = format!("member{k}.{name}");
            let target = vars
                .get_mut(&key)
                .ok_or_else(|| invalid(format!("member {k} has `{name}`, the ensemble none")))?;
            target.copy_(&value.to_device(device));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames that need no random numbers (tests run in parallel and torch's seed is
    /// global, so only the members' weights are random: different, not reproducible).
    fn frames(n: i64) -> Tensor {
        (Tensor::arange(n * 3 * 32 * 32 * 3, (Kind::Int64, Device::Cpu)) * 37)
            .remainder(256)
            .to_kind(Kind::Uint8)
            .reshape([n, 3, 32, 32, 3])
    }

    fn model() -> RewardModel {
        RewardModel::untrained(3, 32, 2, Device::Cpu)
    }

    #[test]
    fn combines_members_by_the_aggregate_and_survives_a_save() {
        let members = [model(), model()];
        let f = frames(6);
        let (pa, pb) = (
            members[0].phi_tensor(&f, 64, None),
            members[1].phi_tensor(&f, 64, None),
        );
        let both = Tensor::stack(&[&pa, &pb], 0);
        assert!(!pa.allclose(&pb, 1e-3, 1e-3, false), "members differ");
        for aggregate in [
            Aggregate::Mean,
            Aggregate::Min,
            Aggregate::MeanMinusStd(1.0),
        ] {
            let e = ensemble(&members, aggregate, Device::Cpu).unwrap();
            let phi = e.phi_tensor(&f, 4, None);
            let want = combine(&both, aggregate);
            assert!(phi.allclose(&want, 1e-6, 1e-6, false), "{aggregate:?}");
            let dir = std::env::temp_dir().join(format!(
                "rapt-ensemble-{aggregate:?}-{}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            e.save(&dir).unwrap();
            let back = RewardModel::load(&dir, Device::Cpu).unwrap();
            std::fs::remove_dir_all(&dir).unwrap();
            assert_eq!(back.meta().ensemble, e.meta().ensemble);
            assert!(back.phi_tensor(&f, 4, None).equal(&phi));
        }
        // Mean − 1·std of two members is the smaller Φ: |a − b| / 2 below their mean.
        let cautious = combine(&both, Aggregate::MeanMinusStd(1.0));
        assert!(cautious.allclose(&both.amin(0, false).clamp(0.0, 1.0), 1e-6, 1e-6, false));
    }

    #[test]
    fn an_ensemble_reports_its_members_spread_and_one_network_none() {
        let members = [model(), model()];
        let f = frames(5);
        let bytes = Vec::<u8>::try_from(f.flatten(0, -1)).unwrap();
        let (pa, pb) = (
            members[0].score_bytes(&bytes, 5).unwrap(),
            members[1].score_bytes(&bytes, 5).unwrap(),
        );
        let e = ensemble(&members, Aggregate::Mean, Device::Cpu).unwrap();
        let (phi, spread) = e.score_task_bytes_spread(&bytes, 5, None).unwrap();
        let spread = spread.expect("an ensemble has a spread");
        assert_eq!((phi.len(), spread.len()), (5, 5));
        for i in 0..5 {
            // Two members: the population std is half their difference.
            assert!(
                (spread[i] - (pa[i] - pb[i]).abs() / 2.0).abs() < 1e-5,
                "row {i}"
            );
            assert!((phi[i] - (pa[i] + pb[i]) / 2.0).abs() < 1e-5, "row {i}");
        }
        // Padded fixed-batch passes report the same rows.
        let mut fixed = e;
        fixed.set_fixed_batch(Some(4));
        let (_, padded) = fixed.score_task_bytes_spread(&bytes, 5, None).unwrap();
        assert_eq!(padded.unwrap().len(), 5);
        let (_, none) = members[0].score_task_bytes_spread(&bytes, 5, None).unwrap();
        assert!(none.is_none());
    }

    #[test]
    fn refuses_one_member_mismatched_members_and_a_negative_k() {
        let err = |r: Result<RewardModel, ModelError>| r.unwrap_err().to_string();
        assert!(err(ensemble(&[model()], Aggregate::Mean, Device::Cpu)).contains("2 to 16"));
        let other = RewardModel::untrained(3, 16, 2, Device::Cpu);
        let e = err(ensemble(&[model(), other], Aggregate::Mean, Device::Cpu));
        assert!(e.contains("member 1") && e.contains("16 px"), "{e}");
        let e = err(ensemble(
            &[model(), model()],
            Aggregate::MeanMinusStd(-1.0),
            Device::Cpu,
        ));
        assert!(e.contains("MeanMinusStd(-1)"), "{e}");
        let pair = ensemble(&[model(), model()], Aggregate::Mean, Device::Cpu).unwrap();
        let e = err(ensemble(&[pair, model()], Aggregate::Mean, Device::Cpu));
        assert!(e.contains("member 0 is itself an ensemble"), "{e}");
    }
}
