//! The one connection to the engine. [`Transport`] owns the HTTP client (hyper over the unix socket,
//! or TCP) for the whole process: bollard runs over it as its custom transport, and the few calls
//! bollard's model cannot carry (see [`Transport::raw`]) are sent through the same client with bollard's
//! own request type. Nothing else in cc-ci opens a connection to the engine, so connection policy
//! (timeouts now; reconnecting after an engine restart later) lives here and only here. It never
//! interprets an answer beyond its status and bytes.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bollard::{BollardRequest, ClientVersion, Docker};
use bytes::Bytes;
use futures_util::Stream;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The request body type bollard sends (`bollard::BollardRequest`'s body), spelled out because bollard
/// keeps its alias private.
type Body = http_body_util::Either<
    Full<Bytes>,
    StreamBody<Pin<Box<dyn Stream<Item = Result<Frame<Bytes>, std::io::Error>> + Send>>>,
>;

/// How long a raw call may take (bollard's own calls carry the client timeout given at connect).
const RAW_TIMEOUT: Duration = Duration::from_secs(60);

enum Conn {
    Unix(Client<hyperlocal::UnixConnector, Body>),
    Tcp(Client<HttpConnector, Body>),
}

/// The HTTP client to one engine address.
pub(crate) struct Transport {
    conn: Conn,
    /// `scheme` and `authority` of every request: `unix` + the hex-encoded socket path (what the unix
    /// connector decodes), or `http` + `host:port`.
    scheme: &'static str,
    authority: String,
}

/// A raw answer: status code and the whole body.
#[derive(Debug)]
pub(crate) struct RawAnswer {
    pub status: u16,
    pub body: Bytes,
}

impl Transport {
    /// A transport for `DOCKER_HOST`-style addresses: `unix:///path` or `tcp://host:port` (`http://`
    /// too). Connections are opened per request (none kept idle), as bollard's own transports do.
    pub fn for_host(host: &str) -> Result<Transport, String> {
        let mut builder = Client::builder(TokioExecutor::new());
        builder.pool_max_idle_per_host(0);
        if let Some(path) = host.strip_prefix("unix://") {
            if !std::path::Path::new(path).exists() {
                return Err(format!("no socket at {path}"));
            }
            return Ok(Transport {
                conn: Conn::Unix(builder.build(hyperlocal::UnixConnector)),
                scheme: "unix",
                authority: hex::encode(path.as_bytes()),
            });
        }
        let addr = host
            .strip_prefix("tcp://")
            .or_else(|| host.strip_prefix("http://"))
            .ok_or_else(|| {
                format!("unsupported DOCKER_HOST scheme in {host} (hint: use unix:// or tcp://)")
            })?;
        Ok(Transport {
            conn: Conn::Tcp(builder.build(HttpConnector::new())),
            scheme: "http",
            authority: addr.trim_end_matches('/').to_string(),
        })
    }

    /// The bollard client over this transport, speaking `version` until negotiated.
    pub fn bollard(
        self: &Arc<Self>,
        timeout: Duration,
        version: &ClientVersion,
    ) -> Result<Docker, bollard::errors::Error> {
        let me = Arc::clone(self);
        Docker::connect_with_custom_transport(
            move |req: BollardRequest| {
                let me = Arc::clone(&me);
                async move { me.send(req).await }
            },
            Some(format!("{}://{}", self.scheme, self.authority)),
            timeout.as_secs(),
            version,
        )
    }

    /// Sends one request as it is.
    pub async fn send(
        &self,
        req: BollardRequest,
    ) -> Result<Response<Incoming>, bollard::errors::Error> {
        let answer = match &self.conn {
            Conn::Unix(c) => c.request(req).await,
            Conn::Tcp(c) => c.request(req).await,
        };
        answer.map_err(bollard::errors::Error::from)
    }

    /// One call outside bollard's model, through the same client: `path_and_query` under the
    /// `/v<api>` prefix, an optional JSON body; the whole answer is read (at most [`RAW_TIMEOUT`]).
    pub async fn raw(
        &self,
        api_version: &str,
        method: Method,
        path_and_query: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<RawAnswer, String> {
        let what = format!("{method} {path_and_query}");
        let uri = format!(
            "{}://{}/v{api_version}{path_and_query}",
            self.scheme, self.authority
        );
        let mut req = Request::builder().method(method).uri(uri);
        let bytes = match body {
            Some(b) => {
                req = req.header("Content-Type", "application/json");
                Bytes::from(b.to_string())
            }
            None => Bytes::new(),
        };
        let req = req
            .body(bollard::body_full(bytes))
            .map_err(|e| format!("{what}: {e}"))?;
        let call = async {
            let resp = self.send(req).await.map_err(|e| e.to_string())?;
            let status = resp.status().as_u16();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("reading the answer: {e}"))?
                .to_bytes();
            Ok::<_, String>(RawAnswer { status, body })
        };
        tokio::time::timeout(RAW_TIMEOUT, call)
            .await
            .map_err(|_| format!("{what}: no answer within {RAW_TIMEOUT:?}"))?
            .map_err(|e| format!("{what}: {e}"))
    }
}

impl RawAnswer {
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

    /// The JSON body of a 2xx answer.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        self.ok()?;
        serde_json::from_slice(&self.body).map_err(|e| format!("bad JSON from the engine: {e}"))
    }
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
    fn an_error_answer_carries_the_engines_message() {
        let a = RawAnswer {
            status: 404,
            body: Bytes::from_static(br#"{"message":"no such service"}"#),
        };
        assert_eq!(a.ok().unwrap_err(), "engine answered 404: no such service");
        assert!(a.json::<serde_json::Value>().is_err());
    }

    #[test]
    fn filters_are_percent_encoded() {
        let q = filters_query(&serde_json::json!({"label": ["a=b"]}));
        assert_eq!(q, "filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D");
    }

    #[test]
    fn unknown_scheme_is_refused_with_a_hint() {
        assert!(Transport::for_host("ssh://x")
            .err()
            .unwrap()
            .contains("hint"));
    }

    #[test]
    fn a_missing_socket_is_named() {
        let e = Transport::for_host("unix:///nonexistent/docker.sock")
            .err()
            .unwrap();
        assert!(e.contains("/nonexistent/docker.sock"), "{e}");
    }

    #[test]
    fn a_unix_socket_is_addressed_by_its_hex_encoded_path() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("d.sock");
        let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let t = Transport::for_host(&format!("unix://{}", sock.display())).unwrap();
        assert_eq!(t.scheme, "unix");
        assert_eq!(
            hex::decode(&t.authority).unwrap(),
            sock.to_string_lossy().as_bytes()
        );
    }
}
