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

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    inode: u64,
    offset: u64,
    pending: BTreeMap<String, Entry>,
}

fn index_path(journal: &Journal) -> PathBuf {
    journal.path.with_extension("pending.json")
}

fn load(journal: &Journal) -> Index {
    std::fs::read(index_path(journal))
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
            Record::Task { .. } | Record::Verify { .. } => {}
        }
    }
}

/// Bring the index up to date with `file` (the current journal file, locked by the
/// caller) and return every unresolved change, oldest first.
pub(super) fn refresh_locked(journal: &Journal, file: &File) -> std::io::Result<Vec<Entry>> {
    let meta = file.metadata()?;
    let mut index = load(journal);
    if index.inode != meta.ino() || index.offset > meta.len() {
        index = Index {
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
    Ok(pending)
}

/// After a rotation: the new current file starts with exactly `pending`.
pub(super) fn reset_locked(
    journal: &Journal,
    file: &File,
    pending: Vec<Entry>,
) -> std::io::Result<()> {
    let meta = file.metadata()?;
    let index = Index {
        inode: meta.ino(),
        offset: meta.len(),
        pending: pending
            .into_iter()
            .map(|e| (e.request.id.clone(), e))
            .collect(),
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
            .into_iter()
            .filter(|e| e.request.DBInstanceId == instance_id)
            .collect())
    }
}
