#![doc = include_str!("../README.md")]

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
