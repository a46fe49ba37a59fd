//! Employees, their teams, and the sagas that create them.

use roster_migrate::prelude::*;
use roster_migrate::schema::*;
use roster_migrate::{drop_tables, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000001_create_people"
    }
}

#[derive(DeriveIden)]
enum Employees {
    Table,
    Id,
    CompanyId,
    Email,
    Name,
    Surname,
    Role,
    Position,
    Phone,
    ManagerId,
    HireDate,
    Status,
    SealedSalary,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum EmployeeTeams {
    Table,
    EmployeeId,
    TeamId,
    CompanyId,
}

#[derive(DeriveIden)]
enum Sagas {
    Table,
    Id,
    Kind,
    CompanyId,
    EmployeeId,
    State,
    Payload,
    Error,
    LeaseUntil,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Employees::Table)
                    .col(pk_uuid(Employees::Id))
                    .col(uuid(Employees::CompanyId))
                    .col(string_len(Employees::Email, 254))
                    .col(string_len(Employees::Name, 100))
                    .col(string_len(Employees::Surname, 100))
                    .col(string_len(Employees::Role, 16))
                    .col(string_len_null(Employees::Position, 100))
                    .col(string_len_null(Employees::Phone, 32))
                    .col(uuid_null(Employees::ManagerId))
                    .col(date_null(Employees::HireDate))
                    .col(string_len(Employees::Status, 16))
                    .col(blob_null(Employees::SealedSalary))
                    .col(timestamp_with_time_zone(Employees::CreatedAt))
                    .col(timestamp_with_time_zone(Employees::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_employees_manager_id")
                            .from(Employees::Table, Employees::ManagerId)
                            .to(Employees::Table, Employees::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_employees_company_id_email",
                    Employees::Table,
                    &["company_id", "email"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_employees_company_id_status",
                Employees::Table,
                &["company_id", "status"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_employees_manager_id",
                Employees::Table,
                &["manager_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EmployeeTeams::Table)
                    .col(uuid(EmployeeTeams::EmployeeId))
                    .col(uuid(EmployeeTeams::TeamId))
                    .col(uuid(EmployeeTeams::CompanyId))
                    .primary_key(
                        Index::create()
                            .col(EmployeeTeams::EmployeeId)
                            .col(EmployeeTeams::TeamId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_employee_teams_employee_id")
                            .from(EmployeeTeams::Table, EmployeeTeams::EmployeeId)
                            .to(Employees::Table, Employees::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_employee_teams_company_id_team_id",
                EmployeeTeams::Table,
                &["company_id", "team_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sagas::Table)
                    .col(pk_uuid(Sagas::Id))
                    .col(string_len(Sagas::Kind, 32))
                    .col(uuid(Sagas::CompanyId))
                    .col(uuid(Sagas::EmployeeId))
                    .col(string_len(Sagas::State, 32))
                    .col(text(Sagas::Payload))
                    .col(text_null(Sagas::Error))
                    .col(timestamp_with_time_zone(Sagas::LeaseUntil))
                    .col(timestamp_with_time_zone(Sagas::CreatedAt))
                    .col(timestamp_with_time_zone(Sagas::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_sagas_state_lease_until",
                Sagas::Table,
                &["state", "lease_until"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_sagas_employee_id",
                Sagas::Table,
                &["employee_id"],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                Sagas::Table.into_iden(),
                EmployeeTeams::Table.into_iden(),
                Employees::Table.into_iden(),
            ],
        )
        .await
    }
}
