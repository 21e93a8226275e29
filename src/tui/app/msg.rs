//! What happens to the app: keys, and what the commands report.

use crossterm::event::KeyEvent;

use super::Who;
use super::bulk;
use super::who::Switched;
use crate::api::client::CallRecord;
use crate::domain::{Instance, Task};
use crate::ops::inventory::Imported;
use crate::ops::{FollowEnd, Intent, OpsError, Prepared, Sent};
use crate::probe::VerifyResult;
use crate::store::journal::Entry;

/// A step of a change being carried out, as `ops::change::execute` reports it.
#[derive(Debug, Clone)]
pub enum ChangeEvent {
    Sent(Sent),
    Task {
        instance_id: String,
        task: Task,
    },
    Settled {
        instance_id: String,
        end: FollowEnd,
    },
    Refreshed(Box<Instance>),
    /// The TLS check after an enabling change succeeded.
    Verified {
        instance_id: String,
        result: Result<CheckShown, OpsError>,
    },
}

/// A finished TLS check, as the TUI shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckShown {
    pub result: VerifyResult,
    pub lines: Vec<String>,
}

/// What happens to the app.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Resize(u16, u16),
    Quit,
    /// One instance of a refresh.
    Refreshed {
        id: String,
        result: Result<Instance, OpsError>,
    },
    /// A refresh command finished (each instance was reported by `Refreshed`).
    RefreshDone(Option<OpsError>),
    Described {
        id: String,
        result: Result<Instance, OpsError>,
    },
    Prepared {
        intent: Intent,
        result: Result<Box<Prepared>, OpsError>,
    },
    Change(ChangeEvent),
    /// The census of one instance: its lines, or why there are none. `asked`: with `w`
    /// (else after a change, with the verdict first).
    Counted {
        id: String,
        result: Result<Vec<String>, OpsError>,
        asked: bool,
    },
    /// Who is connected to the instances of a plan of many being confirmed, as lines.
    BulkCensus(Vec<String>),
    /// Who is connected to the instance of a plan being confirmed, as lines.
    PlanCensus {
        intent: Intent,
        lines: Vec<String>,
    },
    /// `execute` returned: Ok once the change was sent (what followed came as events),
    /// or why nothing (or something unknown) was sent.
    Executed {
        id: String,
        result: Result<(), OpsError>,
    },
    Imported(Result<Imported, OpsError>),
    Added(Result<Instance, OpsError>),
    Removed(Result<String, OpsError>),
    RegionsSaved(Result<Vec<String>, OpsError>),
    /// The regions DescribeRegions lists as AVAILABLE (what `R` and the add form offer).
    RegionsListed(Vec<String>),
    Journal(Vec<Entry>),
    Call(CallRecord),
    Notice(String),
    /// The CA was fetched and kept: lines describing it, or why not.
    CaFetched {
        id: String,
        result: Result<Vec<String>, OpsError>,
    },
    /// A TLS check finished, or could not run.
    Verified {
        id: String,
        result: Result<CheckShown, OpsError>,
    },
    /// The credential in use at start (its account follows as `Account`).
    Who(Who),
    /// GetCallerIdentity's answer, as a line.
    Account(String),
    /// A temporary key was renewed, or renewing it failed.
    Credential(crate::credentials::CredentialEvent),
    /// The credentials found for `P`.
    Choices(Vec<(crate::credentials::choices::Choice, super::Guarded)>),
    /// A switch of credentials finished.
    Switched(Result<Switched, OpsError>),
    /// The audit's result, or why there is none.
    Audited(Result<crate::ops::audit::Audit, OpsError>),
    /// The plan of many changes, or why there is none.
    BulkPrepared(Result<crate::ops::bulk::BulkPlan, OpsError>),
    /// A step of the bulk run.
    Bulk(bulk::BulkEvent),
    /// At start: an interrupted bulk run, if any.
    Resumable(Result<Option<Box<crate::ops::bulk::resume::Resumable>>, OpsError>),
    /// Picking up an unfinished change came to this.
    Resumed {
        unfinished: crate::ops::follow::Unfinished,
        result: Result<crate::ops::follow::Resumed, OpsError>,
    },
}
