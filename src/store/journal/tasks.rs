//! Where each task's change lies in the journal, kept in `journal.tasks.json`, so
//! `pgssl task show N` reads that change's lines and not the whole journal (a 100 MB one
//! took 1.5 s and 289 MB), and a TaskId nobody knows costs the index alone.
//!
//! Derived like the pending index, never the truth: it names the files it has folded in
//! (by inode, oldest first) and how far into the last one it read. Each look, under the
//! journal's lock, folds in only what was appended since (the rest of a file rotated away
//! meanwhile, then the files after it). An index that is missing, damaged, of another
//! version, or whose files are no longer the journal's first files, is rebuilt by reading
//! every file once, a line at a time.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::{Entry, Journal, Outcome, Record, fold};

/// Bumped when the index's meaning changes: an index of another version is rebuilt.
const INDEX_VERSION: u32 = 1;

/// A line's place: which of `Index::files`, and the byte offset where the line starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct At(usize, u64);

/// One task's change: its id, and where the lines about it lie, file by file: from the
/// first to the last in each, both included. Mostly one file; a change still unsettled
/// when the journal rotated is restated at the start of the next file, and that copy is
/// a short range of its own, so the change never costs what lies in between.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Span(String, Vec<(usize, u64, u64)>);

impl Span {
    fn new(id: String, first: At, at: At) -> Span {
        let mut span = Span(id, vec![(first.0, first.1, first.1)]);
        span.reach(at);
        span
    }

