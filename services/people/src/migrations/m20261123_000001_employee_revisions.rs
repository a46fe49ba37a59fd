//! Each employee counts their changes: the count is the sequence of the employee's
//! latest event, so consumers apply them in order and notice one missing.

use roster_migrate::prelude::*;
use roster_migrate::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_employee_revisions"
    }
}

#[derive(DeriveIden)]
enum Employees {
    Table,
    Revision,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Employees::Table)
                    .add_column(big_integer(Employees::Revision).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Employees::Table)
                    .drop_column(Employees::Revision)
                    .to_owned(),
            )
            .await
    }
}
