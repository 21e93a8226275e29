//! The config a person reads and edits: default profile, endpoint and region, the
//! regions they work in, the instances they keep (by region) and names they give them.
//! Only what a person chooses lives here; what pgssl learns about instances is kept in
//! the inventory (`inventory.json` in the data dir), so reading, refreshing, changing
//! SSL or verifying never rewrites this file.
//!
//! ```toml
//! region = "ap-guangzhou"
//! regions = ["ap-guangzhou", "ap-singapore"]
//!
//! [instances]
//! ap-guangzhou = ["postgres-6bwgamo3", "pgro-ro9x2k1q"]
//!
//! [names]
//! postgres-6bwgamo3 = "orders"
//!
//! # Guards: changes are refused unless the credential's account is allowed (and not
//! # forbidden), globally and per tccli profile; a profile may be read-only or protected.
//! allowed_accounts = ["100000000001"]
//! [profiles.prod]
//! forbidden_accounts = ["100000000009"]
//! protected = true
//! ```
//!
//! A malformed file is reported with its path, line and problem and is never overwritten:
//! every write re-reads the file under a lock and refuses if it no longer parses.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::legacy::LegacyInstance;
use crate::validate;

/// An instance a person keeps: where it is, and the name they gave it (if any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SavedInstance {
    pub id: String,
    pub region: String,
    /// A name the person gave it in `[names]`; the API's name is in the inventory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The config as pgssl works with it. The file's layout is `Raw`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// tccli profile to use when `--profile` is not given.
    pub profile: Option<String>,
    /// API endpoint when `--endpoint` is not given.
    pub endpoint: Option<String>,
    /// Region for commands that name none and whose instance is not saved.
    pub region: Option<String>,
    /// Regions shown and discovered in the TUI.
    pub regions: Vec<String>,
    /// The saved instances, ordered by region, then id.
    instances: Vec<SavedInstance>,
    /// Instance id to its position in `instances`.
    index: HashMap<String, usize>,
    /// Instances in the previous layout (`[[instance]]` with learned state), to migrate.
    pub(super) legacy: Vec<LegacyInstance>,
    /// Account guards, globally and per tccli profile.
    pub guards: Guards,
}

/// Which accounts changes may go to, and how careful to be, for one scope (all
/// credentials, or one tccli profile). Modelled on Terraform's `allowed_account_ids` /
/// `forbidden_account_ids`, which compare GetCallerIdentity's AccountId.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guard {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_accounts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forbidden_accounts: Vec<String>,
    /// As `--readonly`: nothing that changes an instance is sent with this profile.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub readonly: bool,
    /// Shown apart in the TUI, and a change is confirmed by typing the instance id.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub protected: bool,
    /// The census's login for this profile (`[profiles.NAME.monitor]`).
    #[serde(default, skip_serializing_if = "Monitor::is_empty")]
    pub monitor: Monitor,
}

/// The monitoring login the census uses (`[monitor]`, or per profile): a user and a
/// database, never a password (that comes the libpq way: PGPASSWORD, ~/.pgpass).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Monitor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

impl Monitor {
    pub fn is_empty(&self) -> bool {
        self.user.is_none() && self.database.is_none()
    }

    /// Each field of `over` where it is set, else this one's.
    pub fn overlaid(&self, over: &Monitor) -> Monitor {
        Monitor {
            user: over.user.clone().or_else(|| self.user.clone()),
            database: over.database.clone().or_else(|| self.database.clone()),
        }
    }
}

/// The guards of the whole config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guards {
    pub global: Guard,
    pub profiles: BTreeMap<String, Guard>,
}

/// The guards that apply to one session: the global ones and its profile's together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effective {
    /// The profile whose guard applies, when it has one.
    pub profile: Option<String>,
    /// Each list that is set must contain the account (global, then the profile's).
    pub allowed: Vec<(String, Vec<String>)>,
    /// The account must be in none (both lists together).
    pub forbidden: Vec<(String, String)>,
    pub readonly: bool,
    pub protected: bool,
    /// The census's login: the profile's `[monitor]` over the global one.
    pub monitor: Monitor,
}

