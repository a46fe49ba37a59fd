//! The ids of companies removed by a signup's compensation: a late, repeated creation
//! under one of them (a signup runner slower than its lease) is refused rather than
//! bringing the company back. Ids only, of no company any more.

use roster_migrate::drop_tables;
use roster_migrate::prelude::*;
use roster_migrate::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000001_removed_companies"
    }
}

#[derive(DeriveIden)]
enum RemovedCompanies {
    Table,
    Id,
    RemovedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RemovedCompanies::Table)
                    .col(pk_uuid(RemovedCompanies::Id))
                    .col(timestamp_with_time_zone(RemovedCompanies::RemovedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, [RemovedCompanies::Table.into_iden()]).await
    }
}
