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

/// Bumped when the index holds something new (2: changes still running; 3: the latest
/// change of each instance).
const INDEX_VERSION: u32 = 3;

#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Index {
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
    /// The latest change sent to each instance (by DBInstanceId): what a send checks to
    /// tell whether another run or process changed it since a plan was read.
    #[serde(default)]
    latest: BTreeMap<String, Latest>,
}

/// The latest change journaled for one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latest {
    /// Its journal id.
    pub id: String,
    /// When it was journaled (RFC 3339).
    pub time: String,
    /// The bulk run it belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// The API refused it: nothing was changed by it.
    #[serde(default)]
    pub refused: bool,
}

impl Index {
    /// What the journal holds about one instance.
    pub fn of(&self, instance_id: &str) -> InstanceView<'_> {
        InstanceView {
            pending: of_instance(&self.pending, instance_id),
            running: of_instance(&self.running, instance_id),
            latest: self.latest.get(instance_id),
        }
    }

    /// Every change of unknown outcome and every change still running, oldest first.
    pub fn open(&self) -> (Vec<Entry>, Vec<Entry>) {
        let sorted = |m: &BTreeMap<String, Entry>| {
            let mut v: Vec<Entry> = m.values().cloned().collect();
            v.sort_by(|a, b| a.request.time.cmp(&b.request.time));
            v
        };
        (sorted(&self.pending), sorted(&self.running))
    }
}

/// The entries of `m` about one instance, oldest first.
fn of_instance<'a>(m: &'a BTreeMap<String, Entry>, instance_id: &str) -> Vec<&'a Entry> {
    let mut v: Vec<&Entry> = m
        .values()
        .filter(|e| e.request.DBInstanceId == instance_id)
        .collect();
    v.sort_by(|a, b| a.request.time.cmp(&b.request.time));
    v
}

/// What the journal holds about one instance, read under its lock.
#[derive(Debug)]
pub struct InstanceView<'a> {
    /// Changes to it whose outcome is not known yet (a reply not in, a lost one).
    pub pending: Vec<&'a Entry>,
    /// Changes to it whose task was not yet seen to end.
    pub running: Vec<&'a Entry>,
    pub latest: Option<&'a Latest>,
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

/// How much journal the index may lag behind its file before it is written again.
const KEEP_AFTER: u64 = 64 << 10;

