//! The leave service's queries. Every function over tenant data takes a [`Tenant`]
//! and filters on its company; writes run in one write transaction each.
//!
//! [`Tenant`]: roster_storage::Tenant

pub mod accrual;
pub mod entities;
pub mod import;
pub mod ledger;
mod pending;
pub mod requests;
pub mod types;
mod year_end;

use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect, Select};
use uuid::Uuid;

use crate::domain::Days;

/// The sum of `amount` (thousandths of a day) over the rows `query` keeps, per
/// (employee, type) as `columns` name them, summed by the database.
async fn sum_per_employee_and_type<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    query: Select<E>,
    (employee, kind): (E::Column, E::Column),
    amount: &str,
) -> Result<HashMap<(Uuid, Uuid), Days>, sea_orm::DbErr> {
    let rows = query
        .select_only()
        .column(employee)
        .column(kind)
        .column_as(
            Expr::cust(format!("CAST(SUM({amount}) AS BIGINT)")),
            "total",
        )
        .group_by(employee)
        .group_by(kind)
        .into_tuple::<(Uuid, Uuid, Option<i64>)>()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(employee, kind, total)| {
            ((employee, kind), Days::from_thousandths(total.unwrap_or(0)))
        })
        .collect())
}
