//! The Debian-built images (`images/`, built by `scripts/setup-images.sh`) keep the contract of the
//! official images they stand in for, as documented on hub.docker.com (`postgres`, `nginx`): the oracle is
//! that documentation, not cc-ci. Plain containers on the real engine, driven by the docker CLI.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::support::containers::{docker, docker_ok, Container, Network};

const PG: &str = "ccci/postgres:15";
const NGINX: &str = "ccci/nginx:1";

/// A world-readable temp dir (the images read bind mounts as their own unprivileged users).
fn readable_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    p.display().to_string()
}

/// Ready for clients: TCP answers (during initialisation the server listens on the socket only).
fn wait_pg_ready(c: &Container) {
    c.wait_for(
        &["pg_isready", "-h", "127.0.0.1", "-q"],
        Duration::from_secs(90),
    );
}

#[test]
fn postgres_image_initialises_once_from_the_password_file_and_the_init_scripts() {
    let secrets = readable_dir();
    let pw = write(secrets.path(), "db_password", "s3cret-from-a-file\n");
    let init = readable_dir();
    write(
        init.path(),
        "01-schema.sql",
        "CREATE TABLE t (x int);\nINSERT INTO t VALUES (1);\n",
    );
    // Not executable: sourced, as the official image does.
    write(
        init.path(),
        "02-more.sh",
        "psql -v ON_ERROR_STOP=1 -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\" -c 'INSERT INTO t VALUES (2)'\n",
    );
    write(init.path(), "03-notes.txt", "not a script\n");
    let db = Container::run(
        "ccci-pg-init",
        &[
            "-e",
            "POSTGRES_USER=app",
            "-e",
            "POSTGRES_DB=appdb",
            "-e",
            "POSTGRES_PASSWORD_FILE=/run/secrets/db_password",
            "-v",
            &format!("{pw}:/run/secrets/db_password:ro"),
            "-v",
            &format!("{}:/docker-entrypoint-initdb.d:ro", init.path().display()),
            PG,
        ],
    );
    wait_pg_ready(&db);
    // As root over the local socket, without a password: how backup hooks reach the database.
    let rows = || {
        db.exec_ok(&[
            "psql",
            "-U",
            "app",
            "-d",
            "appdb",
            "-Atc",
            "SELECT x FROM t ORDER BY x",
        ])
    };
    assert_eq!(rows(), "1\n2\n", "{}", db.logs());
    let logs = db.logs();
    assert!(
        logs.contains("ignoring /docker-entrypoint-initdb.d/03-notes.txt"),
        "{logs}"
    );

    // A restart reuses the data directory: no second initialisation, the init scripts do not run again.
    docker_ok(&["restart", "-t", "30", &db.0]);
    wait_pg_ready(&db);
    assert_eq!(rows(), "1\n2\n");
    let logs = db.logs();
    assert_eq!(
        logs.matches("PostgreSQL init process complete").count(),
        1,
        "{logs}"
    );
    assert!(
        logs.contains("appears to contain a database; Skipping initialization"),
        "{logs}"
    );
    for tool in ["pg_dump", "pg_isready", "psql"] {
        db.exec_ok(&["sh", "-c", &format!("command -v {tool}")]);
    }
    assert_eq!(
        db.inspect("{{.Config.User}}"),
        "",
        "starts as root, drops to postgres"
    );
    assert_eq!(
        db.exec_ok(&["stat", "-c", "%U %a", "/var/lib/postgresql/data"]),
        "postgres 700\n"
    );
}

#[test]
fn postgres_image_asks_other_containers_for_the_password() {
    let net = Network::new("ccci-pg-net");
    let _db = Container::run(
        "ccci-pg-auth",
        &[
            "--network",
            &net.0,
            "--network-alias",
            "db",
            "-e",
            "POSTGRES_USER=app",
            "-e",
            "POSTGRES_PASSWORD=right-password",
            PG,
        ],
    );
    wait_pg_ready(&_db);
    let client = |password: Option<&str>| {
        let mut args = vec!["run", "--rm", "--network", &net.0];
        let env;
        if let Some(p) = password {
            env = format!("PGPASSWORD={p}");
            args.extend(["-e", &env]);
        }
        args.extend([
            PG,
            "psql",
            "-h",
            "db",
            "-U",
            "app",
            "-w",
            "-Atc",
            "SELECT 'in'",
        ]);
        docker(120, &args)
    };
    let ok = client(Some("right-password"));
    assert_eq!(String::from_utf8_lossy(&ok.stdout), "in\n", "{ok:?}");
    let wrong = client(Some("wrong-password"));
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("password authentication failed"),
        "{wrong:?}"
    );
    let none = client(None);
    assert!(!none.status.success());
    assert!(
        String::from_utf8_lossy(&none.stderr).contains("no password supplied"),
        "{none:?}"
    );
}

