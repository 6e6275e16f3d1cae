//! Backup and restore of a real PostgreSQL (the `dbapp` fixture on `ccci/postgres:15`) through the
//! backup-bot-two labels: the pre-hook's `pg_dump` is complete before it is read, the dump is one a fresh
//! PostgreSQL loads, and the restore post-hook's `psql` brings exactly the backed-up rows back.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::support::containers::Container;
use crate::support::engine::TestApp;
use cc_ci::deploy::Deployer;

const ROWS: &str =
    "psql -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\" -Atc 'SELECT id, name FROM rows ORDER BY id'";

fn psql(t: &TestApp, sql: &str) {
    t.sh_in(
        "db",
        &format!("psql -v ON_ERROR_STOP=1 -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\" -c \"{sql}\""),
    );
}

fn installed(prefix: &str) -> TestApp {
    let mut t = TestApp::for_recipe(prefix, "dbapp");
    t.checkout("main");
    t.install(false);
    t
}

/// The one file of the one member of an artifact: (member name, file name, content).
fn only_file(artifact: &std::path::Path) -> (String, String, String) {
    let gz = std::fs::File::open(artifact).unwrap();
    let mut outer = tar::Archive::new(flate2::read::GzDecoder::new(gz));
    let mut members = outer.entries().unwrap();
    let mut member = members.next().expect("one member").unwrap();
    let member_name = member.path().unwrap().display().to_string();
    let mut inner_bytes = Vec::new();
    member.read_to_end(&mut inner_bytes).unwrap();
    assert!(members.next().is_none(), "only backup.sql is backed up");
    let mut inner = tar::Archive::new(inner_bytes.as_slice());
    let mut files = inner.entries().unwrap();
    let mut f = files.next().expect("one file").unwrap();
    let name = f.path().unwrap().display().to_string();
    let mut text = String::new();
    f.read_to_string(&mut text).unwrap();
    (member_name, name, text)
}

#[test]
fn a_pg_dump_from_the_pre_hook_comes_back_through_the_restore_post_hook() {
    let mut t = installed("pgdump");
    psql(&t, "INSERT INTO rows VALUES (1, 'alice'), (2, 'bob')");
    let before = t.sh_in("db", ROWS);
    assert_eq!(before, "1|alice\n2|bob\n");

    let out = t.dir.path().join("backups");
    let artifact = t.deployer.backup(&out).expect("backup");
    assert_eq!(
        artifact.entries,
        ["postgres:/var/lib/postgresql/data/backup.sql"]
    );
    let (member, file, dump) = only_file(&artifact.path);
    assert_eq!(member, "postgres/var/lib/postgresql/data/backup.sql.tar");
    assert_eq!(file, "backup.sql");
    assert!(
        dump.contains("COPY public.rows (id, name) FROM stdin;\n1\talice\n2\tbob\n\\.\n"),
        "{dump}"
    );
    assert!(
        dump.contains("-- PostgreSQL database dump complete"),
        "a complete dump: {dump}"
    );

    // Nobody here wrote PostgreSQL: a fresh server loads the dump and holds the same rows.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.path().join("10-dump.sql"), &dump).unwrap();
    std::fs::set_permissions(
        dir.path().join("10-dump.sql"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let fresh = Container::run(
        "ccci-pg-load",
        &[
            "-e",
            "POSTGRES_PASSWORD=x",
            "-v",
            &format!("{}:/docker-entrypoint-initdb.d:ro", dir.path().display()),
            "ccci/postgres:15",
        ],
    );
    fresh.wait_for(
        &["pg_isready", "-h", "127.0.0.1", "-q"],
        Duration::from_secs(90),
    );
    assert_eq!(
        fresh.exec_ok(&[
            "psql",
            "-U",
            "postgres",
            "-Atc",
            "SELECT id, name FROM rows ORDER BY id"
        ]),
        before
    );

    psql(&t, "DELETE FROM rows WHERE id = 1");
    psql(&t, "INSERT INTO rows VALUES (9, 'mallory')");
    assert_ne!(t.sh_in("db", ROWS), before);
    t.deployer.restore(&artifact).expect("restore");
    assert_eq!(t.sh_in("db", ROWS), before, "exactly the backed-up rows");
    t.deployer.teardown().unwrap();
}
