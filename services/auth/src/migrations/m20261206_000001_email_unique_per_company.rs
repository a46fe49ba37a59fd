//! An email is an account's within its company, not across the installation: one
//! company could otherwise take another's addresses, and a hire refused for an
//! address used elsewhere told the hiring company so. The lookup by email (login)
//! keeps a plain index. Down restores the installation-wide uniqueness, which fails
//! while two companies hold one address: undo those first.

use roster_migrate::index;
use roster_migrate::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000001_email_unique_per_company"
    }
}

/// Created by name: the store tells this conflict from others by it.
pub const INDEX: &str = "idx_accounts_company_id_email";
const LOOKUP: &str = "idx_accounts_email";
const TABLE: &str = "accounts";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Alias::new(TABLE);
        manager
            .drop_index(Index::drop().name(LOOKUP).table(table.clone()).to_owned())
            .await?;
        manager
            .create_index(index(LOOKUP, table.clone(), &["email"]))
            .await?;
        manager
            .create_index(
                index(INDEX, table, &["company_id", "email"])
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Alias::new(TABLE);
        for name in [INDEX, LOOKUP] {
            manager
                .drop_index(Index::drop().name(name).table(table.clone()).to_owned())
                .await?;
        }
        manager
            .create_index(index(LOOKUP, table, &["email"]).unique().to_owned())
            .await
    }
}
