//! Which change of a bulk run goes next: pure, so the rules are tested without a clock.
//! - at most `max_running` instances restarting at once (each change restarts its
//!   instance): a change counts from the moment it is sent until its task ends;
//! - a primary and its read-only instances never restart at the same time, unless the
//!   person asked for `together`;
//! - with `stop_on_failure`, nothing more is sent after the first failure;
//! - a change is sent once: nothing here ever puts a sent change back in the queue.

use serde::Serialize;

use crate::domain::{Task, TaskStatus};
use crate::ops::Plan;

/// How many instances may restart at once unless told otherwise. Five: a change that
/// turns out wrong (an address clients do not use, a CA they do not trust) reaches at most
/// five instances before the first of them reports back, while 140 instances still finish
/// in about 28 restart times rather than 140.
pub const DEFAULT_MAX_RUNNING: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// None: no cap (every change is sent at the API's pace).
    pub max_running: Option<usize>,
    /// Let a primary and its read-only instances restart at the same time.
    pub together: bool,
    pub stop_on_failure: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_running: Some(DEFAULT_MAX_RUNNING),
            together: false,
            stop_on_failure: false,
        }
    }
}

/// Where one change of the run is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Not sent yet.
    Waiting,
    /// Being journaled and sent.
    Sending,
    /// Sent; its task has not ended (last status seen, if any).
    Running {
        #[serde(rename = "TaskId")]
        task_id: Option<i64>,
        #[serde(rename = "RequestId")]
        request_id: String,
        status: Option<TaskStatus>,
        progress: Option<i64>,
    },
    /// Its task ended: Success, Fail or Pause.
    Ended {
        #[serde(rename = "TaskId")]
        task_id: Option<i64>,
        #[serde(rename = "RequestId")]
        request_id: Option<String>,
        status: TaskStatus,
        message: Option<String>,
    },
    /// The API refused it: nothing was changed.
    Refused { error: String },
    /// It may or may not have been made (the reply was lost); checked before any resend.
    Unknown { error: String },
    /// Sent, but following its task gave up: it may still be running.
    GaveUp {
        #[serde(rename = "TaskId")]
        task_id: Option<i64>,
        why: String,
    },
    /// Never sent, and why (stopped after a failure, a guard, an earlier change unsettled,
    /// the instance changed since the plan): a resume plans it again.
    NotSent { why: String },
    /// When its turn came the instance already was as asked: nothing was sent.
    AsAsked { now: String },
}

impl State {
    /// Restarting (or about to): counts against `max_running`.
    pub fn is_restarting(&self) -> bool {
        matches!(self, State::Sending | State::Running { .. })
    }

    /// What stops a run with `stop_on_failure`.
    pub fn is_failure(&self) -> bool {
        match self {
            State::Ended { status, .. } => *status != TaskStatus::Success,
            State::Refused { .. } | State::Unknown { .. } | State::GaveUp { .. } => true,
            _ => false,
        }
    }

    pub fn is_final(&self) -> bool {
        !matches!(
            self,
            State::Waiting | State::Sending | State::Running { .. }
        )
    }

    /// One word for tables: waiting, sending, running, success, fail, pause, refused,
    /// unknown, gave_up, not_sent.
    pub fn word(&self) -> &'static str {
        match self {
            State::Waiting => "waiting",
            State::Sending => "sending",
            State::Running { .. } => "running",
            State::Ended { status, .. } => match status {
                TaskStatus::Success => "success",
                TaskStatus::Fail => "fail",
                TaskStatus::Pause => "pause",
                TaskStatus::Running | TaskStatus::WaitSwitch => "running",
            },
            State::Refused { .. } => "refused",
            State::Unknown { .. } => "unknown",
            State::GaveUp { .. } => "gave_up",
            State::NotSent { .. } => "not_sent",
            State::AsAsked { .. } => "unchanged",
        }
    }

    /// Never sent: waiting, or left unsent (what a resume plans again).
    pub fn is_unsent(&self) -> bool {
        matches!(self, State::Waiting | State::NotSent { .. })
    }

    pub fn task_id(&self) -> Option<i64> {
        match self {
            State::Running { task_id, .. }
            | State::Ended { task_id, .. }
            | State::GaveUp { task_id, .. } => *task_id,
            _ => None,
        }
    }
}

