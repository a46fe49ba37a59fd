//! A delivery's target is a webhook's URL as well as an email address: as long as a
//! webhook's URL may be (2,000 characters), not an address's 320. PostgreSQL enforces
//! the length; SQLite keeps any text whatever the declared one, so there it has
//! nothing to change.

use roster_migrate::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000001_widen_delivery_targets"
    }
}

/// Sets the declared length of `deliveries.target` (PostgreSQL only).
async fn target_length(manager: &SchemaManager<'_>, length: u32) -> Result<(), DbErr> {
    if manager.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "ALTER TABLE deliveries ALTER COLUMN target TYPE varchar({length})"
        ))
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        target_length(manager, 2000).await
    }

    /// Narrows the column again; refused by PostgreSQL while a delivery's target is
    /// longer than 320 characters, which only a migration down from here could lose.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        target_length(manager, 320).await
    }
}
