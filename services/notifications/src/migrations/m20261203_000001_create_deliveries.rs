//! Delivery by email and webhook (each delivery and each of its attempts), templates
//! per company, preferences per person, and the companies' webhooks.

use roster_migrate::prelude::*;
use roster_migrate::schema::*;
use roster_migrate::{drop_tables, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000001_create_deliveries"
    }
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Id,
    CompanyId,
    EmployeeId,
    EventId,
    Kind,
    Channel,
    Target,
    WebhookId,
    Subject,
    Body,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    DeliveredAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DeliveryAttempts {
    Table,
    Id,
    CompanyId,
    DeliveryId,
    Attempt,
    StartedAt,
    FinishedAt,
    Outcome,
    Detail,
}

#[derive(DeriveIden)]
enum Templates {
    Table,
    Id,
    CompanyId,
    Kind,
    Title,
    Body,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Preferences {
    Table,
    Id,
    CompanyId,
    EmployeeId,
    Kind,
    InApp,
    Email,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Id,
    CompanyId,
    Url,
    SealedSecret,
    Kinds,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Deliveries::Table)
                    .col(pk_uuid(Deliveries::Id))
                    .col(uuid(Deliveries::CompanyId))
                    .col(uuid(Deliveries::EmployeeId))
                    .col(uuid(Deliveries::EventId))
                    .col(string_len(Deliveries::Kind, 64))
                    .col(string_len(Deliveries::Channel, 16))
                    .col(string_len(Deliveries::Target, 320))
                    .col(uuid_null(Deliveries::WebhookId))
                    .col(string_len(Deliveries::Subject, 300))
                    .col(text(Deliveries::Body))
                    .col(string_len(Deliveries::Status, 16))
                    .col(integer(Deliveries::Attempts))
                    .col(timestamp_with_time_zone(Deliveries::NextAttemptAt))
                    .col(text_null(Deliveries::LastError))
                    .col(timestamp_with_time_zone_null(Deliveries::DeliveredAt))
                    .col(timestamp_with_time_zone(Deliveries::CreatedAt))
                    .col(timestamp_with_time_zone(Deliveries::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, columns, unique) in [
            (
                "idx_deliveries_event_id_employee_id_channel_target",
                &["event_id", "employee_id", "channel", "target"][..],
                true,
            ),
            (
                "idx_deliveries_status_next_attempt_at",
                &["status", "next_attempt_at"][..],
                false,
            ),
            (
                "idx_deliveries_company_id_id",
                &["company_id", "id"][..],
                false,
            ),
        ] {
            let mut index = index(name, Deliveries::Table, columns);
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(DeliveryAttempts::Table)
                    .col(pk_uuid(DeliveryAttempts::Id))
                    .col(uuid(DeliveryAttempts::CompanyId))
                    .col(uuid(DeliveryAttempts::DeliveryId))
                    .col(integer(DeliveryAttempts::Attempt))
                    .col(timestamp_with_time_zone(DeliveryAttempts::StartedAt))
                    .col(timestamp_with_time_zone(DeliveryAttempts::FinishedAt))
                    .col(string_len(DeliveryAttempts::Outcome, 16))
                    .col(text_null(DeliveryAttempts::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_delivery_attempts_delivery_id_attempt",
                    DeliveryAttempts::Table,
                    &["delivery_id", "attempt"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Templates::Table)
                    .col(pk_uuid(Templates::Id))
                    .col(uuid(Templates::CompanyId))
                    .col(string_len(Templates::Kind, 64))
                    .col(string_len(Templates::Title, 300))
                    .col(text(Templates::Body))
                    .col(uuid_null(Templates::UpdatedBy))
                    .col(timestamp_with_time_zone(Templates::CreatedAt))
                    .col(timestamp_with_time_zone(Templates::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_templates_company_id_kind",
                    Templates::Table,
                    &["company_id", "kind"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Preferences::Table)
                    .col(pk_uuid(Preferences::Id))
                    .col(uuid(Preferences::CompanyId))
                    .col(uuid(Preferences::EmployeeId))
                    .col(string_len(Preferences::Kind, 64))
                    .col(boolean(Preferences::InApp))
                    .col(boolean(Preferences::Email))
                    .col(timestamp_with_time_zone(Preferences::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_preferences_company_id_employee_id_kind",
                    Preferences::Table,
                    &["company_id", "employee_id", "kind"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Webhooks::Table)
                    .col(pk_uuid(Webhooks::Id))
                    .col(uuid(Webhooks::CompanyId))
                    .col(string_len(Webhooks::Url, 2000))
                    .col(blob(Webhooks::SealedSecret))
                    .col(string_len(Webhooks::Kinds, 1000))
                    .col(uuid(Webhooks::CreatedBy))
                    .col(timestamp_with_time_zone(Webhooks::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_webhooks_company_id",
                Webhooks::Table,
                &["company_id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                Webhooks::Table.into_iden(),
                Preferences::Table.into_iden(),
                Templates::Table.into_iden(),
                DeliveryAttempts::Table.into_iden(),
                Deliveries::Table.into_iden(),
            ],
        )
        .await
    }
}
