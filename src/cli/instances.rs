//! `pgssl instances list | add | remove | import`.

use serde::Serialize;
use serde_json::Value;

use super::args::InstancesCommand;
use super::json::InstanceJson;
use super::{Io, Report, Text, instance_id, open, region, regions_to_use};
use crate::context::Context;
use crate::domain::Instance;
use crate::ops::{self, OpsError};
use crate::store::SavedInstance;

pub async fn run(ctx: &Context, cmd: InstancesCommand, io: &mut Io<'_>) -> Result<(), OpsError> {
    match cmd {
        InstancesCommand::List { remote: false, .. } => {
            let inventory = ctx.store.inventory.load().unwrap_or_else(|e| {
                io.info(format!("warning: {e}"));
                crate::store::Inventory::default()
            });
            let rows: Vec<Row> = ctx
                .config
                .instances()
                .iter()
                .filter(|i| ctx.globals.region.as_ref().is_none_or(|r| &i.region == r))
                .map(|s| Row::saved(s, inventory.get(&s.id).cloned()))
                .collect();
            io.emit(&Rows {
                list: rows,
                empty: format!(
                    "no saved instances: add one with `{0} instances add ID --region R` or `{0} instances import --region R`",
                    crate::hint::pgssl()
                ),
                summary: None,
            });
            Ok(())
        }
        InstancesCommand::List {
            remote: true,
            ssl: true,
            ..
        } => fleet(ctx, io).await,
        InstancesCommand::List { remote: true, .. } => {
            let regions = regions_to_use(ctx, &[])?;
            let opened = open(ctx, io).await?;
            let mut rows = Vec::new();
            // Every region first: nothing is read in any of them unless all may be.
            for region in &regions {
                super::confirm(ctx, &opened, region).await?;
            }
            for region in &regions {
                let found = ops::read::discover(&opened.session.client, region).await?;
                rows.extend(found.into_iter().map(Row::learned));
            }
            let summary = format!("{} instances in {}", rows.len(), regions.join(", "));
            io.emit(&Rows {
                list: rows,
                empty: "no instances".into(),
                summary: Some(summary),
            });
            Ok(())
        }
        InstancesCommand::Add { instance, .. } => {
            let id = instance_id(&instance)?;
            let opened = open(ctx, io).await?;
            let region = region(ctx, &opened, Some(&id)).await?;
            let added = ops::inventory::add(&opened.session, &region, &id).await?;
            io.emit(&Saved(Row::learned(added)));
            Ok(())
        }
        InstancesCommand::Remove { instance, .. } => {
            let id = instance_id(&instance)?;
            ops::inventory::remove(&ctx.store, &id)?;
            io.emit(&Removed { removed: id });
            Ok(())
        }
        InstancesCommand::Import { regions, .. } => {
            let regions = regions_to_use(ctx, &regions)?;
            let opened = open(ctx, io).await?;
            for region in &regions {
                super::confirm(ctx, &opened, region).await?;
            }
            let imported = ops::inventory::import(&opened.session, &regions).await?;
            io.emit(&Imported(imported));
            Ok(())
        }
    }
}

/// Every instance of the regions with its SSL state (`instances list --remote --ssl`,
/// `ssl show --all`): progress on stderr, the list, then how many are on, off, unknown.
pub async fn fleet(ctx: &Context, io: &mut Io<'_>) -> Result<(), OpsError> {
    let regions = regions_to_use(ctx, &[])?;
    let opened = open(ctx, io).await?;
    for region in &regions {
        super::confirm(ctx, &opened, region).await?;
    }
    let started = std::time::Instant::now();
    let json = io.json_mode();
    let mut shown = 0;
    let fleet = ops::inventory::fleet(&opened.session, &regions, |done, total| {
        // A line every 10% (and the last), not one per instance.
        let step = (total / 10).max(1);
        if !json && (done == total || done >= shown + step) {
            shown = done;
            io.info(format!("SSL state {done}/{total}"));
        }
    })
    .await?;
    let (on, off, unknown) = fleet.counts();
    for (id, why) in &fleet.unread {
        io.info(format!("{id}: SSL state not read: {why}"));
    }
    let summary = format!(
        "{} instances in {}: SSL on {on}, off {off}, unknown {unknown} (read in {:.1} s)",
        fleet.instances.len(),
        regions.join(", "),
        started.elapsed().as_secs_f64()
    );
    io.emit(&Rows {
        list: fleet.instances.into_iter().map(Row::learned).collect(),
        empty: "no instances".into(),
        summary: Some(summary),
    });
    if fleet.unread.is_empty() {
        Ok(())
    } else {
        Err(OpsError::Failed(format!(
            "the SSL state of {} instance(s) could not be read (listed above)",
            fleet.unread.len()
        )))
    }
}

/// One instance as listed: what the person saved and what pgssl has learned of it.
struct Row {
    saved: Option<SavedInstance>,
    learned: Option<Instance>,
}

impl Row {
    fn saved(s: &SavedInstance, learned: Option<Instance>) -> Row {
        Row {
            saved: Some(s.clone()),
            learned,
        }
    }

    fn learned(i: Instance) -> Row {
        Row {
            saved: None,
            learned: Some(i),
        }
    }

