//! Why nothing was sent: every refusal `ops` decides, as a closed type. A face renders
//! it (its Display says what is wrong and what to do; `OpsError::Refused` adds that
//! nothing was sent) and a test matches the variant, never the words. Every refusal
//! exits 2: it was decided before anything left.

use crate::addresses::{AddressKind, Host};

/// One refusal, by the concern that made it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0}; nothing was sent")]
    Plan(#[from] PlanRefusal),
    #[error("{0}; nothing was sent")]
    Guard(#[from] GuardRefusal),
    #[error("{0}: nothing was sent")]
    Confirm(#[from] ConfirmRefusal),
    #[error("{0}; nothing was sent")]
    Earlier(#[from] EarlierChange),
    #[error("{0}; nothing was sent")]
    Run(#[from] RunRefusal),
    #[error("{0}; nothing was sent")]
    Region(#[from] RegionRefusal),
    /// A journaled change cannot be undone (`ops::undo`).
    #[error("{0}; nothing was sent")]
    Undo(Box<super::undo::UndoRefusal>),
    /// A check refused (nothing is ever sent by one).
    #[error(transparent)]
    Verify(#[from] VerifyRefusal),
    /// A change of many found nothing to change.
    #[error("{what}: nothing to change, nothing sent")]
    NothingSelected { what: String },
    /// The run's stop switch was on when this change's turn came.
    #[error("{id}: stopped before it was sent")]
    Stopped { id: String },
    /// `instances remove` of an instance that is not saved.
    #[error(
        "{id} is not saved, so there is nothing to remove (see `{} instances list`)",
        crate::hint::pgssl()
    )]
    NotSaved { id: String },
}

impl From<super::undo::UndoRefusal> for Refusal {
    fn from(r: super::undo::UndoRefusal) -> Refusal {
        Refusal::Undo(Box::new(r))
    }
}

/// The change cannot be made to this instance as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanRefusal {
    #[error(
        "{id} is '{status}', not running: SSL can only be changed on a running instance; wait until it runs"
    )]
    NotRunning { id: String, status: String },
    /// Tencent's SSL page (cloud.tencent.com/document/product/409/115986): SSL needs
    /// PostgreSQL 11 or later. Disabling stays allowed.
    #[error(
        "{id} runs PostgreSQL {version}: SSL needs PostgreSQL 11 or later; upgrade its major version first"
    )]
    TooOld { id: String, version: String },
    #[error(transparent)]
    Address(#[from] AddressRefusal),
    /// The instance changed between the plan and the moment its change would have left
    /// (someone else changed it): what was confirmed no longer describes it.
    #[error("{id} changed since the plan was read (SSL was {before}, is now {now}): plan it again")]
    ChangedSincePlan {
        id: String,
        before: String,
        now: String,
    },
    /// Just before sending, the API refused to describe it for its status (restarting,
    /// isolated...).
    #[error("{id} is not running now (the API answered {code}): wait until it runs")]
    BusyNow { id: String, code: String },
    /// Just before sending, its SSL state could not be read.
    #[error("{id}: its SSL state could not be read just before sending ({why})")]
    Unreadable { id: String, why: String },
}

/// The region is not one to send to, as DescribeRegions says (`regions::Catalog`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionRefusal {
    #[error(
        "region '{region}' is {state} (DescribeRegions): Tencent does not serve it now; choose an AVAILABLE region (`{} regions list --remote`)",
        crate::hint::pgssl()
    )]
    NotServed { region: String, state: String },
    #[error(
        "'{region}' is not a region DescribeRegions lists: check the name (`{} regions list --remote`)",
        crate::hint::pgssl()
    )]
    NotListed { region: String },
    #[error(
        "'{region}' is not one of the 18 regions documented for the SSL actions, and DescribeRegions could not be asked to say whether it is a region ({why})"
    )]
    NotDocumented { region: String, why: String },
}

/// The address asked for is not one SSL can protect on this instance.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressRefusal {
    #[error("{host} is not an address of {id}; choose one of its own: {choices}")]
    NotItsAddress {
        id: String,
        host: Host,
        choices: String,
    },
    #[error(
        "{id} is not a read-only instance: 'group' applies to read-only instances; use private or public"
    )]
    GroupOnPrimary { id: String },
    #[error("{id} has no {kind} address; choose one of: {choices}")]
    NoneOfKind {
        id: String,
        kind: AddressKind,
        choices: String,
    },
    #[error("{id} has more than one {kind} address; give the IP instead: {choices}")]
    SeveralOfKind {
        id: String,
        kind: AddressKind,
        choices: String,
    },
    #[error(
        "the {kind} network of {id} ({host}) is '{status}', not opened: open it before SSL can protect it"
    )]
    NotOpened {
        id: String,
        kind: AddressKind,
        host: Host,
        status: String,
    },
}

/// A guard on the credential or the session refuses any change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardRefusal {
    #[error(
        "--readonly: changes are disabled; drop --readonly to send one (--dry-run shows it without sending)"
    )]
    ReadOnlyFlag,
    #[error(
        "profile '{profile}' is read-only (config.toml [profiles.{profile}] readonly = true): changes are disabled"
    )]
    ReadOnlyProfile { profile: String },
    #[error(
        "account {account} is forbidden by config.toml ({key}): use a credential of another account (--profile)"
    )]
    AccountForbidden { account: String, key: String },
    #[error(
        "account {account} is not in config.toml's {key}: use a credential of an allowed account (--profile), or add {account} to the list"
    )]
    AccountNotAllowed { account: String, key: String },
    #[error(
        "cannot tell which account this credential belongs to ({why}), and config.toml sets allowed_accounts: refusing to send (fail closed)"
    )]
    AccountUnknown { why: String },
}