/// One change of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub plan: Plan,
    pub state: State,
    /// The journal entry it was sent under.
    pub journal_id: Option<String>,
    /// When its state last changed (RFC 3339).
    pub since: String,
}

impl Item {
    pub fn new(plan: Plan) -> Item {
        Item {
            plan,
            state: State::Waiting,
            journal_id: None,
            since: crate::store::now_rfc3339(),
        }
    }

    /// The primary a read-only instance belongs to, else the instance itself.
    fn family(&self) -> &str {
        self.plan
            .instance
            .master
            .as_deref()
            .unwrap_or(&self.plan.instance.id)
    }
}

/// The run's changes and the rules for sending them.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub items: Vec<Item>,
    pub limits: Limits,
    /// Why sending stopped early, once it has.
    pub stopped: Option<String>,
    /// A canary wave: only the first N changes may be sent until they passed their check
    /// (`run::execute` opens the gate, or stops the run with why).
    pub gate: Option<usize>,
}

impl Schedule {
    pub fn new(items: Vec<Item>, limits: Limits) -> Schedule {
        Schedule {
            items,
            limits,
            stopped: None,
            gate: None,
        }
    }

    /// The canary wave's changes have all ended (nothing of them is still under way).
    pub fn canaries_ended(&self) -> bool {
        self.gate
            .is_some_and(|n| self.items.iter().take(n).all(|i| i.state.is_final()))
    }

    pub fn restarting(&self) -> usize {
        self.items
            .iter()
            .filter(|i| i.state.is_restarting())
            .count()
    }

    /// The next change to send, marked `Sending`; None while none may go now.
    pub fn next_to_send(&mut self) -> Option<usize> {
        if self.stopped.is_some() {
            return None;
        }
        if self
            .limits
            .max_running
            .is_some_and(|m| self.restarting() >= m.max(1))
        {
            return None;
        }
        let busy: Vec<&str> = self
            .items
            .iter()
            .filter(|i| i.state.is_restarting())
            .map(Item::family)
            .collect();
        let together = self.limits.together;
        let wave = self.gate.unwrap_or(usize::MAX);
        let i =
            self.items.iter().take(wave).position(|i| {
                i.state == State::Waiting && (together || !busy.contains(&i.family()))
            })?;
        self.set(i, State::Sending);
        Some(i)
    }

    /// Stop sending (a failure with `stop_on_failure`, or the person asked).
    pub fn stop(&mut self, why: impl Into<String>) {
        if self.stopped.is_none() {
            self.stopped = Some(why.into());
        }
    }

    /// Record a change of state; a failure stops the run when asked to, and a change
    /// that outlived the wait (it may still be restarting its instance) always does.
    pub fn set(&mut self, i: usize, state: State) {
        let failed = state.is_failure();
        let gave_up = matches!(state, State::GaveUp { .. });
        if let Some(item) = self.items.get_mut(i) {
            item.state = state;
            item.since = crate::store::now_rfc3339();
            if gave_up {
                let why = format!(
                    "stopped: the task of {} outlived the wait, and may still be restarting it",
                    item.plan.instance.id
                );
                self.stop(why);
                return;
            }
            if failed && self.limits.stop_on_failure {
                let why = format!(
                    "stopped after {} ended {} (--stop-on-failure)",
                    item.plan.instance.id,
                    item.state.word()
                );
                self.stop(why);
            }
        }
    }

