//! The tag registry, the check-ins and the history of their changes.

use roster_migrate::prelude::*;
use roster_migrate::schema::*;
use roster_migrate::{drop_tables, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000003_create_presence"
    }
}

#[derive(DeriveIden)]
enum NfcTags {
    Table,
    Id,
    CompanyId,
    Uid,
    Label,
    LocationId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Checkins {
    Table,
    Id,
    CompanyId,
    EmployeeId,
    Kind,
    Method,
    At,
    LocalDate,
    NfcTagId,
    LocationId,
    Latitude,
    Longitude,
    RecordedBy,
    Reason,
    ShiftId,
    ClosedBy,
    EndedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CheckinChanges {
    Table,
    Id,
    CompanyId,
    CheckinId,
    Change,
    PreviousAt,
    At,
    ChangedBy,
    Reason,
    ChangedAt,
}

/// One open shift per employee, whatever races: the database refuses a second
/// check-in while one has no check-out. Partial indexes read the same on both
/// backends.
const ONE_OPEN_SHIFT: &str = "CREATE UNIQUE INDEX idx_checkins_employee_id_open \
     ON checkins (employee_id) WHERE kind = 'in' AND closed_by IS NULL";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NfcTags::Table)
                    .col(pk_uuid(NfcTags::Id))
                    .col(uuid(NfcTags::CompanyId))
                    .col(string_len(NfcTags::Uid, 64))
                    .col(string_len(NfcTags::Label, 100))
                    .col(uuid_null(NfcTags::LocationId))
                    .col(timestamp_with_time_zone(NfcTags::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_nfc_tags_company_id_uid",
                    NfcTags::Table,
                    &["company_id", "uid"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Checkins::Table)
                    .col(pk_uuid(Checkins::Id))
                    .col(uuid(Checkins::CompanyId))
                    .col(uuid(Checkins::EmployeeId))
                    .col(string_len(Checkins::Kind, 8))
                    .col(string_len(Checkins::Method, 16))
                    .col(timestamp_with_time_zone(Checkins::At))
                    .col(date(Checkins::LocalDate))
                    .col(uuid_null(Checkins::NfcTagId))
                    .col(uuid_null(Checkins::LocationId))
                    .col(double_null(Checkins::Latitude))
                    .col(double_null(Checkins::Longitude))
                    .col(uuid(Checkins::RecordedBy))
                    .col(string_len_null(Checkins::Reason, 500))
                    .col(uuid_null(Checkins::ShiftId))
                    .col(uuid_null(Checkins::ClosedBy))
                    .col(timestamp_with_time_zone_null(Checkins::EndedAt))
                    .col(timestamp_with_time_zone(Checkins::CreatedAt))
                    .col(timestamp_with_time_zone(Checkins::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_checkins_company_id_employee_id_at",
                &["company_id", "employee_id", "at"][..],
            ),
            (
                "idx_checkins_company_id_local_date_employee_id",
                &["company_id", "local_date", "employee_id"],
            ),
        ] {
            manager
                .create_index(index(name, Checkins::Table, columns))
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared(ONE_OPEN_SHIFT)
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CheckinChanges::Table)
                    .col(pk_uuid(CheckinChanges::Id))
                    .col(uuid(CheckinChanges::CompanyId))
                    .col(uuid(CheckinChanges::CheckinId))
                    .col(string_len(CheckinChanges::Change, 16))
                    .col(timestamp_with_time_zone_null(CheckinChanges::PreviousAt))
                    .col(timestamp_with_time_zone(CheckinChanges::At))
                    .col(uuid(CheckinChanges::ChangedBy))
                    .col(string_len(CheckinChanges::Reason, 500))
                    .col(timestamp_with_time_zone(CheckinChanges::ChangedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_checkin_changes_checkin_id",
                CheckinChanges::Table,
                &["checkin_id"],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                CheckinChanges::Table.into_iden(),
                Checkins::Table.into_iden(),
                NfcTags::Table.into_iden(),
            ],
        )
        .await
    }
}
