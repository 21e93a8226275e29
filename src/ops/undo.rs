//! Undo: the inverse of a journaled change, planned from what the journal kept of SSL
//! just before it left (`RequestInfo::before`), and carried out as any change is (the
//! same `prepare`, confirmation, guards, journal and send). A run's changes are undone
//! together, as one bulk plan.
//!
//! Pure here: which change an id names, whether it succeeded, what its inverse is, and
//! whether the instance is still as the change left it (else the inverse would not
//! restore what was: refused unless forced). The reads are `prepare_one`/`prepare_run`.

use crate::addresses::{AddressSpec, Host};
use crate::domain::SslState;
use crate::store::journal::{Entry, Outcome, SslBefore};
use crate::text::clean;

use super::bulk::{BulkPlan, SkipWhy, Skipped};
use super::plan::{Prepared, Want, plan};
use super::refusal::Refusal;
use super::{Intent, OpsError, Session};

/// What `pgssl undo` was given: a change's id (as `log` shows it) or a bulk run's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoId {
    /// A change: a UUID, `8-4-4-4-12` lower-case hex.
    Change(String),
    /// A bulk run: `YYYYMMDDTHHMMSSZ-` and 8 hex digits (`ops::bulk::run::begin`).
    Run(String),
}

impl UndoId {
    /// One line saying what an id looks like when `input` is neither shape.
    pub fn parse(input: &str) -> Result<UndoId, String> {
        let s = input.trim();
        let hex = |p: &str, n: usize| {
            p.len() == n
                && p.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        let parts: Vec<&str> = s.split('-').collect();
        if let [a, b, c, d, e] = parts.as_slice()
            && hex(a, 8)
            && hex(b, 4)
            && hex(c, 4)
            && hex(d, 4)
            && hex(e, 12)
        {
            return Ok(UndoId::Change(s.to_string()));
        }
        if let [stamp, tail] = parts.as_slice()
            && stamp.len() == 16
            && stamp.as_bytes()[8] == b'T'
            && stamp.ends_with('Z')
            && stamp
                .bytes()
                .enumerate()
                .all(|(i, b)| matches!(i, 8 | 15) || b.is_ascii_digit())
            && hex(tail, 8)
        {
            return Ok(UndoId::Run(s.to_string()));
        }
        Err(format!(
            "'{}' is neither a change id (such as 3f2b9c1e-8d4a-4b6e-9f00-12ab34cd56ef) nor a run id (such as 20261203T042444Z-1a2b3c4d): `{} log` shows each change's id and run; nothing was sent",
            crate::text::truncate(&clean(input), 60),
            crate::hint::pgssl()
        ))
    }

    pub fn as_str(&self) -> &str {
        match self {
            UndoId::Change(s) | UndoId::Run(s) => s,
        }
    }
}

/// Why a change cannot be undone (every one exits 2: nothing was sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UndoRefusal {
    #[error(
        "no change or run {id} in the journal; see `{} log` for each change's id and run",
        crate::hint::pgssl()
    )]
    NoSuchId { id: String },
    #[error("change {id} to {instance} did not succeed ({why}): there is nothing to undo")]
    NotSucceeded {
        id: String,
        instance: String,
        why: String,
    },
    #[error(
        "change {id} to {instance} was journaled without SSL as it was before it (an older pgssl): nothing says what to restore; set it yourself with `ssl enable` or `ssl disable`"
    )]
    NoBefore { id: String, instance: String },
    #[error(
        "before change {id}, {instance} had SSL on with no protected address recorded: nothing says which address to protect again; set it yourself with `ssl enable --address`"
    )]
    NoAddressBefore { id: String, instance: String },
    #[error(
        "{instance} changed since change {id}: the change left SSL {left}, and SSL is now {now}; undoing it would not restore what was (SSL {before}). See `{} log --instance {instance}`; --force undoes it anyway",
        crate::hint::pgssl()
    )]
    ChangedSince {
        id: String,
        instance: String,
        left: String,
        now: String,
        before: String,
    },
    #[error(
        "{instance} was changed again after change {id} (change {later}, sent {sent}): undo that one first, or --force to restore SSL {before} anyway"
    )]
    ChangedLater {
        id: String,
        instance: String,
        later: String,
        sent: String,
        before: String,
    },
    #[error(
        "{instance}: its SSL state could not be read, so whether it changed since change {id} cannot be told; try again, or --force"
    )]
    StateUnknown { id: String, instance: String },
    /// The journal's line names no instance or region pgssl would send to (a foreign edit).
    #[error("change {id} in the journal names no usable instance ({why}): it is not undone")]
    Unusable { id: String, why: String },
    #[error("run {run}: none of its {count} changes can be undone (see why above)")]
    NothingInRun { run: String, count: usize },
    #[error(
        "run {run} is still being carried out by another pgssl: undo it once it has ended (`{} log` shows its changes); nothing was sent",
        crate::hint::pgssl()
    )]
    RunInProgress { run: String },
}

