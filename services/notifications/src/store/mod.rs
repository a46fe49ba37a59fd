//! The notifications service's queries. Every function over tenant data takes a
//! [`Tenant`] and filters on its company.
//!
//! [`Tenant`]: roster_storage::Tenant

pub mod entities;
pub mod notifications;
