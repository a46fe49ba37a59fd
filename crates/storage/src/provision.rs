//! Creating and removing a service's place in PostgreSQL.
//!
//! Every statement is idempotent, so provisioning runs at each start and after a
//! partial failure. Statements carry role passwords and are never logged.

use secrecy::ExposeSecret;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::location::{ident, literal};
use crate::{DbError, Location, PgLocation};

/// PostgreSQL `duplicate_object` and `duplicate_database`: another process created the
/// same role or database between our check and our `CREATE`.
const ALREADY_EXISTS: [&str; 2] = ["42710", "42P04"];

/// Creates what the service needs and does not have yet.
pub async fn provision(location: &Location) -> Result<(), DbError> {
    match location {
        Location::Sqlite { .. } => Ok(()),
        Location::Postgres(pg) => provision_pg(pg).await,
    }
}

#[tracing::instrument(skip_all, fields(database = %pg.database, schema = %pg.schema, role = %pg.role))]
async fn provision_pg(pg: &PgLocation) -> Result<(), DbError> {
    let mut maintenance = admin_connection(pg, &pg.maintenance_db).await?;
    ensure_role(&mut maintenance, pg).await?;
    let owner = pg.own_database.then_some(pg.role.as_str());
    ensure_database(&mut maintenance, &pg.database, owner).await?;
    maintenance.close().await?;

    let mut db = admin_connection(pg, &pg.database).await?;
    let schema = ident(&pg.schema);
    let role = ident(&pg.role);
    let database = ident(&pg.database);
    let mut statements = vec![
        format!("CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {role}"),
        format!("ALTER SCHEMA {schema} OWNER TO {role}"),
        format!("REVOKE ALL ON SCHEMA {schema} FROM PUBLIC"),
        format!("REVOKE ALL ON DATABASE {database} FROM PUBLIC"),
        format!("GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {role}"),
    ];
    if !pg.own_database {
        // In a shared database nobody but the provisioning role may create in `public`.
        statements.push("REVOKE CREATE ON SCHEMA public FROM PUBLIC".to_owned());
    }
    for statement in statements {
        ddl(&mut db, statement).await?;
    }
    db.close().await?;
    Ok(())
}

async fn admin_connection(pg: &PgLocation, database: &str) -> Result<PgConnection, DbError> {
    Ok(PgConnection::connect_with(&pg.admin.clone().database(database)).await?)
}

async fn ensure_role(conn: &mut PgConnection, pg: &PgLocation) -> Result<(), DbError> {
    let exists = sqlx::query("SELECT 1 FROM pg_roles WHERE rolname = $1")
        .bind(&pg.role)
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    let password = match &pg.password {
        Some(p) => format!("PASSWORD {}", literal(p.expose_secret())),
        None => "PASSWORD NULL".to_owned(),
    };
    let role = ident(&pg.role);
    let statement = match exists {
        false => format!(
            "CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS {password}"
        ),
        true => format!("ALTER ROLE {role} {password}"),
    };
    ignore_already_exists(ddl(conn, statement).await)
}

async fn ensure_database(
    conn: &mut PgConnection,
    database: &str,
    owner: Option<&str>,
) -> Result<(), DbError> {
    let exists = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(database)
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    if !exists {
        let mut statement = format!("CREATE DATABASE {}", ident(database));
        if let Some(owner) = owner {
            statement.push_str(&format!(" OWNER {}", ident(owner)));
        }
        ignore_already_exists(ddl(conn, statement).await)?;
    }
    Ok(())
}

/// Runs a statement built here from quoted identifiers and literals.
async fn ddl(conn: &mut PgConnection, statement: String) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(statement))
        .execute(conn)
        .await
        .map(drop)
}

fn ignore_already_exists(result: Result<(), sqlx::Error>) -> Result<(), DbError> {
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e))
            if e.code()
                .is_some_and(|c| ALREADY_EXISTS.contains(&c.as_ref())) =>
        {
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Removes a service's data and role: its SQLite files, or its PostgreSQL database or
/// schema and its role. Used to tear down test installations; nothing serves from the
/// location afterwards.
pub async fn remove(location: &Location) -> Result<(), DbError> {
    match location {
        Location::Sqlite { path } => {
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.clone().into_os_string();
                file.push(suffix);
                match std::fs::remove_file(&file) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(DbError::Unavailable(format!(
                            "cannot remove {}: {e}",
                            path.display()
                        )));
                    }
                    _ => {}
                }
            }
            Ok(())
        }
        Location::Postgres(pg) => remove_pg(pg).await,
    }
}

async fn remove_pg(pg: &PgLocation) -> Result<(), DbError> {
    let mut maintenance = admin_connection(pg, &pg.maintenance_db).await?;
    let role_exists = sqlx::query("SELECT 1 FROM pg_roles WHERE rolname = $1")
        .bind(&pg.role)
        .fetch_optional(&mut maintenance)
        .await?
        .is_some();
    if pg.own_database {
        let statement = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            ident(&pg.database)
        );
        ddl(&mut maintenance, statement).await?;
    } else if role_exists {
        // DROP OWNED drops the schema and revokes the role's privileges, including
        // those on the database itself.
        let mut db = admin_connection(pg, &pg.database).await?;
        ddl(
            &mut db,
            format!("DROP OWNED BY {} CASCADE", ident(&pg.role)),
        )
        .await?;
        db.close().await?;
    }
    if role_exists {
        ddl(
            &mut maintenance,
            format!("DROP ROLE IF EXISTS {}", ident(&pg.role)),
        )
        .await?;
    }
    maintenance.close().await?;
    Ok(())
}

/// Has the PostgreSQL cluster behind `location` write every changed page now
/// (`CHECKPOINT`), so that a measurement starting next meets no timed checkpoint for
/// `checkpoint_timeout` (the default is five minutes). Nothing to do for SQLite.
pub async fn checkpoint(location: &Location) -> Result<(), DbError> {
    let Location::Postgres(pg) = location else {
        return Ok(());
    };
    let mut maintenance = admin_connection(pg, &pg.maintenance_db).await?;
    ddl(&mut maintenance, "CHECKPOINT".to_owned()).await?;
    maintenance.close().await?;
    Ok(())
}

/// Removes a whole installation: every location's data and role, and the database the
/// services share when they share one (dropped first, which ends their sessions and
/// everything their roles own in it). For tearing down benchmark and test installations.
pub async fn remove_all(locations: &[Location]) -> Result<(), DbError> {
    let shared: Vec<&PgLocation> = locations
        .iter()
        .filter_map(|location| match location {
            Location::Postgres(pg) if !pg.own_database => Some(&**pg),
            _ => None,
        })
        .collect();
    if let Some(first) = shared.first() {
        let mut maintenance = admin_connection(first, &first.maintenance_db).await?;
        let mut databases: Vec<&str> = shared.iter().map(|pg| pg.database.as_str()).collect();
        databases.dedup();
        for database in databases {
            let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident(database));
            ddl(&mut maintenance, statement).await?;
        }
        for pg in &shared {
            ddl(
                &mut maintenance,
                format!("DROP ROLE IF EXISTS {}", ident(&pg.role)),
            )
            .await?;
        }
        maintenance.close().await?;
    }
    for location in locations {
        if !matches!(location, Location::Postgres(pg) if !pg.own_database) {
            remove(location).await?;
        }
    }
    Ok(())
}
