//! Test helpers shared by the coord unit tests and the report's ledger tests (test builds only).

use super::{provision, CoordPaths, ProvisionOptions};

/// A provisioned coord tree in a fresh temporary directory (kept while the `TempDir` lives).
pub(crate) fn tree() -> (tempfile::TempDir, CoordPaths) {
    let d = tempfile::tempdir().unwrap();
    let p = CoordPaths::resolve_with(Some(&d.path().join("c")), &|_| None).unwrap();
    provision(&p, &ProvisionOptions::default()).unwrap();
    (d, p)
}
