//! The people service's tables, as SeaORM entities.

pub mod employee {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "employees")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub email: String,
        pub name: String,
        pub surname: String,
        pub role: String,
        pub position: Option<String>,
        pub phone: Option<String>,
        pub manager_id: Option<Uuid>,
        pub hire_date: Option<TimeDate>,
        pub status: crate::domain::Status,
        pub sealed_salary: Option<Vec<u8>>,
        /// Changes made to the employee: the sequence of their latest event.
        pub revision: i64,
        pub created_at: TimeDateTimeWithTimeZone,
        pub updated_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::employee_team::Entity")]
        Teams,
    }

    impl Related<super::employee_team::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Teams.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod employee_team {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "employee_teams")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub employee_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub team_id: Uuid,
        pub company_id: Uuid,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::employee::Entity",
            from = "Column::EmployeeId",
            to = "super::employee::Column::Id"
        )]
        Employee,
    }

    impl Related<super::employee::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Employee.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod saga {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "sagas")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub kind: String,
        pub company_id: Uuid,
        pub employee_id: Uuid,
        pub state: String,
        pub payload: String,
        pub error: Option<String>,
        pub lease_until: TimeDateTimeWithTimeZone,
        /// How many runners have held the saga; a runner holds it while this is the
        /// value it claimed.
        pub attempt: i32,
        pub created_at: TimeDateTimeWithTimeZone,
        pub updated_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
