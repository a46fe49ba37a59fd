//! How one service calls another: the same request, in process or over HTTP.
//!
//! A [`Link`] to a service hosted by this process sends the request through the host's
//! own router, without a socket; a link to a service that runs apart sends it over HTTP
//! to the URL the configuration gives (`[services.<name>] url`). Either way the request
//! carries the service credential and meets the same routing, access checks and
//! handlers, so a service behaves the same co-located or alone.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use roster_config::Config;
use roster_http::{ApiError, FieldError, ServiceToken};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tower::ServiceExt as _;
use url::Url;

/// Why a call to another service did not give an answer of the kind expected.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The service answered with an error status; `problem` is its body.
    #[error("{service} answered {status}: {}", problem_detail(.problem))]
    Status {
        service: &'static str,
        status: StatusCode,
        problem: Value,
    },
    /// The service could not be reached, or did not answer in time: the call may or
    /// may not have taken effect.
    #[error("{service} did not answer: {reason}")]
    Unreachable {
        service: &'static str,
        reason: String,
    },
    /// The answer could not be read as expected.
    #[error("{service} answered something unreadable: {reason}")]
    Protocol {
        service: &'static str,
        reason: String,
    },
}

fn problem_detail(problem: &Value) -> &str {
    problem["detail"].as_str().unwrap_or("(no detail)")
}

impl LinkError {
    /// The status the service answered, when it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The links of one process: which services it hosts, where the others answer.
#[derive(Clone)]
pub struct Links {
    inner: Arc<Inner>,
}

struct Inner {
    hosted: Vec<&'static str>,
    remote: HashMap<String, Url>,
    /// The host's router, once assembled; cleared when the host stops.
    local: RwLock<Option<Router>>,
    token: ServiceToken,
    http: reqwest::Client,
}

impl fmt::Debug for Links {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Links")
            .field("hosted", &self.inner.hosted)
            .field("remote", &self.inner.remote)
            .finish_non_exhaustive()
    }
}

impl Links {
    /// Links for a process hosting `hosted`; the others are found at the URLs the
    /// configuration gives.
    pub fn new(
        config: &Config,
        hosted: Vec<&'static str>,
        token: ServiceToken,
    ) -> anyhow::Result<Self> {
        let remote = config
            .service_urls()
            .filter(|(name, _)| !hosted.contains(name))
            .map(|(name, url)| (name.to_owned(), url.clone()))
            .collect();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.server.request_timeout_secs))
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                hosted,
                remote,
                local: RwLock::new(None),
                token,
                http,
            }),
        })
    }

    /// Whether this process hosts `service`.
    pub fn hosts(&self, service: &str) -> bool {
        self.inner.hosted.contains(&service)
    }

    /// A link to `service`, or an error saying how to configure one.
    pub fn to(&self, service: &'static str) -> anyhow::Result<Link> {
        let target = match (self.hosts(service), self.inner.remote.get(service)) {
            (true, _) => Target::Local,
            (false, Some(url)) => Target::Remote(url.clone()),
            (false, None) => anyhow::bail!(
                "{service} runs neither in this process nor at a configured address: set services.{service}.url"
            ),
        };
        Ok(Link {
            service,
            target,
            links: self.clone(),
        })
    }

    pub(crate) fn set_local(&self, router: Option<Router>) {
        *self.inner.local.write().unwrap_or_else(|e| e.into_inner()) = router;
    }

    fn local(&self) -> Option<Router> {
        self.inner
            .local
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[derive(Debug, Clone)]
enum Target {
    Local,
    Remote(Url),
}

/// A way to call one service.
#[derive(Debug, Clone)]
pub struct Link {
    service: &'static str,
    target: Target,
    links: Links,
}

impl Link {
    /// Sends `body` as JSON and reads the answer as `R` (use `()` for 204).
    pub async fn call<R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + Sync)>,
    ) -> Result<R, LinkError> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| self.protocol(e))?;
        let (status, bytes) = match &self.target {
            Target::Local => self.call_local(method, path, body).await?,
            Target::Remote(url) => self.call_remote(url, method, path, body).await?,
        };
        if !status.is_success() {
            let problem = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            return Err(LinkError::Status {
                service: self.service,
                status,
                problem,
            });
        }
        let bytes = match bytes.is_empty() {
            true => b"null".as_slice(),
            false => &bytes[..],
        };
        serde_json::from_slice(bytes).map_err(|e| self.protocol(e))
    }

    async fn call_local(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, bytes::Bytes), LinkError> {
        let router = self.links.local().ok_or_else(|| LinkError::Unreachable {
            service: self.service,
            reason: "this process is not serving".to_owned(),
        })?;
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, self.links.inner.token.header_value());
        if body.is_some() {
            request = request.header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        let request = request
            .body(body.map_or_else(Body::empty, Body::from))
            .map_err(|e| self.protocol(e))?;
        let response = router
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| self.unreachable(e))?
            .to_bytes();
        Ok((status, bytes))
    }

    async fn call_remote(
        &self,
        base: &Url,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, bytes::Bytes), LinkError> {
        let url = base.join(path).map_err(|e| self.protocol(e))?;
        let mut request = self
            .links
            .inner
            .http
            .request(method, url)
            .header(header::AUTHORIZATION, self.links.inner.token.header_value());
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.unreachable(e))?;
        Ok((status, bytes))
    }

    fn unreachable(&self, e: impl fmt::Display) -> LinkError {
        LinkError::Unreachable {
            service: self.service,
            reason: e.to_string(),
        }
    }

    fn protocol(&self, e: impl fmt::Display) -> LinkError {
        LinkError::Protocol {
            service: self.service,
            reason: e.to_string(),
        }
    }
}

/// Another service's client error passes on as it was (the caller's request was at
/// fault); anything else is a 503 naming the service.
impl From<LinkError> for ApiError {
    fn from(error: LinkError) -> Self {
        let LinkError::Status {
            status, problem, ..
        } = &error
        else {
            return ApiError::DependencyFailed(error.to_string());
        };
        let detail = problem_detail(problem).to_owned();
        let errors: Vec<FieldError> = problem["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| {
                        Some(FieldError::new(
                            e["field"].as_str()?,
                            e["message"].as_str()?,
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        match status.as_u16() {
            400 => ApiError::BadRequest { detail, errors },
            404 => ApiError::NotFound(detail),
            409 => ApiError::Conflict { detail, errors },
            422 => ApiError::Unprocessable { detail, errors },
            503 => ApiError::DependencyFailed(detail),
            _ => ApiError::DependencyFailed(error.to_string()),
        }
    }
}
