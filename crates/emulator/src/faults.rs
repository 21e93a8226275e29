//! Fault injection for tests and rehearsals. Shares are applied deterministically
//! (a share of 0.5 hits every second matching request), so a run can be repeated.

use std::sync::atomic::{AtomicU64, Ordering};

use clap::{Args, ValueEnum};

/// How an emulated SSL task ends (TaskSet.Status: the five the API documents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
pub enum TaskEnd {
    /// The change is made.
    #[value(skip)]
    Success,
    /// The change failed (`--task-fail`).
    #[value(skip)]
    Fail,
    /// Ended paused: the change is not made.
    Pause,
    /// Waiting for a switch window: not ended, the change not made yet.
    #[value(name = "waitswitch")]
    WaitSwitch,
}

use pgssl_wire::Action;

#[derive(Debug, Clone, Args)]
pub struct FaultArgs {
    /// Delay every reply by this many milliseconds
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Replace a share of replies with this API error code (e.g. InternalError); the action is not carried out
    #[arg(long, value_name = "CODE")]
    pub fail_with: Option<String>,
    /// Share of requests that get --fail-with (0 to 1)
    #[arg(long, value_name = "SHARE", default_value_t = 1.0)]
    pub fail_share: f64,
    /// Share of requests whose connection is dropped after the request was read and carried out
    #[arg(long, value_name = "SHARE", default_value_t = 0.0)]
    pub drop_share: f64,
    /// Share of replies cut in half (invalid JSON), after the action was carried out
    #[arg(long, value_name = "SHARE", default_value_t = 0.0)]
    pub truncate_share: f64,
    /// Share of replies replaced by an HTML page, after the action was carried out
    #[arg(long, value_name = "SHARE", default_value_t = 0.0)]
    pub non_json_share: f64,
    /// Reply with this HTTP status instead of 200, after the action was carried out
    #[arg(long, value_name = "STATUS")]
    pub http_status: Option<u16>,
    /// Share of requests that get --http-status
    #[arg(long, value_name = "SHARE", default_value_t = 1.0)]
    pub http_status_share: f64,
    /// Tasks end Fail instead of Success (the SSL state does not change)
    #[arg(long, conflicts_with = "task_status")]
    pub task_fail: bool,
    /// Only the SSL tasks of this instance end Fail (repeatable): a rehearsal of one
    /// failure in a bulk run
    #[arg(
        long = "task-fail-for",
        value_name = "INSTANCE",
        conflicts_with = "task_fail"
    )]
    pub task_fail_for: Vec<String>,
    /// Tasks end in this status instead of Success: pause (ended, SSL unchanged) or
    /// waitswitch (waiting for a switch window: not ended, SSL unchanged)
    #[arg(long, value_name = "STATUS", value_enum)]
    pub task_status: Option<TaskEnd>,
    /// A task appears in DescribeTasks only this many seconds after the change returned
    /// its TaskId (the real API lags; Terraform retries an empty TaskSet for this)
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub task_listed_after: u32,
    /// Pretend the emulator's clock is off by this many seconds (tests clock-skew errors)
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 0,
        allow_hyphen_values = true
    )]
    pub clock_offset: i64,
    /// Only these actions get faults (repeatable; default: every action)
    #[arg(long = "fault-action", value_name = "ACTION")]
    pub fault_actions: Vec<String>,
}

impl Default for FaultArgs {
    /// The same defaults as the command line: no faults.
    fn default() -> Self {
        FaultArgs {
            latency_ms: 0,
            fail_with: None,
            fail_share: 1.0,
            drop_share: 0.0,
            truncate_share: 0.0,
            non_json_share: 0.0,
            http_status: None,
            http_status_share: 1.0,
            task_fail: false,
            task_fail_for: Vec::new(),
            task_status: None,
            task_listed_after: 0,
            clock_offset: 0,
            fault_actions: Vec::new(),
        }
    }
}

/// What to do to one reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    None,
    /// Reply with the configured error instead of carrying out the action.
    Fail,
    /// Carry out the action, then close the connection without a reply.
    Drop,
    /// Carry out the action, then send half the JSON.
    Truncate,
    /// Carry out the action, then send an HTML page.
    NonJson,
    /// Carry out the action, then send the configured HTTP status.
    Status(u16),
}

#[derive(Debug, Default)]
pub struct Faults {
    pub args: FaultArgs,
    actions: Vec<Action>,
    counter: AtomicU64,
}

