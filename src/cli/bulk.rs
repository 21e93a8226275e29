//! `pgssl ssl enable|disable --all | --filter EXPR | --from FILE` and `pgssl ssl resume`:
//! one plan for many instances, printed, confirmed (the count typed above a few), then
//! carried out by `ops::bulk::run` with a line per change as it goes and the outcome
//! table at the end.

mod table;

use table::{Outcome, finish};

use super::args::{ChangeArgs, ManyArgs};
use super::{Io, open, regions_to_use};
use crate::context::Context;
use crate::ops::bulk::run::{self as bulk_run, BulkObserver, Carried};
use crate::ops::bulk::schedule::{DEFAULT_MAX_RUNNING, Item, Limits, State};
use crate::ops::bulk::{BulkPlan, Selection};
use crate::ops::select::{Filter, parse_list};
use crate::ops::{OpsError, Session, Want};
use crate::store::runs::RunState;

/// `ssl enable|disable` for many instances.
pub async fn change(
    ctx: &Context,
    want: Want,
    many: &ManyArgs,
    args: &ChangeArgs,
    one: Option<&str>,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    let limits = limits(many)?;
    let canary = many
        .canary
        .map(|n| {
            crate::ops::bulk::run::Canary::new(
                n,
                many.canary_wait.map(std::time::Duration::from_secs),
            )
        })
        .transpose()
        .map_err(OpsError::Usage)?;
    let follow = args.follow.options()?;
    if args.verify {
        return Err(OpsError::Usage(format!(
            "--verify checks one instance after its change; for many, run `{} audit --verify` once the run ends; nothing was sent",
            crate::hint::pgssl()
        )));
    }
    if let Want::Enable(crate::addresses::AddressSpec::Host(ip)) = &want {
        return Err(OpsError::Usage(format!(
            "--address {ip} is one instance's address: for many instances --address takes a kind, private, public or group, taken per instance; nothing was sent"
        )));
    }
    if args.wait {
        return Err(OpsError::Usage(
            "--wait is for one instance: a change of many always follows each task to its end; drop --wait; nothing was sent".into(),
        ));
    }
    if many.with_group
        && !matches!(
            want,
            Want::Enable(crate::addresses::AddressSpec::Kind(
                crate::addresses::AddressKind::Group
            ))
        )
    {
        return Err(OpsError::Usage(
            "--with-group goes with --address group (the rest of each read-only group whose address is protected); drop it; nothing was sent".into(),
        ));
    }
    let filter = many
        .filter
        .as_deref()
        .map(Filter::parse)
        .transpose()
        .map_err(OpsError::Usage)?;
    let listed = match (&many.from, one) {
        (Some(path), _) => Some(read_list(path, io)?),
        (None, Some(id)) => Some(vec![crate::ops::select::Listed {
            id: super::instance_id(id)?,
            region: None,
        }]),
        (None, None) => None,
    };
    let opened = open(ctx, io).await?;
    let session = &opened.session;
    if !args.dry_run {
        // --readonly or a read-only profile refuses before anything is read or asked.
        session.guard_readonly()?;
    }
    let selection = if let Some(list) = listed {
        let mut ids = Vec::new();
        for l in &list {
            let region = match &l.region {
                Some(r) => r.clone(),
                None => ctx.region_for(Some(&l.id), opened.credential_region.as_deref())?,
            };
            ids.push((region, l.id.clone()));
        }
        let mut regions: Vec<&str> = ids.iter().map(|(r, _)| r.as_str()).collect();
        regions.sort_unstable();
        regions.dedup();
        for r in regions {
            super::confirm(ctx, &opened, r).await?;
        }
        Selection::Listed(ids)
    } else {
        let regions = regions_to_use(ctx, &[])?;
        for r in &regions {
            super::confirm(ctx, &opened, r).await?;
        }
        io.info(format!(
            "reading every instance of {}...",
            regions.join(", ")
        ));
        Selection::Regions { regions, filter }
    };
    let prepared =
        crate::ops::bulk::prepare(session, &selection, &want, many.with_group, |_, _| {}).await?;
    for o in &prepared.offers {
        io.info(format!(
            "note: read-only group {}: {} also belong to it and are not in this plan; Tencent asks for SSL on every member when the group address is protected: add --with-group to include them",
            o.group,
            o.members.join(", ")
        ));
    }
    propose(session, prepared.plan, (limits, canary), &follow, args, io).await
}

