//! Docker's own reading of a stack, as the oracle for cc-ci's compose loader: `docker stack config`
//! (docker CLI 28.x; Debian's 20.10 client lacks the command) run on the same files with exactly the
//! app env cc-ci computed, and a field-by-field comparison of the two results.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_yaml::Value;

/// A docker client whose `stack config` works, or a panic that says what is missing (a test that
/// needs the oracle must fail without it, never skip).
pub fn docker() -> PathBuf {
    let mut candidates = vec![PathBuf::from("/usr/local/bin/docker")];
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("docker")));
    }
    for c in candidates.iter().filter(|c| c.is_file()) {
        let (code, _, _) = run(
            c,
            &["stack", "config", "--help"],
            &BTreeMap::new(),
            Path::new("/"),
        );
        if code == Some(0) {
            return c.clone();
        }
    }
    panic!(
        "no docker client with `docker stack config` found (tried {candidates:?}); the compose oracle needs docker CLI 28.x at /usr/local/bin/docker (Debian's 20.10 client lacks `stack config`)"
    );
}

/// (exit code, stdout, stderr) of `bin ARGS` in `cwd` with exactly `env` (nothing inherited), within
/// a minute.
fn run(
    bin: &Path,
    args: &[&str],
    env: &BTreeMap<String, String>,
    cwd: &Path,
) -> (Option<i32>, String, String) {
    let out = super::process::output_within(
        Command::new(bin)
            .args(args)
            .env_clear()
            .envs(env)
            .current_dir(cwd)
            .stdin(Stdio::null()),
        Duration::from_secs(60),
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What `docker stack config -c f1 -c f2 …` prints for `files`, interpolated with exactly `env`.
pub fn stack_config(files: &[PathBuf], env: &BTreeMap<String, String>, cwd: &Path) -> Value {
    let bin = docker();
    let mut args = vec!["stack".to_string(), "config".to_string()];
    for f in files {
        args.push("-c".into());
        args.push(f.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = run(&bin, &args, env, cwd);
    assert_eq!(code, Some(0), "docker stack config failed: {err}");
    serde_yaml::from_str(&out).unwrap_or_else(|e| panic!("docker printed no YAML ({e}): {out}"))
}

/// Docker's refusal of `files` (its stderr), or `None` when `docker stack config` accepts them.
pub fn stack_config_refusal(
    files: &[PathBuf],
    env: &BTreeMap<String, String>,
    cwd: &Path,
) -> Option<String> {
    let bin = docker();
    let mut args = vec!["stack".to_string(), "config".to_string()];
    for f in files {
        args.push("-c".into());
        args.push(f.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = run(&bin, &args, env, cwd);
    (code != Some(0)).then_some(err)
}

/// The differences between cc-ci's rendering (`ours`) and Docker's (`theirs`), one line per field,
/// by key path. Top-level `x-` extensions are skipped (nothing deploys them); a key of Docker's output
/// listed in `ignored` must be absent from ours (cc-ci leaves out what swarm ignores, with a warning).
pub fn differences(ours: &Value, theirs: &Value, ignored: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    walk(ours, theirs, "", ignored, &mut out);
    out
}

fn walk(ours: &Value, theirs: &Value, path: &str, ignored: &[String], out: &mut Vec<String>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (ours, theirs) {
        (Value::Mapping(o), Value::Mapping(t)) => {
            for (k, tv) in t {
                let key = k
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{k:?}"));
                let sub = join(&key);
                if path.is_empty() && key.starts_with("x-") {
                    continue;
                }
                match o.get(k) {
                    _ if ignored.contains(&sub) && o.get(k).is_none() => {}
                    Some(_) if ignored.contains(&sub) => {
                        out.push(format!("{sub}: listed as ignored but rendered"))
                    }
                    None => out.push(format!("{sub}: missing (docker: {})", short(tv))),
                    Some(ov) => walk(ov, tv, &sub, ignored, out),
                }
            }
            for (k, ov) in o {
                if !t.contains_key(k) {
                    let key = k.as_str().unwrap_or("?");
                    out.push(format!("{}: extra (ours: {})", join(key), short(ov)));
                }
            }
        }
        (Value::Sequence(o), Value::Sequence(t)) => {
            if o.len() != t.len() {
                out.push(format!(
                    "{path}: {} entries, docker has {} (ours: {}, docker: {})",
                    o.len(),
                    t.len(),
                    short(ours),
                    short(theirs)
                ));
                return;
            }
            for (i, (a, b)) in o.iter().zip(t).enumerate() {
                walk(a, b, &format!("{path}[{i}]"), ignored, out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(format!("{path}: ours {} ≠ docker {}", short(a), short(b))),
    }
}

fn short(v: &Value) -> String {
    let s = serde_yaml::to_string(v).unwrap_or_default();
    let s = s.trim().replace('\n', " ⏎ ");
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}
