//! The few engine endpoints bollard 0.18 does not wrap (swarm tasks and configs), spoken as plain
//! HTTP/1.0 over the same socket. HTTP/1.0 keeps the engine from chunking its answer. It never
//! streams and never holds a connection open.

use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Where the engine listens and which API version prefix to use.
#[derive(Debug, Clone)]
pub(crate) struct RawApi {
    target: Target,
    prefix: String,
}

#[derive(Debug, Clone)]
enum Target {
    Unix(String),
    Tcp(String),
}

/// A raw answer: status code and body.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

impl RawApi {
    pub fn new(host: &str, api_version: &str) -> Result<RawApi, String> {
        let target = if let Some(p) = host.strip_prefix("unix://") {
            Target::Unix(p.to_string())
        } else if let Some(a) = host
            .strip_prefix("tcp://")
            .or_else(|| host.strip_prefix("http://"))
        {
            Target::Tcp(a.trim_end_matches('/').to_string())
        } else {
            return Err(format!(
                "unsupported DOCKER_HOST scheme in {host} (hint: use unix:// or tcp://)"
            ));
        };
        Ok(RawApi {
            target,
            prefix: format!("/v{api_version}"),
        })
    }

    /// Sends one request and reads the whole answer.
    pub async fn request(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<RawResponse, String> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut req = format!(
            "{method} {}{path_and_query} HTTP/1.0\r\nHost: docker\r\nUser-Agent: cc-ci\r\n",
            self.prefix
        );
        if !body.is_empty() {
            req.push_str("Content-Type: application/json\r\n");
        }
        req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        let fut = async {
            match &self.target {
                Target::Unix(p) => {
                    let s = tokio::net::UnixStream::connect(p)
                        .await
                        .map_err(|e| format!("connect {p}: {e}"))?;
                    exchange(s, req.as_bytes()).await
                }
                Target::Tcp(a) => {
                    let s = tokio::net::TcpStream::connect(a)
                        .await
                        .map_err(|e| format!("connect {a}: {e}"))?;
                    exchange(s, req.as_bytes()).await
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(60), fut)
            .await
            .map_err(|_| format!("{method} {path_and_query}: no answer within 60 s"))?
    }

    /// A GET whose JSON answer is decoded into `T`; non-2xx answers become errors with the engine's
    /// message.
    pub async fn get_json<T: DeserializeOwned>(&self, path_and_query: &str) -> Result<T, String> {
        let r = self.request("GET", path_and_query, None).await?;
        r.ok()?;
        serde_json::from_slice(&r.body).map_err(|e| format!("GET {path_and_query}: bad JSON: {e}"))
    }
}

impl RawResponse {
    /// `Ok` on 2xx, else the engine's error message.
    pub fn ok(&self) -> Result<(), String> {
        if (200..300).contains(&self.status) {
            return Ok(());
        }
        let msg = serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(String::from))
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body).into_owned());
        Err(format!("engine answered {}: {msg}", self.status))
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    req: &[u8],
) -> Result<RawResponse, String> {
    s.write_all(req).await.map_err(|e| format!("write: {e}"))?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)
        .await
        .map_err(|e| format!("read: {e}"))?;
    parse_response(&buf)
}

fn parse_response(buf: &[u8]) -> Result<RawResponse, String> {
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("malformed HTTP answer: no header end")?;
    let head = String::from_utf8_lossy(&buf[..split]);
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| format!("malformed HTTP status line: {head}"))?;
    Ok(RawResponse {
        status,
        body: buf[split + 4..].to_vec(),
    })
}

/// URL-encodes a `filters` JSON value for a query string.
pub(crate) fn filters_query(filters: &serde_json::Value) -> String {
    let s = filters.to_string();
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    format!("filters={out}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_and_body() {
        let r = parse_response(b"HTTP/1.0 404 Not Found\r\nA: b\r\n\r\n{\"message\":\"no such\"}")
            .unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.ok().unwrap_err(), "engine answered 404: no such");
    }

    #[test]
    fn filters_are_percent_encoded() {
        let q = filters_query(&serde_json::json!({"label": ["a=b"]}));
        assert_eq!(q, "filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D");
    }

    #[test]
    fn unknown_scheme_is_refused_with_a_hint() {
        assert!(RawApi::new("ssh://x", "1.41").unwrap_err().contains("hint"));
    }
}
