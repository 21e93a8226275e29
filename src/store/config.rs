//! The config a person can read and edit: default profile, endpoint and region, the
//! regions they work in, and the instances they keep (with what pgssl last learned of them).
//!
//! A malformed file is reported with its path, line and problem and is never overwritten:
//! every write re-reads the file under a lock and refuses if it no longer parses.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::addresses::Address;
use crate::validate;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// tccli profile to use when `--profile` is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// API endpoint when `--endpoint` is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Region for commands that name none and whose instance is not saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Regions shown and discovered in the TUI.
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default, rename = "instance")]
    pub instances: Vec<SavedInstance>,
}

/// An instance the user keeps, with what pgssl last learned about it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedInstance {
    pub id: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// `primary` or `readonly` (DBInstanceType).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The primary of a read-only instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<SavedAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl: Option<SavedSsl>,
}

pub type SavedAddress = Address;

impl SavedInstance {
    pub fn is_readonly(&self) -> bool {
        self.kind.as_deref() == Some("readonly")
    }
}

/// SSL state as DescribeDBInstanceSSLConfig last reported it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedSsl {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_url: Option<String>,
    /// When it was read (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub checked: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: line {line}: {problem}. Fix the file (pgssl will not overwrite it until it parses)", path.display())]
    Malformed {
        path: PathBuf,
        line: usize,
        problem: String,
    },
    #[error("{}: {problem}", path.display())]
    Io { path: PathBuf, problem: String },
}

const HEADER: &str = "# pgssl configuration: edit freely (pgssl rewrites this file when you add, import or remove\n# instances; comments other than this header are not kept).\n\n";

impl Config {
    /// Read the config; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(ConfigError::Io {
                path: path.to_path_buf(),
                problem: format!("cannot read it ({e})"),
            }),
        }
    }

    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
            ConfigError::Malformed {
                path: path.to_path_buf(),
                line,
                problem: crate::text::clean(e.message().trim()),
            }
        })?;
        config.check(path, text)?;
        Ok(config)
    }

    /// Values that parse as TOML but make no sense to pgssl.
    fn check(&self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let bad = |needle: &str, problem: String| ConfigError::Malformed {
            path: path.to_path_buf(),
            line: text.find(needle).map(|i| line_of(text, i)).unwrap_or(1),
            problem,
        };
        for r in self.regions.iter().chain(self.region.iter()) {
            validate::region(r).map_err(|p| bad(r, p))?;
        }
        if let Some(e) = &self.endpoint {
            crate::api::Endpoint::parse(e).map_err(|p| bad(e, p))?;
        }
        let mut seen = std::collections::HashSet::new();
        for inst in &self.instances {
            validate::instance_id(&inst.id).map_err(|p| bad(&inst.id, p))?;
            validate::region(&inst.region)
                .map_err(|p| bad(&inst.region, format!("instance {}: {p}", inst.id)))?;
            if !seen.insert(inst.id.as_str()) {
                return Err(bad(
                    &inst.id,
                    format!("instance {} is listed twice; keep one", inst.id),
                ));
            }
        }
        Ok(())
    }

    pub fn to_toml(&self) -> Result<String, String> {
        let body = toml::to_string(self).map_err(|e| format!("cannot encode the config ({e})"))?;
        Ok(format!("{HEADER}{body}"))
    }

    pub fn instance(&self, id: &str) -> Option<&SavedInstance> {
        self.instances.iter().find(|i| i.id == id)
    }

    /// Save what discovery found, keeping the SSL state already known for instances
    /// discovery does not describe it for, and keep the regions. Returns how many are new.
    pub fn import(&mut self, found: Vec<SavedInstance>, regions: &[String]) -> usize {
        let mut added = 0;
        for mut i in found {
            match self.instance(&i.id) {
                Some(old) => i.ssl = i.ssl.or_else(|| old.ssl.clone()),
                None => added += 1,
            }
            self.upsert(i);
        }
        self.keep_regions(regions);
        added
    }

    /// Keep these regions too (each once, in the order given).
    pub fn keep_regions(&mut self, regions: &[String]) {
        for r in regions {
            if !self.regions.contains(r) {
                self.regions.push(r.clone());
            }
        }
    }

    /// What a refresh learned about a saved instance (nothing if it is not saved).
    pub fn remember(&mut self, id: &str, status: Option<String>, ssl: SavedSsl) {
        if let Some(i) = self.instances.iter_mut().find(|i| i.id == id) {
            if status.is_some() {
                i.status = status;
            }
            i.ssl = Some(ssl);
        }
    }

    /// Add or replace an instance by id, keeping the list in a stable order.
    pub fn upsert(&mut self, instance: SavedInstance) {
        match self.instances.iter_mut().find(|i| i.id == instance.id) {
            Some(existing) => *existing = instance,
            None => self.instances.push(instance),
        }
        self.instances
            .sort_by(|a, b| (&a.region, &a.id).cmp(&(&b.region, &b.id)));
    }

    pub fn remove(&mut self, id: &str) -> bool {
        let before = self.instances.len();
        self.instances.retain(|i| i.id != id);
        before != self.instances.len()
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Identifies one version of the config file on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    len: u64,
    mtime: i64,
    mtime_nsec: i64,
    ino: u64,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        Stamp {
            len: meta.len(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
            ino: meta.ino(),
        }
    }
}

