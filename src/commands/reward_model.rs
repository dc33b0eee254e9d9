//! `rapt reward-model train | eval | adapt | bench | score`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail, ensure};
use rapt_remote::frames::FrameError;
use rapt_rm::adapt::{AdaptConfig, adapt};
use rapt_rm::eval::{calibration_png, evaluate};
use rapt_rm::train::checkpoint_dir;
use rapt_rm::{
    Manifest, RewardModel, TrainConfig, Trainer, read_datasets, read_episode, read_manifest,
};
use rapt_run::{Logger, RunDir, TensorBoardSink};

use crate::cli::{
    RewardModelCommand, RmAdaptArgs, RmBenchArgs, RmEvalArgs, RmScoreArgs, RmTrainArgs, TorchArgs,
};

/// Run one `reward-model` subcommand.
pub fn run(cmd: RewardModelCommand) -> Result<()> {
    let threads = match &cmd {
        RewardModelCommand::Train(a) => a.torch.threads,
        RewardModelCommand::Eval(a) => a.torch.threads,
        RewardModelCommand::Adapt(a) => a.torch.threads,
        RewardModelCommand::Bench(a) => a.torch.threads,
        RewardModelCommand::Score(a) => a.torch.threads,
    };
    if let Some(n) = threads {
        rapt_ppo::configure_torch_threads(n);
    }
    match cmd {
        RewardModelCommand::Train(a) => train(&a),
        RewardModelCommand::Eval(a) => eval(&a),
        RewardModelCommand::Adapt(a) => adapt_cmd(&a),
        RewardModelCommand::Bench(a) => bench(&a),
        RewardModelCommand::Score(a) => score(&a),
    }
}

fn device(torch: &TorchArgs) -> Result<tch::Device> {
    torch.device.resolve().context("--device")
}

/// Episodes of every dataset in `dirs` (their frames must agree), warning about the
/// corrupted files left out with `skip_corrupt`; the first dataset's manifest.
fn load_datasets(
    dirs: &[PathBuf],
    skip_corrupt: bool,
) -> Result<(Manifest, Vec<rapt_rm::Episode>)> {
    let (manifest, episodes, skipped) =
        read_datasets(dirs, skip_corrupt).with_context(|| format!("reading datasets {dirs:?}"))?;
    for e in &skipped {
        eprintln!("warning: skipped {e}");
    }
    Ok((manifest, episodes))
}

