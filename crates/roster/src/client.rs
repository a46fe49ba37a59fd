//! A client of a running Roster's public API, as an application would use it: for
//! seeding the demo company and for `roster bench`.

use anyhow::{Context as _, bail};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    /// A client of the Roster at `base` (`http://host:port`), signed in as nobody.
    pub(crate) fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
            token: None,
        }
    }

    /// Sends `body` as JSON: the answer's status and JSON body (`null` when it has none).
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: &Value,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method.clone(), url).json(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let answer = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = answer.status();
        let body = answer.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    /// Posts and expects `201 Created`: the new record's `id`.
    pub(crate) async fn create(&self, path: &str, body: &Value) -> anyhow::Result<String> {
        self.create_at(path, body, "id").await
    }

    /// Posts and expects `201 Created`: the answer's `field`, an id.
    pub(crate) async fn create_at(
        &self,
        path: &str,
        body: &Value,
        field: &str,
    ) -> anyhow::Result<String> {
        let (status, answer) = self.send(Method::POST, path, body).await?;
        if status != StatusCode::CREATED {
            bail!("POST {path} answered {status}: {}", answer["detail"]);
        }
        answer[field]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("POST {path} answered no {field}"))
    }

    /// Patches and expects `200 OK`.
    pub(crate) async fn update(&self, path: &str, body: &Value) -> anyhow::Result<()> {
        let (status, answer) = self.send(Method::PATCH, path, body).await?;
        if status != StatusCode::OK {
            bail!("PATCH {path} answered {status}: {}", answer["detail"]);
        }
        Ok(())
    }

    /// Signs in; later requests carry the access token.
    pub(crate) async fn login(&mut self, email: &str, password: &str) -> anyhow::Result<()> {
        let login = json!({"email": email, "password": password});
        let (status, answer) = self
            .send(Method::POST, "/api/v1/auth/login", &login)
            .await?;
        self.token = match (status, answer["access_token"].as_str()) {
            (StatusCode::OK, Some(token)) => Some(token.to_owned()),
            _ => bail!("login answered {status}: {}", answer["detail"]),
        };
        Ok(())
    }
}
