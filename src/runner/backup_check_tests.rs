use super::*;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn db() -> Vec<(String, BTreeMap<String, String>)> {
    vec![(
        "db".into(),
        labels(&[
            ("backupbot.backup", "true"),
            ("backupbot.backup.volumes.data.path", "backup.sql, dumps/"),
            ("backupbot.backup.volumes.cache.path", "x"),
            ("backupbot.backup.volumes.cache", "false"),
        ]),
    )]
}

fn piece(service: &str) -> Piece {
    Piece {
        volume: "data".into(),
        path: "/var/lib/db/backup.sql".into(),
        service: Some(service.into()),
        files: 1,
        bytes: 10,
        sha256: "00".into(),
    }
}

fn file(path: &str, size: u64) -> File {
    ("data".into(), path.into(), size)
}

#[test]
fn named_paths_of_volumes_not_marked_false_are_promised() {
    let p = promises(&db());
    assert_eq!(
        p,
        [
            (
                "db".to_string(),
                "data".to_string(),
                "backup.sql".to_string()
            ),
            ("db".to_string(), "data".to_string(), "dumps".to_string()),
        ]
    );
}

#[test]
fn a_promised_path_must_be_there_and_hold_data() {
    let pieces = [piece("db")];
    let full = [
        file("/var/lib/db/backup.sql", 10),
        file("/var/lib/db/dumps/a.sql", 3),
    ];
    assert!(missing(&db(), &pieces, &full).is_empty());
    let empty = [
        file("/var/lib/db/backup.sql", 0),
        file("/var/lib/db/dumps/a.sql", 3),
    ];
    let m = missing(&db(), &pieces, &empty);
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(
        m[0].starts_with("`data/backup.sql` (backupbot.backup.volumes.data.path of db) is empty"),
        "{m:?}"
    );
    let m = missing(&db(), &pieces, &[file("/var/lib/db/backup.sql", 4)]);
    assert_eq!(
        m,
        ["`data/dumps` (backupbot.backup.volumes.data.path of db) is not in the backup"]
    );
}

#[test]
fn a_labelled_service_that_gave_nothing_is_named_when_the_artifact_says_where_parts_came_from() {
    let two = [
        db()[0].clone(),
        ("web".to_string(), labels(&[("backupbot.backup", "true")])),
    ];
    let files = [file("/a/backup.sql", 1), file("/a/dumps/x", 1)];
    let m = missing(&two, &[piece("db")], &files);
    assert_eq!(
        m,
        ["service web carries backupbot.backup=true but gave nothing"]
    );
    // abra's archive does not say which service a volume came from: nothing to hold it to.
    let mut anon = piece("db");
    anon.service = None;
    assert!(missing(&two, &[anon], &files).is_empty());
}

#[test]
fn under_matches_the_path_itself_or_what_lies_below_it_and_nothing_that_only_starts_alike() {
    assert!(under("/var/lib/db/backup.sql", "backup.sql"));
    assert!(under("/dumps/a/b", "dumps"));
    assert!(under("/x/dumps/", "dumps"));
    assert!(!under("/var/lib/db/backup.sql.old", "backup.sql"));
    assert!(!under("/dumpster/a", "dumps"));
}

fn targz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut b = tar::Builder::new(&mut gz);
        for (name, body) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *body).unwrap();
        }
        b.finish().unwrap();
    }
    gz.finish().unwrap()
}

#[test]
fn abras_archive_is_read_per_volume_and_checked_against_its_recorded_checksum() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("s_1.tar.gz");
    let data = targz(&[
        ("data/backup.sql", b"dump"),
        ("content/index.html", b"<h1>"),
    ]);
    std::fs::write(&p, &data).unwrap();
    let sum = hex::encode(Sha256::digest(&data));
    let (pieces, files) = abra_archive(&p, &sum).unwrap();
    let vols: Vec<(&str, u64, u64)> = pieces
        .iter()
        .map(|p| (p.volume.as_str(), p.files, p.bytes))
        .collect();
    assert_eq!(vols, [("content", 1, 4), ("data", 1, 4)]);
    assert!(files.contains(&("data".to_string(), "/backup.sql".to_string(), 4)));
    let e = abra_archive(&p, &"0".repeat(64)).unwrap_err();
    assert!(e.contains("does not match"), "{e}");
}

#[test]
fn an_artifact_that_is_not_a_regular_file_is_refused_and_abras_output_alone_is_unverifiable() {
    let d = tempfile::tempdir().unwrap();
    let a = |path: std::path::PathBuf| BackupArtifact {
        path,
        sha256: String::new(),
        entries: vec![],
    };
    let e = read(&a(d.path().to_path_buf())).unwrap_err();
    assert!(e.contains("not a regular file"), "{e}");
    let txt = d.path().join("s-abra-backup.txt");
    std::fs::write(&txt, "backup created").unwrap();
    assert!(read(&a(txt)).unwrap().is_none());
}
