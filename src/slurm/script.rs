//! The batch script for a [`JobSpec`]: `#SBATCH` lines for the name, folders and resources,
//! then the set-up line (checked), then the body under `set -e`.
//!
//! Values are checked here, before anything reaches sbatch: a newline would end an `#SBATCH`
//! line early, and `%` in a path is a Slurm file-name pattern (`%j` = job id).
use super::spec::JobSpec;
use crate::error::{Error, Result};
use std::path::Path;

/// The batch script that runs `spec`. Dependencies are not in it: they are job ids of this
/// submission only, given to sbatch on its command line.
///
/// Errors on values sbatch would misread: an empty or spaced name, a path with `%`, `"`, `\`
/// or a newline, a partition, memory or time limit that is not in Slurm's syntax, a multi-line
/// extra line.
pub fn render_script(spec: &JobSpec) -> Result<String> {
    let name = &spec.name;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_graphic() && !"\"'\\%".contains(c))
    {
        return Err(invalid(
            name,
            "job name",
            "printable ASCII without spaces, quotes, `\\` or `%`",
        ));
    }
    let mut lines = vec![
        "#!/bin/bash".to_string(),
        format!("# Written by l2tww for the job `{name}`."),
        format!("#SBATCH --job-name={name}"),
        format!("#SBATCH --chdir={}", quoted_path(&spec.workdir)?),
        format!("#SBATCH --output={}", quoted_path(&spec.log_path)?),
    ];
    if let Some(p) = &spec.partition {
        check(
            p,
            "partition",
            "letters, digits, `_`, `-`, `.` or `,`",
            |c| c.is_ascii_alphanumeric() || "_-.,".contains(c),
        )?;
        lines.push(format!("#SBATCH --partition={p}"));
    }
    if let Some(n) = spec.gpus.filter(|&n| n > 0) {
        lines.push(format!("#SBATCH --gres=gpu:{n}"));
    }
    if let Some(n) = spec.cpus {
        lines.push(format!("#SBATCH --cpus-per-task={n}"));
    }
    if let Some(m) = &spec.mem {
        let digits = m.trim_end_matches(['K', 'M', 'G', 'T']);
        if digits.is_empty()
            || !digits.chars().all(|c| c.is_ascii_digit())
            || m.len() > digits.len() + 1
        {
            return Err(invalid(
                m,
                "memory",
                "a number of MB, or a number with K, M, G or T",
            ));
        }
        lines.push(format!("#SBATCH --mem={m}"));
    }
    if let Some(t) = &spec.time {
        check(t, "time limit", "minutes, `H:MM:SS` or `D-HH:MM:SS`", |c| {
            c.is_ascii_digit() || c == ':' || c == '-'
        })?;
        lines.push(format!("#SBATCH --time={t}"));
    }
    for extra in &spec.extra_lines {
        let extra = extra.trim();
        if extra.contains('\n') || extra.contains('\r') {
            return Err(invalid(extra, "extra #SBATCH line", "one line"));
        }
        match extra.strip_prefix("#SBATCH") {
            Some(rest) => lines.push(format!("#SBATCH {}", rest.trim())),
            None => lines.push(format!("#SBATCH {extra}")),
        }
    }
    lines.push(r#"echo "l2tww: job ${SLURM_JOB_ID:-?} ($SLURM_JOB_NAME) on $(hostname) at $(date '+%F %T')""#.into());
    if let Some(setup) = &spec.setup {
        lines.push("# The set-up line:".into());
        lines.push(setup.clone());
        lines.push("l2tww_setup_status=$?".into());
        lines.push(
            r#"if [ "$l2tww_setup_status" -ne 0 ]; then echo "l2tww: the set-up line failed with status $l2tww_setup_status" >&2; exit 1; fi"#
                .into(),
        );
    }
    lines.push("set -e".into());
    lines.push(spec.script_body.trim_end().to_string());
    Ok(lines.join("\n") + "\n")
}