    /// A poll of the task of change `i`.
    pub fn task(&mut self, i: usize, task: &Task) {
        let Some(item) = self.items.get(i) else {
            return;
        };
        let request_id = match &item.state {
            State::Running { request_id, .. } => Some(request_id.clone()),
            _ => None,
        };
        let state = if task.status.is_finished() {
            State::Ended {
                task_id: Some(task.task_id),
                request_id,
                status: task.status,
                message: task.message.clone(),
            }
        } else {
            State::Running {
                task_id: Some(task.task_id),
                request_id: request_id.unwrap_or_default(),
                status: Some(task.status),
                progress: task.progress,
            }
        };
        if item.state != state {
            self.set(i, state);
        }
    }

    /// Nothing is being sent or running, and nothing more will be sent.
    pub fn is_done(&self) -> bool {
        self.items.iter().all(|i| !i.state.is_restarting())
            && (self.stopped.is_some() || self.items.iter().all(|i| i.state != State::Waiting))
    }

    /// Once done: what was never sent says why.
    pub fn close(&mut self) {
        let why = self.stopped.clone().unwrap_or_else(|| "not sent".into());
        for i in 0..self.items.len() {
            if self.items[i].state == State::Waiting {
                self.items[i].state = State::NotSent { why: why.clone() };
            }
        }
    }

    /// When the run was interrupted: what was never sent says so (what was sent keeps
    /// its last state).
    pub fn close_interrupted(&mut self) {
        for item in &mut self.items {
            match item.state {
                State::Waiting => {
                    item.state = State::NotSent {
                        why: "interrupted before it was sent".into(),
                    };
                }
                // It may have left: the journal holds it, and a resume checks it.
                State::Sending => {
                    item.state = State::Unknown {
                        error: format!(
                            "interrupted while it was being sent: `{} ssl resume` checks it",
                            crate::hint::pgssl()
                        ),
                    };
                }
                _ => {}
            }
        }
    }

    /// The run's verdict, one contract with every command (`ops::exit`): done when every
    /// change succeeded or was found as asked; unknown (3) when some outcome is unknown or
    /// a task outlived the wait; failed (1) for any other change that did not succeed
    /// (a task that failed or paused, a refusal, a change never sent).
    pub fn verdict(&self) -> Result<(), crate::ops::OpsError> {
        let n = self.items.len();
        let unknown = self
            .items
            .iter()
            .filter(|i| matches!(i.state, State::Unknown { .. } | State::GaveUp { .. }))
            .count();
        let failed = self
            .items
            .iter()
            .filter(|i| !matches!(i.state.word(), "success" | "unchanged"))
            .count();
        if unknown > 0 {
            return Err(crate::ops::OpsError::Unchecked(format!(
                "{unknown} of {n} changes have an unknown outcome or were still running when waiting gave up: see `{} log`",
                crate::hint::pgssl()
            )));
        }
        if failed > 0 {
            return Err(crate::ops::OpsError::Failed(format!(
                "{failed} of {n} changes did not succeed (see the table)"
            )));
        }
        Ok(())
    }

    /// How many were never sent.
    pub fn unsent(&self) -> usize {
        self.items.iter().filter(|i| i.state.is_unsent()).count()
    }

