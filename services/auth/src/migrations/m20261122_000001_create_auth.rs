//! Accounts, cancelled account ids, sessions, refresh tokens and signing keys.

use roster_migrate::prelude::*;
use roster_migrate::schema::*;
use roster_migrate::{drop_tables, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000001_create_auth"
    }
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    CompanyId,
    Email,
    PasswordHash,
    Role,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CancelledAccounts {
    Table,
    Id,
    CancelledAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    AccountId,
    CompanyId,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    RevokedReason,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    SessionId,
    TokenHash,
    CreatedAt,
    SpentAt,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    SealedKey,
    CreatedAt,
    RetiredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .col(pk_uuid(Accounts::Id))
                    .col(uuid(Accounts::CompanyId))
                    .col(string_len(Accounts::Email, 254))
                    .col(string_len(Accounts::PasswordHash, 200))
                    .col(string_len(Accounts::Role, 16))
                    .col(boolean(Accounts::Active))
                    .col(timestamp_with_time_zone(Accounts::CreatedAt))
                    .col(timestamp_with_time_zone(Accounts::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("idx_accounts_email", Accounts::Table, &["email"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_accounts_company_id",
                Accounts::Table,
                &["company_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CancelledAccounts::Table)
                    .col(pk_uuid(CancelledAccounts::Id))
                    .col(timestamp_with_time_zone(CancelledAccounts::CancelledAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk_uuid(Sessions::Id))
                    .col(uuid(Sessions::AccountId))
                    .col(uuid(Sessions::CompanyId))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .col(string_len_null(Sessions::RevokedReason, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_account_id")
                            .from(Sessions::Table, Sessions::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_sessions_account_id",
                Sessions::Table,
                &["account_id"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_sessions_revoked_at",
                Sessions::Table,
                &["revoked_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(pk_uuid(RefreshTokens::Id))
                    .col(uuid(RefreshTokens::SessionId))
                    .col(char_len(RefreshTokens::TokenHash, 64))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::SpentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_tokens_session_id")
                            .from(RefreshTokens::Table, RefreshTokens::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_refresh_tokens_token_hash",
                    RefreshTokens::Table,
                    &["token_hash"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_refresh_tokens_session_id",
                RefreshTokens::Table,
                &["session_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(string_len(SigningKeys::Kid, 64).primary_key())
                    .col(blob(SigningKeys::SealedKey))
                    .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(SigningKeys::RetiredAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                SigningKeys::Table.into_iden(),
                RefreshTokens::Table.into_iden(),
                Sessions::Table.into_iden(),
                CancelledAccounts::Table.into_iden(),
                Accounts::Table.into_iden(),
            ],
        )
        .await
    }
}
