//! The leave types, the ledger and the accrual runs.

use roster_migrate::prelude::*;
use roster_migrate::schema::*;
use roster_migrate::{drop_tables, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000003_create_leave"
    }
}

#[derive(DeriveIden)]
enum LeaveTypes {
    Table,
    Id,
    CompanyId,
    Name,
    Paid,
    AnnualAllowance,
    Accrual,
    CarryForwardMax,
    CarryForwardExpiryMonths,
    RequiresApproval,
    AccrualStart,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LeaveLedger {
    Table,
    Id,
    CompanyId,
    EmployeeId,
    LeaveTypeId,
    Kind,
    Amount,
    EffectiveDate,
    Period,
    RequestId,
    Note,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AccrualRuns {
    Table,
    Id,
    StartedAt,
    FinishedAt,
    Outcome,
    Credited,
    Employees,
    Error,
}

/// Each (employee, type, kind, period) once: an accrual can never credit a period
/// twice, whatever runs at once. Partial indexes read the same on both backends.
const ONCE_PER_PERIOD: &str = "CREATE UNIQUE INDEX idx_leave_ledger_once_per_period \
     ON leave_ledger (employee_id, leave_type_id, kind, period) WHERE period IS NOT NULL";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LeaveTypes::Table)
                    .col(pk_uuid(LeaveTypes::Id))
                    .col(uuid(LeaveTypes::CompanyId))
                    .col(string_len(LeaveTypes::Name, 100))
                    .col(boolean(LeaveTypes::Paid))
                    .col(big_integer(LeaveTypes::AnnualAllowance))
                    .col(string_len(LeaveTypes::Accrual, 16))
                    .col(big_integer(LeaveTypes::CarryForwardMax))
                    .col(integer_null(LeaveTypes::CarryForwardExpiryMonths))
                    .col(boolean(LeaveTypes::RequiresApproval))
                    .col(date(LeaveTypes::AccrualStart))
                    .col(timestamp_with_time_zone(LeaveTypes::CreatedAt))
                    .col(timestamp_with_time_zone(LeaveTypes::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_leave_types_company_id_name",
                    LeaveTypes::Table,
                    &["company_id", "name"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LeaveLedger::Table)
                    .col(pk_uuid(LeaveLedger::Id))
                    .col(uuid(LeaveLedger::CompanyId))
                    .col(uuid(LeaveLedger::EmployeeId))
                    .col(uuid(LeaveLedger::LeaveTypeId))
                    .col(string_len(LeaveLedger::Kind, 16))
                    .col(big_integer(LeaveLedger::Amount))
                    .col(date(LeaveLedger::EffectiveDate))
                    .col(string_len_null(LeaveLedger::Period, 16))
                    .col(uuid_null(LeaveLedger::RequestId))
                    .col(string_len_null(LeaveLedger::Note, 500))
                    .col(uuid_null(LeaveLedger::RecordedBy))
                    .col(timestamp_with_time_zone(LeaveLedger::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_leave_ledger_company_id_employee_id_leave_type_id",
                LeaveLedger::Table,
                &["company_id", "employee_id", "leave_type_id"],
            ))
            .await?;
        manager
            .get_connection()
            .execute_unprepared(ONCE_PER_PERIOD)
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccrualRuns::Table)
                    .col(pk_uuid(AccrualRuns::Id))
                    .col(timestamp_with_time_zone(AccrualRuns::StartedAt))
                    .col(timestamp_with_time_zone_null(AccrualRuns::FinishedAt))
                    .col(string_len(AccrualRuns::Outcome, 16))
                    .col(big_integer(AccrualRuns::Credited))
                    .col(big_integer(AccrualRuns::Employees))
                    .col(text_null(AccrualRuns::Error))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                AccrualRuns::Table.into_iden(),
                LeaveLedger::Table.into_iden(),
                LeaveTypes::Table.into_iden(),
            ],
        )
        .await
    }
}
