//! Posting to a company's webhooks: JSON, signed with HMAC-SHA256 over the time and
//! the body so the receiver can tell Roster sent it and that it is fresh. Addresses
//! on loopback, private and link-local networks are refused unless the configuration
//! allows them, whatever the host name resolves to, and redirects are not followed.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt as _, Full};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use roster_config::NotificationsConfig;
use sha2::Sha256;
use uuid::Uuid;

use crate::store::deliveries::Attempt;

/// The header that carries `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE: &str = "roster-signature";
/// The header that names the delivery (the same on every retry of it).
pub const DELIVERY: &str = "roster-delivery";
/// The header that names the kind of notification.
pub const KIND: &str = "roster-kind";

/// The signature of `body` sent at `timestamp` with `secret`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length: the error cannot happen.
    let mac = Hmac::<Sha256>::new_from_slice(secret).map(|mut mac| {
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    });
    format!("t={timestamp},v1={}", mac.unwrap_or_default())
}

/// A new signing secret: 32 random bytes, shown once to the administrator.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// Whether `ip` is on the public internet: not loopback, private, link-local,
/// shared (carrier-grade NAT), unique-local, multicast, documentation or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80)
            }
        },
    }
}

/// Checks a webhook's URL: http or https, a host, no credentials in it, and (unless
/// private networks are allowed) not a private address written as such.
pub fn check_url(raw: &str, private_networks: bool) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http:// or https:// URL".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not carry a user or password; the signature proves the sender".to_owned(),
        );
    }
    let Some(host) = url.host() else {
        return Err("names no host".to_owned());
    };
    let literal = match host {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    };
    if let Some(ip) = literal
        && !private_networks
        && !is_public(ip)
    {
        return Err(format!("{ip} is not a public address"));
    }
    Ok(url)
}

/// Resolves host names, keeping only the addresses a webhook may reach.
#[derive(Debug, Clone, Copy)]
struct Guarded {
    private_networks: bool,
}

type Resolving = Pin<Box<dyn Future<Output = io::Result<std::vec::IntoIter<SocketAddr>>> + Send>>;

impl tower_service::Service<Name> for Guarded {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = io::Error;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let private_networks = self.private_networks;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = all
                .iter()
                .copied()
                .filter(|a| private_networks || is_public(a.ip()))
                .collect();
            if allowed.is_empty() && !all.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!("{host} resolves only to addresses that are not public"),
                ));
            }
            Ok(allowed.into_iter())
        })
    }
}

/// Posts signed deliveries to webhooks.
#[derive(Clone)]
pub struct Poster {
    client: Client<HttpsConnector<HttpConnector<Guarded>>, Full<Bytes>>,
    timeout: Duration,
    private_networks: bool,
}

impl std::fmt::Debug for Poster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poster")
            .field("timeout", &self.timeout)
            .field("private_networks", &self.private_networks)
            .finish_non_exhaustive()
    }
}

impl Poster {
    pub fn new(config: &NotificationsConfig) -> anyhow::Result<Self> {
        let roots =
            rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let guarded = Guarded {
            private_networks: config.webhook_private_networks,
        };
        let mut http = HttpConnector::new_with_resolver(guarded);
        http.enforce_http(false);
        http.set_connect_timeout(Some(config.webhook_timeout()));
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout: config.webhook_timeout(),
            private_networks: config.webhook_private_networks,
        })
    }

    /// Posts `body` to `url`, signed with `secret`: a 2xx answer delivers it, 410 Gone
    /// bounces it, anything else (or no answer in time) is tried again.
    pub async fn post(
        &self,
        url: &str,
        secret: &[u8],
        delivery: Uuid,
        kind: &str,
        body: String,
    ) -> Attempt {
        if let Err(e) = check_url(url, self.private_networks) {
            return Attempt::Abandoned(format!("the webhook's URL {e}"));
        }
        let signature = sign(
            secret,
            time::OffsetDateTime::now_utc().unix_timestamp(),
            body.as_bytes(),
        );
        let request = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(
                http::header::USER_AGENT,
                concat!("Roster/", env!("CARGO_PKG_VERSION")),
            )
            .header(SIGNATURE, signature)
            .header(DELIVERY, delivery.to_string())
            .header(KIND, kind)
            .body(Full::new(Bytes::from(body)));
        let request = match request {
            Ok(request) => request,
            Err(e) => return Attempt::Abandoned(format!("cannot build the request: {e}")),
        };
        let answer = tokio::time::timeout(self.timeout, async {
            let response = self.client.request(request).await?;
            let status = response.status();
            // Read a little of the answer for the log, no more.
            let body = response
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            Ok::<_, hyper_util::client::legacy::Error>((status, body))
        })
        .await;
        match answer {
            Err(_) => Attempt::Failed(format!("no answer within {} ms", self.timeout.as_millis())),
            Ok(Err(e)) => Attempt::Failed(describe(&e)),
            Ok(Ok((status, body))) => {
                let excerpt: String = String::from_utf8_lossy(&body).chars().take(200).collect();
                let detail = format!("HTTP {status} {excerpt}").trim_end().to_owned();
                match status.as_u16() {
                    200..=299 => Attempt::Delivered(detail),
                    410 => Attempt::Bounced(detail),
                    _ => Attempt::Failed(detail),
                }
            }
        }
    }
}

/// An error with its causes, as one line.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_time_dot_body() {
        let signature = sign(b"Jefe", 1_700_000_000, b"{}");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"1700000000.{}");
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(signature, format!("t=1700000000,v1={expected}"));
        assert_ne!(sign(b"other", 1_700_000_000, b"{}"), signature);
    }

    #[test]
    fn private_addresses_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1/hook",
            "http://10.1.2.3/hook",
            "http://192.168.0.1/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/hook",
            "http://[fd00::1]/hook",
            "http://100.64.0.1/hook",
        ] {
            assert!(check_url(url, false).is_err(), "{url}");
            assert!(check_url(url, true).is_ok(), "{url}");
        }
        assert!(check_url("https://hooks.example.com/roster", false).is_ok());
        assert!(check_url("https://8.8.8.8/roster", false).is_ok());
        assert!(check_url("ftp://example.com/x", true).is_err());
        assert!(check_url("https://user:pw@example.com/x", true).is_err());
    }
}
