//! Screenshots of the app after install and upgrade (`--screenshots auto`): the app's health page
//! (recipe.yaml's `health_path` on its HTTP port, as the HTTP checks use them) as headless Chromium
//! shows it, saved as `<artifacts>/screenshot-<tier>.png`. The app publishes no port: the page is reached
//! through a short-lived forwarder on the app's network (`docker::Engine::open_forward`), with the app's
//! domain as the host name (mapped to the forwarder for the browser only), so the app sees the request
//! a user's browser would send through a proxy. The forwarder and the browser each have a deadline; the
//! browser dies with its process group at it. A screenshot that cannot be taken becomes the record's
//! `error`: it never fails a tier or changes the exit code. This module prints nothing.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::child::Ended;
use crate::docker::{Forward, ForwardRequest};
use crate::report::{EventKind, Screenshot};
use crate::spec::Tier;

use super::config::ScreenshotMode;
use super::context::Live;
use super::tiers::Shared;

/// How long the forwarder may take to relay, and the browser to write its screenshot.
pub const DEADLINE: Duration = Duration::from_secs(30);
/// The browser window, and the least the PNG must measure.
pub const WINDOW: (u32, u32) = (1280, 800);
pub const MIN_SIZE: (u32, u32) = (1024, 700);

/// Why a screenshot was not taken (messages are redacted by the bus).
#[derive(Debug, thiserror::Error)]
pub enum ShotError {
    #[error("chromium was not found on PATH (hint: scripts/setup-chromium.sh installs it, --chromium PATH names one, --screenshots off stops trying)")]
    NoChromium,
    #[error("{0}")]
    Forward(String),
    #[error("cannot create {}: {source}", path.display())]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start {}: {source} (hint: check --chromium)", path.display())]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} did not finish within {timeout:?}: killed with its process group", path.display())]
    Timeout { path: PathBuf, timeout: Duration },
    #[error("{} exited with {status}{}", path.display(), tail_text(tail))]
    Failed {
        path: PathBuf,
        status: String,
        tail: String,
    },
    #[error("the browser could not load {url}: {error}")]
    PageLoad { url: String, error: String },
    #[error("the browser wrote no readable PNG at {}: {why}", path.display())]
    NotPng { path: PathBuf, why: String },
    #[error("the screenshot is {width}×{height} pixels, less than the {}×{} asked for", MIN_SIZE.0, MIN_SIZE.1)]
    TooSmall { width: u32, height: u32 },
}

fn tail_text(tail: &str) -> String {
    match tail.trim() {
        "" => String::new(),
        t => format!(": {t}"),
    }
}

/// What a screenshot needs besides the live app.
pub struct ShotInput<'a> {
    /// The browser, resolved by the command line; `None`: none was found.
    pub chromium: Option<&'a Path>,
    /// The run's artifact directory.
    pub dir: &'a Path,
    pub tier: Tier,
}

/// After install's or upgrade's op, with `--screenshots auto`: the tier's screenshot, or why there is
/// none, as an event. Other tiers and `--screenshots off` take none and say nothing.
pub fn after_op(sh: &Shared, tier: Tier) {
    if sh.cfg.screenshots == ScreenshotMode::Off || !matches!(tier, Tier::Install | Tier::Upgrade) {
        return;
    }
    let dir = super::session::artifact_paths(&sh.cfg, &sh.prepared).dir;
    let input = ShotInput {
        chromium: sh.cfg.chromium.as_deref(),
        dir: &dir,
        tier,
    };
    sh.bus.emit(EventKind::Screenshot(take(&sh.live, &input)));
}

/// Takes the tier's screenshot. Always returns a record: the PNG, or why there is none.
pub fn take(live: &Live, input: &ShotInput) -> Screenshot {
    let start = Instant::now();
    let mut shot = Screenshot {
        tier: input.tier.to_string(),
        path: None,
        url: String::new(),
        via: String::new(),
        width: 0,
        height: 0,
        duration_ms: 0,
        error: None,
    };
    if let Err(e) = attempt(live, input, &mut shot) {
        shot.path = None;
        shot.error = Some(e.to_string());
    }
    shot.duration_ms = start.elapsed().as_millis() as u64;
    shot
}

