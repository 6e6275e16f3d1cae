//! How fast the harness notices convergence: the event-driven waiter against a fixed-interval poller
//! (1 s), measured in the same run on the same stack. For each round the service is restarted (force
//! update); the waiter returns at `seen`; the engine's own event log says when the last state change of
//! the stack happened (`ready`: new container healthy, update completed). Latency = seen − ready.
//! Also prints the harness CPU time of a full deploy and per wait. Needs the engine of
//! scripts/setup-engine.sh. Run: `cargo bench --bench converge`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::query_parameters::EventsOptions;
use cc_ci::deploy::stack::{StackDeployer, StackOptions};
use cc_ci::deploy::{stack_name, AppRef, DeployRequest, Deployer};
use cc_ci::docker::{Engine, RunLock, LABEL_NAMESPACE};
use futures_util::StreamExt;

const ROUNDS: usize = 4;

/// User + system CPU time of this process so far.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|x| x.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|x| x.parse().ok()).unwrap_or(0);
    Duration::from_millis(ticks * 10) // USER_HZ = 100
}

/// The time of the stack's last state event in [since, until], from the engine's event log.
fn last_state_event(stack: &str, since: SystemTime, until: SystemTime) -> Option<SystemTime> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let docker = bollard::Docker::connect_with_defaults()
            .ok()?
            .negotiate_version()
            .await
            .ok()?;
        let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
        let mut filters = HashMap::new();
        filters.insert(
            "type".to_string(),
            vec!["container".to_string(), "service".to_string()],
        );
        let mut s = docker.events(Some(EventsOptions {
            since: Some(format!("{:.9}", secs(since))),
            until: Some(format!("{:.9}", secs(until) + 0.001)),
            filters: Some(filters),
        }));
        let mut last = None;
        while let Some(Ok(ev)) = s.next().await {
            let action = ev.action.clone().unwrap_or_default();
            let attrs = ev
                .actor
                .as_ref()
                .and_then(|a| a.attributes.clone())
                .unwrap_or_default();
            let mine = attrs.get(LABEL_NAMESPACE).map(String::as_str) == Some(stack)
                || attrs
                    .get("name")
                    .is_some_and(|n| n.starts_with(&format!("{stack}_")));
            if mine && !action.starts_with("exec_") {
                last = ev
                    .time_nano
                    .map(|n| UNIX_EPOCH + Duration::from_nanos(n as u64));
            }
        }
        last
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

struct Cleanup(Arc<Engine>, String);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = self.0.remove_stack(&self.1);
    }
}

/// The example recipe as a git repository with release history, built by the same script the example
/// run uses (`examples/make-recipe-repo.sh`).
fn example_recipe(dest: &std::path::Path) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("bash")
        .arg(root.join("examples/make-recipe-repo.sh"))
        .arg(root.join("examples/recipes/hello"))
        .arg(dest)
        .output()
        .expect("run examples/make-recipe-repo.sh");
    assert!(
        out.status.success(),
        "make-recipe-repo.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dest.to_path_buf()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let engine = Arc::new(Engine::connect().expect("a docker engine (scripts/setup-engine.sh)"));
    engine.require_swarm().expect("swarm");
    let dir = tempfile::tempdir().unwrap();
    let repo = example_recipe(&dir.path().join("hello"));
    let id = format!(
        "{:08x}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let domain = format!("bench-{id}.ci.test");
    let stack = stack_name(&domain);
    let lock = RunLock::acquire(&dir.path().join("run"), &id, &stack).unwrap();
    let app = AppRef {
        run_id: id.clone(),
        recipe: "hello".into(),
        domain,
        stack: stack.clone(),
        run_dir: dir.path().join("run"),
        lock_path: lock.path().to_path_buf(),
        redactor: Default::default(),
    };
    let _cleanup = Cleanup(engine.clone(), stack.clone());
    let mut d = StackDeployer::new(
        engine.clone(),
        app,
        StackOptions {
            create_proxy_network: true,
        },
    );
    let req = DeployRequest {
        checkout: repo.clone(),
        chaos: true,
        env: Default::default(),
        timeout: None,
    };
    let (c0, w0) = (cpu_time(), std::time::Instant::now());
    d.install(&req).expect("install");
    let (install_cpu, install_wall) = (cpu_time() - c0, w0.elapsed());

    let mut lat = [Vec::new(), Vec::new()];
    let mut cpu = [Vec::new(), Vec::new()];
    for round in 0..ROUNDS {
        for (mode, name) in ["events", "poll 1s"].iter().enumerate() {
            let trigger = SystemTime::now();
            engine.restart_service(&stack, "app").unwrap();
            // Start waiting at a random phase, so the poller's 1 s grid is not aligned with the
            // (fairly regular) moment the update completes.
            let mut b = [0u8; 2];
            getrandom::getrandom(&mut b).unwrap();
            std::thread::sleep(Duration::from_millis(u16::from_le_bytes(b) as u64 % 1000));
            let c = cpu_time();
            let r = if mode == 0 {
                engine.wait_converged(&stack, Duration::from_secs(120), &mut |_| {})
            } else {
                engine.wait_converged_polling(
                    &stack,
                    Duration::from_secs(120),
                    Duration::from_secs(1),
                )
            }
            .expect("converged");
            let seen = SystemTime::now();
            cpu[mode].push(ms(cpu_time() - c));
            let ready = last_state_event(&stack, trigger, seen).unwrap_or(seen);
            let l = seen.duration_since(ready).unwrap_or_default();
            lat[mode].push(ms(l));
            println!(
                "round {round} {name:8}: waited {:6.0} ms, engine ready → seen {:6.1} ms ({} event checks, {} tick checks)",
                ms(r.waited), ms(l), r.event_checks, r.tick_checks
            );
        }
    }
    let (ev, poll) = (median(lat[0].clone()), median(lat[1].clone()));
    let (evm, pollm) = (mean(&lat[0]), mean(&lat[1]));
    println!("\nconvergence latency over {ROUNDS} rounds (engine ready → harness sees converged):");
    println!(
        "  event-driven waiter: median {ev:7.1} ms, mean {evm:7.1} ms   (target < 250 ms: {})",
        if ev < 250.0 { "met" } else { "MISSED" }
    );
    println!("  1 s poller:          median {poll:7.1} ms, mean {pollm:7.1} ms");
    println!(
        "  ratio poller/events (means): {:.1}x",
        pollm / evm.max(0.1)
    );
    println!("\nharness CPU time:");
    println!(
        "  install (deploy + converge): {:.0} ms CPU over {:.1} s wall",
        ms(install_cpu),
        install_wall.as_secs_f64()
    );
    println!(
        "  per wait, events: {:.0} ms   per wait, 1 s poller: {:.0} ms",
        median(cpu[0].clone()),
        median(cpu[1].clone())
    );
    let c = cpu_time();
    d.teardown().expect("teardown");
    println!("  teardown: {:.0} ms CPU", ms(cpu_time() - c));
}
