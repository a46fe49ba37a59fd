//! Creating an employee is a saga across two services: the account in auth, the
//! employee here (and, for a signup, the company in org first). So is a change that
//! touches the account (email, role, deactivation): `started -> account_changed ->
//! done`, the account changed first and the employee with the saga's end, or the
//! account put back as it was (`compensating -> failed`). A change resumed after its
//! process died carries on forward, since it holds all it needs; an employee has one
//! unfinished saga at a time, so two changes at once cannot cross.
//!
//! The saga is recorded in people's database before its first step, and moves through
//! `started -> account_created -> done`. Each step is idempotent (auth and org create
//! records under ids the saga chose, and answer the same record when asked again); the
//! last step inserts the employee and marks the saga done in one transaction. A step
//! that fails runs the compensations in reverse order (`compensating -> failed`): the
//! account is cancelled (auth keeps its id so that a late, repeated creation cannot
//! bring it back) and, for a signup, the company is removed. A saga whose process died
//! is taken over when its lease runs out and carried on from its state: forward when the
//! account exists, back otherwise, since the password was never stored.

use std::sync::Arc;

use roster_contracts::Password;
use roster_contracts::auth::{AccountChange, NewAccount};
use roster_http::ApiError;
use roster_service::fault::inject;
use roster_service::{LinkError, ServiceContext};
use serde::{Deserialize, Serialize};
use time::Duration;
use uuid::Uuid;

use crate::clients::{Accounts, Org};
use crate::store::employees::{EmployeeChange, NewEmployee};
use crate::store::entities::{employee, saga};
use crate::store::sagas::{
    self, ACCOUNT_CHANGED, ACCOUNT_CREATED, COMPENSATING, DONE, FAILED, NewSaga, STARTED,
};
use roster_storage::StoreError;

pub const ONBOARDING: &str = "onboarding";
pub const SIGNUP: &str = "signup";
pub const CHANGE: &str = "change";

/// What the saga creates, stored with it (never the password).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub employee: NewEmployee,
    /// A signup's new company.
    pub company_name: Option<String>,
}

/// What a change saga makes of an employee and their account, stored with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangePlan {
    /// The employee's record as the request changes it.
    pub employee: EmployeeChange,
    /// Their account as it is to become.
    pub account: AccountChange,
    /// Their account as it was, put back when the change cannot be made.
    pub before: AccountChange,
}

/// What a saga does, by its kind.
enum Work {
    Create(Plan),
    Change(ChangePlan),
}

impl Work {
    fn of(saga: &saga::Model) -> Result<Self, StoreError> {
        let work = match saga.kind.as_str() {
            CHANGE => serde_json::from_str(&saga.payload).map(Self::Change),
            _ => serde_json::from_str(&saga.payload).map(Self::Create),
        };
        Ok(work.map_err(anyhow::Error::from)?)
    }

    /// The state after its step in auth (and org).
    fn after_account(&self) -> &'static str {
        match self {
            Self::Create(_) => ACCOUNT_CREATED,
            Self::Change(_) => ACCOUNT_CHANGED,
        }
    }
}

/// How a saga ended, or where it stopped.
#[derive(Debug)]
pub enum Outcome {
    /// Both records exist.
    Done { employee_id: Uuid },
    /// A service refused a step (a taken email, a weak password); nothing remains.
    Refused(ApiError),
    /// A step failed and was undone; nothing remains.
    RolledBack { reason: String },
    /// The account exists and people's database did not answer: the employee will be
    /// created when it does.
    Pending { saga_id: Uuid },
    /// A step failed and its undoing has not finished yet; it will be retried, and
    /// nothing will remain.
    Compensating { saga_id: Uuid, reason: String },
    /// This runner was slower than its lease and another took the saga over; that one
    /// carries it to its end.
    TakenOver { saga_id: Uuid },
}

impl Outcome {
    /// The answer to the request that ran the saga.
    pub fn into_result(self, what: &str) -> Result<Uuid, ApiError> {
        match self {
            Self::Done { employee_id } => Ok(employee_id),
            Self::Refused(error) => Err(error),
            Self::RolledBack { reason } => Err(ApiError::DependencyFailed(format!(
                "the {what} was not created ({reason}); it was rolled back: neither the account nor the employee exists"
            ))),
            Self::Pending { saga_id } => Err(ApiError::DependencyFailed(format!(
                "the {what} is not created yet: its account exists, and the employee will be created as soon as the database answers (saga {saga_id})"
            ))),
            Self::Compensating { saga_id, reason } => Err(ApiError::DependencyFailed(format!(
                "the {what} was not created ({reason}); it is being rolled back (saga {saga_id}): the account will be removed and no employee exists"
            ))),
            Self::TakenOver { saga_id } => Err(ApiError::DependencyFailed(format!(
                "the {what} took too long and is being finished in the background (saga {saga_id}): it will end with both its account and its employee, or neither"
            ))),
        }
    }

