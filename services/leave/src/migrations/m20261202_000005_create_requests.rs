//! Leave requests.

use roster_migrate::prelude::*;
use roster_migrate::schema::*;
use roster_migrate::{drop_tables, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000005_create_requests"
    }
}

#[derive(DeriveIden)]
enum LeaveRequests {
    Table,
    Id,
    CompanyId,
    EmployeeId,
    LeaveTypeId,
    StartDate,
    EndDate,
    StartAfternoon,
    EndMorning,
    Days,
    Status,
    Reason,
    DecidedBy,
    DecidedAt,
    Comment,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LeaveRequests::Table)
                    .col(pk_uuid(LeaveRequests::Id))
                    .col(uuid(LeaveRequests::CompanyId))
                    .col(uuid(LeaveRequests::EmployeeId))
                    .col(uuid(LeaveRequests::LeaveTypeId))
                    .col(date(LeaveRequests::StartDate))
                    .col(date(LeaveRequests::EndDate))
                    .col(boolean(LeaveRequests::StartAfternoon))
                    .col(boolean(LeaveRequests::EndMorning))
                    .col(big_integer(LeaveRequests::Days))
                    .col(string_len(LeaveRequests::Status, 16))
                    .col(string_len_null(LeaveRequests::Reason, 500))
                    .col(uuid_null(LeaveRequests::DecidedBy))
                    .col(timestamp_with_time_zone_null(LeaveRequests::DecidedAt))
                    .col(string_len_null(LeaveRequests::Comment, 500))
                    .col(timestamp_with_time_zone(LeaveRequests::CreatedAt))
                    .col(timestamp_with_time_zone(LeaveRequests::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_leave_requests_company_id_employee_id_start_date",
                &["company_id", "employee_id", "start_date"][..],
            ),
            (
                "idx_leave_requests_company_id_status",
                &["company_id", "status", "id"],
            ),
        ] {
            manager
                .create_index(index(name, LeaveRequests::Table, columns))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, [LeaveRequests::Table.into_iden()]).await
    }
}