    fn json(&self) -> Value {
        let mut v = match (&self.learned, &self.saved) {
            (Some(i), _) => serde_json::to_value(InstanceJson::of(i)).unwrap_or(Value::Null),
            (None, Some(s)) => serde_json::json!({"DBInstanceId": s.id, "Region": s.region}),
            (None, None) => Value::Null,
        };
        if let (Some(label), Value::Object(o)) =
            (self.saved.as_ref().and_then(|s| s.name.as_ref()), &mut v)
        {
            o.insert("label".into(), Value::String(label.clone()));
        }
        v
    }

    /// The CSV row: the fields of the header in `Rows::csv`, empty where not known.
    fn csv(&self) -> Vec<String> {
        let (id, region) = match (&self.learned, &self.saved) {
            (Some(i), _) => (i.id.clone(), i.region.clone()),
            (None, Some(s)) => (s.id.clone(), s.region.clone()),
            (None, None) => (String::new(), String::new()),
        };
        let i = self.learned.as_ref();
        let ssl = i.and_then(Instance::ssl_state);
        let protected = i.and_then(Instance::protected_host);
        let kind = i
            .and_then(Instance::protected_address)
            .map(|a| a.kind.keyword().to_string())
            .unwrap_or_default();
        vec![
            id,
            region,
            i.map(|i| i.name.clone()).unwrap_or_default(),
            i.map(|i| i.kind.as_api().to_string()).unwrap_or_default(),
            i.map(|i| i.status.as_str().to_string()).unwrap_or_default(),
            ssl.map(|s| s.enabled.to_string()).unwrap_or_default(),
            protected.map(ToString::to_string).unwrap_or_default(),
            kind,
            i.and_then(|i| i.ssl.as_ref().map(|s| s.read_at.clone()))
                .unwrap_or_default(),
        ]
    }

    fn text(&self) -> String {
        let (id, region) = match (&self.learned, &self.saved) {
            (Some(i), _) => (i.id.as_str(), i.region.as_str()),
            (None, Some(s)) => (s.id.as_str(), s.region.as_str()),
            (None, None) => ("?", "?"),
        };
        let learned = self.learned.as_ref();
        let name = self
            .saved
            .as_ref()
            .and_then(|s| s.name.as_deref())
            .or(learned.map(|i| i.name.as_str()))
            .unwrap_or("");
        let ssl = match learned.and_then(Instance::ssl_state) {
            Some(s) if s.enabled => format!(
                "on {}",
                s.protected
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            ),
            Some(_) => "off".into(),
            None => "?".into(),
        };
        format!(
            "{:<18} {:<16} {:<24} {:<9} {:<10} {:<18} {}",
            id,
            region,
            crate::text::truncate(name, 24),
            learned.map_or("?", |i| i.kind.label()),
            learned.map_or("?", |i| i.status.as_str()),
            ssl,
            learned
                .map(|i| i
                    .addresses
                    .iter()
                    .map(crate::addresses::Address::label)
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        )
    }
}

const HEADER: &str = "ID                 REGION           NAME                     TYPE      STATUS     SSL                ADDRESSES";

struct Rows {
    list: Vec<Row>,
    /// Said (on stderr) when there are none.
    empty: String,
    summary: Option<String>,
}

impl Serialize for Rows {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.list.iter().map(Row::json))
    }
}

impl Report for Rows {
    fn csv(&self) -> Option<(Vec<&'static str>, Vec<Vec<String>>)> {
        let header = vec![
            "DBInstanceId",
            "Region",
            "DBInstanceName",
            "DBInstanceType",
            "DBInstanceStatus",
            "SSLEnabled",
            "ConnectAddress",
            "protected_kind",
            "read_at",
        ];
        let rows = self.list.iter().map(Row::csv).collect();
        Some((header, rows))
    }

    fn text(&self, out: &mut Text) {
        if self.list.is_empty() {
            out.note(self.empty.clone());
            return;
        }
        out.line(HEADER);
        for r in &self.list {
            out.line(r.text());
        }
        if let Some(s) = &self.summary {
            out.note(s.clone());
        }
    }
}

struct Saved(Row);

impl Serialize for Saved {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.json().serialize(s)
    }
}

impl Report for Saved {
    fn text(&self, out: &mut Text) {
        out.line(format!("saved {}", self.0.text()));
    }
}

struct Removed {
    removed: String,
}

impl Serialize for Removed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({"DBInstanceId": self.removed, "result": "removed"}).serialize(s)
    }
}

impl Report for Removed {
    fn text(&self, out: &mut Text) {
        out.line(format!(
            "removed {} from the saved list (the instance itself is untouched)",
            self.removed
        ));
    }
}

/// What an import did: the regions (as the API names one) and the counts.
struct Imported(ops::inventory::Imported);

impl Serialize for Imported {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let i = &self.0;
        serde_json::json!({
            "Regions": i.regions,
            "added": i.added,
            "updated": i.updated,
            "unchanged": i.unchanged,
        })
        .serialize(s)
    }
}

impl Report for Imported {
    fn text(&self, out: &mut Text) {
        let i = &self.0;
        out.line(format!(
            "imported {} instances from {}: {} new, {} updated, {} unchanged",
            i.instances.len(),
            i.regions.join(", "),
            i.added,
            i.updated,
            i.unchanged
        ));
    }
}