fn attempt(live: &Live, input: &ShotInput, shot: &mut Screenshot) -> Result<(), ShotError> {
    let chromium = input.chromium.ok_or(ShotError::NoChromium)?;
    std::fs::create_dir_all(input.dir).map_err(|source| ShotError::Dir {
        path: input.dir.to_path_buf(),
        source,
    })?;
    let service = live.main_service.as_str();
    let port = super::http::port_of(live, service, None);
    let req = ForwardRequest {
        stack: &live.app.stack,
        service,
        port,
        run_id: &live.app.run_id,
        run_lock: &live.app.lock_path,
        deadline: DEADLINE,
        lifetime: DEADLINE * 3,
    };
    let fwd = live
        .engine
        .open_forward(&req)
        .map_err(|e| ShotError::Forward(e.to_string()))?;
    shot.via = format!(
        "forwarder {} on network {} to {service}:{port}",
        fwd.name, fwd.network
    );
    let path = input.dir.join(format!("screenshot-{}.png", input.tier));
    let _ = std::fs::remove_file(&path);
    let (url, rule) = target(&live.app.domain, &live.health_path, &fwd);
    shot.url = url.clone();
    let shown = browse(chromium, &url, rule.as_deref(), &path);
    // The forwarder goes whatever the browser did (teardown and the janitor would take it too).
    let closed = live.engine.close_forward(&fwd);
    let log = shown?;
    let bytes = std::fs::read(&path).map_err(|e| match page_load_error(&log) {
        // A page that did not load leaves no file, and says why in the browser's log.
        Some(error) => ShotError::PageLoad {
            url: url.clone(),
            error,
        },
        None => ShotError::NotPng {
            path: path.clone(),
            why: e.to_string(),
        },
    })?;
    let (width, height) = png_size(&bytes).ok_or_else(|| ShotError::NotPng {
        path: path.clone(),
        why: "no PNG header".into(),
    })?;
    (shot.width, shot.height) = (width, height);
    if width < MIN_SIZE.0 || height < MIN_SIZE.1 {
        return Err(ShotError::TooSmall { width, height });
    }
    shot.path = Some(path);
    if let Err(e) = closed {
        shot.via
            .push_str(&format!(" (removing it failed: {e}; teardown removes it)"));
    }
    Ok(())
}

/// The URL the browser opens and its host-resolver rule: the app's domain mapped to the forwarder, so
/// the app sees its own name; the forwarder's address itself when the domain is no host name.
pub fn target(domain: &str, health_path: &str, fwd: &Forward) -> (String, Option<String>) {
    let path = match health_path.starts_with('/') {
        true => health_path.to_string(),
        false => format!("/{health_path}"),
    };
    let hostname = crate::spec::is_domain_name(domain);
    let port = match fwd.addr.port() {
        80 => String::new(),
        p => format!(":{p}"),
    };
    if hostname {
        let rule = format!("MAP {domain} {}", fwd.addr.ip());
        (format!("http://{domain}{port}{path}"), Some(rule))
    } else {
        (format!("http://{}{port}{path}", fwd.addr.ip()), None)
    }
}

/// The browser's arguments for one screenshot into `out`.
pub fn chromium_args(url: &str, rule: Option<&str>, profile: &Path, out: &Path) -> Vec<String> {
    let mut a: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-breakpad",
        "--no-first-run",
        "--hide-scrollbars",
        "--no-proxy-server",
    ]
    .map(String::from)
    .to_vec();
    a.push(format!("--user-data-dir={}", profile.display()));
    a.push(format!("--window-size={},{}", WINDOW.0, WINDOW.1));
    a.push(format!("--screenshot={}", out.display()));
    if let Some(r) = rule {
        a.push(format!("--host-resolver-rules={r}"));
    }
    a.push(url.to_string());
    a
}

/// Runs the browser in its own process group with a temporary profile, killed (group and all) at
/// [`DEADLINE`]. Returns what it logged.
fn browse(chromium: &Path, url: &str, rule: Option<&str>, out: &Path) -> Result<String, ShotError> {
    let spawn_err = |source| ShotError::Spawn {
        path: chromium.to_path_buf(),
        source,
    };
    let profile = tempfile::tempdir().map_err(spawn_err)?;
    let log_path = profile.path().join("browser.log");
    let log = std::fs::File::create(&log_path).map_err(spawn_err)?;
    let mut cmd = Command::new(chromium);
    cmd.args(chromium_args(url, rule, &profile.path().join("p"), out))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    let mut child = crate::child::own_group(&mut cmd)
        .spawn()
        .map_err(spawn_err)?;
    let status = match crate::child::wait_within(&mut child, DEADLINE) {
        Ok(Ended::Exited(s)) => s,
        Ok(Ended::TimedOut) | Err(_) => {
            return Err(ShotError::Timeout {
                path: chromium.to_path_buf(),
                timeout: DEADLINE,
            });
        }
    };
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(&log_path) {
        let _ = f.read_to_string(&mut text);
    }
    if status.success() {
        return Ok(text);
    }
    let tail: Vec<&str> = text.lines().rev().take(3).collect();
    Err(ShotError::Failed {
        path: chromium.to_path_buf(),
        status: status.to_string(),
        tail: tail.into_iter().rev().collect::<Vec<_>>().join(" / "),
    })
}

