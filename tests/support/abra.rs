//! Pointing cc-ci at the abra command-line double (`tests/support/abra-double`).

use std::path::{Path, PathBuf};

/// The double itself.
pub fn double() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/abra-double")
}

/// Writes an executable `abra` wrapper in `dir` that runs the double with `ABRA_DOUBLE_LOG=log` and
/// `extra_env` set, for passing as `--abra` to the binary. Returns its path.
pub fn wrapper(dir: &Path, log: &Path, extra_env: &[(&str, &str)]) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("abra");
    let mut script = String::from("#!/bin/sh\n");
    script.push_str(&format!(
        "export ABRA_DOUBLE_LOG={}\n",
        shell_quote(&log.display().to_string())
    ));
    for (k, v) in extra_env {
        script.push_str(&format!("export {k}={}\n", shell_quote(v)));
    }
    script.push_str(&format!(
        "exec python3 {} \"$@\"\n",
        shell_quote(&double().display().to_string())
    ));
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
