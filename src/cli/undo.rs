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
use crate::ops::undo::{self, Judged, UndoId};

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
    match id {
        UndoId::Change(change_id) => {
            let (inverse, judged, prepared) =
                undo::prepare_change(session, &change_id, args.force).await?;
            // The change names its region: another one given is a mistake, not a choice.
            if let Some(given) = ctx.globals.region.as_deref()
                && given != inverse.region
            {
                return Err(OpsError::Usage(format!(
                    "change {} was made in {}, not {}: drop --region (undo takes the change's own); nothing was sent",
                    inverse.change_id,
                    inverse.region,
                    crate::text::clean(given)
                )));
            }
            if let (Some(then), Some(now)) = (
                inverse.account.as_deref(),
                session.identity().await.account_id().map(str::to_string),
            ) && then != now
            {
                io.info(format!(
                    "warning: change {} was made as account {then}; pgssl acts as account {now} now",
                    inverse.change_id
                ));
            }
            io.info(match judged {
                Judged::AsBefore => format!(
                    "{} already is as it was before change {} (SSL {}): nothing to undo",
                    inverse.instance_id,
                    inverse.change_id,
                    inverse.before_words()
                ),
                Judged::Undo => format!(
                    "undo change {} to {}: SSL back to {}, as it was before it",
                    inverse.change_id,
                    inverse.instance_id,
                    inverse.before_words()
                ),
            });
            super::ssl::carry(session, &inverse.want, prepared, change, io).await
        }
        UndoId::Run(run) => {
            if change.verify {
                return Err(OpsError::Usage(format!(
                    "--verify checks one instance after its change; for a run, run `{} audit --verify` once the undo ends; nothing was sent",
                    crate::hint::pgssl()
                )));
            }
            let plan = undo::prepare_run_id(session, &run, args.force).await?;
            io.info(format!(
                "undo run {run}: each of its changes back to SSL as it was before it"
            ));
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
