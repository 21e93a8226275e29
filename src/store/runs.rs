//! Bulk runs as they were confirmed: one file per run in the data directory's `runs/`,
//! written (atomically, mode 0600) before its first change is sent. With the journal,
//! whose records name the run, it tells an interrupted run's done, running and never
//! sent changes apart, so `pgssl ssl resume` continues it without sending anything twice.

use crate::addresses::Host;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One change of a run, as confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct RunItem {
    pub region: String,
    pub DBInstanceId: String,
    pub SSLEnabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ConnectAddress: Option<Host>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFile {
    /// The run's id: its file is `ID.json` (a copy under another name is refused).
    pub id: String,
    pub created: String,
    /// Which credential source confirmed it, and against which endpoint.
    pub source: String,
    pub endpoint: String,
    /// None: no cap.
    pub max_running: Option<usize>,
    #[serde(default)]
    pub together: bool,
    #[serde(default)]
    pub stop_on_failure: bool,
    pub items: Vec<RunItem>,
    /// Where the run's life is (a file of an earlier pgssl says `finished` instead).
    #[serde(default)]
    pub state: RunState,
    /// An earlier pgssl's word that the run ended (read, never written).
    #[serde(default, skip_serializing)]
    finished: Option<String>,
}

impl RunFile {
    /// A run as confirmed, before anything is sent (`Planned`).
    pub fn new(
        id: String,
        source: String,
        endpoint: String,
        (max_running, together, stop_on_failure): (Option<usize>, bool, bool),
        items: Vec<RunItem>,
    ) -> RunFile {
        RunFile {
            id,
            created: super::now_rfc3339(),
            source,
            endpoint,
            max_running,
            together,
            stop_on_failure,
            items,
            state: RunState::Planned,
            finished: None,
        }
    }
}

/// A run's life, persisted at each step: planned, sending, then stopped (by the person,
/// or a failure with --stop-on-failure), interrupted (Ctrl-C, a hangup; a kill leaves it
/// `sending` with nobody holding it), finished, or abandoned. A stopped or interrupted
/// run with changes never sent is offered for resuming until it is continued or
/// abandoned explicitly: nothing never-sent is ever dropped silently.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "is", rename_all = "snake_case")]
pub enum RunState {
    /// Confirmed and written; nothing sent yet.
    #[default]
    Planned,
    /// Being carried out. Found so with nobody holding it: its process died.
    Sending,
    /// Sending stopped with changes never sent, and why.
    Stopped { why: String, at: String },
    /// Ctrl-C or a hangup stopped it where it was.
    Interrupted { at: String },
    /// Every change was sent and followed to its end (or refused, or found as asked).
    Finished { at: String },
    /// The person gave up its never-sent changes (`ssl resume --abandon`).
    Abandoned { at: String, unsent: usize },
}

impl RunState {
    /// One word: planned, sending, stopped, interrupted, finished, abandoned.
    pub fn word(&self) -> &'static str {
        match self {
            RunState::Planned => "planned",
            RunState::Sending => "sending",
            RunState::Stopped { .. } => "stopped",
            RunState::Interrupted { .. } => "interrupted",
            RunState::Finished { .. } => "finished",
            RunState::Abandoned { .. } => "abandoned",
        }
    }

    /// It may still have changes to send or follow: offered for resuming (unless a
    /// process holds it).
    pub fn is_open(&self) -> bool {
        !matches!(self, RunState::Finished { .. } | RunState::Abandoned { .. })
    }
}

/// A run file that cannot be used as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunFileError {
    #[error("{0}")]
    Unreadable(String),
    #[error("{0}")]
    Refused(#[from] crate::ops::refusal::RunRefusal),
}

/// A run held by this process (`Runs::hold`).
#[derive(Debug)]
pub struct Held {
    _lock: std::fs::File,
}

#[derive(Debug, Clone)]
pub struct Runs {
    dir: PathBuf,
}

