//! What pgssl keeps on disk: the config a person edits, the inventory of what pgssl
//! learned, and the journal of changes. All are written so that a crash never leaves
//! half a file, with mode 0600.

pub mod accounts;
pub mod config;
pub mod inventory;
pub mod journal;
mod legacy;
pub mod runs;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub use config::{Config, ConfigError, ConfigFile, SavedInstance};
pub use inventory::{Inventory, InventoryError, InventoryFile};
pub use journal::{Journal, JournalError};
/// Every file pgssl reads from outside is read through here: FIFOs, sockets and devices
/// refused, at most a cap (`caps`) read.
pub use pgssl_wire::bounded;

/// Where pgssl's files live. `PGSSL_CONFIG_DIR` and `PGSSL_DATA_DIR` override the
/// platform directories (`~/.config/pgssl`, `~/.local/share/pgssl` on Linux).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
}

impl Paths {
    pub fn from_env() -> Result<Paths, String> {
        let dirs = directories::ProjectDirs::from("", "", "pgssl");
        let pick = |var: &str, fallback: Option<PathBuf>| -> Result<PathBuf, String> {
            match std::env::var_os(var).filter(|v| !v.is_empty()) {
                Some(v) => Ok(PathBuf::from(v)),
                None => fallback.ok_or_else(|| {
                    format!("cannot find a home directory for pgssl's files: set HOME or {var}")
                }),
            }
        };
        Ok(Paths {
            config_dir: pick(
                "PGSSL_CONFIG_DIR",
                dirs.as_ref().map(|d| d.config_dir().to_path_buf()),
            )?,
            data_dir: pick(
                "PGSSL_DATA_DIR",
                dirs.as_ref().map(|d| d.data_dir().to_path_buf()),
            )?,
        })
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn inventory_file(&self) -> PathBuf {
        self.data_dir.join("inventory.json")
    }

    /// The regions DescribeRegions last listed (a cache; safe to delete).
    pub fn regions_file(&self) -> PathBuf {
        self.data_dir.join("regions.json")
    }

    /// Whose each credential is, as STS last said (a cache; safe to delete).
    pub fn accounts_file(&self) -> PathBuf {
        self.data_dir.join("accounts.json")
    }

    pub fn journal_file(&self) -> PathBuf {
        self.data_dir.join("journal.jsonl")
    }

    /// Where the CA certificate of one instance is kept.
    pub fn ca_file(&self, instance_id: &str) -> PathBuf {
        self.data_dir.join("ca").join(format!("{instance_id}.pem"))
    }
}

/// The most pgssl reads of each kind of file (`bounded`): far past the largest real one,
/// small enough to hold in memory at once.
pub mod caps {
    /// A credential or configure file (tccli's, the SDKs', a tccli login), an OIDC token:
    /// a few hundred bytes, a few KiB with an STS token in it.
    pub const CREDENTIAL: u64 = 1 << 20;
    /// config.toml: a person's regions, instances and names; 10,000 named instances are
    /// about 1 MiB.
    pub const CONFIG: u64 = 16 << 20;
    /// What pgssl records of every instance of an account (inventory.json, a run file,
    /// the demo's state): a few hundred bytes to 1 KiB an instance, and an account's
    /// PostgreSQL instances number in the thousands.
    pub const RECORDS: u64 = 64 << 20;
    /// The journal's derived indexes: about 100 bytes a change, so this holds millions
    /// (one past it is rebuilt from the journal, never trusted in part).
    pub const INDEX: u64 = 256 << 20;
    /// A list of instances (`--from`): 100,000 ids with their regions are about 4 MiB.
    pub const LIST: u64 = 16 << 20;
    /// A CA bundle: a few KiB; the same cap as its download.
    pub const CA: u64 = 1 << 20;
    /// regions.json: the names of a few dozen regions.
    pub const REGIONS: u64 = 1 << 20;
}

/// The three files, as one handle both faces and the core pass around.
#[derive(Debug, Clone)]
pub struct Store {
    pub paths: Paths,
    pub config: ConfigFile,
    pub inventory: InventoryFile,
    pub journal: Journal,
    /// Bulk runs, for resuming one that was interrupted.
    pub runs: runs::Runs,
    /// Whose each credential is (GetCallerIdentity's answers, kept a day).
    pub accounts: accounts::Accounts,
}

impl Store {
    pub fn new(paths: Paths) -> Store {
        Store {
            config: ConfigFile::new(paths.config_file()),
            inventory: InventoryFile::new(paths.inventory_file()),
            journal: Journal::new(paths.journal_file()),
            runs: runs::Runs::new(paths.data_dir.join("runs")),
            accounts: accounts::Accounts::new(paths.accounts_file()),
            paths,
        }
    }

