//! A run's teardown removes only what is its own: of a stack's resources, those carrying its run id
//! (or no run id, as abra makes them), never one carrying another run's id. Resources are made with
//! the docker CLI, as another client would.

use crate::support::containers::docker_ok;
use crate::support::engine::{engine, unique};

#[test]
fn a_runs_teardown_leaves_another_runs_resources_of_the_same_stack_alone() {
    let stack = format!("owner_{}", unique());
    let label = |run: &str| {
        [
            "--label".to_string(),
            format!("com.docker.stack.namespace={stack}"),
            "--label".to_string(),
            format!("cc-ci.run-id={run}"),
        ]
    };
    let mine = format!("{stack}_mine");
    let theirs = format!("{stack}_theirs");
    for (name, run) in [(&mine, "run-mine"), (&theirs, "run-theirs")] {
        let mut args = vec!["network".to_string(), "create".into()];
        args.extend(label(run));
        args.push(name.clone());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        docker_ok(&args);
    }
    let e = engine();
    e.remove_run_stack(&stack, "run-mine").unwrap();
    let names = docker_ok(&["network", "ls", "--format", "{{.Name}}"]);
    let left: Vec<&str> = names.lines().filter(|n| n.starts_with(&stack)).collect();
    assert_eq!(
        left,
        vec![theirs.as_str()],
        "only the other run's network stays"
    );
    assert_eq!(
        e.leftovers(Some("run-mine"), &stack).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        e.leftovers(Some("run-theirs"), &stack).unwrap(),
        vec![format!("network {theirs}")]
    );
    // The whole-stack removal (the janitor's, for a dead run) takes the rest.
    e.remove_stack(&stack).unwrap();
    assert!(e.leftovers(None, &stack).unwrap().is_empty());
}