impl Guards {
    /// What applies to a session using tccli profile `profile` (if any).
    pub fn effective(&self, profile: Option<&str>) -> Effective {
        let mut e = Effective::default();
        let mut add = |scope: String, g: &Guard| {
            if !g.allowed_accounts.is_empty() {
                e.allowed.push((scope.clone(), g.allowed_accounts.clone()));
            }
            for a in &g.forbidden_accounts {
                e.forbidden.push((scope.clone(), a.clone()));
            }
            e.readonly |= g.readonly;
            e.protected |= g.protected;
        };
        add("allowed_accounts".into(), &self.global);
        e.monitor = self.global.monitor.clone();
        if let Some((name, g)) = profile.and_then(|p| self.profiles.get_key_value(p)) {
            add(format!("[profiles.{name}]"), g);
            e.profile = Some(name.clone());
            e.monitor = e.monitor.overlaid(&g.monitor);
        }
        e
    }
}

/// The file, as TOML spells it.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    regions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    allowed_accounts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    forbidden_accounts: Vec<String>,
    /// Region to instance ids.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    instances: BTreeMap<String, Vec<String>>,
    /// Instance id to the name a person gave it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    names: BTreeMap<String, String>,
    /// Guards per tccli profile.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    profiles: BTreeMap<String, Guard>,
    /// The census's login for every profile (`[profiles.NAME.monitor]` overrides it).
    #[serde(default, skip_serializing_if = "Monitor::is_empty")]
    monitor: Monitor,
    /// The layout before the inventory existed; read once, then migrated.
    #[serde(default, rename = "instance", skip_serializing)]
    legacy: Vec<LegacyInstance>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: line {line}: {problem}. Fix the file (pgssl will not overwrite it until it parses)", crate::text::sanitize(&path.display().to_string()))]
    Malformed {
        path: PathBuf,
        line: usize,
        problem: String,
    },
    #[error("{}: {problem}", crate::text::sanitize(&path.display().to_string()))]
    Io { path: PathBuf, problem: String },
    /// Not a file pgssl reads at all (a FIFO, a device, far too large).
    #[error("{}: {problem}", crate::text::sanitize(&path.display().to_string()))]
    Refused { path: PathBuf, problem: String },
}

impl ConfigError {
    /// A file a person must fix is a usage problem (2); failing to read or write is 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            ConfigError::Malformed { .. } | ConfigError::Refused { .. } => 2,
            ConfigError::Io { .. } => 1,
        }
    }
}

const HEADER: &str = "# pgssl configuration: edit freely. pgssl rewrites this file only when you add, import or\n# remove instances or change regions (comments other than this header are not kept).\n# What pgssl learns about instances is kept apart, in inventory.json in its data directory.\n\n";