/// A bulk plan, as every change of many goes on from here (`ssl enable|disable` of many,
/// `undo RUN`): printed with the census, `--dry-run`, confirmed, then carried out as a run.
pub(super) async fn propose(
    session: &Session,
    plan: BulkPlan,
    (limits, canary): (Limits, Option<crate::ops::bulk::run::Canary>),
    follow: &crate::ops::FollowOptions,
    args: &ChangeArgs,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    let follow = *follow;
    if plan.changes.is_empty() {
        print_plan(&plan, io);
        io.emit(&Outcome::planned(&plan, None));
        return Ok(());
    }
    // Who is connected to the instances the plan changes (a few seconds at most).
    let clients = crate::ops::census::bulk_lines(session, &plan.changes).await;
    if args.dry_run {
        return dry_run(session, &plan, &clients, io).await;
    }
    print_plan(&plan, io);
    if !io.json_mode() {
        for line in &clients {
            io.info(line);
        }
    }
    for other in session.store.runs.active() {
        io.info(format!(
            "note: another pgssl is carrying out bulk run {other} now: a change to an instance it is changing is not sent twice"
        ));
    }
    if let Ok(Some(old)) = session.store.runs.unfinished() {
        io.info(format!(
            "note: an earlier run ({}, {}) did not finish: `{} ssl resume` shows it and goes on with it",
            old.id,
            old.state.word(),
            crate::hint::pgssl()
        ));
    }
    let confirmation = plan.confirmation(session.protected());
    super::confirm_plan(
        &confirmation,
        "these changes",
        args,
        session.protected(),
        io,
    )?;
    let mut carried = bulk_run::begin(session, &plan, limits)?;
    carried.canary = canary;
    io.info(format!(
        "run {}: {} changes, {}{}{} (stopped or interrupted? `{} ssl resume`)",
        carried.run.id,
        carried.schedule.items.len(),
        limits.max_running.map_or_else(
            || "no cap on instances restarting at once".into(),
            |n| format!("at most {n} restarting at once")
        ),
        if limits.together {
            ""
        } else {
            ", a primary and its read-only instances one after the other"
        },
        if limits.stop_on_failure {
            ", stopping at the first failure"
        } else {
            ""
        },
        crate::hint::pgssl()
    ));
    carry_out(session, &plan, &mut carried, follow, io).await
}

/// Carry the run out with a line per change; Ctrl-C or a hangup stops it where it is, says
/// what was sent and what was not, and how to go on (exit 130).
async fn carry_out(
    session: &Session,
    plan: &BulkPlan,
    carried: &mut Carried,
    follow: crate::ops::FollowOptions,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    let stop = bulk_run::stop_switch();
    let mut printer = Printer {
        json: io.json_mode(),
        io,
        sending: std::collections::HashSet::new(),
    };
    let interrupted = tokio::select! {
        result = bulk_run::execute(session, carried, follow, &stop, &mut printer) => {
            result?;
            false
        }
        () = interruption() => true,
    };
    let Carried { run, schedule, .. } = carried;
    if interrupted {
        schedule.close_interrupted();
        run.state = RunState::Interrupted {
            at: crate::store::now_rfc3339(),
        };
        // Best effort: a run file left `sending` by nobody reads as interrupted too.
        let _ = session.store.runs.save(run);
        let _ = finish(plan, &run.id, schedule, io);
        let (sent, running, unsent) = schedule.interrupted_counts();
        return Err(OpsError::Interrupted(format!(
            "interrupted: {sent} sent ({running} still running, followed no more here), {unsent} never sent; see and go on with: {} ssl resume",
            crate::hint::pgssl()
        )));
    }
    if let RunState::Stopped { .. } = run.state {
        io.info(format!(
            "run {} stopped with {} changes never sent: `{} ssl resume` goes on with them, `{} ssl resume --abandon {}` gives them up",
            run.id,
            schedule.unsent(),
            crate::hint::pgssl(),
            crate::hint::pgssl(),
            run.id
        ));
    }
    finish(plan, &run.id, schedule, io)
}

