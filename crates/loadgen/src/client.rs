//! A client of a running Roster's public API, as an application would use it: for
//! seeding the demo company and for `roster bench`.

use std::time::{Duration, Instant};

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

    /// Sends what names people or places made a moment ago, which may not have reached
    /// the service yet (it learns of them through events): a refusal as unknown (404,
    /// 409 or 422) is tried again for a while. Expects `expected`: the answer's body.
    pub(crate) async fn send_when_known(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        expected: StatusCode,
    ) -> anyhow::Result<Value> {
        let deadline = Instant::now() + REPLICA_WAIT;
        loop {
            let (status, answer) = self.send(method.clone(), path, body).await?;
            match status {
                _ if status == expected => return Ok(answer),
                StatusCode::NOT_FOUND | StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY
                    if Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                _ => bail!("{method} {path} answered {status}: {}", answer["detail"]),
            }
        }
    }

    /// [`Self::send_when_known`] for a new record: its `id`.
    pub(crate) async fn create_when_known(
        &self,
        path: &str,
        body: &Value,
    ) -> anyhow::Result<String> {
        let answer = self
            .send_when_known(Method::POST, path, body, StatusCode::CREATED)
            .await?;
        answer["id"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("POST {path} answered no id"))
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

/// How long what was just made elsewhere may take to reach a service's replica.
const REPLICA_WAIT: Duration = Duration::from_secs(30);
