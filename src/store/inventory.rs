//! What pgssl has learned about instances: name, kind, status, addresses, SSL state and
//! when each was read. Kept apart from `config.toml` (what a person chooses) in
//! `inventory.json` in the data dir, written atomically with mode 0600 under a lock, so
//! pgssl's own bookkeeping never rewrites a file people edit.
//!
//! Everything in it can be learned again from the API: a file that does not parse is
//! reported and replaced on the next write, never a reason to stop.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::{Instance, InstanceKind, InstanceStatus, SslSeen};
use crate::text::clean;

const VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    #[serde(default)]
    version: u32,
    /// Instance id to what is known of it.
    #[serde(default)]
    instances: HashMap<String, Instance>,
}

impl Inventory {
    pub fn get(&self, id: &str) -> Option<&Instance> {
        self.instances.get(id)
    }

    pub fn len(&self) -> usize {
        self.instances.len()
    }

    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }

    /// Keep a described instance. SSL state already known survives a description that
    /// did not read it (a listing), unless the new one is newer.
    pub fn learn(&mut self, mut instance: Instance) {
        if instance.ssl.is_none()
            && let Some(old) = self.instances.get(&instance.id)
        {
            instance.ssl.clone_from(&old.ssl);
        }
        self.instances.insert(instance.id.clone(), instance);
    }

    /// A refresh of status and SSL state for a known instance (ignored for unknown ones:
    /// there is nothing to attach it to).
    pub fn learn_state(&mut self, id: &str, status: Option<InstanceStatus>, ssl: SslSeen) {
        if let Some(i) = self.instances.get_mut(id) {
            if let Some(status) = status {
                i.status = status;
            }
            i.ssl = Some(ssl);
        }
    }

    pub fn forget(&mut self, id: &str) -> bool {
        self.instances.remove(id).is_some()
    }

    pub fn into_map(self) -> HashMap<String, Instance> {
        self.instances
    }

    /// A file written by hand (or by a bug) may hold anything: clean every text field and
    /// drop entries whose key and id disagree or whose id is not an instance id.
    fn sanitized(mut self) -> Inventory {
        self.instances
            .retain(|k, i| *k == i.id && crate::validate::instance_id(k).is_ok());
        for i in self.instances.values_mut() {
            i.name = clean(&i.name);
            i.region = clean(&i.region);
            i.master = i.master.as_deref().map(clean);
            i.unusable = i.unusable.iter().map(|u| clean(u)).collect();
            if let InstanceKind::Other(k) = &i.kind {
                i.kind = InstanceKind::Other(clean(k));
            }
            if let InstanceStatus::Other(s) = &i.status {
                i.status = InstanceStatus::Other(clean(s));
            }
            for a in &mut i.addresses {
                a.dns = a.dns.as_deref().map(clean);
                a.status = a.status.as_deref().map(clean);
                a.group_id = a.group_id.as_deref().map(clean);
                a.group_name = a.group_name.as_deref().map(clean);
            }
            if let Some(ssl) = &mut i.ssl {
                ssl.read_at = clean(&ssl.read_at);
                ssl.state.ca_url = ssl.state.ca_url.as_deref().map(clean);
            }
            i.read_at = clean(&i.read_at);
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {problem}", crate::text::sanitize(&path.display().to_string()))]
pub struct InventoryError {
    pub path: PathBuf,
    pub problem: String,
}

/// The inventory file and its lock.
#[derive(Debug, Clone)]
pub struct InventoryFile {
    pub path: PathBuf,
}

impl InventoryFile {
    pub fn new(path: PathBuf) -> Self {
        InventoryFile { path }
    }

    fn error(&self, problem: String) -> InventoryError {
        InventoryError {
            path: self.path.clone(),
            problem,
        }
    }

    /// Read it; a missing file is an empty inventory. A file that does not parse is an
    /// error the caller may report and carry on from (with an empty inventory).
    pub fn load(&self) -> Result<Inventory, InventoryError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Inventory::default()),
            Err(e) => return Err(self.error(format!("cannot read it ({e})"))),
        };
        serde_json::from_slice::<Inventory>(&bytes)
            .map(Inventory::sanitized)
            .map_err(|e| {
                self.error(format!(
                    "does not parse ({}); pgssl will learn it again from the API and replace it",
                    clean(&e.to_string())
                ))
            })
    }

    fn lock(&self) -> Result<File, InventoryError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        super::ensure_private_dir(dir)
            .map_err(|e| self.error(format!("cannot create its directory ({e})")))?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(self.path.with_extension("json.lock"))
            .map_err(|e| self.error(format!("cannot open its lock ({e})")))?;
        file.lock()
            .map_err(|e| self.error(format!("cannot lock ({e})")))?;
        Ok(file)
    }

    /// Re-read under the lock, apply `change`, write atomically. An unreadable file is
    /// replaced: all it held can be learned again.
    pub fn update<T>(&self, change: impl FnOnce(&mut Inventory) -> T) -> Result<T, InventoryError> {
        let _lock = self.lock()?;
        super::remove_stale_temps(&self.path);
        let mut inventory = self.load().unwrap_or_default();
        let out = change(&mut inventory);
        inventory.version = VERSION;
        let bytes = serde_json::to_vec(&inventory)
            .map_err(|e| self.error(format!("cannot encode it ({e})")))?;
        super::write_atomic(&self.path, &bytes)
            .map_err(|e| self.error(format!("cannot write it ({e})")))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SslState;
    use std::os::unix::fs::PermissionsExt;

    fn instance(id: &str) -> Instance {
        Instance {
            id: id.into(),
            region: "ap-guangzhou".into(),
            name: "orders".into(),
            kind: InstanceKind::Primary,
            status: InstanceStatus::Running,
            master: None,
            addresses: vec![],
            unusable: vec![],
            ssl: None,
            read_at: "2026-12-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn learns_keeps_ssl_across_listings_and_writes_privately() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = InventoryFile::new(dir.path().join("data/inventory.json"));
        let seen = SslSeen {
            state: SslState {
                enabled: true,
                protected: Some("10.0.0.8".parse().expect("ip")),
                ca_url: None,
            },
            read_at: "2026-12-01T00:00:01Z".into(),
        };
        file.update(|inv| {
            inv.learn(instance("postgres-6bwgamo3"));
            inv.learn_state(
                "postgres-6bwgamo3",
                Some(InstanceStatus::Restarting),
                seen.clone(),
            );
            // A listing without SSL state does not forget it.
            inv.learn(instance("postgres-6bwgamo3"));
            inv.learn_state("postgres-zzzzzzzz", None, seen.clone());
        })
        .expect("write");
        let inv = file.load().expect("load");
        assert_eq!(inv.len(), 1);
        let i = inv.get("postgres-6bwgamo3").expect("kept");
        assert_eq!(i.ssl.as_ref(), Some(&seen));
        assert_eq!(i.status, InstanceStatus::Running);
        let mode = std::fs::metadata(&file.path)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_broken_or_hostile_file_is_reported_cleaned_or_replaced() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = InventoryFile::new(dir.path().join("inventory.json"));
        std::fs::write(&file.path, "{not json").expect("write");
        assert!(
            file.load()
                .expect_err("broken")
                .to_string()
                .contains("learn it again")
        );
        file.update(|inv| inv.learn(instance("postgres-6bwgamo3")))
            .expect("replaced");
        assert_eq!(file.load().expect("load").len(), 1);

        let mut hostile = instance("postgres-6bwgamo3");
        hostile.name = "x\u{1b}[2J\u{202e}".into();
        let mut wrong_key = instance("postgres-aaaa1111");
        wrong_key.id = "postgres-bbbb2222".into();
        let mut map = HashMap::new();
        map.insert(hostile.id.clone(), hostile);
        map.insert("postgres-aaaa1111".to_string(), wrong_key);
        let text = serde_json::to_string(&Inventory {
            version: 1,
            instances: map,
        })
        .expect("json");
        std::fs::write(&file.path, text).expect("write");
        let inv = file.load().expect("load");
        assert_eq!(inv.len(), 1);
        let name = &inv.get("postgres-6bwgamo3").expect("kept").name;
        assert!(
            !name.contains('\u{1b}') && !name.contains('\u{202e}'),
            "{name}"
        );
    }
}
