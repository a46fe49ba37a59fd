//! Companies, their settings, teams, holiday calendars, holidays and locations.

use roster_migrate::prelude::*;
use roster_migrate::schema::*;
use roster_migrate::{drop_tables, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000001_create_org"
    }
}

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CompanySettings {
    Table,
    CompanyId,
    Timezone,
    WorkingDays,
    Locale,
    Currency,
    FiscalYearStartMonth,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
    CompanyId,
    ParentId,
    Name,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum HolidayCalendars {
    Table,
    Id,
    CompanyId,
    Name,
    IsDefault,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Holidays {
    Table,
    Id,
    CompanyId,
    CalendarId,
    Date,
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Locations {
    Table,
    Id,
    CompanyId,
    Name,
    Address,
    Latitude,
    Longitude,
    RadiusM,
    HolidayCalendarId,
    CreatedAt,
    UpdatedAt,
}

fn fk_company(table: impl IntoIden, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, Alias::new("company_id"))
        .to(Companies::Table, Companies::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Companies::Table)
                    .col(pk_uuid(Companies::Id))
                    .col(string_len(Companies::Name, 200))
                    .col(timestamp_with_time_zone(Companies::CreatedAt))
                    .col(timestamp_with_time_zone(Companies::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CompanySettings::Table)
                    .col(pk_uuid(CompanySettings::CompanyId))
                    .col(string_len(CompanySettings::Timezone, 64))
                    .col(small_integer(CompanySettings::WorkingDays))
                    .col(string_len(CompanySettings::Locale, 16))
                    .col(char_len(CompanySettings::Currency, 3))
                    .col(small_integer(CompanySettings::FiscalYearStartMonth))
                    .col(timestamp_with_time_zone(CompanySettings::UpdatedAt))
                    .foreign_key(&mut fk_company(
                        CompanySettings::Table,
                        "fk_company_settings_company_id",
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Teams::Table)
                    .col(pk_uuid(Teams::Id))
                    .col(uuid(Teams::CompanyId))
                    .col(uuid_null(Teams::ParentId))
                    .col(string_len(Teams::Name, 100))
                    .col(text_null(Teams::Description))
                    .col(timestamp_with_time_zone(Teams::CreatedAt))
                    .col(timestamp_with_time_zone(Teams::UpdatedAt))
                    .foreign_key(&mut fk_company(Teams::Table, "fk_teams_company_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_teams_parent_id")
                            .from(Teams::Table, Teams::ParentId)
                            .to(Teams::Table, Teams::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_teams_company_id_name",
                    Teams::Table,
                    &["company_id", "name"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_teams_company_id_parent_id",
                Teams::Table,
                &["company_id", "parent_id"],
            ))
            .await?;
        manager
            .create_index(index("idx_teams_parent_id", Teams::Table, &["parent_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(HolidayCalendars::Table)
                    .col(pk_uuid(HolidayCalendars::Id))
                    .col(uuid(HolidayCalendars::CompanyId))
                    .col(string_len(HolidayCalendars::Name, 100))
                    .col(boolean(HolidayCalendars::IsDefault))
                    .col(timestamp_with_time_zone(HolidayCalendars::CreatedAt))
                    .col(timestamp_with_time_zone(HolidayCalendars::UpdatedAt))
                    .foreign_key(&mut fk_company(
                        HolidayCalendars::Table,
                        "fk_holiday_calendars_company_id",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_holiday_calendars_company_id_name",
                    HolidayCalendars::Table,
                    &["company_id", "name"],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Holidays::Table)
                    .col(pk_uuid(Holidays::Id))
                    .col(uuid(Holidays::CompanyId))
                    .col(uuid(Holidays::CalendarId))
                    .col(date(Holidays::Date))
                    .col(string_len(Holidays::Name, 100))
                    .col(timestamp_with_time_zone(Holidays::CreatedAt))
                    .col(timestamp_with_time_zone(Holidays::UpdatedAt))
                    .foreign_key(&mut fk_company(Holidays::Table, "fk_holidays_company_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_holidays_calendar_id")
                            .from(Holidays::Table, Holidays::CalendarId)
                            .to(HolidayCalendars::Table, HolidayCalendars::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_holidays_calendar_id_date",
                    Holidays::Table,
                    &["calendar_id", "date"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_holidays_company_id_date",
                Holidays::Table,
                &["company_id", "date"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Locations::Table)
                    .col(pk_uuid(Locations::Id))
                    .col(uuid(Locations::CompanyId))
                    .col(string_len(Locations::Name, 100))
                    .col(text_null(Locations::Address))
                    .col(double(Locations::Latitude))
                    .col(double(Locations::Longitude))
                    .col(integer(Locations::RadiusM))
                    .col(uuid_null(Locations::HolidayCalendarId))
                    .col(timestamp_with_time_zone(Locations::CreatedAt))
                    .col(timestamp_with_time_zone(Locations::UpdatedAt))
                    .check(Expr::col(Locations::Latitude).between(-90.0, 90.0))
                    .check(Expr::col(Locations::Longitude).between(-180.0, 180.0))
                    .check(Expr::col(Locations::RadiusM).gt(0))
                    .foreign_key(&mut fk_company(Locations::Table, "fk_locations_company_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_locations_holiday_calendar_id")
                            .from(Locations::Table, Locations::HolidayCalendarId)
                            .to(HolidayCalendars::Table, HolidayCalendars::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_locations_company_id_name",
                    Locations::Table,
                    &["company_id", "name"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_locations_holiday_calendar_id",
                Locations::Table,
                &["holiday_calendar_id"],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                Locations::Table.into_iden(),
                Holidays::Table.into_iden(),
                HolidayCalendars::Table.into_iden(),
                Teams::Table.into_iden(),
                CompanySettings::Table.into_iden(),
                Companies::Table.into_iden(),
            ],
        )
        .await
    }
}
