//! Runs `cc-ci run` end to end against a real git recipe on the real engine, in a private coord tree
//! and data dir, and checks through the docker CLI (not through cc-ci) that nothing was left behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::recipe_repo::{self, RecipeRepo};

/// One isolated run environment.
pub struct RunFixture {
    pub dir: tempfile::TempDir,
    pub repo: RecipeRepo,
    pub data: PathBuf,
    pub coord: PathBuf,
    pub artifacts: PathBuf,
    pub domain: String,
}

impl RunFixture {
    /// The example recipe `hello` as a git repo, a data dir with the project's generic tests and an
    /// empty overlays dir, a private coord tree, and a unique domain.
    pub fn new(tag: &str) -> Self {
        Self::for_recipe("hello", tag)
    }

    /// Like [`RunFixture::new`] for any recipe folder of `examples/recipes/` (`name`), with an empty
    /// overlays dir.
    pub fn for_recipe(name: &str, tag: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = recipe_repo::build(name, &dir.path().join(name));
        Self::around(dir, repo, name, tag)
    }

    /// The fixture around a built recipe repo: data dir, coord, artifacts, a unique domain.
    pub fn around(dir: tempfile::TempDir, repo: RecipeRepo, name: &str, tag: &str) -> Self {
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("overlays")).unwrap();
        copy_dir(
            &recipe_repo::project_root().join("generic-tests"),
            &data.join("generic-tests"),
        );
        let rand = uuid::Uuid::new_v4().simple().to_string();
        let domain = format!("{name}-{tag}-{}.ci.local", &rand[..6]);
        Self {
            coord: dir.path().join("coord"),
            artifacts: dir.path().join("artifacts"),
            data,
            repo,
            domain,
            dir,
        }
    }

    pub fn stack(&self) -> String {
        cc_ci::deploy::stack_name(&self.domain)
    }

    /// The `cc-ci run` command with this fixture's coord, data, artifacts and domain.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_for(self.repo.path.as_os_str(), args)
    }

    /// Like [`RunFixture::command`] with another `--recipe` (a name, URL or path).
    pub fn command_for(&self, recipe: &std::ffi::OsStr, args: &[&str]) -> Command {
        let mut cmd = self.command_without_domain(recipe, &[]);
        cmd.arg("--domain").arg(&self.domain).args(args);
        cmd
    }

    /// `cc-ci run` of `recipe` with this fixture's coord, data and artifacts but no `--domain`: the run
    /// picks its domain itself (recipe.yaml's `domain:`, else a unique one).
    pub fn command_without_domain(&self, recipe: &std::ffi::OsStr, args: &[&str]) -> Command {
        let mut cmd = super::cli::cc_ci(self.dir.path());
        cmd.arg("run")
            .arg("--recipe")
            .arg(recipe)
            .arg("--coord-dir")
            .arg(&self.coord)
            .arg("--data-dir")
            .arg(&self.data)
            .arg("--artifacts")
            .arg(&self.artifacts)
            .args(args);
        for k in ["RECIPE", "REF", "PR", "STAGES"] {
            cmd.env_remove(k);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run cc-ci")
    }

    /// results.json of the run.
    pub fn results(&self) -> serde_json::Value {
        let p = self.artifacts.join("results.json");
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        serde_json::from_str(&text).unwrap()
    }

    /// Outcome kind of a test in results.json (`Passed`, `Failed`, `NotRun`, `Ignored`), by id suffix.
    pub fn outcome(&self, id_suffix: &str) -> String {
        let r = self.results();
        for t in r["tiers"].as_array().unwrap() {
            for test in t["tests"].as_array().unwrap() {
                if test["id"].as_str().unwrap().ends_with(id_suffix) {
                    return outcome_kind(&test["outcome"]);
                }
            }
        }
        panic!("no test ending with {id_suffix} in results.json: {r:#}");
    }

    /// Asserts that no service, container, volume, secret, config or network of the stack remains.
    /// Swarm forgets a removed overlay network on the node a moment after the manager does, so a
    /// leftover must still be there after a few seconds to count.
    pub fn assert_nothing_left(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let left = leftovers(&self.stack());
            if left.is_empty() {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "leftovers of {}: {left:?}",
                self.stack()
            );
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    }
}

/// `"Passed"`, `"Failed"`, ... from a serialized outcome (a string or a one-key object).
pub fn outcome_kind(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(m) => m
            .get("status")
            .or_else(|| m.get("kind"))
            .and_then(|s| s.as_str())
            .map(str::to_string)
            .or_else(|| m.keys().next().cloned())
            .unwrap_or_default(),
        other => other.to_string(),
    }
}

/// Everything of `stack` the engine still has, listed with the docker CLI.
pub fn leftovers(stack: &str) -> Vec<String> {
    let label = format!("label=com.docker.stack.namespace={stack}");
    let mut out = Vec::new();
    for (kind, args) in [
        ("service", vec!["service", "ls", "-q", "--filter", &label]),
        ("container", vec!["ps", "-aq", "--filter", &label]),
        ("volume", vec!["volume", "ls", "-q", "--filter", &label]),
        ("secret", vec!["secret", "ls", "-q", "--filter", &label]),
        ("config", vec!["config", "ls", "-q", "--filter", &label]),
        ("network", vec!["network", "ls", "-q", "--filter", &label]),
    ] {
        let o = Command::new("docker")
            .args(&args)
            .output()
            .expect("docker CLI");
        assert!(
            o.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        for id in String::from_utf8_lossy(&o.stdout).split_whitespace() {
            out.push(format!("{kind} {id}"));
        }
    }
    // Volumes and secrets named after the stack even without labels.
    for (kind, args) in [
        ("volume", vec!["volume", "ls", "-q"]),
        ("secret", vec!["secret", "ls", "--format", "{{.Name}}"]),
    ] {
        let o = Command::new("docker")
            .args(&args)
            .output()
            .expect("docker CLI");
        for name in String::from_utf8_lossy(&o.stdout).split_whitespace() {
            if name.starts_with(&format!("{stack}_")) && !out.iter().any(|l| l.ends_with(name)) {
                out.push(format!("{kind} {name}"));
            }
        }
    }
    out
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}
