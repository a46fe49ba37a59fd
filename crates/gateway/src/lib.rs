#![doc = include_str!("../README.md")]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use http_body_util::BodyExt as _;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use roster_config::Config;
use roster_http::layers::{self, Limits};
use roster_http::{ApiError, Metrics};
use serde_json::{Map, Value, json};
use url::Url;

type HttpClient = Client<HttpConnector, Body>;

/// Headers that describe one connection, not the request: never forwarded.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

#[derive(Debug, Clone)]
struct Gateway {
    upstreams: Arc<BTreeMap<String, Url>>,
    client: HttpClient,
    probe_timeout: Duration,
}

/// The gateway's routes for the services whose URLs the configuration names, out of
/// `known`. Fails when it names none.
pub fn router(config: &Config, known: &[&str]) -> anyhow::Result<Router> {
    let upstreams: BTreeMap<String, Url> = known
        .iter()
        .filter_map(|name| Some(((*name).to_owned(), config.service_url(name)?.clone())))
        .collect();
    if upstreams.is_empty() {
        anyhow::bail!(
            "the gateway routes to no service: set `url` under [services.<name>] for at least one of {}",
            known.join(", ")
        );
    }
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(Duration::from_secs(5)));
    connector.set_nodelay(true);
    let gateway = Gateway {
        upstreams: Arc::new(upstreams),
        client: Client::builder(TokioExecutor::new()).build(connector),
        // An upstream's readiness waits up to its databases' acquire timeout; allow that
        // and a second more before calling it down.
        probe_timeout: Duration::from_millis(config.storage.acquire_timeout_ms + 1_000),
    };
    let router = Router::new()
        .route(
            "/health/live",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/{service}", any(proxy))
        .route("/api/v1/{service}/{*rest}", any(proxy))
        .with_state(gateway);
    Ok(layers::apply(
        router,
        Limits {
            request_timeout: Duration::from_secs(config.server.request_timeout_secs),
            body_limit: config.server.body_limit_bytes,
        },
    ))
}

/// The service names the gateway routes to.
pub fn routed_services(config: &Config, known: &[&str]) -> Vec<String> {
    known
        .iter()
        .filter(|name| config.service_url(name).is_some())
        .map(|name| (*name).to_owned())
        .collect()
}

async fn proxy(
    State(gateway): State<Gateway>,
    Path(params): Path<BTreeMap<String, String>>,
    request: Request,
) -> Result<Response, ApiError> {
    let service = params
        .get("service")
        .map(String::as_str)
        .unwrap_or_default();
    let base = gateway
        .upstreams
        .get(service)
        .ok_or_else(|| ApiError::not_found("no such route"))?;
    let (mut parts, body) = request.into_parts();
    let target = upstream_uri(base, &parts.uri)?;
    strip_hop_by_hop(&mut parts.headers);
    if let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>().cloned() {
        append_forwarded_for(&mut parts.headers, peer);
    }
    parts
        .headers
        .insert("x-forwarded-proto", HeaderValue::from_static("http"));
    parts.headers.remove(header::HOST);
    parts.uri = target;
    let upstream = hyper::Request::from_parts(parts, body);
    let response = gateway.client.request(upstream).await.map_err(|e| {
        tracing::warn!(service, error = %e, "upstream unreachable");
        ApiError::Unavailable(format!("the {service} service does not answer"))
    })?;
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    Ok(Response::from_parts(parts, Body::new(body)))
}

fn upstream_uri(base: &Url, original: &Uri) -> Result<Uri, ApiError> {
    let path_and_query = original
        .path_and_query()
        .map_or(original.path(), |pq| pq.as_str());
    let base = base.as_str().trim_end_matches('/');
    format!("{base}{path_and_query}")
        .parse()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot build the upstream URI: {e}")))
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Headers named by `Connection` are hop-by-hop too.
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::try_from(name.trim()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

fn append_forwarded_for(headers: &mut HeaderMap, peer: SocketAddr) {
    let value = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(previous) => format!("{previous}, {}", peer.ip()),
        None => peer.ip().to_string(),
    };
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert("x-forwarded-for", value);
    }
}

