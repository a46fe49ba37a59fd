//! The leave service's own tables, as SeaORM entities.

pub mod leave_type {
    use sea_orm::entity::prelude::*;

    /// A kind of leave and its policy. Amounts are thousandths of a day.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "leave_types")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub name: String,
        pub paid: bool,
        pub annual_allowance: i64,
        /// `none`, `monthly` or `yearly`.
        pub accrual: crate::domain::Accrual,
        pub carry_forward_max: i64,
        pub carry_forward_expiry_months: Option<i32>,
        pub requires_approval: bool,
        /// The first day of the period accrual began with (the type's creation).
        pub accrual_start: TimeDate,
        pub created_at: TimeDateTimeWithTimeZone,
        pub updated_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ledger_entry {
    use sea_orm::entity::prelude::*;

    /// One line of a balance: the balance of an employee and type is the sum of its
    /// entries' amounts (thousandths of a day, signed).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "leave_ledger")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub employee_id: Uuid,
        pub leave_type_id: Uuid,
        pub kind: crate::domain::LedgerKind,
        pub amount: i64,
        pub effective_date: TimeDate,
        /// The period an accrual, carry-forward or expiry is for; unique per kind.
        pub period: Option<String>,
        pub request_id: Option<Uuid>,
        pub note: Option<String>,
        pub recorded_by: Option<Uuid>,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod accrual_run {
    use sea_orm::entity::prelude::*;

    /// One run of the accrual job, over every company.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "accrual_runs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub started_at: TimeDateTimeWithTimeZone,
        pub finished_at: Option<TimeDateTimeWithTimeZone>,
        /// `running`, `succeeded` or `failed`.
        pub outcome: String,
        /// Ledger entries written.
        pub credited: i64,
        /// Employees looked at.
        pub employees: i64,
        pub error: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod request {
    use sea_orm::entity::prelude::*;

    /// A request for leave; `days` (thousandths) are the working days it takes.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "leave_requests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub employee_id: Uuid,
        pub leave_type_id: Uuid,
        pub start_date: TimeDate,
        pub end_date: TimeDate,
        pub start_afternoon: bool,
        pub end_morning: bool,
        pub days: i64,
        /// `pending`, `approved`, `rejected` or `cancelled`.
        pub status: crate::domain::Status,
        pub reason: Option<String>,
        pub decided_by: Option<Uuid>,
        pub decided_at: Option<TimeDateTimeWithTimeZone>,
        pub comment: Option<String>,
        pub created_at: TimeDateTimeWithTimeZone,
        pub updated_at: TimeDateTimeWithTimeZone,
        /// How many times it changed; numbers its events.
        pub revision: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