    /// The answer to the request that ran a change saga.
    pub fn into_change_result(self) -> Result<Uuid, ApiError> {
        match self {
            Self::Done { employee_id } => Ok(employee_id),
            Self::Refused(error) => Err(error),
            Self::RolledBack { reason } => Err(ApiError::DependencyFailed(format!(
                "the change was not made ({reason}); it was rolled back: the account and the employee are as they were"
            ))),
            Self::Pending { saga_id } => Err(ApiError::DependencyFailed(format!(
                "the change is not finished: the account is changed, and the employee will be as soon as the database answers (saga {saga_id})"
            ))),
            Self::Compensating { saga_id, reason } => Err(ApiError::DependencyFailed(format!(
                "the change was not made ({reason}); it is being rolled back (saga {saga_id}): the account will be as it was"
            ))),
            Self::TakenOver { saga_id } => Err(ApiError::DependencyFailed(format!(
                "the change took too long and is being finished in the background (saga {saga_id}): the account and the employee will end alike"
            ))),
        }
    }
}

/// The services a saga calls.
#[derive(Clone)]
pub struct Steps {
    pub accounts: Arc<dyn Accounts>,
    pub org: Arc<dyn Org>,
}

impl Steps {
    pub fn linked(ctx: &ServiceContext) -> anyhow::Result<Self> {
        Ok(Self {
            accounts: Arc::new(ctx.links.to("auth")?),
            org: Arc::new(ctx.links.to("org")?),
        })
    }
}

fn lease(ctx: &ServiceContext) -> Duration {
    Duration::seconds(i64::try_from(ctx.config.people.saga_lease_secs).unwrap_or(i64::MAX))
}

/// Records a new saga and runs it with the password the request brought.
pub async fn begin(
    ctx: &ServiceContext,
    steps: &Steps,
    kind: &'static str,
    company_id: Uuid,
    employee_id: Uuid,
    plan: Plan,
    password: Password,
) -> Result<Outcome, StoreError> {
    let payload = serde_json::to_string(&plan).map_err(anyhow::Error::from)?;
    let saga = sagas::create(
        &ctx.db,
        NewSaga {
            kind,
            company_id,
            employee_id,
            payload,
        },
        lease(ctx),
        (kind == ONBOARDING).then_some(ctx.config.quotas.employees),
    )
    .await?;
    run(ctx, steps, saga, Some(password)).await
}

/// Records a saga that changes an employee and their account, and runs it; refused
/// (409) while another saga of the employee is unfinished. The plan is made of the
/// employee as they are once the saga is theirs alone, so what it would put back is
/// what is.
pub async fn begin_change(
    ctx: &ServiceContext,
    steps: &Steps,
    company_id: Uuid,
    employee_id: Uuid,
    plan: impl FnOnce(&employee::Model) -> ChangePlan,
) -> Result<Outcome, StoreError> {
    let new = NewSaga {
        kind: CHANGE,
        company_id,
        employee_id,
        payload: String::new(),
    };
    let saga = sagas::create_for_employee(&ctx.db, new, lease(ctx), |employee| {
        Ok(serde_json::to_string(&plan(employee)).map_err(anyhow::Error::from)?)
    })
    .await?;
    run(ctx, steps, saga, None).await
}

/// Takes over the sagas whose process stopped, and carries each to its end.
pub async fn resume_due(ctx: &ServiceContext, steps: &Steps) -> Result<usize, StoreError> {
    let due = sagas::claim_due(&ctx.db, lease(ctx), 50).await?;
    let count = due.len();
    for saga in due {
        let id = saga.id;
        match run(ctx, steps, saga, None).await {
            Ok(outcome) => tracing::info!(saga_id = %id, ?outcome, "saga resumed"),
            Err(e) => {
                tracing::warn!(saga_id = %id, error = %e, "saga could not be resumed; will retry")
            }
        }
    }
    Ok(count)
}

/// Whether auth has no account of this id.
fn missing(error: &LinkError) -> bool {
    error.status() == Some(axum::http::StatusCode::NOT_FOUND)
}

/// Whether the step was refused for the request's own reasons (4xx): nothing was
/// created, and the client should hear why.
fn refused(error: &LinkError) -> bool {
    error.status().is_some_and(|s| s.is_client_error())
}

