//! Reading the journal from its end: the latest changes cost what they are, not what the
//! journal has grown to. The current file is read backwards in blocks, then the rotated
//! segments, newest first, only as far as needed.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::{Entry, Journal, Outcome, Record, fold};

const BLOCK: u64 = 64 << 10;

/// The lines of one file, last first. A line is yielded once its start is found.
struct Backwards {
    file: File,
    /// Bytes of the file not yet read (everything before this offset).
    pos: u64,
    /// Read but not yet yielded: the start of the file's unread part is a line's tail.
    carry: Vec<u8>,
    lines: Vec<Vec<u8>>,
}

impl Backwards {
    fn open(path: &Path) -> std::io::Result<Option<Backwards>> {
        let file = match super::open_segment(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        file.lock_shared()?;
        let pos = file.metadata()?.len();
        Ok(Some(Backwards {
            file,
            pos,
            carry: Vec::new(),
            lines: Vec::new(),
        }))
    }

    fn next_line(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(l) = self.lines.pop() {
                return Ok(Some(l));
            }
            if self.pos == 0 {
                if self.carry.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(std::mem::take(&mut self.carry)));
            }
            let start = self.pos.saturating_sub(BLOCK);
            let len = usize::try_from(self.pos - start).expect("a block fits in memory");
            let mut buf = vec![0u8; len];
            self.file.read_exact_at(&mut buf, start)?;
            self.pos = start;
            buf.extend_from_slice(&self.carry);
            let mut parts: Vec<Vec<u8>> = buf.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
            // The first part may continue in the block before this one.
            self.carry = parts.remove(0);
            // `lines` is popped from the end: the last line of the block comes out first.
            self.lines = parts;
        }
    }
}

impl Drop for Backwards {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

impl Journal {
    /// Visit records newest first across the current file and the segments, until `visit`
    /// says stop. Returns how many lines did not parse.
    fn visit_backwards(&self, mut visit: impl FnMut(Record) -> bool) -> std::io::Result<usize> {
        let mut skipped = 0;
        for path in self.files().iter().rev() {
            let Some(mut lines) = Backwards::open(path)? else {
                continue;
            };
            while let Some(line) = lines.next_line()? {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                match serde_json::from_slice::<Record>(&line) {
                    Ok(r) => {
                        if !visit(r) {
                            return Ok(skipped);
                        }
                    }
                    Err(_) => skipped += 1,
                }
            }
        }
        Ok(skipped)
    }

    /// The latest `n` changes (to `instance` when given), oldest first, read from the end.
    /// Every record about them comes after their request, so reading back to the n-th
    /// request from the end gathers all of it.
    pub fn latest(&self, n: usize, instance: Option<&str>) -> std::io::Result<(Vec<Entry>, usize)> {
        if n == 0 {
            return Ok((Vec::new(), 0));
        }
        let mut records = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let skipped = self.visit_backwards(|r| {
            let counts = matches!(&r, Record::Request(q)
                if instance.is_none_or(|i| q.DBInstanceId == i) && seen.insert(q.id.clone()));
            records.push(r);
            !(counts && seen.len() >= n)
        })?;
        records.reverse();
        let entries = fold(records)
            .into_iter()
            .filter(|e| seen.contains(&e.request.id))
            .collect();
        Ok((entries, skipped))
    }

    /// The change of `task_id` when its request lies in the last `budget` bytes of the
    /// current file (the changes of the last minutes: `task show` right after a change),
    /// read from the end; and how many bytes that read. None when it is not there.
    pub(super) fn task_in_tail(
        &self,
        task_id: i64,
        budget: u64,
    ) -> std::io::Result<(Option<Entry>, u64)> {
        let Some(mut lines) = Backwards::open(&self.path)? else {
            return Ok((None, 0));
        };
        let end = lines.pos;
        let mut id: Option<String> = None;
        let mut records = Vec::new();
        while end - lines.pos <= budget {
            let Some(line) = lines.next_line()? else {
                break;
            };
            let Ok(record) = serde_json::from_slice::<Record>(&line) else {
                continue;
            };
            if id.is_none() {
                id = changed_by(&record, task_id);
            }
            let done = matches!((&record, &id), (Record::Request(q), Some(i)) if q.id == *i);
            records.push(record);
            if done {
                records.reverse();
                let entry = fold(records)
                    .into_iter()
                    .find(|e| id.as_ref() == Some(&e.request.id));
                return Ok((entry, end - lines.pos));
            }
        }
        Ok((None, end - lines.pos))
    }
}

/// The change `record` says task `task_id` belongs to, if it says so.
fn changed_by(record: &Record, task_id: i64) -> Option<String> {
    match record {
        Record::Outcome {
            id,
            outcome: Outcome::Ok {
                TaskId: Some(t), ..
            },
            ..
        }
        | Record::Task { id, TaskId: t, .. }
            if *t == task_id =>
        {
            Some(id.clone())
        }
        _ => None,
    }
}