/// The network error of a page that did not load, from headless Chromium's log
/// (`… Page load failed: net::ERR_CONNECTION_REFUSED`).
pub fn page_load_error(log: &str) -> Option<String> {
    log.lines().rev().find_map(|l| {
        let (_, why) = l.split_once("Page load failed: ")?;
        Some(why.trim().to_string()).filter(|w| !w.is_empty())
    })
}

/// Width and height from a PNG's IHDR chunk; `None` when `bytes` is not a PNG.
pub fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    if bytes.len() < 24 || bytes[..8] != SIGNATURE || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    Some((be(16), be(20)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, SocketAddr};

    fn fwd(port: u16) -> Forward {
        Forward {
            service_id: "id".into(),
            name: "ccci-fwd-x".into(),
            network: "proxy".into(),
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        }
    }

    #[test]
    fn the_domain_is_mapped_to_the_forwarder_so_the_app_sees_its_own_name() {
        let (url, rule) = target("hello-x.ci.local", "/health", &fwd(80));
        assert_eq!(url, "http://hello-x.ci.local/health");
        assert_eq!(rule.as_deref(), Some("MAP hello-x.ci.local 127.0.0.1"));
        let (url, _) = target("hello-x.ci.local", "status", &fwd(8080));
        assert_eq!(url, "http://hello-x.ci.local:8080/status");
    }

    #[test]
    fn a_domain_that_is_no_host_name_falls_back_to_the_forwarders_address() {
        for d in ["", "a b.local", "x..y", "*.example.org"] {
            let (url, rule) = target(d, "/", &fwd(80));
            assert_eq!(url, "http://127.0.0.1/", "{d:?}");
            assert_eq!(rule, None, "{d:?}");
        }
    }

    #[test]
    fn the_browser_gets_a_private_profile_no_proxy_the_window_and_the_rule() {
        let a = chromium_args(
            "http://h/",
            Some("MAP h 127.0.0.1"),
            Path::new("/p"),
            Path::new("/o.png"),
        );
        for want in [
            "--headless",
            "--no-proxy-server",
            "--user-data-dir=/p",
            "--window-size=1280,800",
            "--screenshot=/o.png",
            "--host-resolver-rules=MAP h 127.0.0.1",
        ] {
            assert!(a.iter().any(|x| x == want), "{want} missing from {a:?}");
        }
        assert_eq!(a.last().map(String::as_str), Some("http://h/"));
        let none = chromium_args("http://h/", None, Path::new("/p"), Path::new("/o.png"));
        assert!(!none.iter().any(|x| x.starts_with("--host-resolver-rules")));
    }

    #[test]
    fn a_page_that_did_not_load_is_named_by_the_browsers_network_error() {
        let log = "[1:1:1130/191933.3:ERROR:dbus/bus.cc:405] Failed to connect to the bus\n\
                   [1:1:1130/191933.4:ERROR:components/headless/command_handler/headless_command_handler.cc:403] Page load failed: net::ERR_CONNECTION_REFUSED\n";
        assert_eq!(
            page_load_error(log).as_deref(),
            Some("net::ERR_CONNECTION_REFUSED")
        );
        assert_eq!(page_load_error("[x] Failed to connect to the bus\n"), None);
        assert_eq!(page_load_error(""), None);
    }

    #[test]
    fn png_size_reads_the_ihdr_and_refuses_what_is_not_a_png() {
        let mut png = vec![
            0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', 0, 0, 0, 13,
        ];
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&1280u32.to_be_bytes());
        png.extend_from_slice(&800u32.to_be_bytes());
        assert_eq!(png_size(&png), Some((1280, 800)));
        assert_eq!(png_size(&png[..20]), None);
        assert_eq!(png_size(b"GIF89a..............................."), None);
        let mut wrong = png.clone();
        wrong[12..16].copy_from_slice(b"IDAT");
        assert_eq!(png_size(&wrong), None);
    }

    #[test]
    fn failures_read_as_sentences_with_what_to_do() {
        assert!(ShotError::NoChromium
            .to_string()
            .contains("--screenshots off"));
        let e = ShotError::TooSmall {
            width: 800,
            height: 600,
        };
        assert_eq!(
            e.to_string(),
            "the screenshot is 800×600 pixels, less than the 1024×700 asked for"
        );
        let e = ShotError::Failed {
            path: "/usr/bin/false".into(),
            status: "exit status: 1".into(),
            tail: "".into(),
        };
        assert_eq!(e.to_string(), "/usr/bin/false exited with exit status: 1");
    }
}
