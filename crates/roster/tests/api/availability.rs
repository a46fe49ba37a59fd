//! A database that stops answering makes `/health/ready` name it and requests answer
//! 503, not 500 and not a hang; when it is back, so is the service, within moments.

use std::time::Duration;

use roster_testing::{ADMIN, StatusCode, TestApp, Topology, pg_location, postgres_topology_tests};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::{new_company, within};

/// Locks the org role out and ends its sessions: to org, its database is down.
async fn set_org_login(config: &roster_config::Config, login: bool) {
    let pg = pg_location(config, "org");
    let mut admin = PgConnection::connect_with(&pg.admin.clone().database(&pg.maintenance_db))
        .await
        .unwrap();
    let role = &pg.role;
    let statements = match login {
        false => vec![
            format!("ALTER ROLE \"{role}\" NOLOGIN"),
            format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
            ),
        ],
        true => vec![format!("ALTER ROLE \"{role}\" LOGIN")],
    };
    for statement in statements {
        sqlx::raw_sql(AssertSqlSafe(statement))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    admin.close().await.unwrap();
}

async fn a_lost_database_is_503_and_named(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let company = new_company(&app, "Acme").await;
    let admin = app.token(company, ADMIN);
    assert_eq!(
        app.get("/health/ready", &admin).await.status,
        StatusCode::OK
    );

    let config = app.config().clone();
    set_org_login(&config, false).await;

    let ready = app.get("/health/ready", &admin).await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        ready.body
    );
    assert_eq!(ready.body["status"], "unavailable");
    assert_eq!(ready.body["checks"]["org"]["status"], "down");
    assert!(ready.body["checks"]["org"]["error"].is_string());
    // Which service is down, never where its data lives: no host, database or role.
    let said = ready.body.to_string();
    let pg = roster_testing::pg_location(&config, "org");
    for secret in [
        pg.database.as_str(),
        pg.role.as_str(),
        "127.0.0.1",
        "postgres",
    ] {
        assert!(!said.contains(secret), "{secret} in {said}");
    }

    for path in ["/api/v1/org/company", "/api/v1/org/teams"] {
        let answer = app.get(path, &admin).await;
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{path}: {:?}",
            answer.body
        );
        assert_eq!(answer.header("content-type"), "application/problem+json");
    }

    // Back within moments: a pooled connection lost while it was down is handed out
    // once more when it was in use less than a second before (a request meets its
    // error, 503), and never again.
    set_org_login(&config, true).await;
    for path in ["/health/ready", "/api/v1/org/company"] {
        within(
            Duration::from_secs(5),
            &format!("{path} answers again"),
            || async {
                let status = app.get(path, &admin).await.status;
                if status != StatusCode::OK {
                    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
                }
                status == StatusCode::OK
            },
        )
        .await;
    }
}

postgres_topology_tests!(a_lost_database_is_503_and_named);