/// Ctrl-C, or the terminal going away (SIGHUP: a dropped SSH session).
pub(super) async fn interruption() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) {
        (Ok(mut int), Ok(mut hup)) => {
            tokio::select! {
                _ = int.recv() => {}
                _ = hup.recv() => {}
            }
        }
        // No handlers: the default action (the process ends) still leaves a resumable run.
        _ => std::future::pending::<()>().await,
    }
}

/// `ssl resume [RUN]` and `ssl resume --abandon RUN`.
pub async fn resume(
    ctx: &Context,
    args: &ResumeArgs<'_>,
    follow: &super::args::FollowArgs,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    let follow = follow.options()?;
    let opened = open(ctx, io).await?;
    let session = &opened.session;
    session.guard_readonly()?;
    if let Some(id) = args.abandon {
        let run = bulk_run::abandon(session, id)?;
        let unsent = match run.state {
            RunState::Abandoned { unsent, .. } => unsent,
            _ => 0,
        };
        io.info(format!(
            "run {} abandoned: {unsent} changes never sent are given up (nothing sent is undone); it is no longer offered",
            run.id
        ));
        io.emit(&Outcome::nothing());
        return Ok(());
    }
    // Held from here to the end: a second resume is refused, and the plan is made
    // against the journal as it is now.
    let Some(taken) = crate::ops::bulk::resume::take(session, args.run).await? else {
        io.info("no bulk run waiting: nothing to resume");
        io.emit(&Outcome::nothing());
        return Ok(());
    };
    for line in taken.found.summary() {
        io.info(line);
    }
    let (_, running, waiting) = taken.found.counts();
    if waiting > 0 {
        // Who is connected to the instances still to change (a few seconds at most).
        let unsent: Vec<crate::ops::Plan> = taken
            .found
            .schedule
            .items
            .iter()
            .filter(|i| i.state.is_unsent())
            .map(|i| i.plan.clone())
            .collect();
        for line in crate::ops::census::bulk_lines(session, &unsent).await {
            io.info(line);
        }
        let confirmation = taken.found.confirmation(session.protected());
        super::confirm_with(
            &confirmation,
            "the never-sent changes",
            (args.yes, args.confirm),
            session.protected(),
            io,
        )?;
    } else if running == 0 {
        io.info("nothing is left to send or follow");
    }
    let plan = taken.leftovers();
    let mut carried = taken.into_carried();
    carry_out(session, &plan, &mut carried, follow, io).await
}

/// `ssl resume`'s own arguments.
pub struct ResumeArgs<'a> {
    pub run: Option<&'a str>,
    pub yes: bool,
    pub confirm: Option<&'a str>,
    pub abandon: Option<&'a str>,
}

pub(super) fn limits(many: &ManyArgs) -> Result<Limits, OpsError> {
    let max_running = match many.max_running.as_deref().map(str::trim) {
        None => Some(DEFAULT_MAX_RUNNING),
        Some("unlimited" | "all") => None,
        Some(n) => match n.parse::<usize>() {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                return Err(OpsError::Usage(format!(
                    "--max-running '{}' is not a count: give a number of instances (1 or more) or `unlimited`",
                    crate::text::clean(n)
                )));
            }
        },
    };
    Ok(Limits {
        max_running,
        together: many.together,
        stop_on_failure: many.stop_on_failure,
    })
}

fn read_list(
    path: &std::path::Path,
    io: &mut Io<'_>,
) -> Result<Vec<crate::ops::select::Listed>, OpsError> {
    let shown = crate::text::clean(&path.display().to_string());
    // `-`: stdin, through the face's reader (it holds stdin's lock for prompts).
    let read = if path.as_os_str() == "-" {
        crate::store::bounded::read_stream_to_string(&mut *io.stdin, crate::store::caps::LIST)
    } else {
        crate::store::bounded::read_to_string(path, crate::store::caps::LIST)
    };
    let text = read.map_err(|e| {
        OpsError::Usage(format!(
            "--from {shown}: cannot read it ({e}); give a file with an instance id per line; nothing was sent"
        ))
    })?;
    parse_list(&text).map_err(|e| OpsError::Usage(format!("--from {shown}: {e}; nothing was sent")))
}

