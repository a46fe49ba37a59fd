//! The notifications service's own tables, as SeaORM entities.

pub mod notification {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "notifications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        /// Who it is for.
        pub employee_id: Uuid,
        pub kind: String,
        pub title: String,
        pub body: String,
        pub link: Option<String>,
        /// The event it tells of.
        pub event_id: Uuid,
        pub read_at: Option<TimeDateTimeWithTimeZone>,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod delivery {
    use sea_orm::entity::prelude::*;

    /// One notification on its way by email or webhook.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "deliveries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        /// The person it is for.
        pub employee_id: Uuid,
        /// The event it tells of.
        pub event_id: Uuid,
        pub kind: String,
        /// `email` or `webhook`.
        pub channel: String,
        /// The address, or the webhook's URL.
        pub target: String,
        pub webhook_id: Option<Uuid>,
        pub subject: String,
        /// The email's text, or the webhook's JSON.
        pub body: String,
        /// `queued`, `sending`, `delivered`, `failed` or `bounced`.
        pub status: String,
        pub attempts: i32,
        pub next_attempt_at: TimeDateTimeWithTimeZone,
        pub last_error: Option<String>,
        pub delivered_at: Option<TimeDateTimeWithTimeZone>,
        pub created_at: TimeDateTimeWithTimeZone,
        pub updated_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod delivery_attempt {
    use sea_orm::entity::prelude::*;

    /// One try at a delivery, and what came of it.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "delivery_attempts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub delivery_id: Uuid,
        /// 1 for the first.
        pub attempt: i32,
        pub started_at: TimeDateTimeWithTimeZone,
        pub finished_at: TimeDateTimeWithTimeZone,
        /// `delivered`, `retry`, `failed` or `bounced`.
        pub outcome: String,
        /// The server's answer or the error.
        pub detail: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod template {
    use sea_orm::entity::prelude::*;

    /// A company's own wording of one kind of notification.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "templates")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub kind: String,
        pub title: String,
        pub body: String,
        pub updated_by: Option<Uuid>,
        pub created_at: TimeDateTimeWithTimeZone,
        pub updated_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod preference {
    use sea_orm::entity::prelude::*;

    /// A person's channels for one kind of notification, or for all (`*`).
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "preferences")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub employee_id: Uuid,
        pub kind: String,
        pub in_app: bool,
        pub email: bool,
        pub updated_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod webhook {
    use sea_orm::entity::prelude::*;

    /// Where a company's notifications are posted, signed with its secret.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhooks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub url: String,
        /// The signing secret, sealed with the installation's data key.
        pub sealed_secret: Vec<u8>,
        /// The kinds it receives, comma-separated; empty for every kind.
        pub kinds: String,
        pub created_by: Uuid,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