impl Runs {
    pub fn new(dir: PathBuf) -> Runs {
        Runs { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn lock_file(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.lock"))
    }

    /// Hold run `id` while this process carries it out: another process that tries is
    /// told so, and does not count it as interrupted. Released when dropped (or when
    /// the process dies, however it dies).
    pub fn hold(&self, id: &str) -> Result<Held, RunFileError> {
        let cannot = |e: std::io::Error| {
            RunFileError::Unreadable(format!("cannot lock run {}: {e}", crate::text::clean(id)))
        };
        super::ensure_private_dir(&self.dir).map_err(cannot)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(self.lock_file(id))
            .map_err(cannot)?;
        match file.try_lock() {
            Ok(()) => Ok(Held { _lock: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(crate::ops::refusal::RunRefusal::Held {
                run: id.to_string(),
            }
            .into()),
            Err(std::fs::TryLockError::Error(e)) => Err(cannot(e)),
        }
    }

    /// Whether another process holds run `id` now.
    fn is_held(&self, id: &str) -> bool {
        match std::fs::File::open(self.lock_file(id)) {
            Ok(f) => matches!(f.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock)),
            Err(_) => false,
        }
    }

    /// Open runs another process is carrying out now.
    pub fn active(&self) -> Vec<String> {
        self.all()
            .into_iter()
            .filter(|r| r.state.is_open() && self.is_held(&r.id))
            .map(|r| r.id)
            .collect()
    }

    /// Every run file that reads (for notes; `unfinished` says what does not read).
    fn all(&self) -> Vec<RunFile> {
        std::fs::read_dir(&self.dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
                    .filter_map(|p| load(&p).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn save(&self, run: &RunFile) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(run).map_err(std::io::Error::other)?;
        super::write_atomic(&self.file(&run.id), &bytes)
    }

    /// Run `id` as its file says now.
    pub fn load(&self, id: &str) -> Result<Option<RunFile>, RunFileError> {
        let path = self.file(id);
        if crate::text::clean(id) != id || id.contains('/') || !path.exists() {
            return Ok(None);
        }
        load(&path).map(Some)
    }

    /// The newest open run nobody holds, if any: stopped, interrupted, or left sending by
    /// a process that died. A run file that cannot be read or is not pgssl's is an error
    /// naming it (it is never silently skipped: a run left behind must not be forgotten).
    pub fn unfinished(&self) -> Result<Option<RunFile>, RunFileError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(RunFileError::Unreadable(format!(
                    "cannot read {}: {e}",
                    self.shown()
                )));
            }
        };
        let mut newest: Option<RunFile> = None;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let run = load(&path)?;
            // One another process is carrying out is not waiting.
            if run.state.is_open()
                && !self.is_held(&run.id)
                && newest.as_ref().is_none_or(|n| run.created > n.created)
            {
                newest = Some(run);
            }
        }
        Ok(newest)
    }

    fn shown(&self) -> String {
        crate::text::clean(&self.dir.display().to_string())
    }
}

fn load(path: &Path) -> Result<RunFile, RunFileError> {
    use crate::ops::refusal::RunRefusal;
    let shown = crate::text::clean(&path.display().to_string());
    let text = super::bounded::read_to_string(path, super::caps::RECORDS)
        .map_err(|e| RunFileError::Unreadable(format!("cannot read {shown}: {e}")))?;
    let junk =
        |why: String| RunFileError::Unreadable(format!("{shown}: {why}; move it away to go on"));
    let mut run: RunFile =
        serde_json::from_str(&text).map_err(|e| junk(format!("not a pgssl run file ({e})")))?;
    if crate::text::clean(&run.id) != run.id || run.id.contains('/') || run.id.is_empty() {
        return Err(junk("its run id is not pgssl's".into()));
    }
    // A run is known by the id inside its file: a copy under another name is not a
    // second run (it would send every change again).
    if path.file_stem().and_then(|s| s.to_str()) != Some(run.id.as_str()) {
        return Err(RunRefusal::Misnamed {
            file: shown,
            run: run.id,
        }
        .into());
    }
    let mut seen = std::collections::HashSet::new();
    for item in &run.items {
        crate::validate::instance_id(&item.DBInstanceId)
            .and_then(|_| crate::validate::region_name(&item.region))
            .map_err(&junk)?;
        // Each instance once: a run pgssl wrote never names one twice, and a second
        // item (the same or contradicting) would restart it twice.
        if !seen.insert(item.DBInstanceId.as_str()) {
            return Err(RunRefusal::Duplicate {
                file: shown,
                instance: item.DBInstanceId.clone(),
            }
            .into());
        }
    }
    if let (RunState::Planned, Some(at)) = (&run.state, run.finished.take()) {
        run.state = RunState::Finished { at };
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn run(id: &str, created: &str, finished: bool) -> RunFile {
        let mut r = RunFile::new(
            id.into(),
            "env".into(),
            "http://127.0.0.1:1".into(),
            (Some(5), false, false),
            vec![item("postgres-aaaa0001")],
        );
        r.created = created.into();
        if finished {
            r.state = RunState::Finished {
                at: "2026-12-02T00:00:00Z".into(),
            };
        }
        r
    }

    fn item(id: &str) -> RunItem {
        RunItem {
            region: "ap-singapore".into(),
            DBInstanceId: id.into(),
            SSLEnabled: true,
            ConnectAddress: Some("192.0.2.1".parse().expect("ip")),
        }
    }

    #[test]
    fn a_run_names_each_instance_once_is_known_by_its_id_and_an_old_finished_file_reads() {
        use crate::ops::refusal::RunRefusal;
        let dir = tempfile::tempdir().expect("tmp");
        let runs = Runs::new(dir.path().join("runs"));
        let mut twice = run("d", "2026-12-01T00:00:00Z", false);
        twice.items.push(RunItem {
            SSLEnabled: false,
            ConnectAddress: None,
            ..item("postgres-aaaa0001")
        });
        runs.save(&twice).expect("save");
        assert!(matches!(
            runs.unfinished(),
            Err(RunFileError::Refused(RunRefusal::Duplicate { instance, .. })) if instance == "postgres-aaaa0001"
        ));
        std::fs::remove_file(dir.path().join("runs/d.json")).expect("rm");
        runs.save(&run("e", "2026-12-01T00:00:00Z", false))
            .expect("save");
        std::fs::copy(
            dir.path().join("runs/e.json"),
            dir.path().join("runs/copy.json"),
        )
        .expect("copy");
        assert!(matches!(
            runs.unfinished(),
            Err(RunFileError::Refused(RunRefusal::Misnamed { run, .. })) if run == "e"
        ));
        std::fs::remove_file(dir.path().join("runs/copy.json")).expect("rm");
        // An earlier pgssl wrote `finished` and no state.
        let old = r#"{"id":"f","created":"2026-12-01T00:00:00Z","source":"env","endpoint":"x","max_running":5,"items":[],"finished":"2026-12-01T01:00:00Z"}"#;
        std::fs::write(dir.path().join("runs/f.json"), old).expect("write");
        let f = runs.load("f").expect("reads").expect("there");
        assert_eq!(f.state.word(), "finished");
        assert_eq!(
            runs.unfinished().expect("reads").map(|r| r.id),
            Some("e".into())
        );
    }

    #[test]
    fn the_newest_unfinished_run_is_found_and_files_are_private() {
        let dir = tempfile::tempdir().expect("tmp");
        let runs = Runs::new(dir.path().join("runs"));
        assert_eq!(runs.unfinished(), Ok(None));
        runs.save(&run("a", "2026-12-01T00:00:00Z", false))
            .expect("save");
        runs.save(&run("b", "2026-12-01T01:00:00Z", false))
            .expect("save");
        runs.save(&run("c", "2026-12-01T02:00:00Z", true))
            .expect("save");
        assert_eq!(
            runs.unfinished().expect("reads").map(|r| r.id),
            Some("b".into())
        );
        let mode = std::fs::metadata(dir.path().join("runs/b.json"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // Held by a process carrying it out: not interrupted, but active.
        let held = runs.hold("b").expect("holds");
        assert_eq!(
            runs.unfinished().expect("reads").map(|r| r.id),
            Some("a".into())
        );
        assert_eq!(runs.active(), vec!["b".to_string()]);
        assert!(runs.hold("b").is_err(), "one holder at a time");
        drop(held);
        assert_eq!(
            runs.unfinished().expect("reads").map(|r| r.id),
            Some("b".into())
        );
        std::fs::write(dir.path().join("runs/x.json"), "{").expect("write");
        let e = runs.unfinished().expect_err("junk is said");
        assert!(e.to_string().contains("not a pgssl run file"), "{e}");
    }
}
