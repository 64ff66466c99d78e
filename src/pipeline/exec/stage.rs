//! `l2tww exec-stage JOB.json`: runs one stage instance and commits its output to the cache. The
//! same code runs as a child of `l2tww run` and as a Slurm batch job; it applies the job's
//! execution context (threads, device) itself and resolves nothing again. Progress goes to stdout
//! as `@progress DONE TOTAL MESSAGE` lines (the parent draws the bar); everything else is the
//! log. The external files are hashed again after the stage: if one changed since the pipeline
//! was planned, its output is not recorded.

use super::super::plan::labels_json;
use super::job::Job;
use crate::cache::{FileHashes, Lookup, Store, Verify};
use crate::device::device_name;
use crate::error::{Error, Result};
use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

fn check_files(job: &Job, hashes: &FileHashes, when: &str) -> Result<()> {
    for f in &job.files {
        let now = hashes.hash(&f.path)?;
        if now != f.hash {
            return Err(Error::Invalid(format!(
                "{} changed {when} (`{}` of {}); its output was not recorded — run the pipeline again",
                f.path.display(),
                f.name,
                job.instance
            )));
        }
    }
    Ok(())
}

/// Runs the job in `path`; returns whether it computed (false: the entry was already there).
pub fn exec_job(path: &Path) -> Result<bool> {
    let job = Job::read(path)?;
    job.exec.apply()?;
    let store = Store::open(&job.cache)?;
    if !job.force {
        if let Lookup::Hit(_) = store.lookup(&job.key, Verify::Fast)? {
            store.remember(&job.memory, &job.explanation)?;
            println!("{}: already in the cache", job.instance);
            return Ok(false);
        }
    }
    let staging = store.stage(&job.key)?;
    let out = staging.out_dir();
    crate::fsx::create_dir_all(&out)?;
    let work = store.work_dir(&job.key)?;
    let started = Instant::now();
    let started_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut progress = |done: u64, total: u64, msg: &str| {
        let mut o = std::io::stdout().lock();
        let _ = writeln!(o, "@progress {done} {total} {msg}");
        let _ = o.flush();
    };
    let mut ctx = job.context(&out, &work, &mut progress);
    let metrics = job.params.run(&mut ctx)?;
    // Compared with the hashes the key was made of: a change after planning or during the run
    // is caught by this one pass.
    check_files(&job, &FileHashes::in_memory(), "while the stage ran")?;
    let params = serde_json::to_value(&job.params).expect("parameters serialise");
    let meta = json!({
        "pipeline": job.pipeline,
        "instance": job.instance,
        "kind": job.params.kind(),
        "labels": labels_json(&job.labels),
        "params": params["params"],
        "inputs": job.inputs.iter().map(|(k, v)| (k.clone(), v.iter().map(|i| i.instance.clone()).collect::<Vec<_>>())).collect::<std::collections::BTreeMap<_, _>>(),
        "files": job.files.iter().map(|f| json!({"name": f.name, "path": f.path, "blake3": f.hash})).collect::<Vec<_>>(),
        "started": started_at,
        "seconds": started.elapsed().as_secs_f64(),
        "metrics": metrics,
        "versions": {"l2tww": env!("CARGO_PKG_VERSION"), "torch": torch_version()},
        "device": device_name(job.exec.device),
        "precision": job.exec.precision,
        "threads": job.exec.threads,
    });
    if job.force {
        // A forced run replaces the entry: the commit would otherwise keep the one there.
        store.evict(&job.key)?;
    }
    staging.commit(meta)?;
    store.remember(&job.memory, &job.explanation)?;
    store.clear_work(&job.key)?;
    Ok(true)
}

/// The libtorch version tch was built against.
pub fn torch_version() -> String {
    option_env!("L2TWW_TORCH_VERSION")
        .unwrap_or("2.13.0")
        .to_string()
}
