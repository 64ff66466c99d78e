//! The local executor: runs the stale instances of a plan as child processes
//! (`l2tww exec-stage`), independent ones in parallel up to `-j`, at most one device-using stage
//! per GPU, the CPU threads shared out; a failed instance stops only what depends on it. Each
//! instance has a log file; running ones show a progress bar with its ETA.

use super::freshness::{freshness, memory_name, Freshness};
use super::job::{FileRef, InputRef, Job};
use super::plan::{Instance, Plan};
use crate::cache::{Lookup, Store, Verify};
use crate::error::{Error, Result};
use crate::fsx;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

/// How to run a plan.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Run only these stages (and the stale stages they need).
    pub only: Vec<String>,
    /// Recompute these stages even when fresh.
    pub force: Vec<String>,
    /// Say what would run, run nothing.
    pub dry_run: bool,
    /// Instances run at once.
    pub jobs: usize,
    /// CPU threads shared by the running instances (0: all cores).
    pub threads: usize,
    /// GPUs available (device strings such as `cuda:0`); empty: CPU only.
    pub gpus: Vec<String>,
    /// Check every file's hash of fresh entries (slow) instead of sizes.
    pub verify_full: bool,
}

/// What happened to each instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Already in the cache.
    Fresh,
    /// Computed now.
    Ran,
    /// Failed; the message and its log.
    Failed(String, PathBuf),
    /// Not run because an input failed.
    Skipped(String),
    /// Would run (dry run), with the reasons.
    WouldRun(Vec<String>),
    /// Not selected by `--only`.
    NotSelected,
}

/// The outcome of a run.
#[derive(Debug)]
pub struct RunReport {
    /// Per instance (plan order).
    pub outcomes: Vec<Outcome>,
    /// Wall time.
    pub seconds: f64,
}

impl RunReport {
    /// Whether every selected instance is fresh or ran.
    pub fn ok(&self) -> bool {
        !self
            .outcomes
            .iter()
            .any(|o| matches!(o, Outcome::Failed(..) | Outcome::Skipped(_)))
    }
}

/// The log file of an instance.
pub fn log_path(store: &Store, plan: &Plan, inst: &Instance) -> PathBuf {
    let safe: String = inst
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.=,".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    store
        .root()
        .join("logs")
        .join(&plan.spec.name)
        .join(format!("{safe}.log"))
}

/// The instances selected by `--only` and everything they read.
fn selection(plan: &Plan, only: &[String]) -> Result<BTreeSet<usize>> {
    if only.is_empty() {
        return Ok((0..plan.instances.len()).collect());
    }
    let mut todo: Vec<usize> = Vec::new();
    for name in only {
        let s = plan.stage_index(name).ok_or_else(|| {
            Error::Invalid(format!(
                "--only: no stage `{name}` in {}",
                plan.spec.path.display()
            ))
        })?;
        todo.extend(&plan.by_stage[s]);
    }
    let mut seen = BTreeSet::new();
    while let Some(i) = todo.pop() {
        if seen.insert(i) {
            for (_, ids) in &plan.instances[i].inputs {
                todo.extend(ids);
            }
        }
    }
    Ok(seen)
}

/// The job of an instance. Its inputs' folders are where their entries are or will be
/// (`entries/<key>/out`), so a batch job can be written before its inputs are computed.
pub fn job_for(
    plan: &Plan,
    store: &Store,
    inst: &Instance,
    device: &str,
    threads: usize,
    force: bool,
) -> Result<Job> {
    let mut inputs = BTreeMap::new();
    for (role, ids) in &inst.inputs {
        let refs = ids
            .iter()
            .map(|&u| {
                let up = &plan.instances[u];
                InputRef {
                    instance: up.name.clone(),
                    kind: up.kind.to_string(),
                    labels: up.labels.clone(),
                    dir: store.entry_dir(&up.key).join("out"),
                }
            })
            .collect();
        inputs.insert(role.clone(), refs);
    }
    Ok(Job {
        pipeline: plan.spec.name.clone(),
        instance: inst.name.clone(),
        kind: inst.kind.to_string(),
        key: inst.key.to_string(),
        labels: inst.labels.clone(),
        params: inst.params.clone(),
        inputs,
        files: inst
            .files
            .iter()
            .map(|(n, p, h)| FileRef {
                name: n.clone(),
                path: p.clone(),
                hash: h.clone(),
            })
            .collect(),
        base: super::absolute_base(&plan.spec.path),
        cache: store.root().to_path_buf(),
        device: device.to_string(),
        threads,
        force,
        memory: memory_name(plan, inst),
        explanation: inst.explanation.clone(),
    })
}