impl Config {
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| line_of(text, s.start));
            ConfigError::Malformed {
                path: path.to_path_buf(),
                line,
                problem: crate::text::clean(e.message().trim()),
            }
        })?;
        Config::from_raw(raw, path, text)
    }

    /// Check what parses as TOML but makes no sense to pgssl, and index the instances.
    fn from_raw(raw: Raw, path: &Path, text: &str) -> Result<Config, ConfigError> {
        let bad = |needle: &str, problem: String| ConfigError::Malformed {
            path: path.to_path_buf(),
            line: text.find(needle).map_or(1, |i| line_of(text, i)),
            problem,
        };
        for r in raw.regions.iter().chain(raw.region.iter()) {
            validate::region_name(r).map_err(|p| bad(r, p))?;
        }
        if let Some(e) = &raw.endpoint {
            crate::api::Endpoint::parse(e).map_err(|p| bad(e, p))?;
        }
        if let Some(p) = &raw.profile
            && !crate::credentials::tccli::valid_name(p)
        {
            return Err(bad(
                p,
                "`profile` is not a tccli profile name (letters, digits, '-', '_', '.')".into(),
            ));
        }
        let global = Guard {
            allowed_accounts: raw.allowed_accounts,
            forbidden_accounts: raw.forbidden_accounts,
            readonly: false,
            protected: false,
            monitor: raw.monitor,
        };
        check_guard("", &global).map_err(|(needle, p)| bad(&needle, p))?;
        for (name, guard) in &raw.profiles {
            if !crate::credentials::tccli::valid_name(name) {
                return Err(bad(
                    name,
                    format!(
                        "[profiles.{}] is not a tccli profile name (letters, digits, '-', '_', '.')",
                        crate::text::sanitize(name)
                    ),
                ));
            }
            check_guard(&format!("[profiles.{name}] "), guard)
                .map_err(|(needle, p)| bad(&needle, p))?;
        }
        let mut config = Config {
            profile: raw.profile,
            endpoint: raw.endpoint,
            region: raw.region,
            regions: raw.regions,
            legacy: raw.legacy,
            guards: Guards {
                global,
                profiles: raw.profiles,
            },
            ..Config::default()
        };
        for (region, ids) in raw.instances {
            validate::region_name(&region).map_err(|p| bad(&region, format!("[instances] {p}")))?;
            for id in ids {
                validate::instance_id(&id).map_err(|p| bad(&id, p))?;
                if config.index.contains_key(&id) {
                    return Err(bad(
                        &id,
                        format!("instance {id} is listed twice; keep it under one region"),
                    ));
                }
                config.index.insert(id.clone(), config.instances.len());
                config.instances.push(SavedInstance {
                    id,
                    region: region.clone(),
                    name: None,
                });
            }
        }
        for (id, name) in raw.names {
            let Some(&i) = config.index.get(&id) else {
                return Err(bad(
                    &id,
                    format!(
                        "[names] names {}, which is not a saved instance; add it under [instances] or remove the name",
                        crate::text::sanitize(&id)
                    ),
                ));
            };
            // Kept as the person wrote it (written back the same way); whoever shows it
            // sanitizes it.
            config.instances[i].name = Some(name).filter(|n| !n.is_empty());
        }
        for legacy in &config.legacy {
            validate::instance_id(&legacy.id).map_err(|p| bad(&legacy.id, p))?;
            validate::region_name(&legacy.region).map_err(|p| bad(&legacy.region, p))?;
        }
        config.sort();
        Ok(config)
    }

    fn to_raw(&self) -> Raw {
        let mut raw = Raw {
            profile: self.profile.clone(),
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            regions: self.regions.clone(),
            allowed_accounts: self.guards.global.allowed_accounts.clone(),
            forbidden_accounts: self.guards.global.forbidden_accounts.clone(),
            profiles: self.guards.profiles.clone(),
            monitor: self.guards.global.monitor.clone(),
            ..Raw::default()
        };
        for i in &self.instances {
            raw.instances
                .entry(i.region.clone())
                .or_default()
                .push(i.id.clone());
            if let Some(name) = &i.name {
                raw.names.insert(i.id.clone(), name.clone());
            }
        }
        raw
    }

    pub fn to_toml(&self) -> Result<String, String> {
        let body = toml::to_string(&self.to_raw())
            .map_err(|e| format!("cannot encode the config ({e})"))?;
        Ok(format!("{HEADER}{body}"))
    }

    pub fn instances(&self) -> &[SavedInstance] {
        &self.instances
    }

    pub fn instance(&self, id: &str) -> Option<&SavedInstance> {
        self.index.get(id).map(|&i| &self.instances[i])
    }

    fn sort(&mut self) {
        self.instances
            .sort_by(|a, b| (&a.region, &a.id).cmp(&(&b.region, &b.id)));
        self.index = self
            .instances
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
    }

    /// Keep an instance (in a region); true when it was not kept before. A name the
    /// person gave it stays.
    pub fn add(&mut self, id: &str, region: &str) -> bool {
        if let Some(&i) = self.index.get(id) {
            self.instances[i].region = region.to_string();
            self.sort();
            false
        } else {
            self.instances.push(SavedInstance {
                id: id.to_string(),
                region: region.to_string(),
                name: None,
            });
            self.sort();
            true
        }
    }

    /// Keep many instances at once (an import); returns how many were new.
    pub fn add_all<'a>(&mut self, found: impl IntoIterator<Item = (&'a str, &'a str)>) -> usize {
        let mut added = 0;
        for (id, region) in found {
            if let Some(&i) = self.index.get(id) {
                self.instances[i].region = region.to_string();
            } else {
                self.index.insert(id.to_string(), self.instances.len());
                self.instances.push(SavedInstance {
                    id: id.to_string(),
                    region: region.to_string(),
                    name: None,
                });
                added += 1;
            }
        }
        self.sort();
        added
    }

    pub fn remove(&mut self, id: &str) -> bool {
        let before = self.instances.len();
        self.instances.retain(|i| i.id != id);
        self.sort();
        before != self.instances.len()
    }

    /// Keep these regions too (each once, in the order given).
    pub fn keep_regions(&mut self, regions: &[String]) {
        for r in regions {
            if !self.regions.contains(r) {
                self.regions.push(r.clone());
            }
        }
    }
}

