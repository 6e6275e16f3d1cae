//! `cargo bench --bench floor`: how close a cc-ci run comes to what the engine itself needs.
//!
//! 1. The floor: an install-only `cc-ci run` of the bundled example recipe against the docker CLI doing
//!    the same deploy → healthy → removal by hand (`docker secret create`, `docker stack deploy`, poll
//!    until 1/1, `docker stack rm`, remove the volume and the secret, poll until nothing of the stack is
//!    left), alternated in the same run on the same engine. Prints the medians and their ratio (target:
//!    ≤ 1.25×). The CLI side polls every 100 ms: a tight floor, not a convenient one.
//! 2. A four-tier run of the same example (install → upgrade → backup → restore): the time of each op,
//!    of teardown and of the whole run, from the run's results.json.
//!
//! Needs the engine of scripts/setup-engine.sh and the docker CLI on PATH. `FLOOR_ROUNDS` (1–20,
//! default 3) sets the rounds of each side; `FLOOR_CC_CI=PATH` measures another cc-ci binary (e.g. a
//! build of an older commit) instead of this build's. Without `--bench` (e.g. under `cargo test --benches`) it
//! only says so: every round deploys on the shared engine.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wait_timeout::ChildExt;

/// Any one command of the benchmark; a cc-ci run gets [`RUN_DEADLINE`].
const STEP_DEADLINE: Duration = Duration::from_secs(60);
const RUN_DEADLINE: Duration = Duration::from_secs(600);
/// How long the CLI floor waits for healthy, and for gone.
const WAIT_DEADLINE: Duration = Duration::from_secs(120);
const POLL: Duration = Duration::from_millis(100);
const TARGET: f64 = 1.25;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a command to completion within `deadline`, in its own process group (killed whole on expiry).
fn run(cmd: &mut Command, deadline: Duration) -> Output {
    use std::os::unix::process::CommandExt;
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut b).ok();
        b
    });
    let mut stdout = Vec::new();
    let out_reader = std::thread::spawn(move || {
        std::io::Read::read_to_end(&mut out, &mut stdout).ok();
        stdout
    });
    let status = match child.wait_timeout(deadline).unwrap() {
        Some(s) => s,
        None => {
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            panic!("{what} did not finish within {deadline:?}");
        }
    };
    Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: reader.join().unwrap(),
    }
}

fn docker(args: &[&str]) -> Output {
    run(Command::new("docker").args(args), STEP_DEADLINE)
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn unique() -> String {
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{:06x}", n & 0xff_ffff)
}

/// The example recipe as a git repository with release history (as a recipe PR looks).
fn example_repo(dir: &Path) -> PathBuf {
    let dest = dir.join("hello");
    let out = run(
        Command::new("bash")
            .arg(root().join("examples/make-recipe-repo.sh"))
            .arg(root().join("examples/recipes/hello"))
            .arg(&dest),
        STEP_DEADLINE,
    );
    assert!(out.status.success(), "make-recipe-repo.sh failed");
    dest
}

/// This build's cc-ci, or the one `FLOOR_CC_CI` names.
fn cc_ci_bin() -> PathBuf {
    match std::env::var_os("FLOOR_CC_CI") {
        Some(p) if Path::new(&p).is_file() => PathBuf::from(p),
        Some(p) => {
            eprintln!("floor: FLOOR_CC_CI={p:?} is not a file");
            std::process::exit(4);
        }
        None => PathBuf::from(env!("CARGO_BIN_EXE_cc-ci")),
    }
}

/// One cc-ci run of `stages` over the example; returns its wall time and its results.json.
fn cc_ci_run(repo: &Path, coord: &Path, stages: &str) -> (Duration, serde_json::Value) {
    let art = coord.join(format!("art-{}", unique()));
    let start = Instant::now();
    let out = run(
        Command::new(cc_ci_bin())
            .args(["run", "--recipe"])
            .arg(repo)
            .args(["--stages", stages, "--data-dir"])
            .arg(root())
            .arg("--artifacts")
            .arg(&art)
            .env("CCCI_COORD_DIR", coord)
            .env_remove("CI"),
        RUN_DEADLINE,
    );
    let wall = start.elapsed();
    assert!(
        out.status.success(),
        "cc-ci run --stages {stages} failed:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let results = std::fs::read_to_string(art.join("results.json")).expect("results.json");
    (wall, serde_json::from_str(&results).unwrap())
}

fn ms(v: &serde_json::Value) -> Duration {
    Duration::from_millis(v.as_u64().unwrap_or(0))
}

/// The docker CLI's stack of one floor round; removed (best effort) when dropped, should a step fail.
struct CliStack {
    stack: String,
}

impl CliStack {
    fn secret(&self) -> String {
        format!("{}_api_key_v1", self.stack)
    }

    fn list_empty(&self, args: &[&str]) -> bool {
        text(&docker(args)).is_empty()
    }

    /// `docker stack rm`, then what a careful script does after it: wait until the task containers
    /// are gone, remove the volume and the external secret (which `stack rm` leaves), and remove the
    /// network again should `stack rm` have found it still in use; until nothing of the stack is left.
    fn remove(&self) {
        let label = format!("label=com.docker.stack.namespace={}", self.stack);
        let deadline = Instant::now() + WAIT_DEADLINE;
        let wait = |what: &str| {
            assert!(
                Instant::now() < deadline,
                "{what} of {} not gone",
                self.stack
            );
            std::thread::sleep(POLL);
        };
        docker(&["stack", "rm", &self.stack]);
        while !self.list_empty(&["ps", "-aq", "--filter", &label]) {
            wait("containers");
        }
        let volume = format!("{}_content", self.stack);
        while !docker(&["volume", "rm", &volume]).status.success()
            && !self.list_empty(&["volume", "ls", "-q", "--filter", &label])
        {
            wait("the volume");
        }
        docker(&["secret", "rm", &self.secret()]);
        loop {
            let networks = text(&docker(&["network", "ls", "-q", "--filter", &label]));
            if networks.is_empty() && self.list_empty(&["config", "ls", "-q", "--filter", &label]) {
                break;
            }
            for n in networks.lines() {
                docker(&["network", "rm", n]);
            }
            wait("networks and configs");
        }
    }
}

impl Drop for CliStack {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.remove();
        }
    }
}