fn train(args: &RmTrainArgs) -> Result<()> {
    let device = device(&args.torch)?;
    let (mut trainer, run) = match &args.resume {
        Some(run) => {
            let claim = RunDir::claim(run)?;
            let (t, skipped) = Trainer::resume_run(run, args.skip_corrupt, device)?;
            for e in &skipped {
                eprintln!("warning: skipped {e}");
            }
            println!(
                "resuming {} after epoch {}",
                run.display(),
                t.progress().epochs_done
            );
            (t, claim)
        }
        None => {
            ensure!(!args.datasets.is_empty(), "a DATASET is required");
            let cfg = match &args.config {
                Some(path) => TrainConfig::load(path, &[])?,
                None => TrainConfig::default(),
            };
            let (manifest, episodes) = load_datasets(&args.datasets, args.skip_corrupt)?;
            let run = match &args.run_dir {
                Some(d) => {
                    ensure!(
                        checkpoint_dir(d).latest().is_none(),
                        "{} already holds a reward-model run: use --resume {} or another --run-dir",
                        d.display(),
                        d.display()
                    );
                    RunDir::claim(d)?
                }
                None => RunDir::create_new(
                    Path::new("runs"),
                    &format!("rm-{}", manifest.env.to_lowercase()),
                )?,
            };
            let text = ron::ser::to_string_pretty(&cfg, ron::ser::PrettyConfig::default())?;
            run.write_atomic("config.ron", text.as_bytes())?;
            (
                Trainer::new(cfg, &args.datasets, &manifest, &episodes, device)?,
                run,
            )
        }
    };
    if let Some(epochs) = args.epochs {
        ensure!(epochs > 0, "--epochs must be at least 1");
        trainer.set_epochs(epochs);
    }
    let run_dir = run.path().to_path_buf();
    let (n_train, n_val) = trainer.sizes();
    println!(
        "training on {n_train} frame sets, validating on {n_val}; run {}",
        run_dir.display()
    );
    let epochs = trainer.progress().config.epochs;
    let done = trainer.progress().epochs_done;
    let tb = TensorBoardSink::create(&run.tensorboard(), (done > 0).then_some(done as u64))
        .with_context(|| format!("creating TensorBoard events in {}", run_dir.display()))?;
    let mut logger = Logger::new().with_sink(tb);
    let bar = rapt_run::progress_bar(
        (epochs - done.min(epochs)) as u64,
        "{bar:40} epoch {pos}/{len} {msg} {eta}",
        false,
    );
    let mut start = Instant::now();
    let finished = trainer.fit(&run, &mut logger, &crate::interrupt::stop_flag(), |s| {
        bar.inc(1);
        bar.set_message(format!("val MAE {:.4}", s.val_mae));
        println!(
            "epoch {}/{epochs}: loss {:.4}, validation MAE {:.4}, stage accuracy {:.3} ({:.1} s)",
            s.epoch,
            s.loss,
            s.val_mae,
            s.val_stage_accuracy,
            start.elapsed().as_secs_f64()
        );
        start = Instant::now();
    })?;
    if !finished {
        println!("interrupted; resume with --resume {}", run_dir.display());
        return Ok(());
    }
    bar.finish_and_clear();
    let model_dir = run_dir.join("model");
    trainer.model().save(&model_dir)?;
    println!("model → {}", model_dir.display());
    Ok(())
}

