//! Each saga counts the runners that have held it, so that a runner whose lease was
//! taken over can tell, and stops.

use roster_migrate::prelude::*;
use roster_migrate::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000003_saga_attempts"
    }
}

#[derive(DeriveIden)]
enum Sagas {
    Table,
    Attempt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sagas::Table)
                    .add_column(integer(Sagas::Attempt).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sagas::Table)
                    .drop_column(Sagas::Attempt)
                    .to_owned(),
            )
            .await
    }
}