/// The inverse of one change, decided from the journal alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inverse {
    /// The change undone.
    pub change_id: String,
    pub region: String,
    pub instance_id: String,
    /// SSL as the change left it: (enabled, protected address).
    pub left: (bool, Option<Host>),
    /// SSL as it was before the change: what the inverse restores.
    pub before: SslBefore,
    pub want: Want,
    /// The account the change was made as, when the journal says.
    pub account: Option<String>,
}

impl Inverse {
    pub fn intent(&self) -> Intent {
        Intent {
            region: self.region.clone(),
            instance_id: self.instance_id.clone(),
            want: self.want.clone(),
        }
    }

    pub fn before_words(&self) -> String {
        words(self.before.SSLEnabled, self.before.ConnectAddress.as_ref())
    }
}

fn words(enabled: bool, host: Option<&Host>) -> String {
    match (enabled, host) {
        (true, Some(h)) => format!("on, protecting {h}"),
        (true, None) => "on".into(),
        (false, _) => "off".into(),
    }
}

/// What a journal id names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found<'a> {
    Change(&'a Entry),
    /// The run's changes, the latest of each instance, in journal order.
    Run {
        run: String,
        members: Vec<&'a Entry>,
    },
}

/// The change or run `id` names among `entries` (oldest first).
pub fn find<'a>(entries: &'a [Entry], id: &UndoId) -> Result<Found<'a>, UndoRefusal> {
    let none = || UndoRefusal::NoSuchId {
        id: clean(id.as_str()),
    };
    match id {
        UndoId::Change(c) => entries
            .iter()
            .find(|e| e.request.id == *c)
            .map(Found::Change)
            .ok_or_else(none),
        UndoId::Run(r) => {
            let mut members: Vec<&Entry> = Vec::new();
            for e in entries
                .iter()
                .filter(|e| e.request.run.as_deref() == Some(r))
            {
                // A member journaled twice (a resume) is undone from its latest change.
                members.retain(|m| m.request.DBInstanceId != e.request.DBInstanceId);
                members.push(e);
            }
            if members.is_empty() {
                return Err(none());
            }
            Ok(Found::Run {
                run: r.clone(),
                members,
            })
        }
    }
}

/// Whether the change is known to have taken effect: accepted (or, after an unknown
/// outcome, found applied) and its task ended Success. `Err`: why not, in words.
pub fn succeeded(e: &Entry) -> Result<(), String> {
    let applied = e
        .check
        .as_ref()
        .is_some_and(|c| c.result == crate::domain::Finding::Applied);
    match &e.outcome {
        Some(Outcome::Error { Code, .. }) => return Err(format!("the API refused it: {Code}")),
        Some(Outcome::Ok { .. }) => {}
        Some(Outcome::Unknown { .. }) | None if applied => {}
        Some(Outcome::Unknown { .. }) | None => return Err("its outcome is unknown".into()),
    }
    match &e.task {
        Some(t) if t.status == crate::domain::TaskStatus::Success => Ok(()),
        Some(t) if t.status.is_finished() => {
            Err(format!("its task {} ended {}", t.task_id, t.status))
        }
        Some(t) => Err(format!("its task {} is still {}", t.task_id, t.status)),
        None if applied => Ok(()),
        None => Err(match e.task_id() {
            Some(t) => format!("its task {t} was never seen to end"),
            None => "the API gave no task to see it end".into(),
        }),
    }
}

/// The inverse of change `e`, or why there is none.
pub fn inverse(e: &Entry) -> Result<Inverse, UndoRefusal> {
    let r = &e.request;
    let (id, instance) = (clean(&r.id), clean(&r.DBInstanceId));
    // Read from a file: checked as what is typed is, before it is sent anywhere.
    crate::validate::instance_id(&r.DBInstanceId)
        .and_then(|_| crate::validate::region_name(&r.region))
        .map_err(|why| UndoRefusal::Unusable {
            id: id.clone(),
            why: clean(&why),
        })?;
    succeeded(e).map_err(|why| UndoRefusal::NotSucceeded {
        id: id.clone(),
        instance: instance.clone(),
        why: clean(&why),
    })?;
    let Some(before) = r.before.clone() else {
        return Err(UndoRefusal::NoBefore { id, instance });
    };
    let want = match (before.SSLEnabled, &before.ConnectAddress) {
        (false, _) => Want::Disable,
        (true, Some(host)) => Want::Enable(AddressSpec::Host(host.clone())),
        (true, None) => return Err(UndoRefusal::NoAddressBefore { id, instance }),
    };
    Ok(Inverse {
        change_id: r.id.clone(),
        region: r.region.clone(),
        instance_id: r.DBInstanceId.clone(),
        left: (
            r.SSLEnabled,
            r.ConnectAddress.clone().filter(|_| r.SSLEnabled),
        ),
        before,
        want,
        account: r.account.clone(),
    })
}