fn eval(args: &RmEvalArgs) -> Result<()> {
    let device = device(&args.torch)?;
    let model = RewardModel::load(&args.model, device)?;
    let (manifest, episodes) =
        load_datasets(std::slice::from_ref(&args.dataset), args.skip_corrupt)?;
    ensure!(
        !episodes.is_empty(),
        "{}: no episodes",
        args.dataset.display()
    );
    let report = evaluate(&model, &manifest, &episodes)?;
    if let Some(plot) = &args.plot {
        if let Some(dir) = plot.parent() {
            fs::create_dir_all(dir)?;
        }
        calibration_png(&report.calibration, 320)
            .save(plot)
            .with_context(|| format!("writing {}", plot.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{} episodes, {} frame sets ({} held-out, {})",
        report.episodes,
        report.frame_sets,
        manifest.env,
        args.dataset.display()
    );
    println!(
        "VOC (Spearman ρ of Φ̂ with time to the first success, {} successful episodes): {:.3} (the oracle's Φ: {:.3})",
        report.voc_episodes, report.voc, report.oracle_voc
    );
    println!(
        "VOC on the {} successful expert episodes: {:.3}",
        report.voc_expert_episodes, report.voc_expert
    );
    println!("MAE against the oracle Φ: {:.4}", report.mae);
    println!("stage accuracy: {:.3}", report.stage_accuracy);
    println!(
        "outcome accuracy (success / partial / failure from the final Φ̂): {:.3}",
        report.outcome_accuracy
    );
    println!(
        "confusion [truth][predicted] (success, partial, failure): {:?}",
        report.outcome_confusion
    );
    println!("calibration (predicted bin: mean predicted → mean oracle, count):");
    for b in report.calibration.iter().filter(|b| b.count > 0) {
        println!(
            "  [{:.1}, {:.1}): {:.3} → {:.3} ({})",
            b.low,
            b.low + 0.1,
            b.predicted,
            b.oracle,
            b.count
        );
    }
    Ok(())
}

fn adapt_cmd(args: &RmAdaptArgs) -> Result<()> {
    let device = device(&args.torch)?;
    let mut model = RewardModel::load(&args.model, device)?;
    let dataset: PathBuf = args
        .demo
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .context("--demo must be DATASET/episodes/ep-NNNNNN.rep")?;
    let manifest = read_manifest(&dataset)
        .with_context(|| format!("--demo {}: its dataset", args.demo.display()))?;
    let demo = read_episode(&args.demo, &manifest)?;
    ensure!(args.steps > 0, "--steps must be at least 1");
    let replay = match &args.replay {
        Some(dir) => {
            let (m, episodes) = load_datasets(std::slice::from_ref(dir), false)?;
            ensure!(
                m.views == manifest.views && m.size == manifest.size,
                "--replay {}: its frames ({:?} at {} px) differ from the demo's ({:?} at {} px)",
                dir.display(),
                m.views,
                m.size,
                manifest.views,
                manifest.size
            );
            let refs: Vec<&rapt_rm::Episode> = episodes.iter().collect();
            Some(rapt_rm::samples::Samples::new(&m, &refs, device))
        }
        None => None,
    };
    let report = adapt(
        &mut model,
        &manifest,
        &demo,
        replay.as_ref(),
        AdaptConfig {
            steps: args.steps,
            learning_rate: args.learning_rate,
            first_conv_only: !args.all_layers,
            ..Default::default()
        },
    )?;
    model.save(&args.out)?;
    println!(
        "adapted on {} ({} demo steps to success, {} fine-tuning steps{}): demo frame pairs in order {:.3} → {:.3}; model → {}",
        args.demo.display(),
        report.demo_steps,
        args.steps,
        if replay.is_some() {
            ", rehearsing the training data"
        } else {
            ""
        },
        report.demo_order.0,
        report.demo_order.1,
        args.out.display()
    );
    Ok(())
}

fn bench(args: &RmBenchArgs) -> Result<()> {
    let device = device(&args.torch)?;
    ensure!(args.batch > 0, "--batch must be at least 1");
    let load = || -> Result<RewardModel> {
        Ok(match args.model.strip_prefix("fresh:") {
            Some(spec) => {
                let parts: Vec<usize> = spec
                    .split(':')
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .context("fresh:VIEWS:SIZE:STAGES")?;
                let [views, size, stages] = parts[..] else {
                    bail!("fresh:VIEWS:SIZE:STAGES, e.g. fresh:3:32:2");
                };
                RewardModel::untrained(views, size, stages, device)
            }
            None => RewardModel::load(Path::new(&args.model), device)?,
        })
    };
    let model = load()?;
    let rate = model.scoring_throughput(args.batch, args.seconds)?;
    let shape = &model.meta().shape;
    println!(
        "{} views of {}×{} px, batch {}: {rate:.0} frame sets/s ({} threads, {device:?})",
        shape.views.len(),
        shape.size,
        shape.size,
        args.batch,
        tch::get_num_threads(),
    );
    if let Some(clients) = args.served {
        let name = PathBuf::from(&args.model);
        let served = rapt_rm::LearnedProgress::from_model(load()?, name);
        let report = rapt_remote::load::bench_served(
            Box::new(served),
            args.batch,
            clients,
            std::time::Duration::from_secs_f64(args.seconds),
        )?;
        println!(
            "served, {clients} clients: {:.0} frame sets/s ({:.2}× in-process), p50 {:.1} ms, p99 {:.1} ms, mean batch {:.1}, {} failed",
            report.sets_per_s,
            report.sets_per_s / rate,
            report.p50_ms,
            report.p99_ms,
            report.mean_batch.unwrap_or(f64::NAN),
            report.failed
        );
    }
    Ok(())
}

/// `rapt reward-model score`: Φ of frame sets read from image files.
fn score(args: &RmScoreArgs) -> Result<()> {
    let model = RewardModel::load(&args.model, device(&args.torch)?)?;
    let shape = &model.meta().shape;
    let (views, size) = (shape.views.len(), shape.size);
    let frames =
        rapt_remote::frames::read_frame_sets(&args.images, views, size).map_err(|e| match e {
            FrameError::Incomplete { .. } => anyhow!("{e} [{}]", shape.views.join(", ")),
            e => e.into(),
        })?;
    let phi = model.score_bytes(&frames, args.images.len() / views)?;
    println!("{}", serde_json::json!({ "phi": phi }));
    Ok(())
}
