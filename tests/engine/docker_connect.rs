//! Connecting: the API version is negotiated down to the engine's, and a missing engine is a clear
//! error naming where it looked and what to do.

#[test]
fn connect_negotiates_an_api_version_the_engine_speaks() {
    let e = crate::support::engine::engine();
    let v = e.api_version();
    let (major, minor) = v.split_once('.').unwrap();
    assert_eq!(major, "1");
    assert!(minor.parse::<u32>().unwrap() >= 41, "{v}");
    e.require_swarm().unwrap();
}

#[test]
fn no_engine_is_a_clear_error_with_a_hint() {
    let home = tempfile::tempdir().unwrap();
    let sock = home.path().join("no-engine.sock");
    let out = crate::support::cli::cc_ci(home.path())
        .env("DOCKER_HOST", format!("unix://{}", sock.display()))
        .args(["engine", "services", "--domain", "x.example"])
        .output()
        .unwrap();
    let text = crate::support::cli::text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("cannot reach the docker engine"), "{text}");
    assert!(text.contains(&sock.display().to_string()), "{text}");
    assert!(
        text.contains("hint: start it with scripts/setup-engine.sh"),
        "{text}"
    );
}
