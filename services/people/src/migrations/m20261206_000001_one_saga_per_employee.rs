//! At most one unfinished saga per employee: a change of someone's account and record
//! runs alone, so two at once cannot leave auth with one and people with the other.
//! A partial index reads the same on both backends.

use roster_migrate::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000001_one_saga_per_employee"
    }
}

/// Created by name: the store tells this conflict from others by it.
pub const INDEX: &str = "idx_sagas_one_unfinished_per_employee";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE UNIQUE INDEX {INDEX} ON sagas (employee_id) \
                 WHERE state IN ('started', 'account_created', 'account_changed', 'compensating')"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!("DROP INDEX {INDEX}"))
            .await?;
        Ok(())
    }
}