fn print_plan(plan: &BulkPlan, io: &mut Io<'_>) {
    if io.json_mode() {
        return;
    }
    for line in plan.summary() {
        io.info(line);
    }
}

/// `--dry-run`: the plan and every request, signed as it would be sent; nothing is sent.
async fn dry_run(
    session: &Session,
    plan: &BulkPlan,
    clients: &[String],
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    let requests = crate::ops::change::sign_only(session, &plan.changes).await?;
    // Each change as the tccli command that sends the same request.
    let tccli: Vec<String> = plan
        .changes
        .iter()
        .map(|p| crate::ops::tccli::modify(p, session.profile.as_deref()))
        .collect();
    if io.json_mode() {
        io.json(&serde_json::json!({
            "dry_run": true,
            "plan": plan.summary(),
            "unchanged": plan.unchanged.iter().map(|i| &i.id).collect::<Vec<_>>(),
            "skipped": &plan.skipped,
            "clients": clients,
            "confirm": plan.confirmation(session.protected()).flag,
            "requests": requests.iter().map(crate::api::client::Prepared::masked).collect::<Vec<_>>(),
            "tccli": tccli,
        }));
        return Ok(());
    }
    io.info(format!(
        "dry run: these are the exact {} requests pgssl would send; nothing was sent",
        requests.len()
    ));
    for line in plan.summary().iter().chain(clients) {
        io.info(line);
    }
    for (r, t) in requests.iter().zip(&tccli) {
        io.line(r.render());
        io.line(format!("tccli: {t}"));
        io.line("");
    }
    Ok(())
}

/// A line per change as its state changes, on stderr (stdout gets the table).
struct Printer<'a, 'b> {
    io: &'a mut Io<'b>,
    json: bool,
    /// The changes this process sent (others were sent before a resume).
    sending: std::collections::HashSet<usize>,
}

impl BulkObserver for Printer<'_, '_> {
    fn canary(&mut self, line: &str) {
        self.io.info(line);
    }

    fn changed(&mut self, index: usize, item: &Item) {
        if self.json {
            return;
        }
        let id = &item.plan.instance.id;
        let line = match &item.state {
            State::Waiting => return,
            State::Sending => {
                self.sending.insert(index);
                return;
            }
            State::Running {
                task_id,
                request_id,
                status: None,
                ..
            } => {
                let task = task_id.map_or_else(|| "-".into(), |t| t.to_string());
                if !self.sending.contains(&index) {
                    format!("following: {id}: TaskId {task} (sent earlier)")
                } else if request_id.is_empty() {
                    format!(
                        "sent: {id}: the reply was lost, but its task {task} was found running: following it"
                    )
                } else {
                    format!("sent: {id}: TaskId {task}, RequestId {request_id}")
                }
            }
            State::Running {
                status: Some(s),
                progress,
                ..
            } => format!(
                "{id}: {s}{}",
                progress.map(|p| format!(" {p}%")).unwrap_or_default()
            ),
            State::Ended {
                task_id: None,
                message: Some(m),
                ..
            } => format!("{id}: {m}"),
            s @ State::Ended {
                status, message, ..
            } => format!(
                "{id}: task {} ended {status}{}",
                s.task_id().map_or_else(|| "-".into(), |t| t.to_string()),
                message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
            State::Refused { error } => format!("{id}: refused: {error}"),
            State::Unknown { error } => format!("{id}: outcome unknown: {error}"),
            State::GaveUp { why, .. } => format!("{id}: gave up waiting: {why}"),
            State::NotSent { why } => format!("{id}: not sent: {why}"),
            State::AsAsked { now } => format!("{id}: nothing sent: {now}"),
        };
        self.io.info(line);
    }

    fn stopped(&mut self, why: &str) {
        if !self.json {
            self.io.info(format!("{why}: nothing more is sent"));
        }
    }
}
