//! Nothing is kept for ever: what every service declares it keeps only for a while
//! (sessions and their refresh tokens, finished sagas, settled deliveries and their
//! attempts, notifications, accrual runs, and the events' outbox, inbox and positions)
//! is pruned once past its retention, a small batch per transaction, and what is not
//! past it stays.

use roster::SERVICES;
use roster_service::ServiceDef;
use roster_storage::Scope;
use roster_testing::{Installation, TestApp, Topology, topology_tests};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query};
use serde_json::json;

use crate::accounts::{PASSWORD, log_in, sign_up};
use crate::replicas::in_step;
use crate::tasks::person;

/// Each retained table, the column its age is read from, and the tables (with their
/// column naming its rows) that go with its rows.
type Aged = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const AGED: [Aged; 9] = [
    (
        "auth",
        "sessions",
        "expires_at",
        &[("refresh_tokens", "session_id")],
    ),
    ("people", "sagas", "updated_at", &[]),
    (
        "notifications",
        "deliveries",
        "updated_at",
        &[("delivery_attempts", "delivery_id")],
    ),
    ("notifications", "notifications", "created_at", &[]),
    ("leave", "accrual_runs", "finished_at", &[]),
    ("people", "outbox", "published_at", &[]),
    ("tasks", "inbox", "applied_at", &[]),
    ("tasks", "event_positions", "updated_at", &[]),
    ("notifications", "inbox", "applied_at", &[]),
];

async fn count(app: &TestApp, service: &str, table: &str) -> i64 {
    count_where(app, service, table, Condition::all()).await
}

/// How many rows of `service`'s `table` hold to `condition`.
async fn count_where(app: &TestApp, service: &str, table: &str, condition: Condition) -> i64 {
    let txn = app.db(service).read(Scope::AllCompanies).await.unwrap();
    let count = Query::select()
        .expr(Expr::cust("count(*)"))
        .from(Alias::new(table))
        .cond_where(condition)
        .to_owned();
    txn.query_one(&count)
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap()
}

/// What `def` keeps only for a while, the events' tables included, as the host prunes.
fn retained(def: &ServiceDef) -> Vec<roster_service::Retained> {
    let mut all = def.retained.to_vec();
    if def.publishes {
        all.extend(roster_bus::PRODUCER_RETAINED);
    }
    if def.consumes.is_some() {
        all.extend(roster_bus::CONSUMER_RETAINED);
    }
    all
}

async fn what_is_past_its_retention_is_pruned(topology: Topology) {
    let Some(mut installation) = Installation::create(topology, SERVICES).await else {
        return;
    };
    // Two rows per transaction: every table takes several batches.
    installation.config_mut().retention.batch = 2;
    let app = TestApp::spawn_on(installation, SERVICES).await;
    let acme = sign_up(&app, "Acme", "ada@acme.test").await;
    for name in ["max", "eve", "zed"] {
        let body = json!({"email": format!("{name}@acme.test"), "name": name, "role": "employee"});
        person(&app, &acme.admin, body).await;
    }
    in_step(&app).await;
    crate::eventually("every welcome emailed", || async {
        count(&app, "notifications", "deliveries").await >= 4
            && count(&app, "notifications", "delivery_attempts").await >= 4
    })
    .await;
    crate::eventually("people's events all published", || async {
        roster_bus::outbox::backlog(app.db("people")).await.unwrap() == 0
    })
    .await;
    // Everything so far is a year and a half old: past every retention.
    for (service, table, column, _) in AGED {
        let txn = app
            .db(service)
            .begin_write(Scope::AllCompanies)
            .await
            .unwrap();
        let old = time::OffsetDateTime::now_utc() - time::Duration::days(540);
        let age = Query::update()
            .table(Alias::new(table))
            .value(Alias::new(column), old)
            .and_where(Expr::col(Alias::new(column)).is_not_null())
            .to_owned();
        txn.execute(&age).await.unwrap();
        txn.commit().await.unwrap();
    }
    // Then someone new joins, and logs in: theirs is not past anything.
    let body = json!({"email": "new@acme.test", "name": "New", "role": "employee"});
    person(&app, &acme.admin, body).await;
    log_in(&app, "ada@acme.test", PASSWORD).await;
    roster_leave::store::accrual::run(app.db("leave"), time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    in_step(&app).await;
    crate::eventually(
        "the newcomer's welcome emailed, their events published",
        || async {
            count(&app, "notifications", "delivery_attempts").await >= 5
                && roster_bus::outbox::backlog(app.db("people")).await.unwrap() == 0
        },
    )
    .await;
    let before: Vec<i64> = futures::future::join_all(
        AGED.iter()
            .map(|(service, table, _, _)| count(&app, service, table)),
    )
    .await;

    for def in SERVICES {
        for table in retained(def) {
            roster_storage::prune::prune(app.db(def.name), &table, app.config())
                .await
                .unwrap();
        }
    }
    for ((service, table, column, with), before) in AGED.iter().zip(before) {
        let left = count(&app, service, table).await;
        assert!(
            left > 0,
            "{service}'s {table}: what is recent was pruned too"
        );
        assert!(
            left < before,
            "{service}'s {table}: nothing was pruned ({before} rows)"
        );
        let long_ago = time::OffsetDateTime::now_utc() - time::Duration::days(500);
        let old = Condition::all().add(Expr::col(Alias::new(*column)).lt(long_ago));
        assert_eq!(
            count_where(&app, service, table, old).await,
            0,
            "{service}'s {table}: old rows left"
        );
        for (child, parent) in *with {
            let parents = Query::select()
                .column(Alias::new("id"))
                .from(Alias::new(*table))
                .to_owned();
            let orphan =
                Condition::all().add(Expr::col(Alias::new(*parent)).not_in_subquery(parents));
            assert_eq!(
                count_where(&app, service, child, orphan).await,
                0,
                "{service}'s {child} outlived their {table}"
            );
        }
    }
}

topology_tests!(what_is_past_its_retention_is_pruned);