async fn run(
    ctx: &ServiceContext,
    steps: &Steps,
    saga: saga::Model,
    password: Option<Password>,
) -> Result<Outcome, StoreError> {
    let work = Work::of(&saga)?;
    let mut state = saga.state.clone();
    let mut reason = saga.error.clone().unwrap_or_default();
    let mut refusal: Option<ApiError> = None;
    // Moves the saga on while this runner holds it.
    let advance = |to: &'static str, error: Option<String>| {
        let (db, saga) = (&ctx.db, &saga);
        async move {
            let held = sagas::set_state(db, saga, to, error.as_deref(), lease(ctx)).await?;
            Ok::<_, StoreError>(held.then(|| to.to_owned()))
        }
    };
    loop {
        let next = match state.as_str() {
            STARTED => match account_step(steps, &saga, &work, password.as_ref()).await {
                Ok(true) => advance(work.after_account(), None).await?,
                Ok(false) => {
                    reason = "interrupted before its account was created".to_owned();
                    advance(COMPENSATING, Some(reason.clone())).await?
                }
                Err(e) => {
                    reason = e.to_string();
                    if refused(&e) {
                        refusal = Some(e.into());
                    }
                    advance(COMPENSATING, Some(reason.clone())).await?
                }
            },
            ACCOUNT_CREATED | ACCOUNT_CHANGED => {
                let finished = match inject("people.saga.employee").await {
                    Ok(()) => match &work {
                        Work::Create(plan) => {
                            sagas::finish(&ctx.db, &saga, plan.employee.clone()).await
                        }
                        Work::Change(plan) => {
                            sagas::finish_change(&ctx.db, &saga, plan.employee.clone())
                                .await
                                .map(|changed| changed.is_some())
                        }
                    },
                    Err(e) => Err(e.into()),
                };
                match finished {
                    Ok(held) => held.then(|| DONE.to_owned()),
                    Err(StoreError::Db(e)) if e.is_retryable() => {
                        tracing::warn!(saga_id = %saga.id, error = %e, "cannot write the employee yet; will retry");
                        return Ok(Outcome::Pending { saga_id: saga.id });
                    }
                    Err(e) => {
                        reason = e.to_string();
                        if let StoreError::Taken { .. }
                        | StoreError::Invalid(_)
                        | StoreError::Conflict(_) = e
                        {
                            refusal = Some(e.into());
                        }
                        advance(COMPENSATING, Some(reason.clone())).await?
                    }
                }
            }
            COMPENSATING => match compensate(steps, &saga, &work).await {
                Ok(()) => advance(FAILED, None).await?,
                Err(e) => {
                    tracing::warn!(saga_id = %saga.id, error = %e, "compensation failed; will retry");
                    return Ok(Outcome::Compensating {
                        saga_id: saga.id,
                        reason,
                    });
                }
            },
            DONE => {
                return Ok(Outcome::Done {
                    employee_id: saga.employee_id,
                });
            }
            _ => {
                return Ok(match refusal {
                    Some(error) => Outcome::Refused(error),
                    None => Outcome::RolledBack { reason },
                });
            }
        };
        match next {
            Some(next) => state = next,
            None => {
                tracing::warn!(saga_id = %saga.id, "another runner took the saga over");
                return Ok(Outcome::TakenOver { saga_id: saga.id });
            }
        }
    }
}

/// The step in auth (after the company, for a signup). A creation with the password
/// creates the account; without it (a resumed saga) it only finds out whether it was
/// created. A change changes the account as the plan says (again, when resumed: the
/// change is the same whenever it is made).
async fn account_step(
    steps: &Steps,
    saga: &saga::Model,
    work: &Work,
    password: Option<&Password>,
) -> Result<bool, LinkError> {
    let plan = match work {
        Work::Create(plan) => plan,
        Work::Change(plan) => {
            fault("people.saga.account", "auth").await?;
            match steps.accounts.change(saga.employee_id, &plan.account).await {
                Ok(_) => {}
                // Someone whose account is gone may still leave.
                Err(e) if missing(&e) && plan.account.active == Some(false) => {}
                Err(e) => return Err(e),
            }
            fault("people.saga.account_created", "auth").await?;
            return Ok(true);
        }
    };
    if let Some(company_name) = &plan.company_name {
        fault("people.saga.company", "org").await?;
        steps
            .org
            .ensure_company(saga.company_id, company_name)
            .await?;
    }
    fault("people.saga.account", "auth").await?;
    let Some(password) = password else {
        return Ok(steps.accounts.get(saga.employee_id).await?.is_some());
    };
    let account = NewAccount {
        company_id: saga.company_id,
        email: plan.employee.email.clone(),
        password: password.clone(),
        role: plan.employee.role,
    };
    steps.accounts.ensure(saga.employee_id, &account).await?;
    // As if auth's answer were lost after the account was made.
    fault("people.saga.account_created", "auth").await?;
    Ok(true)
}

/// Undoes the steps in reverse order: a creation's account, then a signup's company;
/// a change's account put back as it was.
async fn compensate(steps: &Steps, saga: &saga::Model, work: &Work) -> Result<(), LinkError> {
    fault("people.saga.compensate", "auth").await?;
    match work {
        Work::Create(plan) => {
            steps.accounts.cancel(saga.employee_id).await?;
            if plan.company_name.is_some() {
                steps.org.remove_company(saga.company_id).await?;
            }
        }
        Work::Change(plan) => match steps.accounts.change(saga.employee_id, &plan.before).await {
            // No account to put back.
            Err(e) if !missing(&e) => return Err(e),
            _ => {}
        },
    }
    Ok(())
}

/// A fault injected (in test builds) before a call to `service`: `error` fails the call
/// as if the service did not answer, `abort` kills the process there, `stall` holds the
/// runner up.
async fn fault(point: &str, service: &'static str) -> Result<(), LinkError> {
    inject(point).await.map_err(|e| LinkError::Unreachable {
        service,
        reason: e.to_string(),
    })
}
