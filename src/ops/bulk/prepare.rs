//! One bulk prepare for both faces: the account guards, the instances read fresh (every
//! instance of the regions, at the API's pace, or a list of them, region by region),
//! the filter, each planned as a single change would be, and the read-only groups whose
//! address the plan protects: their other members named, or added with `with_group`.

use super::{BulkPlan, GroupOffer, SkipWhy, Skipped, plan_many};
use crate::addresses::{AddressKind, AddressSpec};
use crate::domain::Instance;
use crate::ops::refusal::Refusal;
use crate::ops::select::Filter;
use crate::ops::{OpsError, Session, Want, read};

/// Which instances a change of many is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// Every instance the API lists in these regions (that the filter keeps).
    Regions {
        regions: Vec<String>,
        filter: Option<Filter>,
    },
    /// These instances, as (region, id).
    Listed(Vec<(String, String)>),
}

/// A plan of many changes, with the group members it leaves out.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkPrepared {
    pub plan: BulkPlan,
    /// Members of a group whose address the plan protects that it leaves out (empty
    /// with `with_group`: they are in the plan).
    pub offers: Vec<GroupOffer>,
    /// How many instances were read.
    pub read: usize,
}

/// Read and plan `want` for the selection. `on_read(done, total)` hears the SSL reads of a
/// whole region as they come back.
pub async fn prepare(
    session: &Session,
    selection: &Selection,
    want: &Want,
    with_group: bool,
    on_read: impl FnMut(usize, usize),
) -> Result<BulkPrepared, OpsError> {
    // The account guards first: a change they refuse is never shown for confirming.
    session.guard_account().await?;
    // Every region of the selection as DescribeRegions says: AVAILABLE, else nothing.
    let mut regions: Vec<&str> = match selection {
        Selection::Regions { regions, .. } => regions.iter().map(String::as_str).collect(),
        Selection::Listed(ids) => ids.iter().map(|(r, _)| r.as_str()).collect(),
    };
    regions.sort_unstable();
    regions.dedup();
    for region in regions {
        crate::ops::regions::confirm(session, region).await?;
    }
    let group = matches!(want, Want::Enable(AddressSpec::Kind(AddressKind::Group)));
    let (read, known) = match selection {
        Selection::Regions { regions, filter } => {
            let fleet = crate::ops::inventory::fleet(session, regions, on_read).await?;
            let read: Vec<Result<Instance, Skipped>> = fleet
                .instances
                .iter()
                .filter(|i| filter.as_ref().is_none_or(|f| f.matches(i)))
                .map(|i| match fleet.unread.iter().find(|(id, _)| *id == i.id) {
                    Some((_, why)) => Err(Skipped {
                        instance_id: i.id.clone(),
                        region: i.region.clone(),
                        why: SkipWhy::Unreadable(why.clone()),
                    }),
                    None => Ok(i.clone()),
                })
                .collect();
            (read, fleet.instances)
        }
        Selection::Listed(ids) => {
            let read = listed(session, ids).await;
            let mut known: Vec<Instance> = Vec::new();
            // The rest of a group can only be named once the region's instances are known.
            if group {
                let mut regions: Vec<&str> = ids.iter().map(|(r, _)| r.as_str()).collect();
                regions.sort_unstable();
                regions.dedup();
                for region in regions {
                    known.extend(read::discover(&session.client, region).await?);
                }
            }
            known.extend(read.iter().filter_map(|r| r.as_ref().ok().cloned()));
            (read, known)
        }
    };
    let count = read.len();
    if count == 0 {
        return Err(OpsError::refused(Refusal::NothingSelected {
            what: match selection {
                Selection::Regions { regions, filter } => format!(
                    "no instance of {} {}",
                    regions.join(", "),
                    if filter.is_some() {
                        "matches the filter"
                    } else {
                        "is listed"
                    }
                ),
                Selection::Listed(_) => "no instance was listed".into(),
            },
        }));
    }
    let mut plan = plan_many(read, want);
    let mut offers = plan.group_offers(&known);
    if with_group && !offers.is_empty() {
        let mut wanted: Vec<(String, String)> = Vec::new();
        for o in &offers {
            for id in &o.members {
                if let Some(i) = known.iter().find(|i| i.id == *id) {
                    wanted.push((i.region.clone(), i.id.clone()));
                }
            }
        }
        // Read fresh like the rest (the list of the region only said they exist).
        let extra = plan_many(listed(session, &wanted).await, want);
        plan.changes.extend(extra.changes);
        plan.unchanged.extend(extra.unchanged);
        plan.skipped.extend(extra.skipped);
        offers.clear();
    }
    Ok(BulkPrepared {
        plan,
        offers,
        read: count,
    })
}

/// These instances read fresh, region by region (kept in the inventory); one that cannot
/// be read is skipped with why.
pub(crate) async fn listed(
    session: &Session,
    ids: &[(String, String)],
) -> Vec<Result<Instance, Skipped>> {
    let mut regions: Vec<&str> = ids.iter().map(|(r, _)| r.as_str()).collect();
    regions.sort_unstable();
    regions.dedup();
    let mut out = Vec::new();
    for region in regions {
        let these: Vec<String> = ids
            .iter()
            .filter(|(r, _)| r == region)
            .map(|(_, id)| id.clone())
            .collect();
        for (id, r) in read::describe_many(&session.client, region, &these).await {
            out.push(match r {
                Ok(i) => {
                    crate::ops::inventory::remember(session, &i);
                    Ok(i)
                }
                Err(e) => Err(Skipped {
                    instance_id: id,
                    region: region.to_string(),
                    why: SkipWhy::Unreadable(e.to_string()),
                }),
            });
        }
    }
    out
}
