//! The run's private abra state (`ABRA_DIR=<run_dir>/abra`): `recipes/<recipe>` as a symlink to the
//! run's checkout, `servers/<server>/` (made by `abra server add --local`), and the app's env file
//! `servers/<server>/<domain>.env`, into which the op's env overrides are written. It never touches
//! `~/.abra` or another run's state.

use std::path::{Path, PathBuf};

use crate::deploy::{DeployError, DeployRequest};

/// The paths of one app in one run's abra state.
#[derive(Debug, Clone)]
pub(super) struct AbraState {
    pub(super) dir: PathBuf,
    pub(super) server: String,
    pub(super) recipe: String,
    pub(super) domain: String,
}

fn io(e: std::io::Error, p: &Path) -> DeployError {
    DeployError::Other(format!("preparing abra state at {}: {e}", p.display()))
}

impl AbraState {
    /// `servers/<server>`: present once the server is registered.
    pub(super) fn server_dir(&self) -> PathBuf {
        self.dir.join("servers").join(&self.server)
    }

    /// The app's env file.
    pub(super) fn env_file(&self) -> PathBuf {
        self.server_dir().join(format!("{}.env", self.domain))
    }

    /// Points `recipes/<recipe>` at the checkout to deploy from.
    pub(super) fn link_recipe(&self, checkout: &Path) -> Result<(), DeployError> {
        let recipes = self.dir.join("recipes");
        std::fs::create_dir_all(&recipes).map_err(|e| io(e, &recipes))?;
        let link = recipes.join(&self.recipe);
        let target = std::fs::canonicalize(checkout).map_err(|e| io(e, checkout))?;
        if std::fs::read_link(&link).ok().as_deref() == Some(target.as_path()) {
            return Ok(());
        }
        if link.symlink_metadata().is_ok() {
            std::fs::remove_file(&link).map_err(|e| io(e, &link))?;
        }
        std::os::unix::fs::symlink(&target, &link).map_err(|e| io(e, &link))
    }

    /// Writes `req.env` into the app's env file: a key already there is replaced in place, the rest
    /// is appended. Values are written single-quoted, so abra reads them literally (no `$` expansion).
    pub(super) fn apply_env(&self, req: &DeployRequest) -> Result<(), DeployError> {
        if req.env.is_empty() {
            return Ok(());
        }
        let path = self.env_file();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| DeployError::Other(format!("reading app env {}: {e}", path.display())))?;
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        for (k, v) in &req.env {
            let valid_key =
                !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid_key || v.contains('\n') || v.contains('\'') {
                return Err(DeployError::Other(format!(
                    "env override {k}: a key is letters, digits and `_`, and a value holds no \
                     newline or `'` (abra's env file could not carry it)"
                )));
            }
            let line = format!("{k}='{v}'");
            let key_of = |l: &str| {
                let l = l.trim_start();
                let l = l.strip_prefix("export ").unwrap_or(l);
                l.split_once('=').map(|(lk, _)| lk.trim().to_string())
            };
            match lines.iter_mut().find(|l| key_of(l).as_deref() == Some(k)) {
                Some(existing) => *existing = line,
                None => lines.push(line),
            }
        }
        std::fs::write(&path, lines.join("\n") + "\n")
            .map_err(|e| DeployError::Other(format!("writing app env {}: {e}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn state(dir: &Path) -> AbraState {
        AbraState {
            dir: dir.to_path_buf(),
            server: "default".into(),
            recipe: "hello".into(),
            domain: "h.ci.local".into(),
        }
    }

    fn req(env: &[(&str, &str)]) -> DeployRequest {
        DeployRequest {
            checkout: PathBuf::from("/x"),
            chaos: false,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            timeout: None,
        }
    }

    #[test]
    fn overrides_replace_keys_in_place_and_append_the_rest_quoted() {
        let d = tempfile::tempdir().unwrap();
        let s = state(d.path());
        std::fs::create_dir_all(s.server_dir()).unwrap();
        std::fs::write(s.env_file(), "TYPE=hello:1.0.0\nexport GREETING=hi\nX=1\n").unwrap();
        s.apply_env(&req(&[("GREETING", "a $b"), ("NEW", "v")]))
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(s.env_file()).unwrap(),
            "TYPE=hello:1.0.0\nGREETING='a $b'\nX=1\nNEW='v'\n"
        );
    }

    #[test]
    fn an_override_the_env_file_cannot_carry_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let s = state(d.path());
        std::fs::create_dir_all(s.server_dir()).unwrap();
        std::fs::write(s.env_file(), "TYPE=hello\n").unwrap();
        for bad in [("A=B", "x"), ("K", "a\nb"), ("K", "it's")] {
            let e = s.apply_env(&req(&[bad])).unwrap_err().to_string();
            assert!(e.contains("env override"), "{e}");
        }
    }
}