    /// Remove what writers killed mid-write left in pgssl's data directory and its runs
    /// (`remove_dead_temps`), so such files never accumulate.
    pub fn remove_dead_temps(&self) {
        remove_dead_temps(&self.paths.data_dir);
        remove_dead_temps(self.runs.dir());
    }

    /// The regions DescribeRegions listed last time (empty when never asked).
    /// What DescribeRegions last answered (any endpoint's: the caller checks whose and
    /// how fresh). None when there is none or it cannot be read (it is only a cache; a file
    /// of an older layout is none too). Names and labels are checked again on entry.
    pub fn listed_regions(&self) -> Option<crate::regions::Catalog> {
        let bytes = bounded::read(&self.paths.regions_file(), caps::REGIONS).ok()?;
        let mut catalog: crate::regions::Catalog = serde_json::from_slice(&bytes).ok()?;
        catalog
            .regions
            .retain(|r| crate::validate::region_name(&r.name).as_deref() == Ok(r.name.as_str()));
        for r in &mut catalog.regions {
            r.label = crate::text::clean(&r.label);
        }
        matches!(catalog.origin, crate::regions::Origin::Listed { .. }).then_some(catalog)
    }

    /// Keep what DescribeRegions listed (best effort: it is only a cache).
    pub fn keep_listed_regions(&self, catalog: &crate::regions::Catalog) {
        if let Ok(bytes) = serde_json::to_vec(catalog) {
            let _ = write_atomic(&self.paths.regions_file(), &bytes);
        }
    }

