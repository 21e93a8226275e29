//! `pgssl ssl show | enable | disable | ca`.

mod show;

use serde::Serialize;

use super::args::{ChangeArgs, SslCommand};
use super::output::TaskProgress;
use super::{Io, Report, Text, instance_id, open, region};
use crate::addresses::AddressSpec;
use crate::context::Context;
use crate::domain::{Instance, SslState, Task, TaskStatus};
use crate::ops::change::{self, ChangeObserver, ExecuteOptions, Executed, Outcome, VerifyAfter};
use crate::ops::send::Sent;
use crate::ops::{FollowEnd, Intent, OpsError, Plan, Prepared, Verified, Want};

pub async fn run(ctx: &Context, cmd: SslCommand, io: &mut Io<'_>) -> Result<(), OpsError> {
    match cmd {
        SslCommand::Show { all: true, .. } => super::instances::fleet(ctx, io).await,
        SslCommand::Show {
            instance: Some(instance),
            verbose,
            ..
        } => show::show(ctx, &instance, verbose, io).await,
        SslCommand::Show { instance: None, .. } => Err(OpsError::Usage(
            "ssl show needs an instance id, or --all for every instance of the regions".into(),
        )),
        SslCommand::Enable {
            instance,
            address,
            many,
            change,
        } => {
            let spec = AddressSpec::parse(&address).map_err(OpsError::Usage)?;
            // One read-only instance and the rest of its group: a change of many.
            if let (Some(one), true) = (instance.as_deref(), many.with_group) {
                let mut rest = many.clone();
                rest.with_group = false;
                single_only(Some(one), &rest)?;
                return super::bulk::change(ctx, Want::Enable(spec), &many, &change, Some(one), io)
                    .await;
            }
            single_only(instance.as_deref(), &many)?;
            match instance {
                Some(instance) => ssl_change(ctx, &instance, Want::Enable(spec), &change, io).await,
                None => {
                    super::bulk::change(ctx, Want::Enable(spec), &many, &change, None, io).await
                }
            }
        }
        SslCommand::Disable {
            instance,
            address: Some(_),
            ..
        } => Err(OpsError::Usage(format!(
            "ssl disable takes no --address: turning SSL off protects no address; drop --address (to move the protection elsewhere instead, use `{} ssl enable {} --address ADDR`); nothing was sent",
            crate::hint::pgssl(),
            crate::text::clean(instance.as_deref().unwrap_or("INSTANCE"))
        ))),
        SslCommand::Disable { many, .. } if many.with_group => Err(OpsError::Usage(
            "--with-group is for ssl enable --address group (the other members of a protected group); to turn SSL off on a group's members, name them or use --filter; nothing was sent".into(),
        )),
        SslCommand::Disable { change, .. } if change.verify => Err(OpsError::Usage(format!(
            "--verify checks the protected address after an enable; once SSL is off no address is protected: `{} verify INSTANCE --address HOST` shows what an address answers; nothing was sent",
            crate::hint::pgssl()
        ))),
        SslCommand::Disable {
            instance: Some(instance),
            change,
            many,
            ..
        } => {
            single_only(Some(&instance), &many)?;
            ssl_change(ctx, &instance, Want::Disable, &change, io).await
        }
        SslCommand::Disable {
            instance: None,
            many,
            change,
            ..
        } => super::bulk::change(ctx, Want::Disable, &many, &change, None, io).await,
        SslCommand::Resume {
            run,
            yes,
            confirm,
            abandon,
            follow,
            ..
        } => {
            let args = super::bulk::ResumeArgs {
                run: run.as_deref(),
                yes,
                confirm: confirm.as_deref(),
                abandon: abandon.as_deref(),
            };
            super::bulk::resume(ctx, &args, &follow, io).await
        }
        SslCommand::Ca {
            instance,
            out,
            format,
            fingerprint,
            accept,
            ..
        } => {
            let format = format.map(Into::into).unwrap_or_default();
            let ask = super::ca::Ask {
                out: out.as_deref(),
                format,
                fingerprints: &fingerprint,
                accept,
            };
            super::ca::run(ctx, &instance, &ask, io).await
        }
    }
}

/// Options for many instances given with one instance: refused, not ignored.
fn single_only(instance: Option<&str>, many: &super::args::ManyArgs) -> Result<(), OpsError> {
    match (instance, many.bulk_only()) {
        (Some(i), Some(flag)) => Err(OpsError::Usage(format!(
            "{flag} is for many instances (--all, --filter, --from); for {} alone drop it; nothing was sent",
            crate::text::clean(i)
        ))),
        _ => Ok(()),
    }
}

/// The task as `--output json` shows it.
#[derive(Serialize)]
#[allow(non_snake_case)]
pub struct TaskJson {
    TaskId: i64,
    Status: TaskStatus,
    Progress: Option<i64>,
    timed_out: bool,
    Message: Option<String>,
    CurrentStep: Option<String>,
}

