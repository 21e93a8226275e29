//! `pgssl regions list | add | remove`.

use serde::Serialize;

use super::args::RegionsCommand;
use super::{Io, Report, Text, open, valid_regions};
use crate::api::models::{DescribeRegionsRequest, RegionInfo};
use crate::api::{self, SSL_REGIONS};
use crate::context::Context;
use crate::ops::inventory::Regions;
use crate::ops::{self, OpsError};

pub async fn run(ctx: &Context, cmd: RegionsCommand, io: &mut Io<'_>) -> Result<(), OpsError> {
    match cmd {
        RegionsCommand::List { all: true, .. } => {
            io.emit(&All {
                kept: &ctx.config.regions,
            });
            Ok(())
        }
        RegionsCommand::List { remote: true, .. } => {
            let opened = open(ctx, io).await?;
            let reply = opened
                .session
                .client
                .call(None, &DescribeRegionsRequest {})
                .await?;
            io.emit(&Remote(reply.RegionSet.unwrap_or_default()));
            Ok(())
        }
        RegionsCommand::List { .. } => {
            io.emit(&Kept {
                regions: ctx.config.regions.clone(),
                changed: false,
            });
            Ok(())
        }
        RegionsCommand::Add { regions, .. } => {
            let now = ops::inventory::regions(&ctx.store, Regions::Add(valid_regions(&regions)?))?;
            io.emit(&Kept {
                regions: now,
                changed: true,
            });
            Ok(())
        }
        RegionsCommand::Remove { regions, .. } => {
            let now =
                ops::inventory::regions(&ctx.store, Regions::Remove(valid_regions(&regions)?))?;
            io.emit(&Kept {
                regions: now,
                changed: true,
            });
            Ok(())
        }
    }
}

/// The 18 regions the SSL API supports, the kept ones marked.
struct All<'a> {
    kept: &'a [String],
}

impl Serialize for All<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SSL_REGIONS.serialize(s)
    }
}

impl Report for All<'_> {
    fn text(&self, out: &mut Text) {
        for r in SSL_REGIONS {
            let mark = if self.kept.iter().any(|k| k == r) {
                "*"
            } else {
                " "
            };
            out.line(format!("{mark} {r}"));
        }
    }
}

/// What DescribeRegions lists.
#[derive(Serialize)]
#[serde(transparent)]
struct Remote(Vec<RegionInfo>);

impl Report for Remote {
    fn text(&self, out: &mut Text) {
        for r in &self.0 {
            let region = r.Region.as_deref().unwrap_or("?");
            out.line(format!(
                "{:<18} {:<12} {}{}",
                region,
                r.RegionState.as_deref().unwrap_or(""),
                r.RegionName.as_deref().unwrap_or(""),
                if api::is_ssl_region(region) {
                    ""
                } else {
                    "  (no SSL API)"
                }
            ));
        }
    }
}

/// The kept regions (after a change, said as such).
struct Kept {
    regions: Vec<String>,
    changed: bool,
}

impl Serialize for Kept {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.regions.serialize(s)
    }
}

impl Report for Kept {
    fn text(&self, out: &mut Text) {
        if self.changed {
            out.line(format!(
                "regions: {}",
                if self.regions.is_empty() {
                    "(none)".to_string()
                } else {
                    self.regions.join(", ")
                }
            ));
        } else if self.regions.is_empty() {
            out.note("no saved regions: add some with `pgssl regions add ap-guangzhou ...` (see `pgssl regions list --all`)");
        } else {
            for r in &self.regions {
                out.line(r.clone());
            }
        }
    }
}
