//! The changes whose outcome is still unknown, kept in `journal.pending.json` so the
//! check before every send reads a few records, not years of journal.
//!
//! The file is derived, never the truth: it names the journal file it describes (inode)
//! and how far it has read (offset). Each use, under the journal's lock, folds in only the
//! records appended since; a missing, damaged or foreign file is rebuilt from the current
//! journal file, which holds every unresolved change because a rotation carries them
//! forward.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Entry, Journal, Outcome, Record};

/// Bumped when the index holds something new (2: changes still running).
const INDEX_VERSION: u32 = 2;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    /// What the index holds: an index of an earlier pgssl (no `running`) is rebuilt.
    #[serde(default)]
    version: u32,
    inode: u64,
    offset: u64,
    pending: BTreeMap<String, Entry>,
    /// Changes the API accepted whose task was not yet seen to end: what pgssl follows
    /// when it starts again (an older index without it is rebuilt with it).
    #[serde(default)]
    running: BTreeMap<String, Entry>,
}

fn index_path(journal: &Journal) -> PathBuf {
    journal.path.with_extension("pending.json")
}

fn load(journal: &Journal) -> Index {
    crate::store::bounded::read(&index_path(journal), crate::store::caps::INDEX)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn store(journal: &Journal, index: &Index) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(index).map_err(std::io::Error::other)?;
    crate::store::write_atomic(&index_path(journal), &bytes)
}

/// Fold `records` (appended after what `index` covers) into it.
fn fold_into(index: &mut Index, records: impl IntoIterator<Item = Record>) {
    for record in records {
        match record {
            Record::Request(request) => {
                index.pending.entry(request.id.clone()).or_insert(Entry {
                    request,
                    outcome: None,
                    task: None,
                    check: None,
                    verify: None,
                });
            }
            Record::Outcome { id, outcome, .. } => match outcome {
                ok @ Outcome::Ok {
                    TaskId: Some(_), ..
                } => {
                    if let Some(mut e) = index.pending.remove(&id) {
                        e.outcome = Some(ok);
                        index.running.insert(id, e);
                    }
                }
                Outcome::Ok { .. } | Outcome::Error { .. } => {
                    index.pending.remove(&id);
                }
                unknown @ Outcome::Unknown { .. } => {
                    if let Some(e) = index.pending.get_mut(&id) {
                        e.outcome = Some(unknown);
                    }
                }
            },
            Record::Check {
                id,
                time,
                result,
                detail,
            } => {
                if let Some(e) = index.pending.get_mut(&id) {
                    e.check = Some(super::CheckSeen {
                        result,
                        detail,
                        time,
                    });
                    if !e.is_unresolved_unknown() {
                        index.pending.remove(&id);
                    }
                }
            }
            Record::Task {
                id,
                time,
                TaskId,
                Status,
                Progress,
            } => {
                if Status.is_finished() {
                    index.running.remove(&id);
                } else if let Some(e) = index.running.get_mut(&id) {
                    e.task = Some(super::TaskSeen {
                        task_id: TaskId,
                        status: Status,
                        progress: Progress,
                        time,
                    });
                }
            }
            Record::Verify { .. } => {}
        }
    }
}

/// Bring the index up to date with `file` (the current journal file, locked by the
/// caller) and return every unresolved change and every change still running, oldest
/// first.
pub(super) fn refresh_locked(
    journal: &Journal,
    file: &File,
) -> std::io::Result<(Vec<Entry>, Vec<Entry>)> {
    let meta = file.metadata()?;
    let mut index = load(journal);
    if index.inode != meta.ino() || index.offset > meta.len() || index.version != INDEX_VERSION {
        index = Index {
            version: INDEX_VERSION,
            inode: meta.ino(),
            ..Index::default()
        };
    }
    if index.offset < meta.len() {
        let mut reader = file;
        reader.seek(SeekFrom::Start(index.offset))?;
        let mut tail = Vec::new();
        reader
            .take(meta.len() - index.offset)
            .read_to_end(&mut tail)?;
        let records = tail
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .filter_map(|l| serde_json::from_slice::<Record>(l).ok());
        fold_into(&mut index, records);
        index.offset = meta.len();
        // Best effort: without the index the next check reads the file again.
        let _ = store(journal, &index);
    }
    let mut pending: Vec<Entry> = index.pending.into_values().collect();
    pending.sort_by(|a, b| a.request.time.cmp(&b.request.time));
    let mut running: Vec<Entry> = index.running.into_values().collect();
    running.sort_by(|a, b| a.request.time.cmp(&b.request.time));
    Ok((pending, running))
}

/// After a rotation: the new current file starts with exactly `pending`.
pub(super) fn reset_locked(
    journal: &Journal,
    file: &File,
    pending: Vec<Entry>,
    running: Vec<Entry>,
) -> std::io::Result<()> {
    let meta = file.metadata()?;
    let by_id = |v: Vec<Entry>| v.into_iter().map(|e| (e.request.id.clone(), e)).collect();
    let index = Index {
        version: INDEX_VERSION,
        inode: meta.ino(),
        offset: meta.len(),
        pending: by_id(pending),
        running: by_id(running),
    };
    store(journal, &index)
}

impl Journal {
    /// The changes to `instance_id` whose outcome is still unknown, oldest first: what must
    /// be checked before anything new is sent to it. Reads only what was appended since the
    /// last look.
    pub fn unresolved(&self, instance_id: &str) -> std::io::Result<Vec<Entry>> {
        if !self.path.exists() {
            return Ok(Vec::new());
        }
        let file = self.lock_current()?;
        let result = refresh_locked(self, &file);
        let _ = file.unlock();
        Ok(result?
            .0
            .into_iter()
            .filter(|e| e.request.DBInstanceId == instance_id)
            .collect())
    }

    /// Every change not known to have ended: outcome unknown and unsettled, or accepted
    /// with a task not yet seen to end; oldest first. Reads only what was appended since
    /// the last look (the index), however long the journal.
    pub fn unfinished(&self) -> std::io::Result<Vec<Entry>> {
        if !self.path.exists() {
            return Ok(Vec::new());
        }
        let file = self.lock_current()?;
        let result = refresh_locked(self, &file);
        let _ = file.unlock();
        let (mut all, running) = result?;
        all.extend(running);
        all.sort_by(|a, b| a.request.time.cmp(&b.request.time));
        Ok(all)
    }
}
