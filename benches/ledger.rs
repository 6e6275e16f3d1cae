//! Ledger benchmark (not a test): durable append latency (p50, p99), batch throughput, reconcile of
//! 10,000 spool files and verify of 100,000 events, on a real SQLite file on the project's disk.
//! Run with `cargo bench --bench ledger`. Targets on a 2-core machine: p50 append < 1 ms,
//! reconcile < 2 s, verify < 1 s. It prints figures; it asserts nothing about speed.

use std::time::{Duration, Instant};

use cc_ci::coord::event::Stamped;
use cc_ci::coord::{
    provision, reconcile, verify, Appended, CoordPaths, Ledger, NewEvent, ProvisionOptions,
};
use serde_json::json;

fn tree(root: &std::path::Path, name: &str) -> CoordPaths {
    let p = CoordPaths::resolve_with(Some(&root.join(name)), &|_| None).expect("paths");
    provision(&p, &ProvisionOptions::default()).expect("provision");
    p
}

fn event(i: usize) -> NewEvent {
    NewEvent::new("verdict", format!("hello/install/t{i}"), "pass")
        .run("bench-run")
        .data(json!({ "tier": "install", "n": i, "duration_ms": 12 }))
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let want = |s: &str| only.is_empty() || only.iter().any(|o| o == s);
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("bench dir");
    println!("ledger benchmark in {}", root.path().display());

    // 1. Durable single appends (commit with synchronous=FULL, then the mirror line).
    if want("append") {
        // Baseline: the disk's own cost of one durable write (append 200 bytes + fdatasync).
        let base_lat = {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(root.path().join("fsync-probe"))
                .expect("probe file");
            let mut v = Vec::with_capacity(500);
            for _ in 0..500 {
                let t = Instant::now();
                f.write_all(&[b'x'; 200]).expect("write");
                f.sync_data().expect("fdatasync");
                v.push(t.elapsed());
            }
            v.sort();
            v
        };
        println!(
            "disk baseline (200-byte append + fdatasync, 500 samples): p50 {}  p99 {}",
            ms(pct(&base_lat, 0.50)),
            ms(pct(&base_lat, 0.99))
        );
        let p = tree(root.path(), "append");
        let ledger = Ledger::open(&p).expect("open");
        for i in 0..50 {
            ledger.append(event(i)).expect("warm-up");
        }
        let mut lat = Vec::with_capacity(2000);
        for i in 0..2000 {
            let t = Instant::now();
            let a = ledger.append(event(i)).expect("append");
            lat.push(t.elapsed());
            assert!(
                matches!(a, Appended::Committed { .. }),
                "bench append spooled"
            );
        }
        lat.sort();
        println!(
            "append (durable, 2000 events): p50 {}  p99 {}  max {}",
            ms(pct(&lat, 0.50)),
            ms(pct(&lat, 0.99)),
            ms(*lat.last().expect("samples"))
        );
        println!(
            "append p50 / disk baseline p50: {:.2}x",
            pct(&lat, 0.50).as_secs_f64() / pct(&base_lat, 0.50).as_secs_f64()
        );

        // 2. Batch throughput: 20 batches of 1,000 events, one transaction each.
        let t = Instant::now();
        for b in 0..20 {
            ledger
                .append_batch((0..1000).map(|i| event(b * 1000 + i)).collect())
                .expect("batch");
        }
        let el = t.elapsed();
        println!(
            "batch append (20 x 1,000 events): {} total, {:.0} events/s",
            ms(el),
            20_000.0 / el.as_secs_f64()
        );
    }

    // 3. Spool writes (the database moved away), then reconcile of 10,000 spool files.
    if want("reconcile") {
        let p = tree(root.path(), "reconcile");
        let ledger = Ledger::open(&p).expect("open");
        let aside = p.base.join("aside.db");
        std::fs::rename(&p.ledger_db, &aside).expect("move db aside");
        let mut lat = Vec::with_capacity(300);
        for i in 0..300 {
            let t = Instant::now();
            let a = ledger.append(event(i)).expect("spool");
            lat.push(t.elapsed());
            assert!(
                matches!(a, Appended::Spooled { .. }),
                "expected a spooled event"
            );
        }
        lat.sort();
        println!(
            "spool write (durable atomic file, 300 events): p50 {}  p99 {}",
            ms(pct(&lat, 0.50)),
            ms(pct(&lat, 0.99))
        );
        // The remaining files are written the same way minus the per-file fsync, to keep set-up short.
        for i in 300..10_000 {
            let ev = Stamped::stamp(event(i), "bench");
            let stamp: String = ev
                .ts
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect();
            let path = p.spool.join(format!("{stamp}-{}.json", ev.id));
            std::fs::write(path, serde_json::to_vec(&ev).expect("json")).expect("write spool file");
        }
        std::fs::rename(&aside, &p.ledger_db).expect("move db back");
        let t = Instant::now();
        let r = reconcile(&p).expect("reconcile");
        let rec_el = t.elapsed();
        assert_eq!(r.ingested, 10_000);
        println!("reconcile (10,000 spool files): {}", ms(rec_el));
    }

    // 4. Verify 100,000 events (database and mirror).
    if want("verify") {
        let p = tree(root.path(), "verify");
        let ledger = Ledger::open(&p).expect("open");
        for b in 0..100 {
            ledger
                .append_batch((0..1000).map(|i| event(b * 1000 + i)).collect())
                .expect("batch");
        }
        let t = Instant::now();
        let v = verify(&p).expect("verify");
        let ver_el = t.elapsed();
        assert!(v.intact, "{v}");
        println!(
            "verify ({} events in the database and the mirror): {}",
            v.db_events,
            ms(ver_el)
        );
    }
}
