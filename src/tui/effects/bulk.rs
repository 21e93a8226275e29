//! The bulk run's commands: read and plan many instances, carry out the plan (or an
//! interrupted run), each step sent back as a message. One call into `ops` each.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tokio::sync::mpsc::UnboundedSender;

use super::send;
use crate::domain::Instance;
use crate::ops::bulk::run::{self as bulk_run, BulkObserver, Resumable};
use crate::ops::bulk::schedule::{Item, Limits, Schedule};
use crate::ops::bulk::{BulkPlan, Skipped, plan_many};
use crate::ops::{FollowOptions, OpsError, Session, Want, read};
use crate::store::runs::RunFile;
use crate::tui::app::Msg;
use crate::tui::app::bulk::BulkEvent;

/// Read the instances fresh (in batches per region, SSL state at the API's pace) and
/// plan `want` for each: the account guards first, as a single change does.
pub async fn prepare(
    session: &Session,
    ids: &[(String, String)],
    want: &Want,
) -> Result<BulkPlan, OpsError> {
    session.guard_account().await?;
    let mut regions: Vec<&str> = ids.iter().map(|(r, _)| r.as_str()).collect();
    regions.sort_unstable();
    regions.dedup();
    let mut read_all: Vec<Result<Instance, Skipped>> = Vec::new();
    for region in regions {
        let these: Vec<String> = ids
            .iter()
            .filter(|(r, _)| r == region)
            .map(|(_, id)| id.clone())
            .collect();
        for (id, r) in read::describe_many(&session.client, region, &these).await {
            read_all.push(match r {
                Ok(i) => {
                    crate::ops::inventory::remember(session, &i);
                    Ok(i)
                }
                Err(e) => Err(Skipped {
                    instance_id: id,
                    region: region.to_string(),
                    why: crate::ops::bulk::SkipWhy::Unreadable(e.to_string()),
                }),
            });
        }
    }
    Ok(plan_many(read_all, want))
}

/// Hears the run and turns it into messages.
struct Relay {
    tx: UnboundedSender<Msg>,
}

impl BulkObserver for Relay {
    fn changed(&mut self, index: usize, item: &Item) {
        send(
            &self.tx,
            Msg::Bulk(BulkEvent::Changed {
                index,
                item: Box::new(item.clone()),
            }),
        );
    }
    fn stopped(&mut self, why: &str) {
        send(&self.tx, Msg::Bulk(BulkEvent::Stopped(why.to_string())));
    }
    fn refreshed(&mut self, now: &Instance) {
        // As a change's own read after its task (not a refresh's: that counts progress).
        send(
            &self.tx,
            Msg::Change(crate::tui::app::ChangeEvent::Refreshed(Box::new(
                now.clone(),
            ))),
        );
    }
}

/// Write the run file, then carry the plan out.
pub async fn execute(
    session: Session,
    plan: BulkPlan,
    limits: Limits,
    follow: FollowOptions,
    stop: Arc<AtomicBool>,
    tx: UnboundedSender<Msg>,
) {
    match bulk_run::begin(&session, &plan, limits) {
        Ok((run, schedule)) => go(session, run, schedule, follow, stop, tx).await,
        Err(e) => send(&tx, Msg::Bulk(BulkEvent::Finished(Err(e)))),
    }
}

/// Go on with an interrupted run, as it was shown.
pub async fn resume(
    session: Session,
    found: Resumable,
    follow: FollowOptions,
    stop: Arc<AtomicBool>,
    tx: UnboundedSender<Msg>,
) {
    go(session, found.run, found.schedule, follow, stop, tx).await;
}

async fn go(
    session: Session,
    mut run: RunFile,
    mut schedule: Schedule,
    follow: FollowOptions,
    stop: Arc<AtomicBool>,
    tx: UnboundedSender<Msg>,
) {
    send(
        &tx,
        Msg::Bulk(BulkEvent::Started {
            run_id: run.id.clone(),
            items: schedule.items.clone(),
        }),
    );
    let mut relay = Relay { tx: tx.clone() };
    let result =
        bulk_run::execute(&session, &mut run, &mut schedule, follow, &stop, &mut relay).await;
    send(&tx, Msg::Bulk(BulkEvent::Finished(result)));
}

/// At start: the newest interrupted run, if any.
pub async fn find(session: Session, tx: UnboundedSender<Msg>) {
    let found = bulk_run::resumable(&session).await.map(|r| r.map(Box::new));
    send(&tx, Msg::Resumable(found));
}
