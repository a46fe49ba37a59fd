//! In-app notifications, one per event and recipient.

use roster_migrate::prelude::*;
use roster_migrate::schema::*;
use roster_migrate::{drop_tables, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000001_create_notifications"
    }
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    CompanyId,
    EmployeeId,
    Kind,
    Title,
    Body,
    Link,
    EventId,
    ReadAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(pk_uuid(Notifications::Id))
                    .col(uuid(Notifications::CompanyId))
                    .col(uuid(Notifications::EmployeeId))
                    .col(string_len(Notifications::Kind, 64))
                    .col(string_len(Notifications::Title, 300))
                    .col(text(Notifications::Body))
                    .col(string_len_null(Notifications::Link, 300))
                    .col(uuid(Notifications::EventId))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_notifications_event_id_employee_id",
                    Notifications::Table,
                    &["event_id", "employee_id"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_notifications_company_id_employee_id",
                Notifications::Table,
                &["company_id", "employee_id", "id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, [Notifications::Table.into_iden()]).await
    }
}
