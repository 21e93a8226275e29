//! Bulk runs as they were confirmed: one file per run in the data directory's `runs/`,
//! written (atomically, mode 0600) before its first change is sent. With the journal,
//! whose records name the run, it tells an interrupted run's done, running and never
//! sent changes apart, so `pgssl ssl resume` continues it without sending anything twice.

use std::net::IpAddr;
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
    pub ConnectAddress: Option<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFile {
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
    /// When the run came to its end (every change ended, or sending stopped and what was
    /// sent ended). An unfinished run is offered for resuming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
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
    pub fn hold(&self, id: &str) -> Result<Held, String> {
        super::ensure_private_dir(&self.dir).map_err(|e| format!("cannot lock run {id}: {e}"))?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(self.lock_file(id))
            .map_err(|e| format!("cannot lock run {id}: {e}"))?;
        match file.try_lock() {
            Ok(()) => Ok(Held { _lock: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(format!(
                "run {id} is being carried out by another pgssl now: follow it there (or wait for it to end); nothing was sent"
            )),
            Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock run {id}: {e}")),
        }
    }

    /// Whether another process holds run `id` now.
    fn is_held(&self, id: &str) -> bool {
        match std::fs::File::open(self.lock_file(id)) {
            Ok(f) => matches!(f.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock)),
            Err(_) => false,
        }
    }

    /// Unfinished runs another process is carrying out now.
    pub fn active(&self) -> Vec<String> {
        self.all()
            .into_iter()
            .filter(|r| r.finished.is_none() && self.is_held(&r.id))
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

    /// The newest run not finished, if any. A run file that cannot be read or is not
    /// pgssl's is an error naming it (it is never silently skipped: a run left behind
    /// must not be forgotten).
    pub fn unfinished(&self) -> Result<Option<RunFile>, String> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", self.shown())),
        };
        let mut newest: Option<RunFile> = None;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let run = load(&path)?;
            // One another process is carrying out is not interrupted.
            if run.finished.is_none()
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

fn load(path: &Path) -> Result<RunFile, String> {
    let shown = crate::text::clean(&path.display().to_string());
    let text = super::bounded::read_to_string(path, super::caps::RECORDS)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    let run: RunFile = serde_json::from_str(&text)
        .map_err(|e| format!("{shown} is not a pgssl run file ({e}); move it away to go on"))?;
    for item in &run.items {
        crate::validate::instance_id(&item.DBInstanceId)
            .and_then(|_| crate::validate::region(&item.region))
            .map_err(|e| format!("{shown}: {e}; move it away to go on"))?;
    }
    if crate::text::clean(&run.id) != run.id || run.id.contains('/') {
        return Err(format!(
            "{shown}: its run id is not pgssl's; move it away to go on"
        ));
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn run(id: &str, created: &str, finished: bool) -> RunFile {
        RunFile {
            id: id.into(),
            created: created.into(),
            source: "env".into(),
            endpoint: "http://127.0.0.1:1".into(),
            max_running: Some(5),
            together: false,
            stop_on_failure: false,
            items: vec![RunItem {
                region: "ap-singapore".into(),
                DBInstanceId: "postgres-aaaa0001".into(),
                SSLEnabled: true,
                ConnectAddress: Some("192.0.2.1".parse().expect("ip")),
            }],
            finished: finished.then(|| "2026-12-02T00:00:00Z".into()),
        }
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
        assert!(e.contains("is not a pgssl run file"), "{e}");
    }
}