/// Written whole and renamed over (readers see the old or the new one), but not fsynced:
/// it is derived, and rebuilt from the journal when a crash loses it. An fsync per change
/// sent would cost more than the send (it is rewritten before every request line).
fn store(journal: &Journal, index: &Index) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let bytes = serde_json::to_vec(index).map_err(std::io::Error::other)?;
    let path = index_path(journal);
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let tmp = dir.join(format!(
        ".journal.pending.json.tmp.{}.{:x}",
        std::process::id(),
        crate::ids::random_u64()
    ));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(&bytes))
        .and_then(|()| std::fs::rename(&tmp, &path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Fold `records` (appended after what `index` covers) into it.
fn fold_into(index: &mut Index, records: impl IntoIterator<Item = Record>) {
    for record in records {
        match record {
            Record::Request(request) => {
                if request.action == crate::api::Action::ModifyDBInstanceSSLConfig {
                    let newer = index
                        .latest
                        .get(&request.DBInstanceId)
                        .is_none_or(|l| l.time <= request.time);
                    if newer {
                        index.latest.insert(
                            request.DBInstanceId.clone(),
                            Latest {
                                id: request.id.clone(),
                                time: request.time.clone(),
                                run: request.run.clone(),
                                refused: false,
                            },
                        );
                    }
                }
                index.pending.entry(request.id.clone()).or_insert(Entry {
                    request,
                    outcome: None,
                    task: None,
                    check: None,
                    verify: None,
                    census: None,
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
                Outcome::Ok { .. } => {
                    index.pending.remove(&id);
                }
                Outcome::Error { .. } => {
                    if let Some(e) = index.pending.remove(&id)
                        && let Some(l) = index.latest.get_mut(&e.request.DBInstanceId)
                        && l.id == id
                    {
                        l.refused = true;
                    }
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
                CurrentStep,
                Message,
            } => {
                if Status.is_finished() {
                    index.running.remove(&id);
                } else if let Some(e) = index.running.get_mut(&id) {
                    e.task = Some(super::TaskSeen {
                        task_id: TaskId,
                        status: Status,
                        progress: Progress,
                        time,
                        step: CurrentStep,
                        message: Message,
                    });
                }
            }
            Record::Verify { .. } | Record::Census { .. } => {}
        }
    }
}

/// Bring the index up to date with `file` (the current journal file, locked by the
/// caller) and look at it with `f`. The index lives in memory between looks (shared by
/// the clones of this `Journal`), so a look costs what was appended since the last one,
/// by this process or another; it is read from disk only when this process has none for
/// the current file, and written back once it lags the file by `KEEP_AFTER`.
pub(super) fn refresh_locked<R>(
    journal: &Journal,
    file: &File,
    f: impl FnOnce(&Index) -> R,
) -> std::io::Result<R> {
    let meta = file.metadata()?;
    let mut cache = match journal.index.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    let fits =
        |i: &Index| i.inode == meta.ino() && i.offset <= meta.len() && i.version == INDEX_VERSION;
    let mut index = match cache.take() {
        Some(i) if fits(&i) => i,
        _ => {
            let i = load(journal);
            if fits(&i) {
                i
            } else {
                Index {
                    version: INDEX_VERSION,
                    inode: meta.ino(),
                    ..Index::default()
                }
            }
        }
    };
    let kept = journal
        .kept_offset
        .load(std::sync::atomic::Ordering::SeqCst);
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
    }
    // Kept on disk once it lags what was last kept by `KEEP_AFTER` (or never was, for
    // this file): the next process starts from it. Best effort: without it, the next
    // process reads more of the journal.
    if (kept > index.offset || index.offset - kept > KEEP_AFTER || kept == 0)
        && store(journal, &index).is_ok()
    {
        journal
            .kept_offset
            .store(index.offset.max(1), std::sync::atomic::Ordering::SeqCst);
    }
    let result = f(&index);
    *cache = Some(index);
    Ok(result)
}

/// After a rotation: the new current file starts with exactly `pending` and `running`,
/// and the latest change of each instance carries over.
pub(super) fn reset_locked(
    journal: &Journal,
    file: &File,
    (pending, running): (Vec<Entry>, Vec<Entry>),
) -> std::io::Result<()> {
    let meta = file.metadata()?;
    let latest = match journal.index.lock() {
        Ok(mut g) => g.take().map(|i| i.latest).unwrap_or_default(),
        Err(p) => p.into_inner().take().map(|i| i.latest).unwrap_or_default(),
    };
    let by_id = |v: Vec<Entry>| v.into_iter().map(|e| (e.request.id.clone(), e)).collect();
    let index = Index {
        version: INDEX_VERSION,
        inode: meta.ino(),
        offset: meta.len(),
        pending: by_id(pending),
        running: by_id(running),
        latest,
    };
    store(journal, &index)?;
    journal
        .kept_offset
        .store(index.offset.max(1), std::sync::atomic::Ordering::SeqCst);
    if let Ok(mut g) = journal.index.lock() {
        *g = Some(index);
    }
    Ok(())
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
        let result = refresh_locked(self, &file, |index| {
            index.of(instance_id).pending.into_iter().cloned().collect()
        });
        let _ = file.unlock();
        result
    }

    /// Every change not known to have ended: outcome unknown and unsettled, or accepted
    /// with a task not yet seen to end; oldest first. Reads only what was appended since
    /// the last look (the index), however long the journal.
    pub fn unfinished(&self) -> std::io::Result<Vec<Entry>> {
        if !self.path.exists() {
            return Ok(Vec::new());
        }
        let file = self.lock_current()?;
        let result = refresh_locked(self, &file, Index::open);
        let _ = file.unlock();
        let (mut all, running) = result?;
        all.extend(running);
        all.sort_by(|a, b| a.request.time.cmp(&b.request.time));
        Ok(all)
    }
}
