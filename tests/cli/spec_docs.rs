//! The YAML examples in docs/overlays.md are real: every spec block parses as a spec and every
//! recipe.yaml block as metadata, so the walk-through cannot drift from the language.

use std::path::Path;

use cc_ci::spec::{parse_meta, parse_spec};

fn yaml_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = md;
    while let Some(start) = rest.find("```yaml\n") {
        let body = &rest[start + 8..];
        let end = body.find("```").expect("closed code block");
        out.push(body[..end].to_string());
        rest = &body[end + 3..];
    }
    out
}

#[test]
fn every_example_in_the_overlay_walkthrough_parses() {
    let md =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/overlays.md"))
            .unwrap();
    let blocks = yaml_blocks(&md);
    assert!(blocks.len() >= 7, "found {} blocks", blocks.len());
    let (mut specs, mut metas) = (0, 0);
    for block in &blocks {
        for part in block.split("\n---\n") {
            if part.contains("tier:") {
                let mut text = format!("{}\n", part.trim_end());
                if !text.contains("tests:") {
                    text.push_str("tests:\n  - name: t\n    converged: {}\n");
                }
                parse_spec(Path::new("docs/overlays.md"), &text)
                    .unwrap_or_else(|e| panic!("{e}\n---\n{text}"));
                specs += 1;
            } else {
                parse_meta(Path::new("docs/overlays.md"), part)
                    .unwrap_or_else(|e| panic!("{e}\n---\n{part}"));
                metas += 1;
            }
        }
    }
    assert!(specs >= 8 && metas >= 1, "specs {specs}, metas {metas}");
}

#[test]
fn walkthrough_files_match_the_shipped_overlays() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let md = std::fs::read_to_string(root.join("docs/overlays.md")).unwrap();
    for f in ["overlays/hello/data.yaml", "overlays/hello/restore.yaml"] {
        let shipped = std::fs::read_to_string(root.join(f)).unwrap();
        let body: String = shipped
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        let first_tests = body.split("  - name: greeting_served").next().unwrap();
        assert!(
            md.contains(first_tests.trim_end()),
            "docs/overlays.md no longer shows {f} as shipped"
        );
    }
}