impl TaskJson {
    pub fn from(t: &Task, timed_out: bool) -> TaskJson {
        TaskJson {
            TaskId: t.task_id,
            Status: t.status,
            Progress: t.progress,
            timed_out,
            Message: t.message.clone(),
            CurrentStep: t.current_step.clone(),
        }
    }

    fn of(end: &FollowEnd) -> Option<TaskJson> {
        end.last()
            .map(|t| TaskJson::from(t, !matches!(end, FollowEnd::Finished(_))))
    }
}

/// The result of `ssl enable` / `ssl disable`.
#[derive(Serialize)]
#[allow(non_snake_case)]
struct ChangeReport<'a> {
    DBInstanceId: &'a str,
    Region: &'a str,
    SSLEnabled: bool,
    ConnectAddress: Option<String>,
    result: &'static str,
    TaskId: Option<i64>,
    RequestId: Option<&'a str>,
    task: Option<TaskJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verify: Option<&'a crate::probe::Report>,
    /// Who is connected after the change, with a census login: counts and clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    census: Option<&'a crate::ops::census::Taken>,
    /// How following the task ended (finished, timed_out, never_listed, unreadable).
    #[serde(skip_serializing_if = "Option::is_none")]
    followed: Option<&'static str>,
    /// When it ended otherwise than done: why, and how to go on.
    #[serde(skip_serializing_if = "Option::is_none")]
    follow_error: Option<String>,
    /// The text form: the change itself was printed step by step; only "nothing to do"
    /// is said here.
    #[serde(skip)]
    text: Option<String>,
}

impl Report for ChangeReport<'_> {
    fn text(&self, out: &mut Text) {
        if let Some(t) = &self.text {
            out.line(t.clone());
        }
    }
}

/// Prints each step as it happens, and asks whether to run the TLS check.
struct Printer<'a, 'b> {
    io: &'a mut Io<'b>,
    enable: bool,
    progress: TaskProgress,
    /// The task ended (Success, Fail or Pause): only then is the instance's state after it
    /// worth a line. While it still runs, the state read is the old one and would read as
    /// if the change had failed.
    ended: bool,
}

impl ChangeObserver for Printer<'_, '_> {
    fn sent(&mut self, sent: &Sent) {
        if !self.io.json_mode() {
            self.io.line(format!(
                "sent: {} SSL {} on {}: TaskId {}, RequestId {}",
                sent.region,
                if self.enable { "enable" } else { "disable" },
                sent.instance_id,
                sent.task_id
                    .map_or_else(|| "(none)".into(), |t| t.to_string()),
                sent.request_id
            ));
        }
    }

    fn task(&mut self, t: &Task) {
        self.progress.see(self.io, t);
    }

    fn settled(&mut self, end: &FollowEnd) {
        self.ended = matches!(end, FollowEnd::Finished(_));
    }

    fn refreshed(&mut self, now: &Instance) {
        if let (Some(state), false, true) = (now.ssl_state(), self.io.json_mode(), self.ended) {
            self.io
                .line(format!("{} now has SSL {}", now.id, state.describe()));
        }
    }

    fn verified(&mut self, result: &Result<Verified, OpsError>) {
        match result {
            Ok(v) if !self.io.json_mode() => {
                for line in v.lines() {
                    self.io.line(line);
                }
            }
            Ok(_) => {}
            Err(e) => self
                .io
                .info(format!("warning: the TLS check could not run: {e}")),
        }
    }

    fn counted(&mut self, result: &Result<crate::ops::census::Taken, OpsError>, verdict: &str) {
        if self.io.json_mode() {
            return;
        }
        match result {
            Ok(t) => {
                self.io.line(format!("Clients:  {}", t.census.summary()));
                self.io.line(format!("Verdict:  {verdict}"));
            }
            Err(e) => self.io.info(format!(
                "warning: who is connected could not be counted: {e}"
            )),
        }
    }

    fn want_verify(&mut self, _now: &Instance) -> bool {
        self.io.interactive
            && !self.io.json_mode()
            && ask(
                self.io,
                "Check the protected address over TLS now? [Y/n] ",
                true,
            )
    }
}

async fn ssl_change(
    ctx: &Context,
    instance: &str,
    want: Want,
    args: &ChangeArgs,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    let id = instance_id(instance)?;
    // Bad --poll or --timeout: refused before anything is read.
    args.follow.options()?;
    let opened = open(ctx, io).await?;
    if !args.dry_run {
        // --readonly or a read-only profile refuses before anything is read or asked.
        opened.session.guard_readonly()?;
    }
    let region = region(ctx, &opened, Some(&id)).await?;
    let session = &opened.session;
    if !args.dry_run {
        settle_earlier(session, io).await;
    }
    let intent = Intent {
        region: region.clone(),
        instance_id: id.clone(),
        want,
    };
    let prepared = change::prepare(session, &intent).await?;
    carry(session, &intent.want, prepared, args, io).await
}

