//! Records folded into changes: each request with everything later learned about it.

use super::{CensusSeen, CheckSeen, Entry, Record, TaskSeen, VerifySeen};

/// Fold records into entries, oldest first. Records about unknown ids are ignored.
pub fn fold(records: Vec<Record>) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for record in records {
        if let Record::Request(request) = record {
            // A rotation carries unresolved changes forward: the copy is the same change.
            if index.contains_key(&request.id) {
                continue;
            }
            index.insert(request.id.clone(), entries.len());
            entries.push(Entry {
                request,
                outcome: None,
                task: None,
                check: None,
                verify: None,
                census: None,
            });
            continue;
        }
        let Some(&i) = index.get(record.id()) else {
            continue;
        };
        let entry = &mut entries[i];
        match record {
            Record::Outcome { outcome, .. } => entry.outcome = Some(outcome),
            Record::Task {
                TaskId,
                Status,
                Progress,
                time,
                CurrentStep,
                Message,
                ..
            } => {
                entry.task = Some(TaskSeen {
                    task_id: TaskId,
                    status: Status,
                    progress: Progress,
                    time,
                    step: CurrentStep,
                    message: Message,
                });
            }
            Record::Check {
                result,
                detail,
                time,
                ..
            } => {
                entry.check = Some(CheckSeen {
                    result,
                    detail,
                    time,
                });
            }
            Record::Verify {
                address,
                result,
                detail,
                time,
                ..
            } => {
                entry.verify = Some(VerifySeen {
                    address,
                    result,
                    detail,
                    time,
                });
            }
            Record::Census {
                connections,
                tls,
                plaintext,
                hidden,
                verdict,
                time,
                ..
            } => {
                entry.census = Some(CensusSeen {
                    connections,
                    tls,
                    plaintext,
                    hidden,
                    verdict,
                    time,
                });
            }
            Record::Request(_) => {}
        }
    }
    entries
}