/// The latest change to the same instance journaled after `e` that may have changed it
/// (one the API refused changed nothing).
pub fn later_change<'a>(entries: &'a [Entry], e: &Entry) -> Option<&'a Entry> {
    let at = entries.iter().position(|x| x.request.id == e.request.id)?;
    entries[at + 1..].iter().rev().find(|x| {
        x.request.DBInstanceId == e.request.DBInstanceId
            && !matches!(x.outcome, Some(Outcome::Error { .. }))
            && !x.task.as_ref().is_some_and(|t| t.status.is_failed())
    })
}

/// What the fresh read says of undoing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judged {
    /// Still as the change left it (or forced): the inverse restores what was.
    Undo,
    /// Already as it was before the change: nothing to undo.
    AsBefore,
}

/// Judge the inverse against SSL as read now (`now`) and the journal's later changes.
pub fn judge(
    inv: &Inverse,
    now: Option<&SslState>,
    later: Option<&Entry>,
    force: bool,
) -> Result<Judged, UndoRefusal> {
    let (id, instance) = (clean(&inv.change_id), clean(&inv.instance_id));
    let Some(now) = now else {
        return if force {
            Ok(Judged::Undo)
        } else {
            Err(UndoRefusal::StateUnknown { id, instance })
        };
    };
    let is = |enabled: bool, host: Option<&Host>| {
        now.enabled == enabled && (!enabled || now.protected.as_ref() == host)
    };
    if is(inv.before.SSLEnabled, inv.before.ConnectAddress.as_ref()) {
        return Ok(Judged::AsBefore);
    }
    if force {
        return Ok(Judged::Undo);
    }
    if !is(inv.left.0, inv.left.1.as_ref()) {
        return Err(UndoRefusal::ChangedSince {
            id,
            instance,
            left: words(inv.left.0, inv.left.1.as_ref()),
            now: now.describe(),
            before: inv.before_words(),
        });
    }
    if let Some(l) = later {
        return Err(UndoRefusal::ChangedLater {
            id,
            instance,
            later: clean(&l.request.id),
            sent: clean(&l.request.time),
            before: inv.before_words(),
        });
    }
    Ok(Judged::Undo)
}

/// The journal, with the changes `id` names looked at once if their task was not seen to
/// end (a change sent without `--wait`): whether each succeeded is then known. Reads
/// only; what each came to is journaled.
pub async fn journal(session: &Session, id: &UndoId) -> Result<Vec<Entry>, OpsError> {
    let journal = &session.store.journal;
    let read = || {
        journal
            .entries()
            .map(|(e, _)| e)
            .map_err(|e| OpsError::Journal(journal.read_error(&e)))
    };
    let entries = read()?;
    let Ok(found) = find(&entries, id) else {
        return Ok(entries);
    };
    let targets = match found {
        Found::Change(e) => vec![e],
        Found::Run { members, .. } => members,
    };
    let now = pgssl_wire::clock::unix_now();
    let mut looked = false;
    for e in targets {
        // Only a change whose outcome is known: one in flight is someone else's to settle.
        if matches!(
            e.outcome,
            Some(Outcome::Ok {
                TaskId: Some(_),
                ..
            })
        ) && let Some(u) = super::follow::Unfinished::of(e, now)
        {
            let _ = super::follow::resume(session, &u, super::FollowOptions::ONCE, |_| {}).await;
            looked = true;
        }
    }
    if looked { read() } else { Ok(entries) }
}

/// One change's inverse, read fresh and planned as `ssl enable|disable` would plan it
/// (`change::prepare`: guards, region, plan), then judged against the fresh read.
pub async fn prepare_one(
    session: &Session,
    inv: &Inverse,
    later: Option<&Entry>,
    force: bool,
) -> Result<(Judged, Prepared), OpsError> {
    let prepared = super::change::prepare(session, &inv.intent()).await?;
    let judged =
        judge(inv, prepared.instance().ssl_state(), later, force).map_err(OpsError::refused)?;
    Ok((judged, prepared))
}

/// The undo of change `id`, from the journal to the plan: whether it can be undone, its
/// inverse read fresh and planned, and judged. An instance already as before is
/// `Prepared::Unchanged` (nothing to send), whatever the plan of the inverse says.
pub async fn prepare_change(
    session: &Session,
    id: &str,
    force: bool,
) -> Result<(Inverse, Judged, Prepared), OpsError> {
    let undo_id = UndoId::Change(id.to_string());
    let entries = journal(session, &undo_id).await?;
    let Found::Change(entry) = find(&entries, &undo_id).map_err(OpsError::refused)? else {
        return Err(OpsError::refused(UndoRefusal::NoSuchId { id: clean(id) }));
    };
    let inverse = inverse(entry).map_err(OpsError::refused)?;
    let later = later_change(&entries, entry);
    let (judged, prepared) = prepare_one(session, &inverse, later, force).await?;
    let prepared = match judged {
        Judged::AsBefore => Prepared::Unchanged(prepared.instance().clone()),
        Judged::Undo => prepared,
    };
    Ok((inverse, judged, prepared))
}

