//! The bulk run's commands: read and plan many instances, carry out the plan (or an
//! interrupted run), each step sent back as a message. One call into `ops` each.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tokio::sync::mpsc::UnboundedSender;

use super::send;
use crate::domain::Instance;
use crate::ops::bulk::BulkPlan;
use crate::ops::bulk::resume::Resumable;
use crate::ops::bulk::run::{self as bulk_run, BulkObserver, Carried};
use crate::ops::bulk::schedule::{Item, Limits};
use crate::ops::{FollowOptions, OpsError, Session, Want};
use crate::tui::app::Msg;
use crate::tui::app::bulk::BulkEvent;

/// Read the instances fresh and plan `want` for each (`ops::bulk::prepare`, as the CLI).
pub async fn prepare(
    session: &Session,
    ids: &[(String, String)],
    want: &Want,
    with_group: bool,
) -> Result<BulkPlan, OpsError> {
    let selection = crate::ops::bulk::Selection::Listed(ids.to_vec());
    crate::ops::bulk::prepare(session, &selection, want, with_group, |_, _| {})
        .await
        .map(|p| p.plan)
}

/// A plan of many came back: to the dialog at once, and who is connected to the
/// instances it changes after it, never holding the dialog up.
pub fn planned(session: &Session, tx: &UnboundedSender<Msg>, result: Result<BulkPlan, OpsError>) {
    if let Ok(plan) = &result {
        let (session, plan, tx) = (session.clone(), plan.clone(), tx.clone());
        tokio::spawn(async move {
            let lines = crate::ops::census::bulk_lines(&session, &plan.changes).await;
            send(&tx, Msg::BulkCensus(lines));
        });
    }
    send(tx, Msg::BulkPrepared(result));
}

/// Hears the run and turns it into messages.
struct Relay {
    tx: UnboundedSender<Msg>,
}

impl BulkObserver for Relay {
    fn canary(&mut self, line: &str) {
        send(&self.tx, Msg::Notice(line.to_string()));
    }
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
    canary: Option<bulk_run::Canary>,
    follow: FollowOptions,
    stop: Arc<AtomicBool>,
    tx: UnboundedSender<Msg>,
) {
    match bulk_run::begin(&session, &plan, limits) {
        Ok(mut carried) => {
            carried.canary = canary;
            go(session, carried, follow, stop, tx).await;
        }
        Err(e) => send(&tx, Msg::Bulk(BulkEvent::Finished(Err(e)))),
    }
}

/// Go on with a run as it was shown: taken (held) and planned again now; sent only if it
/// still reads the same, else shown again.
pub async fn resume(
    session: Session,
    shown: Resumable,
    follow: FollowOptions,
    stop: Arc<AtomicBool>,
    tx: UnboundedSender<Msg>,
) {
    match crate::ops::bulk::resume::take(&session, Some(&shown.run.id)).await {
        Ok(Some(taken)) if taken.found.summary() == shown.summary() => {
            go(session, taken.into_carried(), follow, stop, tx).await;
        }
        Ok(Some(taken)) => send(
            &tx,
            Msg::Bulk(BulkEvent::Revised(Box::new(taken.found.clone()))),
        ),
        Ok(None) => send(
            &tx,
            Msg::Bulk(BulkEvent::Finished(Err(OpsError::Failed(format!(
                "run {} is no longer waiting (another pgssl finished it)",
                shown.run.id
            ))))),
        ),
        Err(e) => send(&tx, Msg::Bulk(BulkEvent::Finished(Err(e)))),
    }
}

async fn go(
    session: Session,
    mut carried: Carried,
    follow: FollowOptions,
    stop: Arc<AtomicBool>,
    tx: UnboundedSender<Msg>,
) {
    send(
        &tx,
        Msg::Bulk(BulkEvent::Started {
            run_id: carried.run.id.clone(),
            items: carried.schedule.items.clone(),
        }),
    );
    let mut relay = Relay { tx: tx.clone() };
    let result = bulk_run::execute(&session, &mut carried, follow, &stop, &mut relay).await;
    let state = carried.run.state.clone();
    send(&tx, Msg::Bulk(BulkEvent::Finished(result.map(|()| state))));
}

/// At start: the newest run waiting to go on, if any (its running tasks looked at once).
pub async fn find(session: Session, tx: UnboundedSender<Msg>) {
    let found = crate::ops::bulk::resume::peek(&session)
        .await
        .map(|r| r.map(Box::new));
    send(&tx, Msg::Resumable(found));
}
