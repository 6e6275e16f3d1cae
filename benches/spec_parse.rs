//! Parse speed of the spec language: the project's own specs parsed with positions (yaml-rust2
//! marked tree + typed decode) against a position-less `serde_yaml::Value` parse of the same text.
//! Prints figures and the ratio; asserts nothing about time.

use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for dir in ["generic-tests", "overlays/hello"] {
        let mut names: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        names.sort();
        for p in names
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        {
            let text = std::fs::read_to_string(&p).unwrap();
            files.push((p.strip_prefix(root).unwrap().to_path_buf(), text));
        }
    }
    let rounds = 2000;
    let t = Instant::now();
    let mut n = 0usize;
    for _ in 0..rounds {
        for (p, text) in &files {
            n += if p.ends_with("recipe.yaml") {
                cc_ci::spec::parse_meta(p, text).map(|_| 1).unwrap()
            } else {
                cc_ci::spec::parse_spec(p, text)
                    .map(|s| s.tests.len())
                    .unwrap()
            };
        }
    }
    let ours = t.elapsed();
    let t = Instant::now();
    for _ in 0..rounds {
        for (_, text) in &files {
            let v: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
            n += usize::from(v.is_mapping());
        }
    }
    let plain = t.elapsed();
    let parses = (rounds * files.len()) as f64;
    println!("files: {}, rounds: {rounds} (checksum {n})", files.len());
    println!(
        "cc-ci parse with positions: {:>8.1} µs/file",
        ours.as_secs_f64() * 1e6 / parses
    );
    println!(
        "serde_yaml::Value (no positions): {:>8.1} µs/file",
        plain.as_secs_f64() * 1e6 / parses
    );
    println!("ratio: {:.2}x", ours.as_secs_f64() / plain.as_secs_f64());
}
