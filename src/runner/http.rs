//! HTTP checks. The request is made from inside the app's own container (busybox `wget`, else `curl`)
//! to the service's port on 127.0.0.1, so it needs neither a proxy nor a published port and reaches
//! exactly the app under test. 404 never counts unless a check lists it explicitly.

use std::time::{Duration, Instant};

use regex::Regex;

use crate::spec::TextMatch;

use super::check::{fail, Failure};
use super::context::Live;

/// Builds the probe command: wget when present, else curl. Prints the status line to stderr.
pub fn probe_command(port: u16, path: &str, timeout: Duration) -> Vec<String> {
    let secs = timeout.as_secs().clamp(1, 60);
    let url = format!("http://127.0.0.1:{port}{path}");
    // busybox wget's own -T crashes in some static builds: bound it with `timeout` instead.
    let script = format!(
        "t=''; command -v timeout >/dev/null 2>&1 && t='timeout {secs}'; \
         if command -v wget >/dev/null 2>&1; then $t wget -S -q -O - '{url}'; \
         else curl -s -i -m {secs} '{url}' | sed -n '1p' >&2; curl -s -m {secs} '{url}'; fi"
    );
    vec!["sh".into(), "-c".into(), script]
}

/// The status of the last response line (`HTTP/1.1 200 OK`) in probe output, following redirects.
pub fn parse_status(stderr: &str) -> Option<u16> {
    let re = Regex::new(r"HTTP/\d(?:\.\d)?\s+(\d{3})").expect("static regex");
    re.captures_iter(stderr)
        .last()
        .and_then(|c| c[1].parse().ok())
}

/// The port of the main service: recipe.yaml, else traefik's loadbalancer label, else 80.
pub fn port_of(live: &Live, service: &str, explicit: Option<u16>) -> u16 {
    if let Some(p) = explicit.or(live.http_port) {
        return p;
    }
    if let Ok(s) = live.service(service) {
        for (k, v) in &s.labels {
            if k.starts_with("traefik.http.services.") && k.ends_with(".loadbalancer.server.port") {
                if let Ok(p) = v.parse() {
                    return p;
                }
            }
        }
    }
    80
}

/// Checks that `path` answers with an accepted status (and body), retrying until the HTTP timeout.
pub fn check(
    live: &Live,
    service: Option<&str>,
    port: Option<u16>,
    path: &str,
    statuses: &[u16],
    body: Option<&TextMatch>,
) -> Result<(), Failure> {
    let service = service.unwrap_or(&live.main_service);
    let port = port_of(live, service, port);
    let path = if path.is_empty() {
        live.health_path.as_str()
    } else {
        path
    };
    let accepted: Vec<u16> = if statuses.is_empty() {
        live.accepted_statuses.clone()
    } else {
        statuses.to_vec()
    };
    let deadline = Instant::now() + live.http_timeout;
    let cmd = probe_command(port, path, Duration::from_secs(10));
    let mut last;
    loop {
        last = match live.exec(service, &cmd, None) {
            Err(e) => format!("request failed: {e}"),
            Ok(out) => match parse_status(&out.stderr) {
                None => format!(
                    "no HTTP answer from {service}:{port}{path} (exit {}, {})",
                    out.exit_code,
                    out.stderr.trim()
                ),
                Some(code) if !accepted.contains(&code) => format!(
                    "GET {path} on {service}:{port} answered {code}, accepted: {accepted:?}"
                ),
                Some(code) => match body {
                    Some(m) if !m.matches(&out.stdout) => format!(
                        "GET {path} answered {code} but the body does not match ({m:?}); body starts {:?}",
                        out.stdout.chars().take(200).collect::<String>()
                    ),
                    _ => return Ok(()),
                },
            },
        };
        if Instant::now() >= deadline {
            return fail(last);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_read_from_the_last_response_line() {
        let s = "  HTTP/1.1 301 Moved\n  Location: /x\n  HTTP/1.1 200 OK\n";
        assert_eq!(parse_status(s), Some(200));
        assert_eq!(
            parse_status("wget: server returned error: HTTP/1.1 404 Not Found"),
            Some(404)
        );
        assert_eq!(parse_status("wget: can't connect to remote host"), None);
    }

    #[test]
    fn probe_uses_loopback_and_the_given_port_and_path() {
        let c = probe_command(8080, "/health", Duration::from_secs(5));
        assert_eq!(c[0], "sh");
        assert!(c[2].contains("http://127.0.0.1:8080/health"), "{}", c[2]);
    }
}