enum Event {
    Progress(usize, u64, u64, String),
    Done(usize, std::io::Result<std::process::ExitStatus>),
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:.bold} [{bar:25}] {pos}/{len} {wide_msg} eta {eta}")
        .expect("a valid template")
        .progress_chars("=> ")
}

/// Runs what is stale in `plan`.
pub fn run(plan: &Plan, store: &Store, opts: &RunOptions) -> Result<RunReport> {
    let start = Instant::now();
    let selected = selection(plan, &opts.only)?;
    let forced: BTreeSet<usize> = opts
        .force
        .iter()
        .map(|n| {
            plan.stage_index(n).ok_or_else(|| {
                Error::Invalid(format!(
                    "--force: no stage `{n}` in {}",
                    plan.spec.path.display()
                ))
            })
        })
        .collect::<Result<_>>()?;
    let verify = if opts.verify_full {
        Verify::Full
    } else {
        Verify::Fast
    };
    let mut outcomes = vec![Outcome::NotSelected; plan.instances.len()];
    let mut pending = Vec::new();
    for inst in &plan.instances {
        if !selected.contains(&inst.id) {
            continue;
        }
        match freshness(plan, store, inst, forced.contains(&inst.stage), verify)? {
            Freshness::Fresh(_) => outcomes[inst.id] = Outcome::Fresh,
            Freshness::Stale(reasons) => {
                outcomes[inst.id] = Outcome::WouldRun(reasons);
                pending.push(inst.id);
            }
        }
    }
    if opts.dry_run {
        return Ok(RunReport {
            outcomes,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    for &i in &pending {
        let inst = &plan.instances[i];
        if let Some(m) = inst.missing.first() {
            let stage = plan.stage_of(inst);
            let pos = stage
                .params
                .iter()
                .find(|(k, _, _)| k == "from" || k == "checkpoint" || k == "splits")
                .map_or(stage.pos, |(_, p, _)| *p);
            return Err(plan.spec.err(
                pos,
                format!(
                    "stage `{}` reads {}, which does not exist",
                    stage.name,
                    m.display()
                ),
            ));
        }
    }
    let total_threads = if opts.threads > 0 {
        opts.threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    let jobs = opts.jobs.max(1);
    let per_child = (total_threads / jobs.min(total_threads)).max(1);
    let jobs_dir = store.root().join("jobs");
    fsx::create_dir_all(&jobs_dir)?;
    let multi = MultiProgress::new();
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        multi.set_draw_target(ProgressDrawTarget::hidden());
    }
    let say = |line: String| {
        if multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = multi.println(line);
        }
    };
    let (tx, rx) = mpsc::channel::<Event>();
    let mut running: BTreeMap<usize, (ProgressBar, Instant, Option<String>, PathBuf)> =
        BTreeMap::new();
    let mut free_gpus: Vec<String> = opts.gpus.clone();
    let mut waiting: Vec<usize> = pending.clone();
    loop {
        // Skip what cannot run any more; start what is ready.
        let mut started_any = true;
        while started_any {
            started_any = false;
            let mut still = Vec::new();
            for &i in &waiting {
                let inst = &plan.instances[i];
                let ups: Vec<usize> = inst
                    .inputs
                    .iter()
                    .flat_map(|(_, v)| v.iter().copied())
                    .collect();
                if let Some(&bad) = ups
                    .iter()
                    .find(|&&u| matches!(outcomes[u], Outcome::Failed(..) | Outcome::Skipped(_)))
                {
                    outcomes[i] = Outcome::Skipped(format!(
                        "input {} did not complete",
                        plan.instances[bad].name
                    ));
                    say(format!(
                        "skip  {} (input {} did not complete)",
                        inst.name, plan.instances[bad].name
                    ));
                    started_any = true;
                    continue;
                }
                let ready = ups
                    .iter()
                    .all(|&u| matches!(outcomes[u], Outcome::Fresh | Outcome::Ran));
                let gpu_needed = inst.kind.uses_device() && !opts.gpus.is_empty();
                if !ready || running.len() >= jobs || (gpu_needed && free_gpus.is_empty()) {
                    still.push(i);
                    continue;
                }
                let gpu = if gpu_needed { free_gpus.pop() } else { None };
                let device = gpu.clone().unwrap_or_else(|| "cpu".into());
                let log = log_path(store, plan, inst);
                match spawn(
                    plan,
                    store,
                    inst,
                    &device,
                    per_child,
                    forced.contains(&inst.stage),
                    &jobs_dir,
                    &log,
                    tx.clone(),
                ) {
                    Ok(()) => {
                        let bar = multi.add(ProgressBar::new(1));
                        bar.set_style(bar_style());
                        bar.set_prefix(inst.name.clone());
                        say(format!("run   {} (log: {})", inst.name, log.display()));
                        running.insert(i, (bar, Instant::now(), gpu, log));
                    }
                    Err(e) => {
                        if let Some(g) = gpu {
                            free_gpus.push(g);
                        }
                        say(format!("FAIL  {}: {e}", inst.name));
                        outcomes[i] = Outcome::Failed(e.to_string(), log);
                    }
                }
                started_any = true;
            }
            waiting = still;
        }
        if running.is_empty() {
            break;
        }
        match rx.recv() {
            Ok(Event::Progress(i, done, total, msg)) => {
                if let Some((bar, ..)) = running.get(&i) {
                    bar.set_length(total.max(1));
                    bar.set_position(done);
                    bar.set_message(msg);
                }
            }
            Ok(Event::Done(i, status)) => {
                let (bar, t0, gpu, log) = running.remove(&i).expect("a running instance");
                bar.finish_and_clear();
                multi.remove(&bar);
                if let Some(g) = gpu {
                    free_gpus.push(g);
                }
                let inst = &plan.instances[i];
                let secs = t0.elapsed().as_secs_f64();
                let committed = matches!(store.lookup(&inst.key, Verify::Fast)?, Lookup::Hit(_));
                match status {
                    Ok(s) if s.success() && committed => {
                        say(format!("done  {} ({secs:.1} s)", inst.name));
                        outcomes[i] = Outcome::Ran;
                    }
                    other => {
                        let why = match other {
                            Ok(s) if s.success() => {
                                "it exited without committing its output".to_string()
                            }
                            Ok(s) => last_error(&log).unwrap_or_else(|| format!("exit status {s}")),
                            Err(e) => e.to_string(),
                        };
                        say(format!(
                            "FAIL  {}: {why}\n      log: {}",
                            inst.name,
                            log.display()
                        ));
                        outcomes[i] = Outcome::Failed(why, log);
                    }
                }
            }
            Err(_) => break,
        }
    }
    Ok(RunReport {
        outcomes,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The last `error:` line of a log (what the child printed when it failed).
pub fn last_error(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().rposition(|l| l.starts_with("error: "))?;
    Some(
        lines[at..]
            .iter()
            .map(|l| l.trim())
            .collect::<Vec<_>>()
            .join(" ")
            .trim_start_matches("error: ")
            .to_string(),
    )
}

#[allow(clippy::too_many_arguments)]
fn spawn(
    plan: &Plan,
    store: &Store,
    inst: &Instance,
    device: &str,
    threads: usize,
    force: bool,
    jobs_dir: &Path,
    log: &Path,
    tx: mpsc::Sender<Event>,
) -> Result<()> {
    let job = job_for(plan, store, inst, device, threads, force)?;
    let job_path = jobs_dir.join(format!("{}.json", inst.key));
    job.write(&job_path)?;
    fsx::create_dir_all(&fsx::parent_dir(log))?;
    let mut log_file = std::fs::File::create(log).map_err(|e| Error::io(log, e))?;
    let _ = writeln!(
        log_file,
        "# {} ({}), key {}",
        inst.name, inst.kind, inst.key
    );
    let err_file = log_file.try_clone().map_err(|e| Error::io(log, e))?;
    let mut cmd = Command::new(this_binary()?);
    cmd.arg("--threads")
        .arg(threads.to_string())
        .arg("exec-stage")
        .arg(&job_path)
        .env("OMP_NUM_THREADS", threads.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(err_file));
    die_with_parent(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| Error::io("l2tww exec-stage", e))?;
    let stdout = child.stdout.take().expect("piped");
    let id = inst.id;
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            if let Some(rest) = line.strip_prefix("@progress ") {
                let mut it = rest.splitn(3, ' ');
                let done = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
                let total = it.next().and_then(|s| s.parse().ok()).unwrap_or(1);
                let msg = it.next().unwrap_or("").to_string();
                let _ = tx.send(Event::Progress(id, done, total, msg));
            } else {
                let _ = writeln!(log_file, "{line}");
            }
        }
        let status = child.wait();
        let _ = tx.send(Event::Done(id, status));
    });
    Ok(())
}

/// The running binary. On Linux `/proc/self/exe`, which still runs this very binary when a
/// rebuild has replaced the file meanwhile (a long study outlives many builds).
fn this_binary() -> Result<PathBuf> {
    let proc_exe = Path::new("/proc/self/exe");
    if cfg!(target_os = "linux") && proc_exe.exists() {
        return Ok(proc_exe.to_path_buf());
    }
    std::env::current_exe().map_err(|e| Error::io("l2tww", e))
}

/// Makes the child die with `l2tww run` (Linux), so that a killed run leaves no orphan writing
/// into the cache.
fn die_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches only the calling (child) process.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
}
