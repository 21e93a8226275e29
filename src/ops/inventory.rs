//! The saved instances: import a region, add one, remove one, refresh what is known.
//! What a person chooses goes to `config.toml`; what the API says goes to the inventory.

use serde::Serialize;

use super::{OpsError, Session, read};
use crate::domain::Instance;
use crate::store::Store;

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Imported {
    pub regions: Vec<String>,
    /// Not saved before.
    pub added: usize,
    /// Saved before, and the API now says something different about them.
    pub updated: usize,
    /// Saved before, and nothing changed.
    pub unchanged: usize,
    #[serde(skip)]
    pub instances: Vec<Instance>,
}

/// Save every instance the API lists in `regions`, and keep the regions.
pub async fn import(session: &Session, regions: &[String]) -> Result<Imported, OpsError> {
    // Every region as DescribeRegions says first: nothing is read in any of them else.
    for region in regions {
        super::regions::confirm(session, region).await?;
    }
    let mut found = Vec::new();
    for region in regions {
        found.extend(read::discover(&session.client, region).await?);
    }
    let store = &session.store;
    let known = store.inventory.load().unwrap_or_default();
    let config = store.config.load()?;
    let (mut updated, mut unchanged) = (0, 0);
    for i in found.iter().filter(|i| config.instance(&i.id).is_some()) {
        // A listing carries no SSL state and a new read time: compare the rest.
        let same = known.get(&i.id).is_some_and(|k| {
            k.name == i.name
                && k.kind == i.kind
                && k.status == i.status
                && k.addresses == i.addresses
                && k.master == i.master
        });
        if same {
            unchanged += 1;
        } else {
            updated += 1;
        }
    }
    let added = store.config.update(|c| {
        c.keep_regions(regions);
        c.add_all(found.iter().map(|i| (i.id.as_str(), i.region.as_str())))
    })?;
    let learned = found.clone();
    store.inventory.update(move |inv| {
        for i in learned {
            inv.learn(i);
        }
    })?;
    Ok(Imported {
        regions: regions.to_vec(),
        added,
        updated,
        unchanged,
        instances: found,
    })
}

/// Describe one instance (read fresh) and keep what was learned: what every use case that
/// reads an instance does.
pub async fn describe(session: &Session, region: &str, id: &str) -> Result<Instance, OpsError> {
    let instance = read::describe(&session.client, region, id).await?;
    remember(session, &instance);
    Ok(instance)
}

/// Keep what a read learned. Best effort: a failure to keep it changes nothing on the
/// instance and must not turn a successful command into a failed one.
pub fn remember(session: &Session, instance: &Instance) {
    let learned = instance.clone();
    let _ = session
        .store
        .inventory
        .update(move |inv| inv.learn(learned));
}

/// Save one instance, after checking it exists (described fully, SSL state included).
pub async fn add(session: &Session, region: &str, id: &str) -> Result<Instance, OpsError> {
    let instance = read::describe(&session.client, region, id).await?;
    session
        .store
        .config
        .update(|c| c.add(&instance.id, &instance.region))?;
    let learned = instance.clone();
    session
        .store
        .inventory
        .update(move |inv| inv.learn(learned))?;
    Ok(instance)
}

/// Forget a saved instance (nothing changes on the instance itself).
pub fn remove(store: &Store, id: &str) -> Result<(), OpsError> {
    if !store.config.update(|c| c.remove(id))? {
        return Err(OpsError::Refused(super::Refusal::NotSaved {
            id: id.into(),
        }));
    }
    // Best effort: a stale inventory entry of an unsaved instance is never shown.
    let _ = store.inventory.update(|inv| inv.forget(id));
    Ok(())
}

/// Which regions to keep, as a person changes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Regions {
    /// Keep these too.
    Add(Vec<String>),
    /// Stop keeping these.
    Remove(Vec<String>),
    /// Keep exactly these (the TUI's regions dialog).
    Set(Vec<String>),
}

