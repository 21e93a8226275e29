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

use crate::domain::{CaKnown, CaPin, Instance, TlsKnown};
use crate::text::clean;

const VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    #[serde(default)]
    version: u32,
    /// Instance id to what is known of it.
    #[serde(default)]
    /// Boxed: the TUI takes each one into its list row as it is, without copying.
    instances: HashMap<String, Box<Instance>>,
}

impl Inventory {
    pub fn get(&self, id: &str) -> Option<&Instance> {
        self.instances.get(id).map(AsRef::as_ref)
    }

    pub fn len(&self) -> usize {
        self.instances.len()
    }

    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }

    /// Keep a described instance; an older reading never replaces a newer one (see
    /// `Instance::absorb`), and SSL state survives a description that did not read it.
    pub fn learn(&mut self, instance: Instance) {
        match self.instances.get_mut(&instance.id) {
            Some(known) => known.absorb(instance),
            None => {
                self.instances
                    .insert(instance.id.clone(), Box::new(instance));
            }
        }
    }

    /// The CA just fetched for a known instance. Its pin stays what it was: the CA first
    /// seen (the one known before, for inventories written before pins), or the one
    /// last accepted; a CA first seen now pins itself.
    pub fn note_ca(&mut self, id: &str, mut ca: CaKnown) -> Option<&CaKnown> {
        let i = self.instances.get_mut(id)?;
        ca.pin = Some(match &i.ca {
            Some(known) => known.pinned(),
            None => ca.pinned(),
        });
        i.ca = Some(ca);
        i.ca.as_ref()
    }

    /// Accept the CA fetched last as the one pinned (`ssl ca ID --accept`): the pin it
    /// replaced, or None when there was nothing to accept (no CA known).
    pub fn accept_ca(&mut self, id: &str, now: &str) -> Option<(CaPin, CaPin)> {
        let ca = self.instances.get_mut(id)?.ca.as_mut()?;
        let was = ca.pinned();
        let pin = CaPin {
            sha256: ca.sha256.clone(),
            since: now.to_string(),
        };
        ca.pin = Some(if was.sha256 == pin.sha256 {
            was.clone()
        } else {
            pin.clone()
        });
        Some((was, pin))
    }

    /// A TLS check just made of a known instance.
    pub fn note_tls(&mut self, id: &str, tls: TlsKnown) {
        if let Some(i) = self.instances.get_mut(id) {
            i.tls = Some(tls);
        }
    }

    pub fn forget(&mut self, id: &str) -> bool {
        self.instances.remove(id).is_some()
    }

    pub fn into_map(self) -> HashMap<String, Box<Instance>> {
        self.instances
    }

    /// A file written by hand (or by a bug) may hold anything: clean every text field and
    /// drop entries whose key and id disagree or whose id is not an instance id.
    fn sanitized(mut self) -> Inventory {
        self.instances
            .retain(|k, i| *k == i.id && crate::validate::instance_id(k).is_ok());
        for i in self.instances.values_mut() {
            tidy(&mut i.name);
            tidy(&mut i.region);
            i.master.iter_mut().for_each(tidy);
            i.unusable.iter_mut().for_each(tidy);
            // Kind and status were cleaned as they were read (their `From<String>`).
            for a in &mut i.addresses {
                for s in [
                    &mut a.dns,
                    &mut a.status,
                    &mut a.group_id,
                    &mut a.group_name,
                ] {
                    s.iter_mut().for_each(tidy);
                }
            }
            if let Some(ssl) = &mut i.ssl {
                tidy(&mut ssl.read_at);
                ssl.state.ca_url.iter_mut().for_each(tidy);
            }
            if let Some(ca) = &mut i.ca {
                for s in [
                    &mut ca.path,
                    &mut ca.subject,
                    &mut ca.not_after,
                    &mut ca.sha256,
                    &mut ca.fetched_at,
                ] {
                    tidy(s);
                }
                if let Some(pin) = &mut ca.pin {
                    tidy(&mut pin.sha256);
                    tidy(&mut pin.since);
                }
            }
            if let Some(tls) = &mut i.tls {
                tidy(&mut tls.address);
                tidy(&mut tls.checked_at);
            }
            tidy(&mut i.read_at);
        }
        self
    }
}

