//! The tasks themselves.

use roster_migrate::prelude::*;
use roster_migrate::schema::*;
use roster_migrate::{drop_tables, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000001_create_tasks"
    }
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    CompanyId,
    Title,
    Description,
    Status,
    AssigneeId,
    CreatorId,
    DueDate,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tasks::Table)
                    .col(pk_uuid(Tasks::Id))
                    .col(uuid(Tasks::CompanyId))
                    .col(string_len(Tasks::Title, 200))
                    .col(text_null(Tasks::Description))
                    .col(string_len(Tasks::Status, 16))
                    .col(uuid_null(Tasks::AssigneeId))
                    .col(uuid(Tasks::CreatorId))
                    .col(date_null(Tasks::DueDate))
                    .col(timestamp_with_time_zone(Tasks::CreatedAt))
                    .col(timestamp_with_time_zone(Tasks::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_tasks_company_id_assignee_id",
                &["company_id", "assignee_id", "id"][..],
            ),
            (
                "idx_tasks_company_id_creator_id",
                &["company_id", "creator_id", "id"],
            ),
            (
                "idx_tasks_company_id_status",
                &["company_id", "status", "id"],
            ),
        ] {
            manager
                .create_index(index(name, Tasks::Table, columns))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, [Tasks::Table.into_iden()]).await
    }
}