/// The parsed config as JSON, valid only for the exact file version it was made from.
/// TOML stays the source of truth; this only spares big configs (10,000 saved
/// instances) a slow TOML parse on every start.
#[derive(Serialize, Deserialize)]
struct Cached {
    stamp: Stamp,
    config: Config,
}

/// The config file, its parse cache, and the lock that serializes read-modify-write
/// between processes.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    cache: Option<PathBuf>,
}

impl ConfigFile {
    pub fn new(path: PathBuf) -> Self {
        ConfigFile { path, cache: None }
    }

    /// Keep a parse cache at `cache` (in the data dir).
    pub fn with_cache(mut self, cache: PathBuf) -> Self {
        self.cache = Some(cache);
        self
    }

    pub fn load(&self) -> Result<Config, ConfigError> {
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => return Err(self.io(format!("cannot read it ({e})"))),
        };
        let stamp = Stamp::of(&meta);
        if let Some(cached) = self
            .cache
            .as_ref()
            .and_then(|c| std::fs::read(c).ok())
            .and_then(|bytes| serde_json::from_slice::<Cached>(&bytes).ok())
            .filter(|c| c.stamp == stamp)
        {
            return Ok(cached.config);
        }
        let config = Config::load(&self.path)?;
        self.write_cache(stamp, &config);
        Ok(config)
    }

    /// Best effort: without a cache pgssl is only slower.
    fn write_cache(&self, stamp: Stamp, config: &Config) {
        if let Some(cache) = &self.cache {
            let cached = Cached {
                stamp,
                config: config.clone(),
            };
            if let Ok(bytes) = serde_json::to_vec(&cached) {
                let _ = super::write_atomic(cache, &bytes);
            }
        }
    }

    fn io(&self, problem: String) -> ConfigError {
        ConfigError::Io {
            path: self.path.clone(),
            problem,
        }
    }

    fn lock(&self) -> Result<File, ConfigError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        super::ensure_private_dir(dir)
            .map_err(|e| self.io(format!("cannot create {} ({e})", dir.display())))?;
        let lock_path = self.path.with_extension("toml.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|e| self.io(format!("cannot open lock {} ({e})", lock_path.display())))?;
        file.lock()
            .map_err(|e| self.io(format!("cannot lock ({e})")))?;
        Ok(file)
    }

    /// Re-read under a lock, apply `change`, write atomically. A file that does not parse
    /// is left exactly as it is.
    pub fn update<T>(&self, change: impl FnOnce(&mut Config) -> T) -> Result<T, ConfigError> {
        let _lock = self.lock()?;
        let mut config = self.load()?;
        let out = change(&mut config);
        let text = config.to_toml().map_err(|e| self.io(e))?;
        super::write_atomic(&self.path, text.as_bytes())
            .map_err(|e| self.io(format!("cannot write it ({e})")))?;
        if let Ok(meta) = std::fs::metadata(&self.path) {
            self.write_cache(Stamp::of(&meta), &config);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addresses::AddressKind;

    fn sample() -> Config {
        let mut c = Config {
            regions: vec!["ap-guangzhou".into()],
            ..Default::default()
        };
        c.upsert(SavedInstance {
            id: "postgres-6bwgamo3".into(),
            region: "ap-guangzhou".into(),
            name: "orders-db".into(),
            kind: Some("primary".into()),
            addresses: vec![Address {
                kind: AddressKind::Private,
                ip: "10.6.0.4".into(),
                port: Some(5432),
                dns: None,
                status: Some("opened".into()),
                group_id: None,
                group_name: None,
            }],
            ssl: Some(SavedSsl {
                enabled: true,
                connect_address: Some("10.6.0.4".into()),
                ca_url: None,
                checked: "2026-11-28T00:00:00Z".into(),
            }),
            ..Default::default()
        });
        c
    }

    #[test]
    fn round_trips_through_toml() {
        let c = sample();
        let text = c.to_toml().expect("encodes");
        assert!(text.contains("[[instance]]"), "{text}");
        assert_eq!(
            Config::parse(Path::new("c.toml"), &text).expect("parses"),
            c
        );
    }

    #[test]
    fn errors_name_file_line_and_problem() {
        let path = Path::new("/x/config.toml");
        let e = Config::parse(path, "regions = [\"ap-guangzhou\"]\n\n[[instance]]\nid = \"postgres-6bwgamo3\"\nregoin = \"ap-guangzhou\"\n")
            .expect_err("typo");
        let msg = e.to_string();
        assert!(msg.starts_with("/x/config.toml: line 5: "), "{msg}");
        assert!(msg.contains("regoin"), "{msg}");

        let e = Config::parse(path, "regions = [\"ap-guangzhou\",\n  \"mars-1\"]\n")
            .expect_err("bad region");
        assert!(
            e.to_string().contains("line 2") && e.to_string().contains("mars-1"),
            "{e}"
        );

        let e = Config::parse(path, "endpoint = \"http://example.com\"\n").expect_err("http");
        assert!(e.to_string().contains("refusing plain http"), "{e}");

        let e = Config::parse(path, "profile = \n").expect_err("syntax");
        assert!(e.to_string().contains("line 1"), "{e}");
    }

    #[test]
    fn the_cache_follows_the_file_and_never_hides_an_edit() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = ConfigFile::new(dir.path().join("config.toml"))
            .with_cache(dir.path().join("data/config-cache.json"));
        file.update(|c| *c = sample()).expect("write");
        assert!(dir.path().join("data/config-cache.json").exists());
        assert_eq!(file.load().expect("from cache"), sample());
        // A person edits the TOML: the next load sees the edit, not the cache.
        std::fs::write(&file.path, "regions = [\"ap-seoul\"]\n").expect("edit");
        assert_eq!(
            file.load().expect("reparsed").regions,
            vec!["ap-seoul".to_string()]
        );
        // And a broken edit is reported, whatever the cache holds.
        std::fs::write(&file.path, "regions = [\n").expect("break");
        assert!(file.load().is_err());
        // A garbage cache is ignored.
        std::fs::write(dir.path().join("data/config-cache.json"), "junk").expect("junk");
        std::fs::write(&file.path, "regions = [\"ap-tokyo\"]\n").expect("fix");
        assert_eq!(
            file.load().expect("parsed").regions,
            vec!["ap-tokyo".to_string()]
        );
    }

    #[test]
    fn update_never_overwrites_a_malformed_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = ConfigFile::new(dir.path().join("config.toml"));
        file.update(|c| *c = sample()).expect("first write");
        assert_eq!(file.load().expect("loads"), sample());

        let broken = "regions = [\"ap-guangzhou\"\n";
        std::fs::write(&file.path, broken).expect("break it");
        assert!(file.update(|c| c.regions.clear()).is_err());
        assert_eq!(std::fs::read_to_string(&file.path).expect("read"), broken);
    }
}
