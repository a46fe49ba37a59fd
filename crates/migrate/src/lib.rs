#![doc = include_str!("../README.md")]

mod runner;
mod snapshot;

pub use runner::{MigrateError, MigrationState, Migrator};
pub use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager, prelude, schema};
pub use snapshot::{Column, Constraint, Index, SchemaSnapshot, Table, snapshot};

/// A service's migrations, oldest first.
pub type Migrations = Vec<Box<dyn MigrationTrait>>;