/// Clean a string in place, allocating only when it holds something to escape (a file
/// of 10,000 instances is read at every start).
fn tidy(s: &mut String) {
    if let std::borrow::Cow::Owned(clean) = crate::text::sanitize(s) {
        *s = clean;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {problem}", crate::text::sanitize(&path.display().to_string()))]
pub struct InventoryError {
    pub path: PathBuf,
    pub problem: String,
    /// The file could not be read at all (as opposed to: read, but not parsed).
    pub unreadable: bool,
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
            unreadable: false,
        }
    }

    /// Read it; a missing file is an empty inventory. A file that does not parse is an
    /// error the caller may report and carry on from (with an empty inventory).
    pub fn load(&self) -> Result<Inventory, InventoryError> {
        let bytes = match super::bounded::read(&self.path, super::caps::RECORDS) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Inventory::default()),
            Err(e) => {
                return Err(InventoryError {
                    unreadable: true,
                    ..self.error(format!("cannot read it ({e})"))
                });
            }
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

    /// Re-read under the lock, apply `change`, write atomically. A file that does not
    /// parse is replaced (all it held can be learned again); one that cannot be read at
    /// all (permissions) is an error, never overwritten.
    pub fn update<T>(&self, change: impl FnOnce(&mut Inventory) -> T) -> Result<T, InventoryError> {
        let _lock = self.lock()?;
        super::remove_stale_temps(&self.path);
        let mut inventory = match self.load() {
            Ok(inv) => inv,
            Err(e) if e.unreadable => return Err(e),
            Err(_) => Inventory::default(),
        };
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
    use crate::domain::{InstanceKind, InstanceStatus, SslSeen, SslState};
    use std::os::unix::fs::PermissionsExt;

    fn instance(id: &str) -> Instance {
        Instance {
            id: id.into(),
            region: "ap-guangzhou".into(),
            name: "orders".into(),
            kind: InstanceKind::Primary,
            status: InstanceStatus::Running,
            master: None,
            version: None,
            addresses: vec![],
            unusable: vec![],
            ssl: None,
            read_at: "2026-12-01T00:00:00Z".into(),
            ca: None,
            tls: None,
        }
    }

    #[test]
    fn an_older_reading_never_replaces_a_newer_one() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = InventoryFile::new(dir.path().join("data/inventory.json"));
        let on = SslSeen {
            state: SslState {
                enabled: true,
                protected: Some("10.0.0.8".parse().expect("ip")),
                ca_url: None,
                inline_ca: None,
            },
            read_at: "2026-12-01T00:00:05.200Z".into(),
        };
        let mut after_change = instance("postgres-6bwgamo3");
        after_change.read_at = "2026-12-01T00:00:05.200Z".into();
        after_change.ssl = Some(on.clone());
        // A refresh that started earlier (SSL still off then) ends later.
        let mut stale = instance("postgres-6bwgamo3");
        stale.read_at = "2026-12-01T00:00:05.100Z".into();
        stale.status = InstanceStatus::Restarting;
        stale.ssl = Some(SslSeen {
            state: SslState::OFF,
            read_at: "2026-12-01T00:00:05.150Z".into(),
        });
        // A listing made later carries no SSL state: it keeps what is known.
        let mut listing = instance("postgres-6bwgamo3");
        listing.read_at = "2026-12-01T00:00:09Z".into();
        listing.name = "renamed".into();
        file.update(|inv| {
            inv.learn(after_change);
            inv.learn(stale);
            inv.learn(listing);
        })
        .expect("write");
        let inv = file.load().expect("load");
        let i = inv.get("postgres-6bwgamo3").expect("kept");
        assert_eq!(i.ssl.as_ref(), Some(&on), "the newer SSL reading stays");
        assert_eq!(i.status, InstanceStatus::Running);
        assert_eq!(i.name, "renamed", "the newer listing is taken");
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
        map.insert(hostile.id.clone(), Box::new(hostile));
        map.insert("postgres-aaaa1111".to_string(), Box::new(wrong_key));
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