/// An account id is a uin: digits. Allowed and forbidden together in one scope make no
/// sense (Terraform refuses it too). Err is (text to find the line by, problem).
fn check_guard(scope: &str, g: &Guard) -> Result<(), (String, String)> {
    for a in g.allowed_accounts.iter().chain(&g.forbidden_accounts) {
        if a.is_empty() || a.len() > 20 || !a.bytes().all(|b| b.is_ascii_digit()) {
            return Err((
                a.clone(),
                format!(
                    "{scope}account '{}' is not an account id (the digits GetCallerIdentity's AccountId has, e.g. 100000000001)",
                    crate::text::sanitize(a)
                ),
            ));
        }
    }
    if !g.allowed_accounts.is_empty() && !g.forbidden_accounts.is_empty() {
        return Err((
            "forbidden_accounts".into(),
            format!("{scope}sets both allowed_accounts and forbidden_accounts; keep one"),
        ));
    }
    Ok(())
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).matches('\n').count() + 1
}

/// The config file, and the lock that serializes read-modify-write between processes.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
}

impl ConfigFile {
    pub fn new(path: PathBuf) -> Self {
        ConfigFile { path }
    }

    /// Read the config; a missing file is an empty config.
    pub fn load(&self) -> Result<Config, ConfigError> {
        match super::bounded::read_to_string(&self.path, super::caps::CONFIG) {
            Ok(text) => Config::parse(&self.path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) if super::bounded::is_refusal(&e) => Err(ConfigError::Refused {
                path: self.path.clone(),
                problem: format!("cannot read it ({e})"),
            }),
            Err(e) => Err(self.io(format!("cannot read it ({e})"))),
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
        super::ensure_private_dir(dir).map_err(|e| {
            self.io(format!(
                "cannot create {} ({e})",
                crate::text::sanitize(&dir.display().to_string())
            ))
        })?;
        let lock_path = self.path.with_extension("toml.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|e| self.io(format!("cannot open its lock ({e})")))?;
        file.lock()
            .map_err(|e| self.io(format!("cannot lock ({e})")))?;
        Ok(file)
    }

    /// Re-read under a lock, apply `change`, write atomically. A file that does not parse
    /// is left exactly as it is.
    pub fn update<T>(&self, change: impl FnOnce(&mut Config) -> T) -> Result<T, ConfigError> {
        let _lock = self.lock()?;
        super::remove_stale_temps(&self.path);
        let mut config = self.load()?;
        let out = change(&mut config);
        self.write(&config)?;
        Ok(out)
    }

    /// Write under a lock the caller holds (or in `update`).
    fn write(&self, config: &Config) -> Result<(), ConfigError> {
        let text = config.to_toml().map_err(|e| self.io(e))?;
        super::write_atomic(&self.path, text.as_bytes())
            .map_err(|e| self.io(format!("cannot write it ({e})")))
    }

    /// Move instances kept in the previous layout into the new one, under the lock, and
    /// hand back what they held (their learned state goes to the inventory). Nothing
    /// happens, and nothing is written, when there is nothing to migrate.
    pub(super) fn take_legacy(&self) -> Result<Vec<LegacyInstance>, ConfigError> {
        let _lock = self.lock()?;
        let mut config = self.load()?;
        if config.legacy.is_empty() {
            return Ok(Vec::new());
        }
        let legacy = std::mem::take(&mut config.legacy);
        config.add_all(legacy.iter().map(|l| (l.id.as_str(), l.region.as_str())));
        self.write(&config)?;
        Ok(legacy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "region = \"ap-guangzhou\"\nregions = [\"ap-guangzhou\"]\n\n[instances]\nap-guangzhou = [\"postgres-6bwgamo3\", \"pgro-ro9x2k1q\"]\nap-seoul = [\"postgres-aaaa1111\"]\n\n[names]\npostgres-6bwgamo3 = \"orders\"\n";

    #[test]
    fn round_trips_through_toml() {
        let c = Config::parse(Path::new("c.toml"), SAMPLE).expect("parses");
        assert_eq!(c.instances().len(), 3);
        assert_eq!(
            c.instance("postgres-6bwgamo3")
                .and_then(|i| i.name.as_deref()),
            Some("orders")
        );
        assert_eq!(
            c.instance("postgres-aaaa1111").map(|i| i.region.as_str()),
            Some("ap-seoul")
        );
        let text = c.to_toml().expect("encodes");
        assert!(text.contains("[instances]"), "{text}");
        assert_eq!(
            Config::parse(Path::new("c.toml"), &text).expect("parses"),
            c
        );
    }

    #[test]
    fn errors_name_file_line_and_problem() {
        let path = Path::new("/x/config.toml");
        let e = Config::parse(path, "regions = [\"ap-guangzhou\"]\n\n[instances]\nap-guangzhou = [\"postgres-6bwgamo3\"]\nregoin = 1\n")
            .expect_err("typo");
        let msg = e.to_string();
        assert!(msg.starts_with("/x/config.toml: line 5: "), "{msg}");

        // The file checks a region's shape; whether it is one is DescribeRegions' to say.
        let e = Config::parse(path, "regions = [\"ap-guangzhou\",\n  \"Mars 1\"]\n")
            .expect_err("bad region");
        assert!(
            e.to_string().contains("line 2") && e.to_string().contains("Mars 1"),
            "{e}"
        );

        let e = Config::parse(path, "endpoint = \"http://example.com\"\n").expect_err("http");
        assert!(e.to_string().contains("refusing plain http"), "{e}");

        let e = Config::parse(path, "profile = \n").expect_err("syntax");
        assert!(e.to_string().contains("line 1"), "{e}");

        let e = Config::parse(
            path,
            "[instances]\nap-guangzhou = [\"postgres-6bwgamo3\"]\nap-seoul = [\"postgres-6bwgamo3\"]\n",
        )
        .expect_err("twice");
        assert!(e.to_string().contains("listed twice"), "{e}");

        let e = Config::parse(path, "[names]\npostgres-6bwgamo3 = \"x\"\n").expect_err("name");
        assert!(e.to_string().contains("not a saved instance"), "{e}");
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn update_never_overwrites_a_malformed_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = ConfigFile::new(dir.path().join("config.toml"));
        file.update(|c| {
            c.add("postgres-6bwgamo3", "ap-guangzhou");
        })
        .expect("first write");
        assert!(
            file.load()
                .expect("loads")
                .instance("postgres-6bwgamo3")
                .is_some()
        );

        let broken = "regions = [\"ap-guangzhou\"\n";
        std::fs::write(&file.path, broken).expect("break it");
        assert!(file.update(|c| c.regions.clear()).is_err());
        assert_eq!(std::fs::read_to_string(&file.path).expect("read"), broken);
    }

    #[test]
    fn a_persons_text_is_written_back_as_written() {
        // TOML escapes for a zero-width joiner and a tab: what an emoji sequence or a pasted
        // name carries.
        let text = "[instances]\nap-guangzhou = [\"postgres-6bwgamo3\", \"postgres-aaaa1111\"]\n\n[names]\npostgres-6bwgamo3 = \"ops\\u200dteam\\tA\"\n";
        let mut c = Config::parse(Path::new("c.toml"), text).expect("parses");
        let name = c.instance("postgres-6bwgamo3").and_then(|i| i.name.clone());
        assert_eq!(name.as_deref(), Some("ops\u{200d}team\tA"));
        c.remove("postgres-aaaa1111");
        let again =
            Config::parse(Path::new("c.toml"), &c.to_toml().expect("encodes")).expect("parses");
        assert_eq!(
            again
                .instance("postgres-6bwgamo3")
                .and_then(|i| i.name.clone()),
            name
        );
    }

    #[test]
    fn adding_and_removing_keeps_names_and_order() {
        let mut c = Config::parse(Path::new("c.toml"), SAMPLE).expect("parses");
        assert!(!c.add("postgres-6bwgamo3", "ap-guangzhou"));
        assert!(c.add("postgres-bbbb2222", "ap-guangzhou"));
        assert_eq!(
            c.add_all([
                ("postgres-bbbb2222", "ap-guangzhou"),
                ("postgres-cccc3333", "ap-tokyo")
            ]),
            1
        );
        assert_eq!(
            c.instance("postgres-6bwgamo3")
                .and_then(|i| i.name.as_deref()),
            Some("orders")
        );
        assert!(c.remove("postgres-bbbb2222") && !c.remove("postgres-bbbb2222"));
        let ids: Vec<&str> = c.instances().iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "pgro-ro9x2k1q",
                "postgres-6bwgamo3",
                "postgres-aaaa1111",
                "postgres-cccc3333"
            ]
        );
    }
}