#[test]
fn postgres_image_refuses_a_new_database_without_exactly_one_password() {
    let run = |env: &[&str]| {
        let mut args = vec!["run", "--rm", "--label", "cc-ci.test=images"];
        for e in env {
            args.extend(["-e", e]);
        }
        args.push(PG);
        let out = docker(120, &args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("POSTGRES_PASSWORD"), "{err}");
    let (code, err) = run(&[
        "POSTGRES_PASSWORD=a",
        "POSTGRES_PASSWORD_FILE=/etc/hostname",
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("exclusive"), "{err}");
}

#[test]
fn postgres_image_shuts_down_cleanly_on_sigterm_and_on_its_stop_signal() {
    let db = Container::run("ccci-pg-stop", &["-e", "POSTGRES_PASSWORD=x", PG]);
    wait_pg_ready(&db);
    assert_eq!(db.inspect("{{.Config.StopSignal}}"), "SIGINT");
    docker_ok(&["kill", "-s", "TERM", &db.0]);
    db.wait_stopped(Duration::from_secs(20));
    assert_eq!(db.inspect("{{.State.ExitCode}}"), "0", "{}", db.logs());
    docker_ok(&["start", &db.0]);
    wait_pg_ready(&db);
    // `docker stop` sends the image's stop signal (fast shutdown) well inside its grace period.
    docker_ok(&["stop", "-t", "30", &db.0]);
    assert_eq!(db.inspect("{{.State.ExitCode}}"), "0", "{}", db.logs());
    let logs = db.logs();
    assert_eq!(
        logs.matches("database system is shut down").count(),
        3,
        "init, TERM, stop: {logs}"
    );
    assert!(
        !logs.contains("automatic recovery"),
        "a clean shutdown needs no recovery: {logs}"
    );
}

#[test]
fn nginx_image_serves_its_html_root_logs_to_the_container_and_stops_promptly() {
    let site = readable_dir();
    write(site.path(), "index.html", "<h1>from the test</h1>\n");
    let web = Container::run(
        "ccci-nginx",
        &[
            "-v",
            &format!("{}:/usr/share/nginx/html:ro", site.path().display()),
            NGINX,
        ],
    );
    web.wait_for(
        &["wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"],
        Duration::from_secs(30),
    );
    assert_eq!(
        web.exec_ok(&["wget", "-q", "-O", "-", "http://127.0.0.1/"]),
        "<h1>from the test</h1>\n"
    );
    assert_eq!(
        web.exec_ok(&[
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "http://127.0.0.1/missing"
        ]),
        "404"
    );
    let pid1 = web.exec_ok(&["cat", "/proc/1/cmdline"]);
    assert!(pid1.starts_with("nginx: master process"), "{pid1:?}");
    let logs = docker(30, &["logs", &web.0]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&logs.stdout),
        String::from_utf8_lossy(&logs.stderr),
    );
    assert!(
        stdout.contains("\"GET /missing HTTP/1.1\" 404"),
        "access log on stdout: {stdout}"
    );
    assert!(
        stderr.contains("/usr/share/nginx/html/missing"),
        "error log on stderr: {stderr}"
    );

    assert_eq!(web.inspect("{{.Config.StopSignal}}"), "SIGQUIT");
    for signal in ["TERM", "QUIT"] {
        docker_ok(&["start", &web.0]);
        web.wait_for(
            &["wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"],
            Duration::from_secs(30),
        );
        docker_ok(&["kill", "-s", signal, &web.0]);
        let took = web.wait_stopped(Duration::from_secs(5));
        assert_eq!(
            web.inspect("{{.State.ExitCode}}"),
            "0",
            "SIG{signal} after {took:?}"
        );
    }
}

#[test]
fn nginx_image_fills_a_fresh_volume_with_its_default_page() {
    // What custom-html-like recipes rely on: the content volume starts with the image's index.html.
    let web = Container::run(
        "ccci-nginx-vol",
        &["--mount", "type=volume,dst=/usr/share/nginx/html", NGINX],
    );
    web.wait_for(
        &["wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"],
        Duration::from_secs(30),
    );
    let page = web.exec_ok(&["wget", "-q", "-O", "-", "http://127.0.0.1/"]);
    assert!(page.contains("<h1>Welcome to nginx!</h1>"), "{page}");
}