/// The floor: the docker CLI deploys the same checkout, waits until the app is 1/1 (a task with a
/// healthcheck only counts as running once healthy), removes it and waits until it is gone.
fn cli_round(repo: &Path) -> (Duration, Duration, Duration) {
    let id = unique();
    let domain = format!("floor-{id}.ci.local");
    let s = CliStack {
        stack: domain.replace('.', "_"),
    };
    let start = Instant::now();
    let mut create = Command::new("sh");
    create
        .args(["-c", "printf %s \"$V\" | docker secret create \"$N\" -"])
        .env("V", rand_secret())
        .env("N", s.secret());
    assert!(
        run(&mut create, STEP_DEADLINE).status.success(),
        "secret create"
    );
    let deploy = run(
        Command::new("docker")
            .args([
                "stack",
                "deploy",
                "--detach=true",
                "--resolve-image",
                "never",
                "-c",
            ])
            .arg(repo.join("compose.yml"))
            .arg(&s.stack)
            .current_dir(repo)
            .env("STACK_NAME", &s.stack)
            .env("DOMAIN", &domain)
            .env("GREETING", "hello")
            .env("SECRET_API_KEY_VERSION", "v1")
            .env("APP_CONF_VERSION", "v1"),
        STEP_DEADLINE,
    );
    assert!(
        deploy.status.success(),
        "docker stack deploy: {}",
        String::from_utf8_lossy(&deploy.stderr)
    );
    let label = format!("label=com.docker.stack.namespace={}", s.stack);
    let deadline = Instant::now() + WAIT_DEADLINE;
    while text(&docker(&[
        "service",
        "ls",
        "--filter",
        &label,
        "--format",
        "{{.Replicas}}",
    ])) != "1/1"
    {
        assert!(
            Instant::now() < deadline,
            "{} never became healthy",
            s.stack
        );
        std::thread::sleep(POLL);
    }
    let healthy = start.elapsed();
    let rm = Instant::now();
    s.remove();
    (start.elapsed(), healthy, rm.elapsed())
}

fn rand_secret() -> String {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn floor(repo: &Path, coord: &Path, rounds: usize) {
    let (mut ours, mut deploy_ops, mut teardowns) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cli, mut cli_healthy, mut cli_rm) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=rounds {
        let (wall, r) = cc_ci_run(repo, coord, "install");
        ours.push(wall);
        deploy_ops.push(ms(&r["tiers"][0]["op"]["duration_ms"]));
        teardowns.push(ms(&r["teardown"]["duration_ms"]));
        let (total, healthy, removal) = cli_round(repo);
        cli.push(total);
        cli_healthy.push(healthy);
        cli_rm.push(removal);
        println!(
            "  round {round}: cc-ci {} · docker CLI {}",
            secs(wall),
            secs(total)
        );
    }
    let (a, b) = (median(ours), median(cli));
    let ratio = a.as_secs_f64() / b.as_secs_f64();
    println!("floor (median of {rounds}):");
    println!(
        "  cc-ci run --stages install   {:>7}   (deploy op {}, teardown {})",
        secs(a),
        secs(median(deploy_ops)),
        secs(median(teardowns))
    );
    println!(
        "  docker CLI floor             {:>7}   (deploy → healthy {}, removal → gone {})",
        secs(b),
        secs(median(cli_healthy)),
        secs(median(cli_rm))
    );
    let verdict = if ratio <= TARGET { "met" } else { "NOT met" };
    println!("  ratio                        {ratio:.2}×    (target ≤ {TARGET}×: {verdict})");
}

fn four_tiers(repo: &Path, coord: &Path) {
    let (wall, r) = cc_ci_run(repo, coord, "install,upgrade,backup,restore");
    println!("four-tier example (one run):");
    for t in r["tiers"].as_array().into_iter().flatten() {
        if t["op"].is_null() {
            continue;
        }
        println!(
            "  {:<8} op {:<8} {:>7}",
            t["tier"].as_str().unwrap_or("?"),
            t["op"]["name"].as_str().unwrap_or("?"),
            secs(ms(&t["op"]["duration_ms"]))
        );
    }
    println!(
        "  teardown             {:>7}",
        secs(ms(&r["teardown"]["duration_ms"]))
    );
    println!("  whole run            {:>7}", secs(wall));
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("floor: deploys on the engine; run it with `cargo bench --bench floor`");
        return;
    }
    let rounds: usize = match std::env::var("FLOOR_ROUNDS") {
        Ok(v) => match v.parse() {
            Ok(n) if (1..=20).contains(&n) => n,
            _ => {
                eprintln!("floor: FLOOR_ROUNDS must be a whole number from 1 to 20, got {v:?}");
                std::process::exit(4);
            }
        },
        Err(_) => 3,
    };
    println!("floor: {}", cc_ci_bin().display());
    let dir = tempfile::tempdir().unwrap();
    let repo = example_repo(dir.path());
    let coord = dir.path().join("coord");
    floor(&repo, &coord, rounds);
    four_tiers(&repo, &coord);
}
