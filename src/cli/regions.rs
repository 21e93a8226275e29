//! `pgssl regions list | add | remove`.

use serde::Serialize;

use super::args::RegionsCommand;
use super::{Io, Report, Text, open, valid_regions};
use crate::context::Context;
use crate::ops::inventory::Regions;
use crate::ops::{self, OpsError};
use crate::regions::{Catalog, Origin, RegionState};

pub async fn run(ctx: &Context, cmd: RegionsCommand, io: &mut Io<'_>) -> Result<(), OpsError> {
    match cmd {
        RegionsCommand::List { all: true, .. } => {
            let catalog = known(ctx).await;
            io.emit(&All {
                catalog: &catalog,
                kept: &ctx.config.regions,
            });
            Ok(())
        }
        RegionsCommand::List { remote: true, .. } => {
            let opened = open(ctx, io).await?;
            let catalog = ops::regions::catalog(&opened.session, true).await;
            if let Origin::Documented { why } = &catalog.origin {
                return Err(OpsError::Unreachable(format!(
                    "DescribeRegions could not be asked: {why}"
                )));
            }
            io.emit(&All {
                catalog: &catalog,
                kept: &ctx.config.regions,
            });
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
            let wanted = valid_regions(&regions)?;
            // Each checked as every command checks a region: DescribeRegions lists it as
            // AVAILABLE (asked with the credential when there is one).
            match ctx.open().await {
                Ok(opened) => {
                    for r in &wanted {
                        ops::regions::confirm(&opened.session, r).await?;
                    }
                }
                Err(e) => {
                    let catalog = ctx.store.listed_regions().unwrap_or_else(|| {
                        Catalog::documented(&format!("no credential to ask it with: {e}"))
                    });
                    for r in &wanted {
                        catalog.check(r).map_err(OpsError::refused)?;
                    }
                }
            }
            let now = ops::inventory::regions(&ctx.store, Regions::Add(wanted))?;
            io.emit(&Kept {
                regions: now,
                changed: true,
            });
            Ok(())
        }
        RegionsCommand::Remove { regions, .. } => {
            let gone = valid_regions(&regions)?;
            if let Some(r) = gone.iter().find(|r| !ctx.config.regions.contains(r)) {
                return Err(OpsError::Usage(format!(
                    "'{r}' is not a kept region (kept: {}); nothing changed",
                    if ctx.config.regions.is_empty() {
                        "none".to_string()
                    } else {
                        ctx.config.regions.join(", ")
                    }
                )));
            }
            let now = ops::inventory::regions(&ctx.store, Regions::Remove(gone))?;
            io.emit(&Kept {
                regions: now,
                changed: true,
            });
            Ok(())
        }
    }
}

/// What pgssl knows of the regions without a credential if need be: DescribeRegions'
/// kept answer (asked again when a credential is there and it is old), else the 18.
async fn known(ctx: &Context) -> Catalog {
    match ctx.open().await {
        Ok(opened) => ops::regions::catalog(&opened.session, false).await,
        Err(e) => ctx
            .store
            .listed_regions()
            .unwrap_or_else(|| Catalog::documented(&format!("no credential to ask it with: {e}"))),
    }
}

/// The regions pgssl knows, the kept ones marked, and where the list came from.
struct All<'a> {
    catalog: &'a Catalog,
    kept: &'a [String],
}

/// One region in JSON: the API's field names.
#[derive(Serialize)]
#[allow(non_snake_case)]
struct RegionJson<'a> {
    Region: &'a str,
    RegionState: &'a str,
    RegionName: &'a str,
    kept: bool,
}

impl Serialize for All<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            origin: &'a Origin,
            regions: Vec<RegionJson<'a>>,
        }
        Out {
            origin: &self.catalog.origin,
            regions: self
                .catalog
                .regions
                .iter()
                .map(|r| RegionJson {
                    Region: &r.name,
                    RegionState: r.state.as_api(),
                    RegionName: &r.label,
                    kept: self.kept.contains(&r.name),
                })
                .collect(),
        }
        .serialize(s)
    }
}

impl Report for All<'_> {
    fn text(&self, out: &mut Text) {
        for r in &self.catalog.regions {
            let mark = if self.kept.contains(&r.name) {
                "*"
            } else {
                " "
            };
            let state = match &r.state {
                RegionState::Available => String::new(),
                other => format!("  {other}: not sent to"),
            };
            out.line(format!("{mark} {:<18} {}{state}", r.name, r.label));
        }
        match &self.catalog.origin {
            Origin::Listed { at, .. } => out.note(format!(
                "as DescribeRegions listed them at {at}; * kept (`{} regions add R`)",
                crate::hint::pgssl()
            )),
            Origin::Documented { why } => out.note(format!(
                "the 18 regions documented for the SSL actions: DescribeRegions could not be asked ({why}); * kept"
            )),
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
            out.note(format!(
                "no saved regions: add some with `{0} regions add ap-guangzhou ...` (see `{0} regions list --all`)",
                crate::hint::pgssl()
            ));
        } else {
            for r in &self.regions {
                out.line(r.clone());
            }
        }
    }
}
