//! The notifications service's queries. Every function over tenant data takes a
//! [`Tenant`] and filters on its company; the sender's, which work across companies,
//! say so.
//!
//! [`Tenant`]: roster_storage::Tenant

pub mod deliveries;
pub mod entities;
pub mod notifications;
pub mod preferences;
pub mod templates;
pub mod webhooks;
