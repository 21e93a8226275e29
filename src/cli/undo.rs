//! `pgssl undo CHANGE_ID|RUN_ID`: the inverse of a journaled change (SSL back to what the
//! journal kept of it just before the change left), carried out as any change is: the
//! same prepare, notes, `--dry-run`, confirmation, guards, journal and send. A run is
//! undone as one bulk plan.

use clap::Args;

use super::args::ChangeArgs;
use super::{Io, open};
use crate::context::Context;
use crate::ops::OpsError;
use crate::ops::bulk::schedule::Limits;
use crate::ops::plan::Prepared;
use crate::ops::undo::{self, Found, Judged, UndoId};

#[derive(Debug, Clone, Args)]
pub struct UndoArgs {
    /// The change to undo, by its id (`pgssl log` ends each line with `change ID`), or a
    /// bulk run's id (`run RUN` in `pgssl log`): every change of the run that succeeded
    #[arg(value_name = "CHANGE_ID|RUN_ID")]
    pub id: String,
    /// Undo even though the instance changed since (its SSL is no longer what the change
    /// left, or a later change was journaled): SSL goes back to what it was before the
    /// change all the same
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub change: ChangeArgs,
}

pub async fn run(ctx: &Context, args: &UndoArgs, io: &mut Io<'_>) -> Result<(), OpsError> {
    let id = UndoId::parse(&args.id).map_err(OpsError::Usage)?;
    let change = &args.change;
    let follow = change.follow.options()?;
    let opened = open(ctx, io).await?;
    let session = &opened.session;
    if !change.dry_run {
        // --readonly or a read-only profile refuses before anything is read or asked.
        session.guard_readonly()?;
        super::ssl::settle_earlier(session, io).await;
    }
    let entries = undo::journal(session, &id).await?;
    match undo::find(&entries, &id).map_err(OpsError::refused)? {
        Found::Change(entry) => {
            let inverse = undo::inverse(entry).map_err(OpsError::refused)?;
            super::confirm(ctx, &opened, &inverse.region).await?;
            io.info(format!(
                "undo change {} to {}: SSL back to {}, as it was before it",
                inverse.change_id,
                inverse.instance_id,
                inverse.before_words()
            ));
            let later = undo::later_change(&entries, entry);
            let (judged, prepared) =
                undo::prepare_one(session, &inverse, later, args.force).await?;
            let prepared = match judged {
                Judged::AsBefore => {
                    io.info(format!(
                        "{} already is as it was before change {}: nothing to undo",
                        inverse.instance_id, inverse.change_id
                    ));
                    Prepared::Unchanged(prepared.instance().clone())
                }
                Judged::Undo => prepared,
            };
            super::ssl::carry(session, &inverse.want, prepared, change, io).await
        }
        Found::Run { run, members } => {
            if change.verify {
                return Err(OpsError::Usage(
                    "--verify checks one instance after its change; for a run, run `pgssl audit --verify` once the undo ends; nothing was sent".into(),
                ));
            }
            io.info(format!(
                "undo run {run}: each of its {} changes back to SSL as it was before it",
                members.len()
            ));
            let plan = undo::prepare_run(session, &members, &entries, args.force).await?;
            if let Some(refusal) = undo::nothing_to_undo(&plan, &run) {
                for line in plan.summary() {
                    io.info(line);
                }
                return Err(OpsError::refused(refusal));
            }
            super::bulk::propose(
                session,
                plan,
                (Limits::default(), None),
                &follow,
                change,
                io,
            )
            .await
        }
    }
}
