//! `rapt reward-model train | eval | adapt | bench | score | build | ensemble`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use rapt_progress_http::frames::FrameError;
use rapt_reward_model::adapt::{AdaptConfig, adapt_from_demo};
use rapt_reward_model::eval::{calibration_chart, evaluate_dataset};
use rapt_reward_model::{RewardModel, RewardModelConfig, RewardModelRun, RewardModelStart};

use crate::cli::{
    RewardModelCommand, RmAdaptArgs, RmBenchArgs, RmBuildArgs, RmEnsembleArgs, RmEvalArgs,
    RmScoreArgs, RmTrainArgs, TorchArgs,
};

/// Run one `reward-model` subcommand.
pub fn run(cmd: RewardModelCommand) -> Result<()> {
    match cmd {
        RewardModelCommand::Train(a) => train(&a),
        RewardModelCommand::Eval(a) => eval(&a),
        RewardModelCommand::Adapt(a) => adapt_cmd(&a),
        RewardModelCommand::Bench(a) => bench(&a),
        RewardModelCommand::Score(a) => score(&a),
        RewardModelCommand::Build(a) => build(&a),
        RewardModelCommand::Ensemble(a) => ensemble(&a),
    }
}

fn ensemble(args: &RmEnsembleArgs) -> Result<()> {
    let aggregate: rapt_reward_model::ensemble::Aggregate = ron::from_str(&args.aggregate)
        .map_err(|e| {
            anyhow!(
                "--aggregate `{}`: {e} (expected Mean, Min or MeanMinusStd(k))",
                args.aggregate
            )
        })?;
    let device = tch::Device::Cpu;
    let members = args
        .members
        .iter()
        .map(|dir| {
            RewardModel::load(dir, device).with_context(|| format!("member {}", dir.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let model = rapt_reward_model::ensemble(&members, aggregate, device)?;
    model.save(&args.out)?;
    println!(
        "ensemble of {} ({aggregate:?}) → {}",
        members.len(),
        args.out.display()
    );
    Ok(())
}

/// The device `--device` names, with torch's threads set as `--threads` says.
fn device(torch: &TorchArgs) -> Result<tch::Device> {
    if let Some(n) = torch.threads {
        rapt_ppo::configure_torch_threads(n);
    }
    torch.device.resolve().context("--device")
}

fn train(args: &RmTrainArgs) -> Result<()> {
    let start = match &args.resume {
        Some(run_dir) => RewardModelStart::Resume {
            run_dir: run_dir.clone(),
        },
        None => RewardModelStart::New {
            datasets: args.datasets.clone(),
            config: match &args.config {
                Some(path) => RewardModelConfig::load(path, &[])?,
                None => RewardModelConfig::default(),
            },
            run_dir: args.run_dir.clone(),
        },
    };
    let mut run = RewardModelRun::start(&start, args.skip_corrupt, device(&args.torch)?)?;
    for e in run.skipped() {
        eprintln!("warning: skipped {e}");
    }
    if let Some(epochs) = args.epochs {
        run.set_epochs(epochs);
    }
    let progress = run.trainer().progress();
    let (epochs, done) = (progress.config.epochs, progress.epochs_done);
    if run.resumed() {
        println!("resuming {} after epoch {done}", run.path().display());
    }
    let (n_train, n_val) = run.trainer().sizes();
    println!(
        "training on {n_train} frame sets, validating on {n_val}; run {}",
        run.path().display()
    );
    let bar = rapt_rundir::progress_bar(
        (epochs - done.min(epochs)) as u64,
        "{bar:40} epoch {pos}/{len} {msg} {eta}",
        false,
    );
    let mut start = Instant::now();
    let model = run.train(&crate::interrupt::stop_flag(), |s| {
        bar.inc(1);
        bar.set_message(format!("val MAE {:.4}", s.val_mae));
        let seconds = start.elapsed().as_secs_f64();
        println!("epoch {}/{epochs}: {s} ({seconds:.1} s)", s.epoch);
        start = Instant::now();
    })?;
    bar.finish_and_clear();
    match model {
        Some(dir) => println!("model → {}", dir.display()),
        None => println!("interrupted; resume with --resume {}", run.path().display()),
    }
    crate::interrupt::outcome()
}

fn eval(args: &RmEvalArgs) -> Result<()> {
    let device = device(&args.torch)?;
    let model = RewardModel::load(&args.model, device)?;
    let (report, manifest, skipped) = evaluate_dataset(&model, &args.dataset, args.skip_corrupt)?;
    for e in &skipped {
        eprintln!("warning: skipped {e}");
    }
    if let Some(plot) = &args.plot {
        let title = format!(
            "calibration of {} on {}",
            rapt_reward_model::model_name(&args.model),
            rapt_reward_model::model_name(&args.dataset)
        );
        calibration_chart(&report.calibration, &title).write_png(plot, 560, 480)?;
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
    print!("{report}");
    Ok(())
}

fn adapt_cmd(args: &RmAdaptArgs) -> Result<()> {
    let mut model = RewardModel::load(&args.model, device(&args.torch)?)?;
    let report = adapt_from_demo(
        &mut model,
        &args.demo,
        args.replay.as_deref(),
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
        if args.replay.is_some() {
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
    let mut model = RewardModel::load_or_fresh(&args.model, device)?;
    model.set_fixed_batch(args.fixed_batch);
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
        let mut served_model = RewardModel::load_or_fresh(&args.model, device)?;
        served_model.set_fixed_batch(args.fixed_batch);
        let served = rapt_reward_model::LearnedProgress::from_model(served_model, name);
        let report = rapt_progress_http::load::bench_served(
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
    let frames = rapt_progress_http::frames::read_frame_sets(&args.images, views, size).map_err(
        |e| match e {
            FrameError::Incomplete { .. } => anyhow!("{e} [{}]", shape.views.join(", ")),
            e => e.into(),
        },
    )?;
    let phi = model.score_task_bytes(&frames, args.images.len() / views, args.task.as_deref())?;
    println!("{}", serde_json::json!({ "phi": phi }));
    Ok(())
}

/// `rapt reward-model build`: `rapt_run::reward_recipe`, PPO trainings side by side as
/// pinned processes of this binary.
fn build(args: &RmBuildArgs) -> Result<()> {
    use rapt_run::reward_recipe::{InProcess, Processes, Recipe, RecipeConfig};
    let cfg = RecipeConfig::load(&args.recipe, &args.set)?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let jobs = args
        .jobs
        .unwrap_or(cores.min(cfg.round_seeds(1).len()))
        .max(1);
    let mut recipe = Recipe::open(cfg, &args.out, device(&args.torch)?)?;
    let mut log = |line: &str| println!("{line}");
    let report = if jobs == 1 {
        let runner = InProcess {
            stop: crate::interrupt::stop_flag(),
        };
        recipe.run(&runner, &mut log)?
    } else {
        let exe = std::env::current_exe().context("the rapt binary's path")?;
        recipe.run(&Processes { exe, jobs }, &mut log)?
    };
    print!("{report}");
    println!("report → {}", args.out.join("report.md").display());
    Ok(())
}
