//! The leave service's queries. Every function over tenant data takes a [`Tenant`]
//! and filters on its company; writes run in one write transaction each.
//!
//! [`Tenant`]: roster_storage::Tenant

pub mod accrual;
pub mod entities;
pub mod import;
pub mod ledger;
pub mod requests;
pub mod types;
mod year_end;