    /// A config in the layout before the inventory existed is migrated once: ids and
    /// regions stay in `config.toml`, what pgssl had learned moves to the inventory.
    /// Returns the line that says so, or None when there was nothing to migrate.
    pub fn migrate(&self, config: &Config) -> Result<Option<String>, ConfigError> {
        if config.legacy.is_empty() {
            return Ok(None);
        }
        let legacy = self.config.take_legacy()?;
        if legacy.is_empty() {
            return Ok(None);
        }
        let moved = self.inventory.update(|inv| {
            for l in &legacy {
                inv.learn(l.learned());
            }
            legacy.len()
        });
        Ok(Some(match moved {
            Ok(n) => format!(
                "config.toml: moved what pgssl had learned about {n} instances to {}; config.toml now keeps only what you chose",
                crate::text::sanitize(&self.inventory.path.display().to_string())
            ),
            Err(e) => format!(
                "config.toml: migrated to the new layout; what pgssl had learned could not be kept ({e}) and will be learned again"
            ),
        }))
    }
}

/// Create a directory (and parents) that only its owner may enter.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Write a file so that readers see the old or the new content, never half of it:
/// a temp file in the same directory (mode 0600), fsync, rename over, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    ensure_private_dir(dir)?;
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    // What an earlier writer of this file left when it was killed mid-write.
    remove_dead_temps_where(dir, |n| n == name);
    let tmp = dir.join(format!(
        ".{name}.tmp.{}.{:x}",
        std::process::id(),
        crate::ids::random_u64()
    ));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

pub use pgssl_wire::clock::now_rfc3339;

/// A temp file of `write_atomic` this old is abandoned whoever made it: a write takes
/// milliseconds.
const TEMP_ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Remove the temp files `write_atomic` left in `dir` when their writer was killed (kill
/// -9, a crash, a power cut): those of a process no longer alive, and any older than ten
/// minutes. A live writer's fresh temp file is never touched, so no lock is needed for
/// it; callers sweep pgssl's own directories only.
pub fn remove_dead_temps(dir: &Path) {
    remove_dead_temps_where(dir, |_| true);
}

/// `remove_dead_temps`, for the temp files of the files whose names `target` accepts.
fn remove_dead_temps_where(dir: &Path, target: impl Fn(&str) -> bool) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    // Without /proc (not Linux) whether a writer lives cannot be told: only age decides.
    let procfs = Path::new("/proc/self").exists();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Some((of, pid)) = temp_of(&name) else {
            continue;
        };
        if !target(of) {
            continue;
        }
        let dead = procfs && !Path::new("/proc").join(pid.to_string()).exists();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > TEMP_ABANDONED_AFTER);
        if dead || old {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// For a temp file of `write_atomic` (`.NAME.tmp.PID.RAND`): the file it was for, and
/// its writer's process id.
fn temp_of(name: &str) -> Option<(&str, u32)> {
    let (of, tail) = name.strip_prefix('.')?.rsplit_once(".tmp.")?;
    let (pid, rand) = tail.split_once('.')?;
    let ours = !of.is_empty() && !rand.is_empty() && rand.bytes().all(|b| b.is_ascii_hexdigit());
    Some((of, pid.parse().ok().filter(|_| ours)?))
}

/// Remove temp files `write_atomic` left for `path` when a writer was killed mid-write.
/// Call only under the lock every writer of `path` holds: then no temp file is live.
pub fn remove_stale_temps(path: &Path) {
    let Some(name) = path.file_name() else {
        return;
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let prefix = format!(".{}.tmp.", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn atomic_write_replaces_whole_file_with_mode_0600() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("sub/state.toml");
        write_atomic(&path, b"one").expect("write");
        write_atomic(&path, b"two").expect("rewrite");
        assert_eq!(fs::read(&path).expect("read"), b"two");
        let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = fs::metadata(path.parent().expect("parent"))
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        // No temp files left behind.
        let names: Vec<_> = fs::read_dir(path.parent().expect("parent"))
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.toml")]);
    }

    #[test]
    fn temp_files_of_dead_or_long_gone_writers_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().expect("tmp");
        let at = |name: String| dir.path().join(name);
        // Past the kernel's pid_max: no process has it.
        let dead = fs::read_to_string("/proc/sys/kernel/pid_max")
            .expect("pid_max")
            .trim()
            .parse::<u64>()
            .expect("number")
            + 1;
        let mine = std::process::id();
        let gone = [
            at(format!(".a.json.tmp.{dead}.1f")),
            at(format!(".b.json.tmp.{mine}.2f")), // an hour old, below
        ];
        let kept = [
            at(format!(".a.json.tmp.{mine}.3f")), // a live writer's, fresh
            at(format!(".a.json.tmp.{dead}.zz")), // not write_atomic's name
            at(format!(".tmp.{dead}.1f")),
            at("notes.txt".into()),
            at(format!(".other.tmp.{dead}.1f.bak")),
        ];
        for f in gone.iter().chain(&kept) {
            fs::write(f, "x").expect("write");
        }
        File::options()
            .write(true)
            .open(&gone[1])
            .expect("open")
            .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
            .expect("mtime");
        remove_dead_temps(dir.path());
        for f in &gone {
            assert!(!f.exists(), "{f:?} removed");
        }
        for f in &kept {
            assert!(f.exists(), "{f:?} kept");
        }
        // A write sweeps its own file's leftovers, and only those.
        let (mine_left, other_left) = (
            at(format!(".c.json.tmp.{dead}.4f")),
            at(format!(".d.json.tmp.{dead}.5f")),
        );
        fs::write(&mine_left, "x").expect("write");
        fs::write(&other_left, "x").expect("write");
        write_atomic(&at("c.json".into()), b"{}").expect("write");
        assert!(!mine_left.exists() && other_left.exists());
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = now_rfc3339();
        assert!(t.ends_with('Z') && t.len() == 20, "{t}");
    }
}
