//! Subject locks: how every "check, then write" of Roster holds under concurrency.
//!
//! A rule such as "a request may not take more days than the balance holds" reads
//! (the balance, the requests that overlap), decides, then writes. Two such
//! transactions at once on PostgreSQL, under READ COMMITTED, both read the state
//! before either wrote, and both write: the balance is overdrawn. Locking the rows
//! read is not enough, since the row that would conflict (the other request) does not
//! exist yet when each one reads.
//!
//! So the transaction first locks the *subject* of the rule, the thing whose state it
//! checks (an employee's leave, a wallet, a payroll run), by name: [`hold`]. Two
//! transactions that hold one subject run one after the other, and the second reads
//! after the first committed (under READ COMMITTED each statement sees what committed
//! before it began, and a lock is released only once its transaction's commit is
//! visible). Everything that writes what the rule reads holds the same subject.
//!
//! - PostgreSQL: a transaction-level advisory lock on a 64-bit hash of the subject's
//!   name (`pg_advisory_xact_lock`), released when the transaction ends; nothing is
//!   written. Two names that share a hash only wait for each other more than needed.
//! - SQLite: nothing to do. A write transaction ([`crate::ServiceDb::begin_write`])
//!   holds the database's one write lock from its first statement, so every write
//!   transaction of every process runs alone already.
//!
//! Hold subjects only in a write transaction, before reading what the rule checks, and
//! hold all of a transaction's subjects in one call: they are taken in the order of
//! their names, so two transactions never wait for each other in a circle.

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};
use uuid::Uuid;

use crate::DbError;

/// What a rule checks the state of: a kind of subject (`"leave.employee"`, namespaced by
/// the service) and its id, within a company; held alone, or shared with others who
/// share it (see [`Subject::shared`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subject {
    pub kind: &'static str,
    pub company_id: Uuid,
    pub id: Uuid,
    pub shared: bool,
}

impl Subject {
    pub fn new(kind: &'static str, company_id: Uuid, id: Uuid) -> Self {
        Self {
            kind,
            company_id,
            id,
            shared: false,
        }
    }

    /// The same subject held beside others who share it: they run at once, and a
    /// transaction that holds it alone waits for all of them (and they for it). For
    /// work over many subjects at once (the accrual job closing a company's year)
    /// against the writes to one of them (a request, which also holds its own).
    pub fn shared(self) -> Self {
        Self {
            shared: true,
            ..self
        }
    }

    /// A subject named by an id unique across companies, for internal work that
    /// knows the id and not (yet) the company: an account or a company made under an
    /// id a saga chose.
    pub fn global(kind: &'static str, id: Uuid) -> Self {
        Self::new(kind, Uuid::nil(), id)
    }

    fn name(&self) -> String {
        format!("{}:{}:{}", self.kind, self.company_id, self.id)
    }
}

/// Holds `subjects` until `txn` ends: a transaction that holds any of them already is
/// waited for. See the module's documentation.
pub async fn hold(txn: &DatabaseTransaction, subjects: &[Subject]) -> Result<(), DbError> {
    if txn.get_database_backend() != DbBackend::Postgres || subjects.is_empty() {
        return Ok(());
    }
    // By name, each once, held alone where any asks for it alone.
    let mut held: std::collections::BTreeMap<String, bool> = std::collections::BTreeMap::new();
    for subject in subjects {
        let shared = held.entry(subject.name()).or_insert(true);
        *shared &= subject.shared;
    }
    for (name, shared) in held {
        let lock = match shared {
            true => "pg_advisory_xact_lock_shared",
            false => "pg_advisory_xact_lock",
        };
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT {lock}(hashtextextended($1, 0))"),
            [name.into()],
        ))
        .await?;
    }
    Ok(())
}
