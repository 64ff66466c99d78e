//! A local child: `l2tww exec-stage JOB.json` started from this very binary, dying with its
//! parent; its stdout's `@progress` lines become events, the rest goes to its log.

use super::super::plan::InstanceId;
use super::job::Job;
use crate::device::device_name;
use crate::error::{Error, Result};
use crate::fsx;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;

/// What a running child reports.
pub enum Event {
    /// Progress: done, total, message.
    Progress(InstanceId, u64, u64, String),
    /// The child ended.
    Done(InstanceId, std::io::Result<std::process::ExitStatus>),
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

/// Starts `l2tww exec-stage` on the job file `job_path` of instance `id`, its output into `log`
/// (with a first line naming the instance, its key and its execution context); progress lines
/// and the exit become events on `tx`.
pub fn spawn(
    id: InstanceId,
    job: &Job,
    job_path: &Path,
    log: &Path,
    tx: mpsc::Sender<Event>,
) -> Result<()> {
    fsx::create_dir_all(&fsx::parent_dir(log))?;
    let mut log_file = std::fs::File::create(log).map_err(|e| Error::io(log, e))?;
    let e = &job.exec;
    let _ = writeln!(
        log_file,
        "# {} ({}), key {}, device {}, {} thread(s), {}",
        job.instance,
        job.params.kind(),
        job.key,
        device_name(e.device),
        e.threads,
        e.precision
    );
    let err_file = log_file.try_clone().map_err(|e| Error::io(log, e))?;
    let mut cmd = Command::new(this_binary()?);
    // The threads are in the job; OpenMP's variable only keeps libraries started before
    // libtorch sets its pool from agreeing with it.
    cmd.arg("exec-stage")
        .arg(job_path)
        .env("OMP_NUM_THREADS", e.threads.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(err_file));
    die_with_parent(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| Error::io("l2tww exec-stage", e))?;
    let stdout = child.stdout.take().expect("piped");
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