/// Change the kept regions; returns them as they are now.
pub fn regions(store: &Store, change: Regions) -> Result<Vec<String>, OpsError> {
    Ok(store.config.update(|c| {
        match change {
            Regions::Add(r) => c.keep_regions(&r),
            Regions::Remove(r) => c.regions.retain(|k| !r.contains(k)),
            Regions::Set(r) => c.regions = r,
        }
        c.regions.clone()
    })?)
}

/// Describe these instances (region, id) again and keep what was learned; `on_each`
/// hears every result as it comes.
pub async fn refresh(
    session: &Session,
    targets: &[(String, String)],
    mut on_each: impl FnMut(&str, &Result<Instance, OpsError>),
) -> Result<usize, OpsError> {
    let mut regions: Vec<&str> = targets.iter().map(|t| t.0.as_str()).collect();
    regions.sort_unstable();
    regions.dedup();
    let mut learned = Vec::new();
    for region in regions {
        let ids: Vec<String> = targets
            .iter()
            .filter(|t| t.0 == region)
            .map(|t| t.1.clone())
            .collect();
        // A region DescribeRegions does not serve now: each of its instances says so,
        // and nothing is read there.
        if let Err(e) = super::regions::confirm(session, region).await {
            for id in &ids {
                on_each(id, &Err(e.clone()));
            }
            continue;
        }
        // Each as soon as it is read: the caller's count goes up as the reads come back.
        read::describe_each(&session.client, region, &ids, |id, result| {
            on_each(id, &result);
            if let Ok(i) = result {
                learned.push(i);
            }
        })
        .await;
    }
    let count = learned.len();
    session.store.inventory.update(move |inv| {
        for i in learned {
            inv.learn(i);
        }
    })?;
    Ok(count)
}

/// Every instance of `regions`, as the API lists them, each with its SSL state: the fleet
/// at a glance (`instances list --remote --ssl`, `ssl show --all`).
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    pub instances: Vec<Instance>,
    /// Instances whose SSL state could not be read, and why (one line each).
    pub unread: Vec<(String, String)>,
}

impl Fleet {
    /// How many have SSL on, off, and not known.
    pub fn counts(&self) -> (usize, usize, usize) {
        let on = self
            .instances
            .iter()
            .filter(|i| i.ssl_state().is_some_and(|s| s.enabled))
            .count();
        let off = self
            .instances
            .iter()
            .filter(|i| i.ssl_state().is_some_and(|s| !s.enabled))
            .count();
        (on, off, self.instances.len() - on - off)
    }
}

/// Read the fleet: each region's instances (DescribeDBInstances, paged), then every SSL
/// state at once, paced by the client's per-action limiter (under the API's 20 a second).
/// What is read is kept in the inventory with when it was read. `on_read` sees the count
/// read so far and the total, once per instance.
pub async fn fleet(
    session: &Session,
    regions: &[String],
    mut on_read: impl FnMut(usize, usize),
) -> Result<Fleet, OpsError> {
    for region in regions {
        super::regions::confirm(session, region).await?;
    }
    let mut instances = Vec::new();
    for region in regions {
        instances.extend(read::discover(&session.client, region).await?);
    }
    let total = instances.len();
    let client = &session.client;
    let asks: Vec<(usize, String, String)> = instances
        .iter()
        .enumerate()
        .map(|(i, inst)| (i, inst.region.clone(), inst.id.clone()))
        .collect();
    let mut reads = futures_util::StreamExt::buffer_unordered(
        futures_util::stream::iter(asks.into_iter().map(|(i, region, id)| async move {
            (i, read::ssl_state(client, &region, &id).await)
        })),
        read::IN_FLIGHT,
    );
    let mut unread = Vec::new();
    let mut done = 0;
    while let Some((i, result)) = futures_util::StreamExt::next(&mut reads).await {
        done += 1;
        on_read(done, total);
        // Isolated or being created: "not now" (unknown), not a failure.
        match read::refused_is_unknown(result) {
            Ok(seen) => instances[i].ssl = seen,
            Err(e) => unread.push((instances[i].id.clone(), crate::text::clean(&e.to_string()))),
        }
    }
    drop(reads);
    let kept = instances.clone();
    session.store.inventory.update(move |inv| {
        for i in kept {
            inv.learn(i);
        }
    })?;
    Ok(Fleet { instances, unread })
}