/// A prepared change, as every single change goes on from here (`ssl enable|disable`,
/// `undo`): the group and census notes, `--dry-run`, the confirmation, then carried out
/// and reported.
pub(super) async fn carry(
    session: &crate::ops::Session,
    want: &Want,
    prepared: Prepared,
    args: &ChangeArgs,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    let follow = args.follow.options()?;
    let plan = match prepared {
        Prepared::Unchanged(instance) => {
            unchanged(&instance, want, instance.ssl_state(), io);
            return Ok(());
        }
        Prepared::Change(plan) => plan,
    };
    // A read-only group's other members, read fresh: how the change leaves the group.
    let groups = match crate::ops::group::read_groups(session, &plan.instance).await {
        Ok(g) => g,
        Err(e) => {
            io.info(format!(
                "note: the other members of {}'s read-only group could not be read ({e})",
                plan.instance.id
            ));
            vec![]
        }
    };
    let mut notes = crate::ops::group::notes(&plan, &groups);
    let left_out = crate::ops::group::left_out(&plan, &groups);
    if !left_out.is_empty() {
        notes.push(format!(
            "          add --with-group to change {} with it",
            left_out.join(", ")
        ));
    }
    // Who is connected, and what the change means for them (a few seconds at most).
    let clients = crate::ops::census::plan_lines(session, &plan).await;
    if args.dry_run {
        dry_run(session, &plan, &notes, &clients, io).await?;
        return Ok(());
    }
    let confirmation = crate::ops::confirm::for_change(&plan.instance.id, session.protected());
    if io.interactive && !args.yes {
        for line in plan.summary() {
            io.info(line);
        }
        io.info(tccli_line(session, &plan));
    }
    for line in notes.iter().chain(&clients) {
        io.info(line);
    }
    super::confirm_plan(&confirmation, "this change", args, session.protected(), io)?;
    let options = ExecuteOptions {
        follow: args.wait.then_some(follow),
        verify: if args.verify {
            VerifyAfter::Always
        } else {
            VerifyAfter::Ask
        },
    };
    let mut printer = Printer {
        io,
        enable: plan.enables(),
        progress: TaskProgress::default(),
        ended: false,
    };
    // Ctrl-C or a hangup (a dropped SSH session) while it is under way: said, exit 130.
    // What left runs on; the journal holds it (an outcome not heard is checked before
    // the next change to the instance).
    let executed = tokio::select! {
        r = change::execute(session, &plan, &options, &mut printer) => r?,
        () = super::bulk::interruption() => {
            return Err(OpsError::Interrupted(format!(
                "interrupted: if the change was sent it runs on without pgssl (its TaskId is above); `{hint} log --instance {id}` shows it, `{hint} task show TASKID --wait` follows it",
                hint = crate::hint::pgssl(),
                id = plan.instance.id,
            )));
        }
    };
    match executed {
        Executed::Sent(outcome) => finish(&plan, &outcome, args, io),
        Executed::AsAsked(now) => {
            unchanged(&plan.instance, want, Some(&now.state), io);
            Ok(())
        }
    }
}

/// "Already as asked": nothing to do, nothing sent (exit 0).
fn unchanged(instance: &Instance, want: &Want, state: Option<&SslState>, io: &mut Io<'_>) {
    io.emit(&ChangeReport {
        DBInstanceId: &instance.id,
        Region: &instance.region,
        SSLEnabled: want.enables(),
        ConnectAddress: state
            .and_then(|s| s.protected.as_ref())
            .filter(|_| want.enables())
            .map(ToString::to_string),
        result: "unchanged",
        TaskId: None,
        RequestId: None,
        task: None,
        verify: None,
        census: None,
        followed: None,
        follow_error: None,
        text: Some(format!(
            "{} already has SSL {}: nothing to do, nothing sent",
            instance.id,
            state.map(SslState::describe).unwrap_or_default()
        )),
    });
}

