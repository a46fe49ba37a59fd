//! The presence service's queries. Every function over tenant data takes a [`Tenant`]
//! and filters on its company; writes run in one write transaction each.
//!
//! [`Tenant`]: roster_storage::Tenant

pub mod attendance;
pub mod checkins;
pub mod entities;
pub mod import;
pub mod nfc_tags;
