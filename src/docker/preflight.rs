//! What is checked before a deploy, and what a failed task is diagnosed with: whether an image is
//! present (and, when it is not, what pulling it says), which ports swarm services already publish,
//! and whether a port is taken on this host by something outside swarm. It never creates or changes a
//! service; a pull that works adds the image, which is what the deploy needed.

use std::collections::BTreeSet;
use std::time::Duration;

use bollard::query_parameters::{CreateImageOptions, ListServicesOptions};
use futures_util::StreamExt;

use super::error::is_not_found;
use super::{DockerError, Engine};

/// How long a pull may take before it counts as failed.
const PULL_TIMEOUT: Duration = Duration::from_secs(120);

impl Engine {
    /// `Ok` when `image` is present or could be pulled now; else why the pull failed (the engine's
    /// own words).
    pub fn ensure_image(&self, image: &str) -> Result<(), String> {
        self.block(self.ensure_image_async(image))
    }

    pub(crate) async fn ensure_image_async(&self, image: &str) -> Result<(), String> {
        match self.docker.inspect_image(image).await {
            Ok(_) => return Ok(()),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(format!("inspecting it failed: {e}")),
        }
        let (repo, tag) = split_reference(image);
        let opts = CreateImageOptions {
            from_image: Some(repo),
            tag: Some(tag),
            ..Default::default()
        };
        let pull = async {
            let mut stream = self.docker.create_image(Some(opts), None, None);
            while let Some(item) = stream.next().await {
                match item {
                    Err(e) => return Err(engine_message(&e)),
                    Ok(info) => {
                        if let Some(m) = info.error_detail.and_then(|d| d.message) {
                            return Err(m);
                        }
                    }
                }
            }
            Ok(())
        };
        tokio::time::timeout(PULL_TIMEOUT, pull)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "the pull did not finish within {}",
                    crate::duration::rounded(PULL_TIMEOUT)
                ))
            })
    }

    /// The ports every swarm service publishes now, as (port, protocol).
    pub fn published_ports(&self) -> Result<BTreeSet<(u16, String)>, DockerError> {
        let services = self
            .block(self.docker.list_services(None::<ListServicesOptions>))
            .map_err(|e| DockerError::api("list services", e))?;
        let mut out = BTreeSet::new();
        for s in services {
            let ports = s
                .endpoint
                .and_then(|e| e.ports)
                .or_else(|| s.spec.and_then(|sp| sp.endpoint_spec).and_then(|e| e.ports))
                .unwrap_or_default();
            for p in ports {
                if let Some(n) = p.published_port.and_then(|n| u16::try_from(n).ok()) {
                    let proto = p.protocol.map(|x| x.to_string()).unwrap_or_default();
                    out.insert((
                        n,
                        if proto.is_empty() {
                            "tcp".into()
                        } else {
                            proto
                        },
                    ));
                }
            }
        }
        Ok(out)
    }
}

/// True when something on this host listens on `port` (`tcp`) or holds it (`udp`): binding the
/// wildcard address fails with "address in use".
pub fn host_port_in_use(port: u16, proto: &str) -> bool {
    let addr = std::net::SocketAddr::from(([0, 0, 0, 0], port));
    let err = match proto {
        "udp" => std::net::UdpSocket::bind(addr).err(),
        _ => std::net::TcpListener::bind(addr).err(),
    };
    err.is_some_and(|e| e.kind() == std::io::ErrorKind::AddrInUse)
}

/// `repo[:tag]` or `repo@digest` → (repo, tag or digest); no tag means `latest` (an empty tag would
/// pull every tag of the repository).
fn split_reference(image: &str) -> (String, String) {
    if let Some((repo, digest)) = image.split_once('@') {
        return (repo.to_string(), digest.to_string());
    }
    let slash = image.rfind('/').map(|i| i + 1).unwrap_or(0);
    match image[slash..].rfind(':') {
        Some(i) => (
            image[..slash + i].to_string(),
            image[slash + i + 1..].to_string(),
        ),
        None => (image.to_string(), "latest".to_string()),
    }
}

/// The engine's message of an error answer, without bollard's "Docker responded with …" prefix.
fn engine_message(e: &bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_repository_and_tag() {
        let s = |i: &str| split_reference(i);
        assert_eq!(s("ccci/busybox:1"), ("ccci/busybox".into(), "1".into()));
        assert_eq!(s("nginx"), ("nginx".into(), "latest".into()));
        assert_eq!(
            s("registry:5000/team/app"),
            ("registry:5000/team/app".into(), "latest".into())
        );
        assert_eq!(
            s("registry:5000/app:2.1"),
            ("registry:5000/app".into(), "2.1".into())
        );
        assert_eq!(s("app@sha256:abcd"), ("app".into(), "sha256:abcd".into()));
    }

    #[test]
    fn a_port_this_test_listens_on_is_in_use_and_a_freed_one_is_not() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(host_port_in_use(port, "tcp"));
        drop(l);
        assert!(!host_port_in_use(port, "tcp"));
    }
}
