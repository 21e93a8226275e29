//! `pgssl ssl enable|disable --all | --filter EXPR | --from FILE` and `pgssl ssl resume`:
//! one plan for many instances, printed, confirmed (the count typed above a few), then
//! carried out by `ops::bulk::run` with a line per change as it goes and the outcome
//! table at the end.

mod table;

use table::{Outcome, finish};

use super::args::{ChangeArgs, ManyArgs};
use super::{Io, open, regions_to_use};
use crate::context::{Context, Opened};
use crate::domain::Instance;
use crate::ops::bulk::run::{self as bulk_run, BulkObserver};
use crate::ops::bulk::schedule::{DEFAULT_MAX_RUNNING, Item, Limits, Schedule, State};
use crate::ops::bulk::{BulkPlan, Skipped, plan_many};
use crate::ops::select::{Filter, parse_list};
use crate::ops::{OpsError, Session, Want, read};

/// `ssl enable|disable` for many instances.
pub async fn change(
    ctx: &Context,
    want: Want,
    many: &ManyArgs,
    args: &ChangeArgs,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    let limits = limits(many)?;
    let follow = args.follow.options()?;
    if args.verify {
        return Err(OpsError::Invalid(
            "--verify checks one instance after its change; for many, run `pgssl audit --verify` once the run ends; nothing was sent".into(),
        ));
    }
    if let Want::Enable(crate::addresses::AddressSpec::Ip(ip)) = &want {
        return Err(OpsError::Invalid(format!(
            "--address {ip} is one instance's address: for many instances --address takes a kind, private, public or group, taken per instance; nothing was sent"
        )));
    }
    if args.wait {
        return Err(OpsError::Invalid(
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
        return Err(OpsError::Invalid(
            "--with-group goes with --address group (the rest of each read-only group whose address is protected); drop it; nothing was sent".into(),
        ));
    }
    let filter = many
        .filter
        .as_deref()
        .map(Filter::parse)
        .transpose()
        .map_err(OpsError::Invalid)?;
    let listed = match &many.from {
        Some(path) => Some(read_list(path, io)?),
        None => None,
    };
    if (ctx.globals.readonly || args.readonly) && !args.dry_run {
        return Err(OpsError::Invalid(
            "--readonly: changes are disabled; drop --readonly to send them (--dry-run shows them without sending)".into(),
        ));
    }
    let opened = open(ctx, io).await?;
    if !args.dry_run {
        opened.session.guard_readonly()?;
    }
    let session = &opened.session;
    session.guard_account().await?;
    let (read, known) = match listed {
        Some(list) => from_list(ctx, &opened, &list, &want, io).await?,
        None => from_regions(ctx, &opened, filter.as_ref(), io).await?,
    };
    let mut plan = plan_many(read, &want);
    let offers = plan.group_offers(&known);
    if !offers.is_empty() {
        if many.with_group {
            let mut more: Vec<Result<Instance, Skipped>> = Vec::new();
            for o in &offers {
                for id in &o.members {
                    if let Some(i) = known.iter().find(|i| i.id == *id) {
                        more.push(Ok(i.clone()));
                    }
                }
            }
            let extra = plan_many(more, &want);
            plan.changes.extend(extra.changes);
            plan.unchanged.extend(extra.unchanged);
            plan.skipped.extend(extra.skipped);
        } else {
            for o in &offers {
                io.info(format!(
                    "note: read-only group {}: {} also belong to it and are not in this plan; Tencent asks for SSL on every member when the group address is protected: add --with-group to include them",
                    o.group,
                    o.members.join(", ")
                ));
            }
        }
    }
    if plan.changes.is_empty() {
        print_plan(&plan, io);
        io.emit(&Outcome::planned(&plan, None));
        return Ok(());
    }
    if args.dry_run {
        return dry_run(session, &plan, io).await;
    }
    print_plan(&plan, io);
    for other in session.store.runs.active() {
        io.info(format!(
            "note: another pgssl is carrying out bulk run {other} now: a change to an instance it is restarting is refused by the API"
        ));
    }
    if let Ok(Some(old)) = session.store.runs.unfinished() {
        io.info(format!(
            "note: an earlier run ({}) was interrupted and is not finished: `{} ssl resume` shows it and goes on with it",
            old.id,
            crate::hint::pgssl()
        ));
    }
    if !args.yes {
        // A protected profile (config.toml) always asks for the count.
        let type_count = plan.needs_count() || session.guard.protected;
        confirm(plan.changes.len(), type_count, io)?;
    }
    let (mut run, mut schedule) = bulk_run::begin(session, &plan, limits)?;
    io.info(format!(
        "run {}: {} changes, {}{}{} (interrupted? `{} ssl resume`)",
        run.id,
        schedule.items.len(),
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
    carry_out(session, &plan, &mut run, &mut schedule, follow, io).await
}

/// Carry the run out with a line per change; Ctrl-C or a hangup stops it where it is, says
/// what was sent and what was not, and how to go on (exit 130).
async fn carry_out(
    session: &Session,
    plan: &BulkPlan,
    run: &mut crate::store::runs::RunFile,
    schedule: &mut Schedule,
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
        result = bulk_run::execute(session, run, schedule, follow, &stop, &mut printer) => {
            result?;
            false
        }
        () = interruption() => true,
    };
    if interrupted {
        schedule.close_interrupted();
        let _ = finish(plan, &run.id, schedule, io);
        let (sent, running, unsent) = schedule.interrupted_counts();
        return Err(OpsError::Interrupted(format!(
            "interrupted: {sent} sent ({running} still running, followed no more here), {unsent} never sent; see and go on with: {} ssl resume",
            crate::hint::pgssl()
        )));
    }
    finish(plan, &run.id, schedule, io)
}

/// Ctrl-C, or the terminal going away (SIGHUP: a dropped SSH session).
async fn interruption() {
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

/// `ssl resume`.
pub async fn resume(
    ctx: &Context,
    yes: bool,
    follow: &super::args::FollowArgs,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    let follow = follow.options()?;
    if ctx.globals.readonly {
        return Err(OpsError::Invalid(
            "--readonly: changes are disabled; drop --readonly to resume a run".into(),
        ));
    }
    let opened = open(ctx, io).await?;
    let session = &opened.session;
    session.guard_readonly()?;
    let Some(mut found) = bulk_run::resumable(session).await? else {
        io.info("no interrupted bulk run: nothing to resume");
        io.emit(&Outcome::nothing());
        return Ok(());
    };
    for line in found.summary() {
        io.info(line);
    }
    let (_, running, waiting) = found.counts();
    if waiting + running > 0 && !yes {
        let type_count =
            waiting > crate::ops::bulk::TYPE_THE_COUNT_ABOVE || session.guard.protected;
        confirm(waiting, type_count, io)?;
    }
    let plan = BulkPlan {
        want: Want::Disable,
        changes: vec![],
        unchanged: found.unchanged.clone(),
        skipped: found.skipped.clone(),
    };
    carry_out(
        session,
        &plan,
        &mut found.run,
        &mut found.schedule,
        follow,
        io,
    )
    .await
}

fn limits(many: &ManyArgs) -> Result<Limits, OpsError> {
    let max_running = match many.max_running.as_deref().map(str::trim) {
        None => Some(DEFAULT_MAX_RUNNING),
        Some("unlimited" | "all") => None,
        Some(n) => match n.parse::<usize>() {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                return Err(OpsError::Invalid(format!(
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
        OpsError::Invalid(format!(
            "--from {shown}: cannot read it ({e}); give a file with an instance id per line; nothing was sent"
        ))
    })?;
    parse_list(&text)
        .map_err(|e| OpsError::Invalid(format!("--from {shown}: {e}; nothing was sent")))
}

type Chosen = (Vec<Result<Instance, Skipped>>, Vec<Instance>);

/// `--all` / `--filter`: every instance the API lists in the regions, read fresh with
/// its SSL state (at the API's pace), then filtered.
async fn from_regions(
    ctx: &Context,
    opened: &Opened,
    filter: Option<&Filter>,
    io: &mut Io<'_>,
) -> Result<Chosen, OpsError> {
    let regions = regions_to_use(ctx, &[])?;
    for r in &regions {
        super::confirm(ctx, opened, r, io).await?;
    }
    io.info(format!(
        "reading every instance of {}...",
        regions.join(", ")
    ));
    let fleet = crate::ops::inventory::fleet(&opened.session, &regions, |_, _| {}).await?;
    let mut read = Vec::new();
    for i in &fleet.instances {
        if !filter.is_none_or(|f| f.matches(i)) {
            continue;
        }
        read.push(match fleet.unread.iter().find(|(id, _)| *id == i.id) {
            Some((_, why)) => Err(Skipped {
                instance_id: i.id.clone(),
                region: i.region.clone(),
                why: format!("its SSL state could not be read ({why})"),
            }),
            None => Ok(i.clone()),
        });
    }
    if read.is_empty() {
        return Err(OpsError::Invalid(format!(
            "no instance of {} {}: nothing to change, nothing sent",
            regions.join(", "),
            if filter.is_some() {
                "matches the filter"
            } else {
                "is listed"
            }
        )));
    }
    Ok((read, fleet.instances))
}

/// `--from FILE`: the listed instances, each in its region (given on its line, else as a
/// single change finds it), read fresh.
async fn from_list(
    ctx: &Context,
    opened: &Opened,
    list: &[crate::ops::select::Listed],
    want: &Want,
    io: &mut Io<'_>,
) -> Result<Chosen, OpsError> {
    let mut by_region: Vec<(String, Vec<String>)> = Vec::new();
    for l in list {
        let region = match &l.region {
            Some(r) => r.clone(),
            None => ctx.region_for(Some(&l.id), opened.credential_region.as_deref())?,
        };
        match by_region.iter_mut().find(|(r, _)| *r == region) {
            Some((_, ids)) => ids.push(l.id.clone()),
            None => by_region.push((region, vec![l.id.clone()])),
        }
    }
    let mut read = Vec::new();
    let mut known = Vec::new();
    for (region, ids) in &by_region {
        super::confirm(ctx, opened, region, io).await?;
        for (id, r) in read::describe_many(&opened.session.client, region, ids).await {
            read.push(match r {
                Ok(i) => {
                    crate::ops::inventory::remember(&opened.session, &i);
                    Ok(i)
                }
                Err(e) => Err(Skipped {
                    instance_id: id,
                    region: region.clone(),
                    why: e.to_string(),
                }),
            });
        }
        // The group address: the rest of each group can only be offered once known.
        if matches!(
            want,
            Want::Enable(crate::addresses::AddressSpec::Kind(
                crate::addresses::AddressKind::Group
            ))
        ) {
            known.extend(read::discover(&opened.session.client, region).await?);
        }
    }
    known.extend(read.iter().filter_map(|r| r.as_ref().ok().cloned()));
    Ok((read, known))
}

fn print_plan(plan: &BulkPlan, io: &mut Io<'_>) {
    if io.json_mode() {
        return;
    }
    for line in plan.summary() {
        io.info(line);
    }
}

/// The count typed above a few changes; `y` otherwise. Without a terminal: `--yes`.
/// One change (`ssl enable INSTANCE`) is confirmed here too.
pub(super) fn confirm(count: usize, type_count: bool, io: &mut Io<'_>) -> Result<(), OpsError> {
    if !io.interactive {
        return Err(OpsError::Invalid(
            "refusing to change SSL without confirmation: stdin is not a terminal; review it (--dry-run prints the exact requests) and pass --yes".into(),
        ));
    }
    let (question, expected) = if type_count {
        (
            format!(
                "Type the number of instances to change ({count}) to send, anything else cancels: "
            ),
            count.to_string(),
        )
    } else {
        (
            format!(
                "Send {}? Type y to send, anything else cancels: ",
                if count == 1 {
                    "this change"
                } else {
                    "these changes"
                }
            ),
            "y".into(),
        )
    };
    let answer = io.prompt(&question).map_err(|e| {
        OpsError::Invalid(format!("cannot read the answer ({e}); nothing was sent"))
    })?;
    let answer = answer.trim();
    if answer == expected || (!type_count && matches!(answer, "Y" | "yes")) {
        Ok(())
    } else {
        Err(OpsError::Invalid(format!(
            "cancelled{}: nothing was sent",
            if type_count {
                format!(" (typed '{}', not {count})", crate::text::clean(answer))
            } else {
                String::new()
            }
        )))
    }
}

/// `--dry-run`: the plan and every request, signed as it would be sent; nothing is sent.
async fn dry_run(session: &Session, plan: &BulkPlan, io: &mut Io<'_>) -> Result<(), OpsError> {
    session
        .client
        .credential(crate::api::Action::ModifyDBInstanceSSLConfig)
        .await?;
    let mut requests = Vec::new();
    for p in &plan.changes {
        let prepared = session
            .client
            .prepare(
                Some(p.region()),
                &p.request(),
                crate::api::client::system_clock(),
            )
            .ok_or_else(|| OpsError::Failed("the key to sign with is not held".into()))?;
        requests.push(prepared);
    }
    if io.json_mode() {
        io.json(&serde_json::json!({
            "dry_run": true,
            "plan": plan.summary(),
            "requests": requests.iter().map(crate::api::client::Prepared::masked).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    io.info(format!(
        "dry run: these are the exact {} requests pgssl would send; nothing was sent",
        requests.len()
    ));
    for line in plan.summary() {
        io.info(line);
    }
    for r in &requests {
        io.line(r.render());
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
        };
        self.io.info(line);
    }

    fn stopped(&mut self, why: &str) {
        if !self.json {
            self.io.info(format!("{why}: nothing more is sent"));
        }
    }
}
