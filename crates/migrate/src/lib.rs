#![doc = include_str!("../README.md")]

use roster_storage::ident;
use sea_orm::ConnectionTrait;

mod runner;
mod snapshot;

pub use runner::{MigrateError, MigrationState, Migrator};
pub use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager, prelude, schema};
pub use snapshot::{Column, Constraint, Index, SchemaSnapshot, Table, snapshot};

/// A service's migrations, oldest first.
pub type Migrations = Vec<Box<dyn MigrationTrait>>;

/// An index named by the convention `idx_<table>_<columns>`, on `columns` of `table`.
pub fn index(
    name: &str,
    table: impl prelude::IntoIden,
    columns: &[&'static str],
) -> prelude::IndexCreateStatement {
    let mut index = prelude::Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(prelude::Alias::new(*column));
    }
    index.to_owned()
}

/// Drops `tables` in the order given (dependents first): the `down` of a migration that
/// created them.
pub async fn drop_tables(
    manager: &SchemaManager<'_>,
    tables: impl IntoIterator<Item = prelude::DynIden>,
) -> Result<(), prelude::DbErr> {
    for table in tables {
        manager
            .drop_table(prelude::Table::drop().table(table).to_owned())
            .await?;
    }
    Ok(())
}

/// A table of tenant data, for [`TenantPolicies`].
#[derive(Debug, Clone, Copy)]
pub enum TenantTable {
    /// A table whose `column` holds the company id.
    Company {
        table: &'static str,
        column: &'static str,
    },
    /// A table whose rows belong to the row of `parent` (by its `id`) that `key` names:
    /// a row is seen exactly when its parent row is.
    Under {
        table: &'static str,
        key: &'static str,
        parent: &'static str,
    },
}

impl TenantTable {
    fn table(&self) -> String {
        let (Self::Company { table, .. } | Self::Under { table, .. }) = self;
        ident(table)
    }

    fn enable(&self) -> String {
        let (name, condition) = (self.table(), self.condition());
        format!(
            "ALTER TABLE {name} ENABLE ROW LEVEL SECURITY; \
             ALTER TABLE {name} FORCE ROW LEVEL SECURITY; \
             CREATE POLICY {TENANT_POLICY} ON {name} USING ({condition}) WITH CHECK ({condition})"
        )
    }

    fn disable(&self) -> String {
        let name = self.table();
        format!(
            "DROP POLICY IF EXISTS {TENANT_POLICY} ON {name}; \
             ALTER TABLE {name} NO FORCE ROW LEVEL SECURITY; \
             ALTER TABLE {name} DISABLE ROW LEVEL SECURITY"
        )
    }

    fn condition(&self) -> String {
        match self {
            Self::Company { column, .. } => roster_storage::policy_condition(column),
            Self::Under { table, key, parent } => format!(
                "EXISTS (SELECT 1 FROM {} AS parent WHERE parent.id = {}.{})",
                ident(parent),
                ident(table),
                ident(key)
            ),
        }
    }
}

/// Runs the statements in the PostgreSQL modes; nothing on SQLite.
async fn on_postgres(
    manager: &SchemaManager<'_>,
    statements: impl Iterator<Item = String>,
) -> Result<(), prelude::DbErr> {
    if manager.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    for statement in statements {
        manager
            .get_connection()
            .execute_unprepared(&statement)
            .await?;
    }
    Ok(())
}

/// A migration that, in the PostgreSQL modes, puts `tables` under row-level security:
/// only the rows of the transaction's [`roster_storage::Scope`] are seen or written,
/// even by the service's role, which owns the tables (hence `FORCE`). Going down, it
/// takes them out of it. Nothing on SQLite, where the queries' own filters are the
/// only guard. A service adds one for the tenant tables of
/// each migration that creates some; what it runs must not change once applied.
#[derive(Debug)]
pub struct TenantPolicies {
    pub name: &'static str,
    pub tables: &'static [TenantTable],
}

impl MigrationName for TenantPolicies {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for TenantPolicies {
    async fn up(&self, manager: &SchemaManager) -> Result<(), prelude::DbErr> {
        on_postgres(manager, self.tables.iter().map(TenantTable::enable)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), prelude::DbErr> {
        on_postgres(manager, self.tables.iter().map(TenantTable::disable)).await
    }
}

/// The name of every tenant table's row-level security policy.
const TENANT_POLICY: &str = "tenant_isolation";

/// A migration that gives `table` a `revision` column (a big integer, 0 for rows that
/// exist): each change of a row counts one, and the count is the sequence of the
/// aggregate's latest event.
#[derive(Debug)]
pub struct RevisionColumn {
    pub name: &'static str,
    pub table: &'static str,
}

impl MigrationName for RevisionColumn {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for RevisionColumn {
    async fn up(&self, manager: &SchemaManager) -> Result<(), prelude::DbErr> {
        manager
            .alter_table(
                prelude::Table::alter()
                    .table(prelude::Alias::new(self.table))
                    .add_column(schema::big_integer(prelude::Alias::new("revision")).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), prelude::DbErr> {
        manager
            .alter_table(
                prelude::Table::alter()
                    .table(prelude::Alias::new(self.table))
                    .drop_column(prelude::Alias::new("revision"))
                    .to_owned(),
            )
            .await
    }
}