    /// Take in a line about the change at `at`.
    fn reach(&mut self, at: At) {
        match self.1.last_mut() {
            Some(last) if last.0 == at.0 => last.2 = at.1,
            _ => self.1.push((at.0, at.1, at.1)),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Index {
    version: u32,
    /// The inodes of the files folded in, oldest first; the last was the current file.
    files: Vec<u64>,
    /// How far into the last of `files` the index has read.
    offset: u64,
    /// TaskId -> its change (the latest change, should two share a TaskId).
    tasks: BTreeMap<i64, Span>,
    /// Changes whose request was seen and no task yet (an outcome still unknown may yet
    /// find one): change id -> its request.
    open: BTreeMap<String, At>,
}

/// How far back from the journal's end a look goes before it asks the index: the last
/// few hundred changes, where `task show` right after a change finds its task at once
/// (a few milliseconds; the index costs more to open when it is large).
pub(super) const TAIL: u64 = 256 << 10;

/// How much of the journal a look read: what `task show` costs (tests hold it to that).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cost {
    /// Bytes read back from the end before the index was asked.
    pub tail: u64,
    /// Bytes folded into the index (what was appended since the last look).
    pub folded: u64,
    /// Bytes of the task's own span read.
    pub span: u64,
}

fn index_path(journal: &Journal) -> PathBuf {
    journal.path.with_extension("tasks.json")
}

fn load(journal: &Journal) -> Option<Index> {
    crate::store::bounded::read(&index_path(journal), crate::store::caps::INDEX)
        .ok()
        .and_then(|b| serde_json::from_slice::<Index>(&b).ok())
        .filter(|i| i.version == INDEX_VERSION)
}

/// What a look needs of the index when the journal has not grown since it was folded:
/// which files it covers and how far, and the one task asked for. Every other task is
/// skipped unparsed, so opening an index of 100,000 tasks costs a scan of its bytes.
struct Peek {
    version: u32,
    files: Vec<u64>,
    offset: u64,
    span: Option<Span>,
}

impl Peek {
    /// Whether the index covers exactly the journal's files as they are now.
    fn covers(&self, files: &[(u64, PathBuf)]) -> bool {
        self.version == INDEX_VERSION
            && self.files.len() == files.len()
            && self.files.iter().zip(files).all(|(a, (b, _))| a == b)
            && files
                .last()
                .and_then(|(_, p)| std::fs::metadata(p).ok())
                .is_some_and(|m| m.len() == self.offset)
    }
}

fn peek(journal: &Journal, task_id: i64) -> Option<Peek> {
    let bytes =
        crate::store::bounded::read(&index_path(journal), crate::store::caps::INDEX).ok()?;
    let mut reader = serde_json::Deserializer::from_slice(&bytes);
    let peek = PeekSeed(task_id).deserialize(&mut reader).ok()?;
    reader.end().ok()?;
    Some(peek)
}

/// Reads an `Index` as a `Peek` for one TaskId.
struct PeekSeed(i64);

impl<'de> DeserializeSeed<'de> for PeekSeed {
    type Value = Peek;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Peek, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PeekSeed {
    type Value = Peek;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a task index")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Peek, A::Error> {
        let mut peek = Peek {
            version: 0,
            files: Vec::new(),
            offset: 0,
            span: None,
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "version" => peek.version = map.next_value()?,
                "files" => peek.files = map.next_value()?,
                "offset" => peek.offset = map.next_value()?,
                "tasks" => peek.span = map.next_value_seed(OneTask(self.0))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(peek)
    }
}

/// Reads the index's tasks, keeping one.
struct OneTask(i64);

impl<'de> DeserializeSeed<'de> for OneTask {
    type Value = Option<Span>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Span>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OneTask {
    type Value = Option<Span>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the tasks of a task index")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Span>, A::Error> {
        let mut found = None;
        while let Some(task) = map.next_key::<i64>()? {
            if task == self.0 {
                found = Some(map.next_value::<Span>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

fn store(journal: &Journal, index: &Index) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(index).map_err(std::io::Error::other)?;
    crate::store::write_atomic(&index_path(journal), &bytes)
}

/// The journal's files as they are now, oldest first, with their inodes.
fn on_disk(journal: &Journal) -> Vec<(u64, PathBuf)> {
    journal
        .files()
        .into_iter()
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.ino(), p)))
        .collect()
}

/// Every line of `path` from `from` to its end (or through the line starting at `until`),
/// with where each starts. Returns the offset after the last line read.
fn lines(
    path: &std::path::Path,
    from: u64,
    until: Option<u64>,
    mut each: impl FnMut(u64, &[u8]),
) -> std::io::Result<u64> {
    let mut file = super::open_segment(path)?;
    file.seek(SeekFrom::Start(from))?;
    let mut reader = BufReader::new(file);
    let mut at = from;
    let mut line = Vec::new();
    loop {
        if until.is_some_and(|u| at > u) {
            return Ok(at);
        }
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(at);
        }
        each(at, &line);
        at += n as u64;
    }
}

impl Default for Index {
    /// An index of nothing yet, of this version.
    fn default() -> Index {
        Index {
            version: INDEX_VERSION,
            files: Vec::new(),
            offset: 0,
            tasks: BTreeMap::new(),
            open: BTreeMap::new(),
        }
    }
}

impl Index {
    /// Fold one record, whose line is at `at`, in. `ids` maps each indexed change to its
    /// TaskId.
    fn fold(&mut self, ids: &mut HashMap<String, i64>, at: At, record: &Record) {
        let task = match record {
            Record::Outcome {
                outcome: Outcome::Ok {
                    TaskId: Some(t), ..
                },
                ..
            }
            | Record::Task { TaskId: t, .. } => Some(*t),
            _ => None,
        };
        let id = record.id().to_string();
        if let Record::Request(_) = record {
            // A rotation carries an unfinished change forward: the first request stays.
            if !ids.contains_key(&id) {
                self.open.entry(id).or_insert(at);
            }
            return;
        }
        if let (Some(t), Some(first)) = (task, self.open.get(&id).copied()) {
            self.open.remove(&id);
            if let Some(old) = self.tasks.insert(t, Span::new(id.clone(), first, at)) {
                ids.remove(&old.0);
            }
            ids.insert(id, t);
            return;
        }
        if matches!(
            record,
            Record::Outcome {
                outcome: Outcome::Ok { .. } | Outcome::Error { .. },
                ..
            }
        ) {
            // Answered without a task (or refused): no task will ever name it.
            self.open.remove(&id);
        }
        if let Some(span) = ids.get(&id).and_then(|t| self.tasks.get_mut(t)) {
            span.reach(at);
        }
    }

    /// Fold in what the journal holds beyond what the index covers; the bytes read.
    fn catch_up(&mut self, files: &[(u64, PathBuf)]) -> std::io::Result<u64> {
        let covered = self.files.len();
        let fits = files.len() >= covered
            && self
                .files
                .iter()
                .zip(files)
                .all(|(known, (ino, _))| known == ino)
            && covered.checked_sub(1).is_none_or(|last| {
                std::fs::metadata(&files[last].1).is_ok_and(|m| m.len() >= self.offset)
            });
        if !fits {
            *self = Index::default();
        }
        let mut ids: HashMap<String, i64> =
            self.tasks.iter().map(|(t, s)| (s.0.clone(), *t)).collect();
        let start = self.files.len().saturating_sub(1);
        let mut read = 0;
        for (n, (ino, path)) in files.iter().enumerate().skip(start) {
            let from = if n < self.files.len() {
                self.offset
            } else {
                self.files.push(*ino);
                0
            };
            let end = lines(path, from, None, |offset, line| {
                if let Ok(r) = serde_json::from_slice::<Record>(line) {
                    self.fold(&mut ids, At(n, offset), &r);
                }
            })?;
            read += end - from;
            self.offset = end;
        }
        Ok(read)
    }
}

/// The records of `span`, read from the journal; None when the index no longer matches
/// the files (the first line is not the change's request).
fn read_span(
    files: &[(u64, PathBuf)],
    span: &Span,
    cost: &mut Cost,
) -> std::io::Result<Option<Vec<Record>>> {
    let Span(id, ranges) = span;
    let quoted = format!("\"{id}\"");
    let mut records = Vec::new();
    for &(n, from, until) in ranges {
        let Some((_, path)) = files.get(n) else {
            return Ok(None);
        };
        let end = lines(path, from, Some(until), |_, line| {
            // Most lines in between are other changes': look before parsing.
            if line.windows(quoted.len()).any(|w| w == quoted.as_bytes())
                && let Ok(r) = serde_json::from_slice::<Record>(line)
                && r.id() == id
            {
                records.push(r);
            }
        })?;
        cost.span += end - from;
    }
    let starts_right = matches!(records.first(), Some(Record::Request(q)) if q.id == *id);
    Ok(starts_right.then_some(records))
}

impl Journal {
    /// The change a task belongs to (by its TaskId), through the task index.
    pub fn for_task(&self, task_id: i64) -> std::io::Result<Option<Entry>> {
        self.for_task_costing(task_id).map(|(e, _)| e)
    }

    /// `for_task`, and what it read.
    pub(super) fn for_task_costing(&self, task_id: i64) -> std::io::Result<(Option<Entry>, Cost)> {
        let mut cost = Cost::default();
        if !self.path.exists() {
            return Ok((None, cost));
        }
        let (found, tail) = self.task_in_tail(task_id, TAIL)?;
        cost.tail = tail;
        if found.is_some() {
            return Ok((found, cost));
        }
        let file = self.lock_current()?;
        let result = self.find_locked(task_id, &mut cost);
        let _ = file.unlock();
        Ok((result?, cost))
    }

    /// Under the journal's lock: bring the index up to date, then read the task's span.
    /// An index the files contradict is rebuilt once.
    fn find_locked(&self, task_id: i64, cost: &mut Cost) -> std::io::Result<Option<Entry>> {
        let files = on_disk(self);
        // Nothing appended since the index was folded: the one task, nothing more.
        if let Some(peek) = peek(self, task_id).filter(|p| p.covers(&files)) {
            let Some(span) = peek.span else {
                return Ok(None);
            };
            if let Some(records) = read_span(&files, &span, cost)? {
                return Ok(fold(records).into_iter().next());
            }
        }
        let mut index = load(self).unwrap_or_default();
        for fresh in [false, true] {
            if fresh {
                index = Index::default();
            }
            let read = index.catch_up(&files)?;
            cost.folded += read;
            if read > 0 || fresh {
                // Best effort: without the index the next look folds the same again.
                let _ = store(self, &index);
            }
            let Some(span) = index.tasks.get(&task_id) else {
                return Ok(None);
            };
            if let Some(records) = read_span(&files, span, cost)? {
                return Ok(fold(records).into_iter().next());
            }
        }
        Ok(None)
    }
}
