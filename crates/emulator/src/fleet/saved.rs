//! What a running fleet has changed (SSL states, the SSL tasks it ran, the next TaskId),
//! kept between runs by `--demo` so a change made in one run is seen by the next.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::{Fleet, SSLConfig, Task};
use crate::faults::TaskEnd;

/// What changes in a running fleet (SSL states, the SSL tasks the emulator ran, the next
/// TaskId), kept between runs by `--demo` so a change made in one run is seen by the next.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedState {
    pub ssl: Vec<SSLConfig>,
    pub tasks: Vec<SavedTask>,
    pub next_task_id: i64,
}

/// An SSL task the emulator ran (times in seconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedTask {
    pub id: i64,
    pub instance_id: String,
    pub region: String,
    pub started: i64,
    pub listed_from: i64,
    pub duration: i64,
    pub target: Option<SSLConfig>,
    pub end: TaskEnd,
    pub finished: Option<i64>,
}

impl Fleet {
    /// What a later run needs to go on from here.
    pub fn saved_state(&self) -> SavedState {
        let mut ssl: Vec<SSLConfig> = self.ssl.values().cloned().collect();
        ssl.sort_by(|a, b| a.DBInstanceId.cmp(&b.DBInstanceId));
        SavedState {
            ssl,
            tasks: self
                .tasks
                .iter()
                .filter(|t| t.given.is_none())
                .map(|t| SavedTask {
                    id: t.id,
                    instance_id: t.instance_id.clone(),
                    region: t.region.clone(),
                    started: t.started,
                    listed_from: t.listed_from,
                    duration: t.duration,
                    target: t.target.clone(),
                    end: t.end,
                    finished: t.finished,
                })
                .collect(),
            next_task_id: self.next_task_id,
        }
    }

    /// Go on from a saved state: its SSL states and tasks replace the fleet file's (tasks
    /// of other operations stay as the file gives them); an instance whose task has not
    /// ended is restarting until `advance` ends it. Entries about instances the fleet does
    /// not have are dropped.
    pub fn restore(&mut self, saved: SavedState, now: i64) {
        let known: HashSet<String> = self.instances.iter().map(|i| i.id().to_string()).collect();
        for s in saved
            .ssl
            .into_iter()
            .filter(|s| known.contains(&s.DBInstanceId))
        {
            self.ssl.insert(s.DBInstanceId.clone(), s);
        }
        let mut max_id = self.next_task_id - 1;
        for t in saved
            .tasks
            .into_iter()
            .filter(|t| known.contains(&t.instance_id))
        {
            max_id = max_id.max(t.id);
            if t.finished.is_none()
                && let Some(i) = self.instances.iter_mut().find(|i| i.id() == t.instance_id)
            {
                i.DBInstanceStatus = Some("restarting".into());
            }
            self.tasks.push(Task {
                id: t.id,
                instance_id: t.instance_id,
                region: t.region,
                task_type: "ModifyDBInstanceSSLConfig".into(),
                started: t.started,
                listed_from: t.listed_from,
                duration: t.duration,
                target: t.target,
                end: t.end,
                finished: t.finished,
                given: None,
            });
        }
        self.next_task_id = saved.next_task_id.max(max_id + 1);
        self.advance(now);
    }
}
