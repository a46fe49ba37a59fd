//! Posting to a company's webhooks: JSON, signed with HMAC-SHA256 over the time and
//! the body so the receiver can tell Roster sent it and that it is fresh. Addresses
//! outside the public internet (IANA's special-purpose ranges) are refused unless the
//! configuration allows them, whatever the host name resolves to; redirects are not
//! followed; a receiver's answer is read to 4 KiB at most, within the timeout.

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

/// IPv4 ranges a webhook never reaches: every block of IANA's IPv4 Special-Purpose
/// Address Registry that is not globally reachable (this network, private,
/// shared/carrier-grade NAT, loopback, link-local, IETF protocol assignments,
/// documentation, 6to4 relay anycast, benchmarking, reserved, broadcast), and multicast.
const SPECIAL_V4: [(u32, u32); 16] = [
    (0x0000_0000, 8),  // 0.0.0.0/8 this network
    (0x0a00_0000, 8),  // 10.0.0.0/8 private
    (0x6440_0000, 10), // 100.64.0.0/10 shared address space
    (0x7f00_0000, 8),  // 127.0.0.0/8 loopback
    (0xa9fe_0000, 16), // 169.254.0.0/16 link-local
    (0xac10_0000, 12), // 172.16.0.0/12 private
    (0xc000_0000, 24), // 192.0.0.0/24 IETF protocol assignments
    (0xc000_0200, 24), // 192.0.2.0/24 documentation (TEST-NET-1)
    (0xc058_6300, 24), // 192.88.99.0/24 6to4 relay anycast (deprecated)
    (0xc0a8_0000, 16), // 192.168.0.0/16 private
    (0xc612_0000, 15), // 198.18.0.0/15 benchmarking
    (0xc633_6400, 24), // 198.51.100.0/24 documentation (TEST-NET-2)
    (0xcb00_7100, 24), // 203.0.113.0/24 documentation (TEST-NET-3)
    (0xe000_0000, 4),  // 224.0.0.0/4 multicast
    (0xf000_0000, 4),  // 240.0.0.0/4 reserved, and the broadcast address
    (0xffff_ffff, 32), // 255.255.255.255/32 limited broadcast
];

/// IPv6 ranges a webhook never reaches: IANA's IPv6 Special-Purpose Address Registry
/// (unspecified, loopback and the deprecated IPv4-compatible block, IPv4-mapped, the
/// NAT64 prefixes, discard-only, IETF protocol assignments, documentation, 6to4,
/// segment routing, unique-local, link-local and the old site-local), and multicast.
/// Addresses that carry an IPv4 one (mapped, NAT64, 6to4) would reach whatever that
/// one is: they are refused whole.
const SPECIAL_V6: [(u128, u32); 14] = [
    (0, 96), // ::/96 unspecified, loopback, IPv4-compatible
    (0x0000_0000_0000_0000_0000_ffff_0000_0000, 96), // ::ffff:0:0/96 IPv4-mapped
    (0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96), // 64:ff9b::/96 NAT64
    (0x0064_ff9b_0001_0000_0000_0000_0000_0000, 48), // 64:ff9b:1::/48 local NAT64
    (0x0100_0000_0000_0000_0000_0000_0000_0000, 64), // 100::/64 discard-only
    (0x2001_0000_0000_0000_0000_0000_0000_0000, 23), // 2001::/23 IETF protocol assignments
    (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32), // 2001:db8::/32 documentation
    (0x2002_0000_0000_0000_0000_0000_0000_0000, 16), // 2002::/16 6to4
    (0x3fff_0000_0000_0000_0000_0000_0000_0000, 20), // 3fff::/20 documentation
    (0x5f00_0000_0000_0000_0000_0000_0000_0000, 16), // 5f00::/16 segment routing
    (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7), // fc00::/7 unique-local
    (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10), // fe80::/10 link-local
    (0xfec0_0000_0000_0000_0000_0000_0000_0000, 10), // fec0::/10 site-local (deprecated)
    (0xff00_0000_0000_0000_0000_0000_0000_0000, 8), // ff00::/8 multicast
];

/// Whether `ip` is on the public internet: in none of the special-purpose ranges.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !SPECIAL_V4
            .iter()
            .any(|(net, len)| same_prefix(u128::from(u32::from(v4)), u128::from(*net), 32 - len)),
        IpAddr::V6(v6) => !SPECIAL_V6
            .iter()
            .any(|(net, len)| same_prefix(u128::from(v6), *net, 128 - len)),
    }
}

/// Whether `a` and `b` agree but for their lowest `host_bits` bits.
fn same_prefix(a: u128, b: u128, host_bits: u32) -> bool {
    a.checked_shr(host_bits).unwrap_or(0) == b.checked_shr(host_bits).unwrap_or(0)
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
        // The whole exchange within the timeout, however slowly the far end answers.
        let answer = tokio::time::timeout(self.timeout, async {
            let response = self.client.request(request).await?;
            let status = response.status();
            let body = read_some(response.into_body(), MAX_REPLY).await;
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

/// The most of a receiver's answer that is read: enough for the log's excerpt. The
/// connection is dropped there, whatever the receiver would still send.
const MAX_REPLY: usize = 4096;

/// Up to `limit` bytes of `body` (what arrived before an error, if one comes).
async fn read_some<B>(mut body: B, limit: usize) -> Bytes
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
{
    let mut read = bytes::BytesMut::new();
    while read.len() < limit {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    let room = limit - read.len();
                    read.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
            Some(Err(_)) | None => break,
        }
    }
    read.freeze()
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

    /// An answer that never ends is read to the limit, then left.
    #[tokio::test]
    async fn a_reply_is_read_to_the_limit_only() {
        let endless = futures::stream::repeat_with(|| {
            Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(Bytes::from_static(
                &[b'x'; 1000],
            )))
        });
        let body = http_body_util::StreamBody::new(endless);
        let read = read_some(body, MAX_REPLY).await;
        assert_eq!(read.len(), MAX_REPLY);
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
            "http://198.18.0.1/hook",
            "http://198.19.255.254/hook",
            "http://240.0.0.1/hook",
            "http://255.255.255.255/hook",
            "http://192.0.0.1/hook",
            "http://192.88.99.1/hook",
            "http://0.1.2.3/hook",
            "http://[64:ff9b::7f00:1]/hook",
            "http://[64:ff9b:1::a00:1]/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://[::127.0.0.1]/hook",
            "http://[2002:7f00:1::]/hook",
            "http://[2001:db8::1]/hook",
            "http://[2001::1]/hook",
            "http://[100::1]/hook",
            "http://[fec0::1]/hook",
            "http://[ff02::1]/hook",
        ] {
            assert!(check_url(url, false).is_err(), "{url}");
            assert!(check_url(url, true).is_ok(), "{url}");
        }
        assert!(check_url("https://hooks.example.com/roster", false).is_ok());
        assert!(check_url("https://8.8.8.8/roster", false).is_ok());
        assert!(check_url("https://198.20.0.1/roster", false).is_ok());
        assert!(check_url("https://[2001:4860:4860::8888]/roster", false).is_ok());
        assert!(check_url("https://[2a00:1450::1]/roster", false).is_ok());
        assert!(check_url("ftp://example.com/x", true).is_err());
        assert!(check_url("https://user:pw@example.com/x", true).is_err());
    }
}
