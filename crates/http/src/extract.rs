//! Extractors whose failures are problems that name the field at fault.

use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequest, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A JSON body. Malformed JSON, a wrong type or a missing field is a 400 naming the
/// field (`location.latitude: invalid type: string "x", expected f64`); a body that is
/// not JSON is 415; one over the size limit is 413.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes =
            Bytes::from_request(req, state)
                .await
                .map_err(|rejection: BytesRejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                    _ => ApiError::bad_request("body", rejection.body_text()),
                })?;
        parse_json(&bytes).map(Json)
    }
}

/// A body a route may go without: none when the request carries no body (whatever
/// its content type says); a body without a JSON content type is 415, as [`Json`]
/// answers.
impl<T, S> OptionalFromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let empty = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|length| length == "0");
        if empty {
            return Ok(None);
        }
        if req.headers().contains_key(header::CONTENT_TYPE) {
            return <Self as FromRequest<S>>::from_request(req, state)
                .await
                .map(Some);
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| ApiError::bad_request("body", rejection.body_text()))?;
        match bytes.is_empty() {
            true => Ok(None),
            false => Err(ApiError::UnsupportedMediaType),
        }
    }
}

/// Deserialises a JSON document, naming the field at fault on failure.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::bad_request("body", format!("malformed JSON: {inner}"));
        }
        let (field, message) = field_and_message(&path, &strip_position(&inner.to_string()));
        ApiError::bad_request(&field, message)
    })?;
    Ok(value)
}

/// serde names a missing field in the message, with the path of its parent; an
/// unknown field is named both in the message and at the end of the path.
fn field_and_message(path: &str, message: &str) -> (String, String) {
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    let parent = match named {
        Some(name) if path == name => ".",
        Some(name) => path
            .strip_suffix(name)
            .and_then(|p| p.strip_suffix('.'))
            .unwrap_or(path),
        None => path,
    };
    let parent = (parent != ".").then_some(parent);
    let field = match (parent, named) {
        (Some(parent), Some(name)) => format!("{parent}.{name}"),
        (None, Some(name)) => name.to_owned(),
        (Some(parent), None) => parent.to_owned(),
        (None, None) => "body".to_owned(),
    };
    let message = match message.strip_prefix("missing field") {
        Some(_) => "is required".to_owned(),
        None => message.to_owned(),
    };
    (field, message)
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// A query string. A value of the wrong type or an unknown parameter is a 400 naming the
/// parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|error| {
                let path = error.path().to_string();
                let (field, message) = field_and_message(&path, &error.into_inner().to_string());
                ApiError::bad_request(&field, message)
            })
    }
}

/// Path parameters; one that does not parse (an id that is not a UUID) is a 400 naming it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        let rejection = match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => return Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => e.into_kind(),
            Err(other) => {
                return Err(ApiError::Internal(anyhow::anyhow!(
                    "path extraction: {other}"
                )));
            }
        };
        if let ErrorKind::ParseErrorAtKey {
            key,
            value,
            expected_type,
        } = &rejection
        {
            return Err(ApiError::bad_request(
                key,
                format!("`{value}` is not a valid {}", friendly(expected_type)),
            ));
        }
        // Other kinds do not name the parameter; a route with one parameter names it.
        let params = RawPathParams::from_request_parts(parts, state).await.ok();
        let key = match params.as_ref().map(|p| p.iter().collect::<Vec<_>>()) {
            Some(params) if params.len() == 1 => params[0].0.to_owned(),
            _ => "path".to_owned(),
        };
        let message = match rejection {
            ErrorKind::ParseError {
                value,
                expected_type,
            } => format!("`{value}` is not a valid {}", friendly(expected_type)),
            other => other.to_string(),
        };
        Err(ApiError::bad_request(&key, message))
    }
}

fn friendly(type_name: &str) -> &str {
    match type_name.rsplit("::").next() {
        Some("Uuid") => "UUID",
        Some(other) => other,
        None => type_name,
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Location {
        name: String,
        position: Position,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Position {
        latitude: f64,
    }

    fn field_of(body: &str) -> (String, String) {
        match parse_json::<Location>(body.as_bytes()) {
            Err(ApiError::BadRequest { errors, .. }) => {
                (errors[0].field.clone(), errors[0].message.clone())
            }
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    #[test]
    fn a_wrong_type_names_the_nested_field() {
        let (field, message) = field_of(r#"{"name": "HQ", "position": {"latitude": "north"}}"#);
        assert_eq!(field, "position.latitude");
        assert!(message.contains("expected f64"), "{message}");
        assert!(!message.contains("line"), "{message}");
    }

    #[test]
    fn a_missing_field_is_named() {
        assert_eq!(field_of(r#"{"position": {"latitude": 1.0}}"#).0, "name");
        assert_eq!(
            field_of(r#"{"name": "HQ", "position": {}}"#).0,
            "position.latitude"
        );
    }

    #[test]
    fn an_unknown_field_is_named() {
        let (field, message) = field_of(r#"{"name": "HQ", "nmae": "HQ"}"#);
        assert_eq!(field, "nmae");
        assert!(message.starts_with("unknown field `nmae`"), "{message}");
        assert_eq!(
            field_of(r#"{"name": "HQ", "position": {"latitude": 1.0, "lat": 1.0}}"#).0,
            "position.lat"
        );
    }

    #[test]
    fn malformed_json_names_the_body() {
        assert_eq!(field_of(r#"{"name": "#).0, "body");
        assert_eq!(field_of(r#"{"name": "HQ",}"#).0, "body");
    }
}