/// GETs a path from every upstream at once, each within the probe timeout.
async fn fetch_all(
    gateway: &Gateway,
    path: &str,
) -> Vec<(String, Result<(StatusCode, Value), String>)> {
    futures::future::join_all(gateway.upstreams.iter().map(|(name, base)| async move {
        let result = async {
            let uri = upstream_uri(base, &Uri::from_static("/"))
                .map_err(|e| e.to_string())?
                .to_string();
            let uri: Uri = format!("{}{path}", uri.trim_end_matches('/'))
                .parse()
                .map_err(|e: axum::http::uri::InvalidUri| e.to_string())?;
            let request = hyper::Request::get(uri)
                .body(Body::empty())
                .map_err(|e| e.to_string())?;
            let response =
                tokio::time::timeout(gateway.probe_timeout, gateway.client.request(request))
                    .await
                    .map_err(|_| "no answer in time".to_owned())?
                    .map_err(|e| format!("unreachable: {e}"))?;
            let status = response.status();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            Ok((status, value))
        }
        .await;
        (name.clone(), result)
    }))
    .await
}

async fn ready(State(gateway): State<Gateway>) -> Response {
    let results = fetch_all(&gateway, "/health/ready").await;
    let mut checks = Map::new();
    let mut all_up = true;
    for (name, result) in results {
        let check = match result {
            Ok((status, body)) if status.is_success() => json!({"status": "up", "detail": body}),
            Ok((status, body)) => {
                all_up = false;
                json!({"status": "down", "error": format!("answered {status}"), "detail": body})
            }
            Err(error) => {
                all_up = false;
                json!({"status": "down", "error": error})
            }
        };
        checks.insert(name, check);
    }
    let status = if all_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({"status": if all_up { "ready" } else { "unavailable" }, "checks": checks});
    (status, axum::Json(body)).into_response()
}

async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        Metrics::get().render(),
    )
}

/// The upstream documents merged: paths and component schemas of every service.
async fn openapi(State(gateway): State<Gateway>) -> Result<Response, ApiError> {
    let mut merged: Option<Value> = None;
    for (name, result) in fetch_all(&gateway, "/api/v1/openapi.json").await {
        let document = match result {
            Ok((status, document)) if status.is_success() => document,
            _ => {
                return Err(ApiError::Unavailable(format!(
                    "the {name} service does not answer"
                )));
            }
        };
        match merged.as_mut() {
            None => merged = Some(document),
            Some(merged) => {
                merge_objects(merged, &document, &["paths"]);
                merge_objects(merged, &document, &["components", "schemas"]);
            }
        }
    }
    Ok(axum::Json(merged.unwrap_or(Value::Null)).into_response())
}

/// Adds the entries of `from` at `path` to `into` at the same path.
fn merge_objects(into: &mut Value, from: &Value, path: &[&str]) {
    let source = path.iter().try_fold(from, |v, key| v.get(*key));
    let Some(Value::Object(source)) = source else {
        return;
    };
    let mut target = into;
    for key in path {
        target = match target {
            Value::Object(map) => map.entry((*key).to_owned()).or_insert_with(|| json!({})),
            _ => return,
        };
    }
    if let Value::Object(target) = target {
        for (key, value) in source {
            target.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_uris_keep_path_and_query() {
        let base = Url::parse("http://10.0.0.7:8081/").unwrap();
        let uri = upstream_uri(&base, &"/api/v1/org/teams?limit=2".parse().unwrap()).unwrap();
        assert_eq!(
            uri.to_string(),
            "http://10.0.0.7:8081/api/v1/org/teams?limit=2"
        );
    }

    #[test]
    fn connection_headers_are_not_forwarded() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret-hop"),
        );
        headers.insert("x-secret-hop", HeaderValue::from_static("1"));
        headers.insert("x-request-id", HeaderValue::from_static("abc"));
        strip_hop_by_hop(&mut headers);
        assert!(headers.get("x-secret-hop").is_none());
        assert!(headers.get(header::CONNECTION).is_none());
        assert_eq!(headers["x-request-id"], "abc");
    }

    #[test]
    fn documents_merge_their_paths() {
        let mut a = json!({"paths": {"/a": {}}, "components": {"schemas": {"A": {}}}});
        let b = json!({"paths": {"/b": {}}, "components": {"schemas": {"B": {}}}});
        merge_objects(&mut a, &b, &["paths"]);
        merge_objects(&mut a, &b, &["components", "schemas"]);
        assert!(a["paths"]["/b"].is_object());
        assert!(a["components"]["schemas"]["B"].is_object());
    }
}
