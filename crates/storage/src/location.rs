use std::path::PathBuf;
use std::str::FromStr;

use roster_config::{Secret, StorageConfig, StorageMode};
use secrecy::ExposeSecret;
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgSslMode};

/// Where one service's data lives, resolved from its storage settings.
#[derive(Debug, Clone)]
pub enum Location {
    Sqlite { path: PathBuf },
    Postgres(Box<PgLocation>),
}

/// A service's place in a PostgreSQL cluster.
#[derive(Debug, Clone)]
pub struct PgLocation {
    /// How Roster provisions: the configured URL, as a role that may create databases
    /// and roles. Used only to create and remove, never to serve.
    pub admin: PgConnectOptions,
    /// The database that `admin` names, for statements that run outside any service
    /// database (`CREATE DATABASE`).
    pub maintenance_db: String,
    /// The database holding the service's data.
    pub database: String,
    /// The schema holding the service's data: `<service>` in `postgres-schemas` mode,
    /// `public` of its own database in `postgres-per-service` mode.
    pub schema: String,
    /// Whether the database is the service's own (and so created and owned by its role).
    pub own_database: bool,
    /// The login role the service connects as.
    pub role: String,
    pub password: Option<Secret>,
}

impl Location {
    pub fn resolve(service: &str, config: &StorageConfig) -> Self {
        let url = match (config.mode, &config.url) {
            (StorageMode::Sqlite, _) | (_, None) => {
                return Self::Sqlite {
                    path: config.dir.join(format!("{service}.db")),
                };
            }
            (_, Some(url)) => url,
        };
        let mut admin = PgConnectOptions::from_str(url.expose().as_str())
            // The URL was validated at load; a failure here leaves the defaults.
            .unwrap_or_default();
        // PGSSLMODE, which the driver reads, decides as `sslmode` in the URL would.
        if std::env::var_os("PGSSLMODE").is_none() && on_this_host(url.expose()) {
            admin = admin.ssl_mode(PgSslMode::Disable);
        }
        let admin = admin
            // Provisioning statements carry role passwords: never log them.
            .disable_statement_logging()
            .application_name("roster-provision");
        let prefix = config.prefix.as_str();
        let role = format!("{prefix}_{service}");
        let (maintenance_db, database, schema, own_database) = match config.mode {
            StorageMode::PostgresPerService => (
                url.database().unwrap_or("postgres").to_owned(),
                role.clone(),
                "public".to_owned(),
                true,
            ),
            _ => (
                "postgres".to_owned(),
                url.database().unwrap_or(prefix).to_owned(),
                service.to_owned(),
                false,
            ),
        };
        Self::Postgres(Box::new(PgLocation {
            admin,
            maintenance_db,
            database,
            schema,
            own_database,
            role,
            password: config.role_password.clone(),
        }))
    }
}

impl PgLocation {
    /// How the service itself connects: as its role, to its database, with its schema
    /// first on the search path.
    pub fn service_options(&self, service: &str) -> PgConnectOptions {
        let options = self
            .admin
            .clone()
            .username(&self.role)
            .database(&self.database)
            .application_name(&format!("roster-{service}"))
            .options([("search_path", self.schema.as_str())]);
        // Never the provisioning role's password: without a role password, none.
        let password = self
            .password
            .as_ref()
            .map_or("", ExposeSecret::expose_secret);
        options.password(password)
    }
}

/// Whether a URL that does not choose its `sslmode` names a server on this machine
/// (the loopback, or a Unix socket as `host`): the connection then goes without TLS,
/// which would protect nothing that leaves the machine and costs every statement
/// its encryption on both sides. Any other server gets the driver's default
/// (`prefer`), and `sslmode` in the URL (or `PGSSLMODE`) always decides.
fn on_this_host(url: &url::Url) -> bool {
    if url
        .query_pairs()
        .any(|(key, _)| key == "sslmode" || key == "ssl-mode")
    {
        return false;
    }
    if url
        .query_pairs()
        .any(|(key, value)| key == "host" && value.starts_with('/'))
    {
        return true;
    }
    // A postgres:// URL's host is text to the URL parser, addresses included.
    match url.host_str().filter(|host| !host.is_empty()) {
        Some(host) => {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        None => true,
    }
}

/// Quotes a PostgreSQL identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a PostgreSQL string literal.
pub(crate) fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_server_on_this_host_goes_without_tls_and_sslmode_always_decides() {
        let on_host = |url: &str| on_this_host(&url::Url::parse(url).unwrap());
        assert!(on_host("postgres://roster@127.0.0.1:5432/roster"));
        assert!(on_host("postgres://roster@localhost/roster"));
        assert!(on_host("postgres://roster@[::1]/roster"));
        assert!(on_host("postgres:///roster?host=/var/run/postgresql"));
        assert!(!on_host("postgres://roster@db.internal:5432/roster"));
        assert!(!on_host("postgres://roster@10.0.0.5/roster"));
        assert!(!on_host(
            "postgres://roster@127.0.0.1/roster?sslmode=require"
        ));
    }
}