/// The person did not confirm the plan as it must be confirmed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfirmRefusal {
    #[error(
        "refusing to change SSL without confirmation: stdin is not a terminal; review it (--dry-run prints the exact requests) and pass {flags}"
    )]
    NoTerminal { flags: String },
    #[error(
        "profile '{profile}' is protected (config.toml): --yes alone does not confirm it; pass --yes --confirm {expected} (the {what}) after reviewing the plan (--dry-run)"
    )]
    ConfirmFlagNeeded {
        profile: String,
        expected: String,
        what: String,
    },
    #[error(
        "--confirm {given} does not match the plan: it needs --confirm {expected} (the {what})"
    )]
    ConfirmFlagWrong {
        given: String,
        expected: String,
        what: String,
    },
    #[error("cancelled{}", typed.as_ref().map(|t| format!(" (typed '{t}', not {expected})")).unwrap_or_default())]
    Cancelled {
        /// What was typed, when something other than `y` was expected.
        typed: Option<String>,
        expected: String,
    },
    #[error("cannot read the answer ({why})")]
    AnswerUnreadable { why: String },
}

/// An earlier change to the same instance stands in the way: its outcome is not known,
/// or it is under way in another run or process.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EarlierChange {
    #[error("an earlier change to {id} (sent {sent}) had an unknown outcome and {detail}")]
    InProgress {
        id: String,
        sent: String,
        detail: String,
    },
    #[error(
        "an earlier change to {id} (sent {sent}) had an unknown outcome and pgssl cannot check it now: {detail}"
    )]
    Undetermined {
        id: String,
        sent: String,
        detail: String,
    },
    #[error(
        "an earlier change to {id} (sent {sent}) had an unknown outcome and has not taken effect yet, but may still arrive: wait {minutes} minutes from when it was sent, then try again"
    )]
    MayStillArrive {
        id: String,
        sent: String,
        minutes: i64,
    },
    /// The journal holds a change to it, sent by another run or process, not ended yet.
    #[error("{id} is being changed by {by} (journaled {sent}{}): wait for it to end", task.map(|t| format!(", task {t}")).unwrap_or_default())]
    InFlight {
        id: String,
        sent: String,
        by: String,
        task: Option<i64>,
    },
    /// The journal holds a change to it sent after this plan was read.
    #[error("{id} was changed by {by} at {sent}, after this plan was read: plan it again")]
    SinceThePlan {
        id: String,
        sent: String,
        by: String,
    },
}

/// A bulk run cannot be carried out or resumed as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunRefusal {
    #[error(
        "run {run} is being carried out by another pgssl now: follow it there (or wait for it to end)"
    )]
    Held { run: String },
    #[error(
        "run file {file} names {instance} more than once: a run file pgssl wrote never does; move it away"
    )]
    Duplicate { file: String, instance: String },
    #[error(
        "run {run} was confirmed against {was}, not {now}: resume it with the endpoint it was made for (--endpoint {was})"
    )]
    OtherEndpoint {
        run: String,
        was: String,
        now: String,
    },
    #[error(
        "run file {file} holds run {run}, whose file is {run}.json: a copy is not a second run; move it away"
    )]
    Misnamed { file: String, run: String },
    #[error(
        "no bulk run {run} to {what}: `{} ssl resume` lists the one waiting",
        crate::hint::pgssl()
    )]
    NoSuchRun { run: String, what: &'static str },
    #[error("run {run} is {state}: there is nothing to {what}")]
    Over {
        run: String,
        state: &'static str,
        what: &'static str,
    },
}

/// A check that cannot be made as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyRefusal {
    #[error(
        "the demo has no server at {address}: it only checks instances a local PostgreSQL stands in for, and never connects outside this machine"
    )]
    NoDemoServer { address: String },
    #[error(
        "{id} has SSL off, so it has no CA until SSL is on: turn it on first ({} ssl enable {id} --address ...)",
        crate::hint::pgssl()
    )]
    NoCa { id: String },
    #[error(
        "SSL is off on {id}, so there is no protected address to check; pass --address to probe one anyway"
    )]
    NothingProtected { id: String },
    #[error(
        "{id} has SSL off, so it has no CA to check against: pass --ca FILE, or turn SSL on first"
    )]
    NoCaToCheck { id: String },
    /// The CA would come over plain http from another host: unauthenticated, so never a
    /// trust anchor until a person has compared and confirmed it.
    #[error(
        "{id}'s CA comes over plain http ({url}), unauthenticated, and none is confirmed: run `{} ssl ca {id}`, compare its sha256 with the CA from the console and confirm with --fingerprint SHA256, or pass --ca FILE",
        crate::hint::pgssl()
    )]
    CaUnconfirmed { id: String, url: String },
    /// `ssl ca --out` of a CA that came unauthenticated and was not confirmed.
    #[error(
        "{id}'s CA came over plain http, unauthenticated: {out} was not written and nothing was kept; compare each sha256 above with the CA from the console, then run again with --fingerprint SHA256 (once per certificate)"
    )]
    CaNotWritten { id: String, out: String },
}
