//! Roster as a whole: every service, every topology, the binary itself.
#![allow(clippy::unwrap_used)]

mod migrations;
mod roles;