/// Before a change: look once at every change the journal holds as unfinished (an
/// earlier `--wait` that gave up, a TUI that quit, another shell's), journal what each
/// has come to and say it, so the journal never goes on saying "Running" about a task
/// long ended. Never sends anything; a failure to look is said and does not stop the change.
pub(super) async fn settle_earlier(session: &crate::ops::Session, io: &mut Io<'_>) {
    use crate::ops::follow::Resumed;
    for (u, result) in crate::ops::follow::settle_unfinished(session).await {
        let what = u.task_id.map_or_else(
            || format!("the earlier change to {}", u.instance_id),
            |t| format!("earlier task {t} on {}", u.instance_id),
        );
        io.info(match result {
            Ok(Resumed::Followed(FollowEnd::Finished(t))) => {
                format!("{what} ended {} (journal updated)", t.status)
            }
            Ok(Resumed::Followed(FollowEnd::TimedOut { last: Some(t), .. })) => format!(
                "{what} is still {}{}",
                t.status,
                t.progress.map(|p| format!(" {p}%")).unwrap_or_default()
            ),
            Ok(Resumed::Followed(
                FollowEnd::TimedOut { last: None, .. } | FollowEnd::NeverListed { .. },
            )) => {
                format!("{what} is not listed by DescribeTasks yet")
            }
            Ok(Resumed::Followed(FollowEnd::Unreadable { error, .. })) => {
                format!("{what}: could not look at it ({error})")
            }
            Ok(Resumed::Checked(found)) => {
                format!(
                    "{what} had an unknown outcome: {}",
                    crate::text::clean(&found.detail)
                )
            }
            Err(e) => format!("{what}: could not look at it ({e})"),
        });
    }
}

/// After sending: the hint, the JSON result, and the exit code.
fn finish(
    plan: &Plan,
    outcome: &Outcome,
    args: &ChangeArgs,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    let sent = &outcome.sent;
    let (id, region) = (plan.instance_id(), plan.region());
    let verify = outcome
        .verified
        .as_ref()
        .and_then(|v| v.as_ref().ok())
        .map(|v| &v.report);
    if !io.json_mode() {
        if !args.wait {
            io.line(match sent.task_id {
                Some(t) => format!(
                    "the change runs in the background and restarts the instance; follow it with: {} task show {t} --wait",
                    crate::hint::pgssl()
                ),
                None => format!(
                    "the API gave no TaskId; watch the instance with: {} ssl show {id} --region {region}",
                    crate::hint::pgssl()
                ),
            });
        } else if plan.enables()
            && outcome.verified.is_none()
            && outcome.task.as_ref().is_some_and(FollowEnd::succeeded)
        {
            io.line(format!(
                "check it over TLS with: {} verify {id} --region {region}",
                crate::hint::pgssl()
            ));
        }
    }
    // The task's end decides first (a failed task is the news), then the TLS check.
    let error = match (&outcome.task, sent.task_id) {
        (Some(end), Some(task_id)) => end.error(task_id, Some(id), region),
        _ => None,
    };
    io.emit(&ChangeReport {
        DBInstanceId: id,
        Region: region,
        SSLEnabled: plan.enables(),
        ConnectAddress: plan.request().ConnectAddress,
        result: "sent",
        TaskId: sent.task_id,
        RequestId: Some(&sent.request_id),
        task: outcome.task.as_ref().and_then(TaskJson::of),
        verify,
        census: outcome.census.as_ref().and_then(|c| c.as_ref().ok()),
        followed: outcome.task.as_ref().map(FollowEnd::word),
        follow_error: error.as_ref().map(ToString::to_string),
        text: None,
    });
    if let Some(e) = error {
        return Err(e);
    }
    if let Some(report) = verify
        && report.verdict.exit_code() != 0
    {
        return Err(super::verify::verdict_error(report));
    }
    Ok(())
}

/// The plan as the tccli command that sends the same request.
fn tccli_line(session: &crate::ops::Session, plan: &Plan) -> String {
    format!(
        "tccli:    {}",
        crate::ops::tccli::modify(plan, session.profile.as_deref())
    )
}

/// `--dry-run`: the plan and the exact signed request; no change is sent.
async fn dry_run(
    session: &crate::ops::Session,
    plan: &Plan,
    notes: &[String],
    clients: &[String],
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    let signed = change::sign_only(session, std::slice::from_ref(plan)).await?;
    let Some(prepared) = signed.first() else {
        return Ok(());
    };
    if io.json_mode() {
        io.json(&serde_json::json!({
            "dry_run": true,
            "plan": plan.summary(),
            "group": notes,
            "clients": clients,
            "confirm": crate::ops::confirm::for_change(&plan.instance.id, session.protected()).flag,
            "request": prepared.masked(),
            "tccli": crate::ops::tccli::modify(plan, session.profile.as_deref()),
        }));
    } else {
        io.info("dry run: this is the exact request pgssl would send; nothing was sent");
        for line in plan.summary().iter().chain(notes).chain(clients) {
            io.info(line);
        }
        io.info(tccli_line(session, plan));
        io.line(prepared.render());
    }
    Ok(())
}

/// Ask a yes/no question on the terminal; Enter gives `default`.
fn ask(io: &mut Io<'_>, question: &str, default: bool) -> bool {
    match io.prompt(question).as_deref() {
        Ok("") => default,
        Ok(a) => matches!(a, "y" | "Y" | "yes"),
        Err(_) => false,
    }
}