/// A path as an `#SBATCH` value, in double quotes (sbatch strips them) so spaces survive.
fn quoted_path(path: &Path) -> Result<String> {
    let text = path
        .to_str()
        .ok_or_else(|| Error::Invalid(format!("{}: Slurm needs UTF-8 paths", path.display())))?;
    check(text, "path", "no `%`, `\"`, `\\` or line breaks", |c| {
        !"%\"\\\n\r".contains(c)
    })?;
    Ok(format!("\"{text}\""))
}

fn check(value: &str, what: &str, expected: &str, ok: impl Fn(char) -> bool) -> Result<()> {
    if value.is_empty() || !value.chars().all(ok) {
        return Err(invalid(value, what, expected));
    }
    Ok(())
}

fn invalid(value: &str, what: &str, expected: &str) -> Error {
    Error::Invalid(format!(
        "the Slurm {what} {value:?} is not valid: expected {expected}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slurm::JobId;

    fn spec() -> JobSpec {
        JobSpec::new(
            "train-a",
            "l2tww stage run a\n",
            "/work dir",
            "/work dir/logs/a.log",
        )
    }

    #[test]
    fn a_bare_job_has_name_folders_and_body_and_nothing_else() {
        let s = render_script(&spec()).unwrap();
        let expected = [
            "#!/bin/bash",
            "# Written by l2tww for the job `train-a`.",
            "#SBATCH --job-name=train-a",
            "#SBATCH --chdir=\"/work dir\"",
            "#SBATCH --output=\"/work dir/logs/a.log\"",
        ];
        assert_eq!(s.lines().take(5).collect::<Vec<_>>(), expected);
        assert!(s.ends_with("set -e\nl2tww stage run a\n"), "{s}");
        assert!(!s.contains("--partition") && !s.contains("--gres") && !s.contains("--mem"));
    }

    #[test]
    fn resources_extra_lines_and_setup_come_in_order_before_the_body() {
        let mut j = spec();
        j.partition = Some("gpu".into());
        j.gpus = Some(2);
        j.cpus = Some(8);
        j.mem = Some("32G".into());
        j.time = Some("1-02:00:00".into());
        j.extra_lines = vec!["--qos=long".into(), "#SBATCH   --constraint=a100".into()];
        j.setup = Some("source /opt/venv/bin/activate".into());
        j.dependencies = vec![JobId(3)];
        let s = render_script(&j).unwrap();
        let sbatch: Vec<&str> = s
            .lines()
            .filter(|l| l.starts_with("#SBATCH"))
            .skip(3)
            .collect();
        assert_eq!(
            sbatch,
            [
                "#SBATCH --partition=gpu",
                "#SBATCH --gres=gpu:2",
                "#SBATCH --cpus-per-task=8",
                "#SBATCH --mem=32G",
                "#SBATCH --time=1-02:00:00",
                "#SBATCH --qos=long",
                "#SBATCH --constraint=a100",
            ]
        );
        let setup = s.find("source /opt/venv").unwrap();
        assert!(s.rfind("#SBATCH").unwrap() < setup && setup < s.find("set -e").unwrap());
        assert!(
            !s.contains("dependency"),
            "dependencies go on sbatch's command line"
        );
    }

    #[test]
    fn values_sbatch_would_misread_are_refused_with_the_field_named() {
        type Case = (&'static str, fn(&mut JobSpec));
        let cases: [Case; 6] = [
            ("job name", |j| j.name = "two words".into()),
            ("path", |j| j.log_path = "/logs/%j.log".into()),
            ("partition", |j| {
                j.partition = Some("gpu\n#SBATCH --x".into())
            }),
            ("memory", |j| j.mem = Some("16GB".into())),
            ("time limit", |j| j.time = Some("2h".into())),
            ("extra #SBATCH line", |j| {
                j.extra_lines = vec!["--a\n--b".into()]
            }),
        ];
        for (field, edit) in cases {
            let mut j = spec();
            edit(&mut j);
            let err = render_script(&j).unwrap_err().to_string();
            assert!(err.contains(field), "{field}: {err}");
        }
    }
}