impl Faults {
    pub fn new(args: FaultArgs) -> Result<Faults, String> {
        for (name, share) in [
            ("--fail-share", args.fail_share),
            ("--drop-share", args.drop_share),
            ("--truncate-share", args.truncate_share),
            ("--non-json-share", args.non_json_share),
            ("--http-status-share", args.http_status_share),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return Err(format!("{name} must be between 0 and 1"));
            }
        }
        if let Some(code) = &args.fail_with
            && (code.is_empty() || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.'))
        {
            return Err("--fail-with takes an error code such as InternalError or FailedOperation.DatabaseAccessError".into());
        }
        if args.clock_offset.unsigned_abs() > 10 * 365 * 86_400 {
            return Err("--clock-offset must be within ten years (315360000 seconds)".into());
        }
        if let Some(status) = args.http_status
            && !(100..=599).contains(&status)
        {
            return Err("--http-status must be an HTTP status between 100 and 599".into());
        }
        let actions = args
            .fault_actions
            .iter()
            .map(|a| {
                Action::from_name(a).ok_or_else(|| {
                    format!(
                        "--fault-action {}: unknown action; use one of {}",
                        pgssl_wire::text::sanitize(a),
                        Action::ALL.map(Action::name).join(", ")
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Faults {
            args,
            actions,
            counter: AtomicU64::new(0),
        })
    }

    pub fn applies_to(&self, action: Action) -> bool {
        self.actions.is_empty() || self.actions.contains(&action)
    }

    /// True for a share `share` of calls, spread evenly and starting with the first:
    /// the k-th call hits when ceil(k * share) moves (0.5 hits calls 1, 3, 5, ...).
    /// With `share` in 0..=1 that value never goes down, so "moves" is "goes up".
    fn hit(k: u64, share: f64) -> bool {
        // f64 holds every u32 exactly; no emulator run gets near 2^32 calls, and past that
        // the faults would simply stop.
        let Ok(k) = u32::try_from(k) else {
            return false;
        };
        share > 0.0 && (f64::from(k) * share).ceil() > (f64::from(k - 1) * share).ceil()
    }

    /// Decide the damage for the next request of `action`.
    pub fn decide(&self, action: Action) -> Damage {
        if !self.applies_to(action) {
            return Damage::None;
        }
        let k = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let a = &self.args;
        if a.fail_with.is_some() && Self::hit(k, a.fail_share) {
            Damage::Fail
        } else if Self::hit(k, a.drop_share) {
            Damage::Drop
        } else if Self::hit(k, a.truncate_share) {
            Damage::Truncate
        } else if Self::hit(k, a.non_json_share) {
            Damage::NonJson
        } else if let Some(s) = a.http_status.filter(|_| Self::hit(k, a.http_status_share)) {
            Damage::Status(s)
        } else {
            Damage::None
        }
    }

    /// How an SSL task on `instance` ends.
    pub fn task_end(&self, instance: &str) -> TaskEnd {
        if self.args.task_fail_for.iter().any(|i| i == instance) {
            return TaskEnd::Fail;
        }
        match (self.args.task_fail, self.args.task_status) {
            (true, _) => TaskEnd::Fail,
            (false, Some(end)) => end,
            (false, None) => TaskEnd::Success,
        }
    }

    pub fn task_listed_after(&self) -> i64 {
        i64::from(self.args.task_listed_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_spread_evenly_and_scoped_to_actions() {
        let f = Faults::new(FaultArgs {
            drop_share: 0.5,
            fault_actions: vec!["ModifyDBInstanceSSLConfig".into()],
            ..Default::default()
        })
        .expect("valid");
        let hits: Vec<bool> = (0..6)
            .map(|_| f.decide(Action::ModifyDBInstanceSSLConfig) == Damage::Drop)
            .collect();
        assert_eq!(hits, [true, false, true, false, true, false]);
        assert_eq!(f.decide(Action::DescribeTasks), Damage::None);
        let all = Faults::new(FaultArgs {
            fail_with: Some("InternalError".into()),
            ..Default::default()
        })
        .expect("valid");
        assert!((0..5).all(|_| all.decide(Action::DescribeRegions) == Damage::Fail));
    }

    #[test]
    fn bad_fault_options_are_refused() {
        assert!(
            Faults::new(FaultArgs {
                drop_share: 2.0,
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            Faults::new(FaultArgs {
                fault_actions: vec!["Nope".into()],
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            Faults::new(FaultArgs {
                fail_with: Some("bad code!".into()),
                ..Default::default()
            })
            .is_err()
        );
    }
}
