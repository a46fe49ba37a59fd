//! The presence service's own tables, as SeaORM entities.

pub mod nfc_tag {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "nfc_tags")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        /// Upper-case hex, no separators.
        pub uid: String,
        pub label: String,
        pub location_id: Option<Uuid>,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod checkin {
    use sea_orm::entity::prelude::*;

    /// A check-in or check-out. An "in" starts a shift and holds its end once the
    /// "out" is recorded (`closed_by`, `ended_at`); an "out" names its "in"
    /// (`shift_id`). Both carry the day the shift counts on, in the company's zone.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "checkins")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub employee_id: Uuid,
        pub kind: crate::domain::Kind,
        pub method: crate::domain::Method,
        pub at: TimeDateTimeWithTimeZone,
        pub local_date: TimeDate,
        pub nfc_tag_id: Option<Uuid>,
        pub location_id: Option<Uuid>,
        pub latitude: Option<f64>,
        pub longitude: Option<f64>,
        pub recorded_by: Uuid,
        pub reason: Option<String>,
        pub shift_id: Option<Uuid>,
        pub closed_by: Option<Uuid>,
        pub ended_at: Option<TimeDateTimeWithTimeZone>,
        pub created_at: TimeDateTimeWithTimeZone,
        pub updated_at: TimeDateTimeWithTimeZone,
        /// How many times it changed; numbers its events.
        pub revision: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod checkin_change {
    use sea_orm::entity::prelude::*;

    /// A manual record or a correction of a check-in: who, why, and the time before.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "checkin_changes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub checkin_id: Uuid,
        /// `recorded` or `corrected`.
        pub change: String,
        pub previous_at: Option<TimeDateTimeWithTimeZone>,
        pub at: TimeDateTimeWithTimeZone,
        pub changed_by: Uuid,
        pub reason: String,
        pub changed_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
