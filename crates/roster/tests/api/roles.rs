//! Invariant: in the PostgreSQL topologies each service connects as its own role, which
//! PostgreSQL refuses when it reads another service's schema or database.

use roster::SERVICES;
use roster_migrate::Migrator;
use roster_storage::Location;
use roster_testing::{Installation, Topology, pg_location, postgres_topology_tests};
use sqlx::{Connection, PgConnection};

/// A service that does not exist yet, provisioned through the same code as the real
/// ones: every pair is checked even while Roster has a single service.
const NEWCOMER: &str = "newcomer";

/// PostgreSQL's `insufficient_privilege`.
const INSUFFICIENT_PRIVILEGE: &str = "42501";

async fn every_role_is_refused_elsewhere(topology: Topology) {
    let Some(installation) = Installation::create(topology, SERVICES).await else {
        return;
    };
    let mut names: Vec<&'static str> = SERVICES.iter().map(|s| s.name).collect();
    names.push(NEWCOMER);
    for name in &names {
        let db = roster_storage::open(name, installation.config().storage_for(name))
            .await
            .unwrap();
        let migrations = SERVICES
            .iter()
            .find(|s| s.name == *name)
            .map_or_else(Vec::new, |s| (s.migrations)());
        // Every service, the newcomer too, has at least its version table.
        Migrator::new(&db, migrations).status().await.unwrap();
        db.close().await;
    }

    for own in &names {
        let own_pg = pg_location(installation.config(), own);
        // Its own data: allowed.
        let mut conn = PgConnection::connect_with(&own_pg.service_options(own))
            .await
            .unwrap();
        sqlx::query("SELECT count(*) FROM schema_migrations")
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{own} cannot read its own data: {e}"));
        conn.close().await.unwrap();

        for other in names.iter().filter(|o| *o != own) {
            let other_pg = pg_location(installation.config(), other);
            let error = match topology {
                // Another service's database: the connection itself is refused.
                Topology::PgPerService => {
                    let options = own_pg.service_options(own).database(&other_pg.database);
                    PgConnection::connect_with(&options).await.err()
                }
                // Another service's schema in the shared database: the read is refused.
                _ => {
                    let mut conn = PgConnection::connect_with(&own_pg.service_options(own))
                        .await
                        .unwrap();
                    let sql = format!(
                        "SELECT count(*) FROM \"{}\".schema_migrations",
                        other_pg.schema
                    );
                    let result = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .fetch_one(&mut conn)
                        .await;
                    conn.close().await.unwrap();
                    result.err()
                }
            };
            let code = error
                .as_ref()
                .and_then(|e| e.as_database_error())
                .and_then(|e| e.code().map(|c| c.into_owned()));
            assert_eq!(
                code.as_deref(),
                Some(INSUFFICIENT_PRIVILEGE),
                "{own} reading {other}'s data must be refused by PostgreSQL, got {error:?}"
            );
        }
    }
    // The newcomer's place is removed with the installation's services.
    roster_storage::remove(&Location::resolve(
        NEWCOMER,
        installation.config().storage_for(NEWCOMER),
    ))
    .await
    .unwrap();
}

postgres_topology_tests!(every_role_is_refused_elsewhere);
