//! The tables events need in a service's own database, as migrations and entities:
//! a producer's outbox; a consumer's inbox, aggregate positions and dead letters.

use roster_migrate::prelude::*;
use roster_migrate::schema::*;
use roster_migrate::{Migrations, TenantPolicies, TenantTable, drop_tables, index};
use roster_storage::prune::{Retained, before};

/// What a producing service keeps of its events only for a while: the outbox's
/// published events, for `events.outbox_retention_hours` (for `roster events replay`).
pub const PRODUCER_RETAINED: &[Retained] = &[Retained {
    table: "outbox",
    key: "id",
    finished_before: |cutoff| before("published_at", cutoff),
    keep: |config| config.events.outbox_retention(),
    with: &[],
}];

/// What a consuming service keeps of events only for a while: the inbox's record of
/// each event applied (for `events.inbox_retention_hours`, past every redelivery), and
/// its position in an aggregate no event of which came for `retention.event_positions_days`.
pub const CONSUMER_RETAINED: &[Retained] = &[
    Retained {
        table: "inbox",
        key: "event_id",
        finished_before: |cutoff| before("applied_at", cutoff),
        keep: |config| config.events.inbox_retention(),
        with: &[],
    },
    Retained {
        table: "event_positions",
        key: "aggregate_id",
        finished_before: |cutoff| before("updated_at", cutoff),
        keep: |config| config.retention.event_positions(),
        with: &[],
    },
];

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Seq,
    Id,
    Type,
    AggregateId,
    CompanyId,
    OccurredAt,
    Envelope,
    PublishedAt,
    Publications,
}

#[derive(DeriveIden)]
enum Inbox {
    Table,
    EventId,
    Type,
    AggregateId,
    Sequence,
    OccurredAt,
    AppliedAt,
}

#[derive(DeriveIden)]
enum EventPositions {
    Table,
    Aggregate,
    AggregateId,
    Sequence,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DeadLetters {
    Table,
    EventId,
    Type,
    AggregateId,
    CompanyId,
    Envelope,
    Error,
    Attempts,
    FirstFailedAt,
    LastFailedAt,
}

/// The outbox of a producing service: events written in the transaction of the change
/// that caused them, until the relay has published them and the retention has passed.
/// `seq` orders them for the relay; publication is marked on each row, never tracked
/// as a high-water mark over `seq` (transactions commit out of `seq` order).
#[derive(Debug)]
struct OutboxTable {
    name: &'static str,
}

/// The outbox holds company data: under row-level security by its `company_id`.
const OUTBOX_TENANT_TABLES: &[TenantTable] = &[TenantTable::Company {
    table: "outbox",
    column: "company_id",
}];

/// A producing service's migrations for its outbox: the table (migration `table`),
/// then its row-level security (migration `policies`).
pub fn outbox_migrations(table: &'static str, policies: &'static str) -> Migrations {
    vec![
        Box::new(OutboxTable { name: table }),
        Box::new(TenantPolicies {
            name: policies,
            tables: OUTBOX_TENANT_TABLES,
        }),
    ]
}

/// A consuming service's migrations for its inbox, positions and dead letters: the
/// tables (migration `tables`), then row-level security (migration `policies`).
pub fn inbox_migrations(tables: &'static str, policies: &'static str) -> Migrations {
    vec![
        Box::new(InboxTables { name: tables }),
        Box::new(TenantPolicies {
            name: policies,
            tables: INBOX_TENANT_TABLES,
        }),
    ]
}

impl MigrationName for OutboxTable {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for OutboxTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(big_pk_auto(Outbox::Seq))
                    .col(uuid_uniq(Outbox::Id))
                    .col(string_len(Outbox::Type, 100))
                    .col(uuid(Outbox::AggregateId))
                    .col(uuid(Outbox::CompanyId))
                    .col(timestamp_with_time_zone(Outbox::OccurredAt))
                    .col(text(Outbox::Envelope))
                    .col(timestamp_with_time_zone_null(Outbox::PublishedAt))
                    .col(integer(Outbox::Publications).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_outbox_published_at_seq",
                Outbox::Table,
                &["published_at", "seq"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_outbox_occurred_at",
                Outbox::Table,
                &["occurred_at"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, [Outbox::Table.into_iden()]).await
    }
}

/// A consuming service's inbox (the events it applied, each recorded in the
/// transaction of its effect), the position reached in each aggregate, and the dead
/// letters (events it could not apply).
#[derive(Debug)]
struct InboxTables {
    name: &'static str,
}

/// Dead letters hold company data: under row-level security by their `company_id`.
/// The inbox and positions hold only ids and times.
const INBOX_TENANT_TABLES: &[TenantTable] = &[TenantTable::Company {
    table: "dead_letters",
    column: "company_id",
}];

impl MigrationName for InboxTables {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for InboxTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Inbox::Table)
                    .col(pk_uuid(Inbox::EventId))
                    .col(string_len(Inbox::Type, 100))
                    .col(uuid(Inbox::AggregateId))
                    .col(big_integer(Inbox::Sequence))
                    .col(timestamp_with_time_zone(Inbox::OccurredAt))
                    .col(timestamp_with_time_zone(Inbox::AppliedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_inbox_applied_at", Inbox::Table, &["applied_at"]))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EventPositions::Table)
                    .col(string_len(EventPositions::Aggregate, 100))
                    .col(uuid(EventPositions::AggregateId))
                    .col(big_integer(EventPositions::Sequence))
                    .col(timestamp_with_time_zone(EventPositions::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(EventPositions::Aggregate)
                            .col(EventPositions::AggregateId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DeadLetters::Table)
                    .col(pk_uuid(DeadLetters::EventId))
                    .col(string_len(DeadLetters::Type, 100))
                    .col(uuid(DeadLetters::AggregateId))
                    .col(uuid(DeadLetters::CompanyId))
                    .col(text(DeadLetters::Envelope))
                    .col(text(DeadLetters::Error))
                    .col(integer(DeadLetters::Attempts))
                    .col(timestamp_with_time_zone(DeadLetters::FirstFailedAt))
                    .col(timestamp_with_time_zone(DeadLetters::LastFailedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_dead_letters_company_id",
                DeadLetters::Table,
                &["company_id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                DeadLetters::Table.into_iden(),
                EventPositions::Table.into_iden(),
                Inbox::Table.into_iden(),
            ],
        )
        .await
    }
}

pub(crate) mod outbox {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub seq: i64,
        pub id: Uuid,
        #[sea_orm(column_name = "type")]
        pub kind: String,
        pub aggregate_id: Uuid,
        pub company_id: Uuid,
        pub occurred_at: TimeDateTimeWithTimeZone,
        pub envelope: String,
        pub published_at: Option<TimeDateTimeWithTimeZone>,
        pub publications: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) mod inbox {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "inbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: Uuid,
        #[sea_orm(column_name = "type")]
        pub kind: String,
        pub aggregate_id: Uuid,
        pub sequence: i64,
        pub occurred_at: TimeDateTimeWithTimeZone,
        pub applied_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) mod position {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "event_positions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub aggregate: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub aggregate_id: Uuid,
        pub sequence: i64,
        pub updated_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) mod dead_letter {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "dead_letters")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: Uuid,
        #[sea_orm(column_name = "type")]
        pub kind: String,
        pub aggregate_id: Uuid,
        pub company_id: Uuid,
        pub envelope: String,
        pub error: String,
        pub attempts: i32,
        pub first_failed_at: TimeDateTimeWithTimeZone,
        pub last_failed_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