    /// Sent, of which still running, and never sent.
    pub fn interrupted_counts(&self) -> (usize, usize, usize) {
        let unsent = self
            .items
            .iter()
            .filter(|i| matches!(i.state, State::NotSent { .. } | State::Waiting))
            .count();
        let running = self
            .items
            .iter()
            .filter(|i| i.state.is_restarting())
            .count();
        (self.items.len() - unsent, running, unsent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Instance, InstanceKind, InstanceStatus};
    use crate::ops::Target;

    fn item(id: &str, master: Option<&str>) -> Item {
        let mut instance = Instance::unread(id, "ap-singapore");
        instance.status = InstanceStatus::from_api("running");
        if let Some(m) = master {
            instance.kind = InstanceKind::ReadOnly;
            instance.master = Some(m.to_string());
        }
        Item::new(Plan {
            instance,
            target: Target::Off,
        })
    }

    fn running() -> State {
        State::Running {
            task_id: Some(1),
            request_id: "r".into(),
            status: None,
            progress: None,
        }
    }

    /// `n` primaries, unrelated.
    fn primaries(n: usize) -> Vec<Item> {
        (0..n)
            .map(|k| item(&format!("postgres-0000000{k}"), None))
            .collect()
    }

    fn ended(status: TaskStatus) -> State {
        State::Ended {
            task_id: Some(1),
            request_id: None,
            status,
            message: None,
        }
    }

    #[test]
    fn no_more_than_max_running_restart_at_once() {
        let items = primaries(5);
        let mut s = Schedule::new(
            items,
            Limits {
                max_running: Some(2),
                ..Limits::default()
            },
        );
        assert_eq!(s.next_to_send(), Some(0));
        assert_eq!(s.next_to_send(), Some(1));
        assert_eq!(s.next_to_send(), None, "two restarting");
        s.set(0, running());
        assert_eq!(s.next_to_send(), None, "sent is still restarting");
        s.set(0, ended(TaskStatus::Success));
        assert_eq!(s.next_to_send(), Some(2));
        assert!(!s.is_done());
    }

    #[test]
    fn a_primary_and_its_read_only_instances_wait_for_each_other() {
        let items = vec![
            item("postgres-aaaaaaaa", None),
            item("pgro-bbbbbbbb", Some("postgres-aaaaaaaa")),
            item("postgres-cccccccc", None),
        ];
        let mut s = Schedule::new(
            items.clone(),
            Limits {
                max_running: None,
                ..Limits::default()
            },
        );
        assert_eq!(s.next_to_send(), Some(0));
        assert_eq!(
            s.next_to_send(),
            Some(2),
            "the read-only instance waits; another family goes"
        );
        assert_eq!(s.next_to_send(), None);
        s.set(0, ended(TaskStatus::Success));
        assert_eq!(s.next_to_send(), Some(1));
        // Asked for: together.
        let mut s = Schedule::new(
            items,
            Limits {
                max_running: None,
                together: true,
                ..Limits::default()
            },
        );
        assert_eq!((s.next_to_send(), s.next_to_send()), (Some(0), Some(1)));
    }

    #[test]
    fn a_failure_stops_sending_when_asked_and_the_rest_say_why() {
        let items = primaries(4);
        let mut s = Schedule::new(
            items,
            Limits {
                max_running: Some(2),
                stop_on_failure: true,
                ..Limits::default()
            },
        );
        assert_eq!((s.next_to_send(), s.next_to_send()), (Some(0), Some(1)));
        s.set(0, ended(TaskStatus::Fail));
        assert_eq!(s.next_to_send(), None, "stopped");
        assert!(!s.is_done(), "the one still running is followed to its end");
        s.set(1, ended(TaskStatus::Success));
        assert!(s.is_done());
        s.close();
        assert!(
            matches!(&s.items[3].state, State::NotSent { why } if why.contains("postgres-00000000 ended fail")),
            "{:?}",
            s.items[3].state
        );
        // Without the flag a failure does not stop anything.
        let items = primaries(2);
        let mut s = Schedule::new(items, Limits::default());
        s.next_to_send();
        s.set(0, State::Refused { error: "no".into() });
        assert_eq!(s.next_to_send(), Some(1));
        // A task that outlived the wait may still be restarting: that stops sending always.
        let mut s = Schedule::new(primaries(3), Limits::default());
        s.next_to_send();
        s.set(
            0,
            State::GaveUp {
                task_id: Some(1),
                why: "still running".into(),
            },
        );
        assert_eq!(s.next_to_send(), None);
        assert!(
            s.stopped
                .as_deref()
                .is_some_and(|w| w.contains("outlived the wait"))
        );
    }
}
