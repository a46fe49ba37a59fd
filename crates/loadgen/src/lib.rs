//! Roster's tooling, apart from the services and the command line: the demo company
//! (`demo`), seeding companies at scale (`seed`), the benchmarks (`bench`), and the API
//! client they share. They reach Roster through its public API and the services'
//! public items, as a client or an operator would; the benchmarks start the `roster`
//! binary they run in as their target.

pub mod bench;
mod client;
pub mod demo;
pub mod seed;