/// The undo of bulk run `run`, from the journal to its bulk plan (`prepare_run`).
pub async fn prepare_run_id(
    session: &Session,
    run: &str,
    force: bool,
) -> Result<BulkPlan, OpsError> {
    // A run still under way would go on changing what its undo is planned from.
    if session.store.runs.active().iter().any(|r| r == run) {
        return Err(OpsError::refused(UndoRefusal::RunInProgress {
            run: clean(run),
        }));
    }
    let undo_id = UndoId::Run(run.to_string());
    let entries = journal(session, &undo_id).await?;
    let Found::Run { members, .. } = find(&entries, &undo_id).map_err(OpsError::refused)? else {
        return Err(OpsError::refused(UndoRefusal::NoSuchId { id: clean(run) }));
    };
    prepare_run(session, &members, &entries, force).await
}

/// A run's changes undone as one bulk plan: each member read fresh, judged and planned
/// as one change would be; those that cannot be undone are skipped with why.
pub async fn prepare_run(
    session: &Session,
    members: &[&Entry],
    entries: &[Entry],
    force: bool,
) -> Result<BulkPlan, OpsError> {
    session.guard_account().await?;
    let mut skipped = Vec::new();
    let mut inverses = Vec::new();
    for e in members {
        match inverse(e) {
            Ok(inv) => inverses.push((inv, later_change(entries, e))),
            Err(why) => skipped.push(skip(&e.request.region, &e.request.DBInstanceId, why)),
        }
    }
    let mut regions: Vec<&str> = inverses.iter().map(|(i, _)| i.region.as_str()).collect();
    regions.sort_unstable();
    regions.dedup();
    for region in regions {
        super::regions::confirm(session, region).await?;
    }
    let ids: Vec<(String, String)> = inverses
        .iter()
        .map(|(i, _)| (i.region.clone(), i.instance_id.clone()))
        .collect();
    let read = super::bulk::prepare::listed(session, &ids).await;
    Ok(plan_run(&inverses, read, skipped, force))
}

fn skip(region: &str, instance: &str, why: UndoRefusal) -> Skipped {
    Skipped {
        instance_id: instance.to_string(),
        region: region.to_string(),
        why: SkipWhy::Undo(Box::new(why)),
    }
}

/// Pure: the bulk plan of a run's inverses from the fresh reads.
pub fn plan_run(
    inverses: &[(Inverse, Option<&Entry>)],
    read: Vec<Result<crate::domain::Instance, Skipped>>,
    mut skipped: Vec<Skipped>,
    force: bool,
) -> BulkPlan {
    let mut changes = Vec::new();
    let mut unchanged = Vec::new();
    for r in read {
        let instance = match r {
            Ok(i) => i,
            Err(s) => {
                skipped.push(s);
                continue;
            }
        };
        let Some((inv, later)) = inverses.iter().find(|(i, _)| i.instance_id == instance.id) else {
            continue;
        };
        match judge(inv, instance.ssl_state(), *later, force) {
            Ok(Judged::AsBefore) => unchanged.push(instance),
            Err(why) => skipped.push(skip(&instance.region, &instance.id, why)),
            Ok(Judged::Undo) => match plan(&instance, &inv.want) {
                Ok(Prepared::Change(p)) => changes.push(p),
                Ok(Prepared::Unchanged(i)) => unchanged.push(i),
                Err(why) => skipped.push(Skipped {
                    instance_id: instance.id.clone(),
                    region: instance.region.clone(),
                    why: SkipWhy::Refused(Box::new(why)),
                }),
            },
        }
    }
    let want = changes
        .iter()
        .find_map(|p: &super::Plan| p.target.host().cloned())
        .map_or(Want::Disable, |h| Want::Enable(AddressSpec::Host(h)));
    BulkPlan {
        want,
        changes,
        unchanged,
        skipped,
    }
}

/// A run's plan with nothing to send and nothing already undone: refused, with why (the
/// plan's summary lists each member and why it is skipped).
pub fn nothing_to_undo(plan: &BulkPlan, run: &str) -> Option<Refusal> {
    (plan.changes.is_empty() && plan.unchanged.is_empty()).then(|| {
        Refusal::from(UndoRefusal::NothingInRun {
            run: clean(run),
            count: plan.skipped.len(),
        })
    })
}

#[cfg(test)]
mod tests;
