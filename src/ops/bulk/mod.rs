//! One change for many instances: planned as one (`plan_many`, pure: every instance
//! planned by the single-change `plan`), confirmed as one, then carried out by `run` as
//! a list of single changes, each journaled before it is sent and sent once, paced by the
//! client's limiter, with a cap on how many instances restart at once (`schedule`). A run
//! is kept on disk (`store::runs`) so that one interrupted can be resumed.

pub mod prepare;
pub mod resume;
pub mod run;
pub mod schedule;

use std::collections::BTreeMap;

use serde::Serialize;

use super::plan::{Plan, Prepared, Want, plan};
use crate::domain::{Instance, SslState};
use crate::ops::refusal::PlanRefusal;

/// An instance left out of a plan, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    #[serde(rename = "DBInstanceId")]
    pub instance_id: String,
    #[serde(rename = "Region")]
    pub region: String,
    pub why: SkipWhy,
}

/// Why an instance is left out of a plan of many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipWhy {
    /// Planning refused it, exactly as it would refuse a single change.
    Refused(Box<PlanRefusal>),
    /// It could not be read (the API's reason).
    Unreadable(String),
    /// An undo of a run: this member's change cannot be undone (`ops::undo`).
    Undo(Box<crate::ops::undo::UndoRefusal>),
    /// A resumed run's never-sent change: another change to the instance was journaled
    /// after the run was planned (by another run, an undo, a person), and sending this
    /// one now would overwrite it.
    ChangedSince { change_id: String, at: String },
}

impl std::fmt::Display for SkipWhy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipWhy::Refused(r) => r.fmt(f),
            SkipWhy::Unreadable(why) => write!(f, "it could not be read ({why})"),
            SkipWhy::Undo(r) => r.fmt(f),
            SkipWhy::ChangedSince { change_id, at } => write!(
                f,
                "changed since the run was planned (change {change_id}, journaled {at}): sending this one now would overwrite it; plan it anew if it is still wanted"
            ),
        }
    }
}

impl Serialize for SkipWhy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The other members of a read-only group whose address the plan protects on some
/// members: Tencent asks for SSL on every member when the group address is protected,
/// so the face offers them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupOffer {
    pub group: String,
    pub members: Vec<String>,
}

/// Many changes, decided together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkPlan {
    pub want: Want,
    pub changes: Vec<Plan>,
    /// Already as asked: nothing is sent for these.
    pub unchanged: Vec<Instance>,
    pub skipped: Vec<Skipped>,
}

pub use crate::ops::confirm::TYPE_THE_COUNT_ABOVE;
pub use prepare::{BulkPrepared, Selection, prepare};

/// Plan `want` for each instance read (or the reason it could not be read). Pure: each
/// instance goes through the single-change `plan`, so a bulk plan refuses exactly what a
/// single change would, and says why per instance instead of stopping.
pub fn plan_many(read: Vec<Result<Instance, Skipped>>, want: &Want) -> BulkPlan {
    let mut out = BulkPlan {
        want: want.clone(),
        changes: Vec::new(),
        unchanged: Vec::new(),
        skipped: Vec::new(),
    };
    for r in read {
        match r {
            Err(s) => out.skipped.push(s),
            Ok(i) => match plan(&i, want) {
                Ok(Prepared::Change(p)) => out.changes.push(p),
                Ok(Prepared::Unchanged(i)) => out.unchanged.push(i),
                Err(why) => out.skipped.push(Skipped {
                    instance_id: i.id.clone(),
                    region: i.region.clone(),
                    why: SkipWhy::Refused(Box::new(why)),
                }),
            },
        }
    }
    out
}

impl BulkPlan {
    /// Members of the groups this plan protects the address of, that the plan leaves out
    /// (`known`: every instance the face knows of).
    pub fn group_offers<'a>(
        &self,
        known: impl IntoIterator<Item = &'a Instance>,
    ) -> Vec<GroupOffer> {
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for p in &self.changes {
            if let super::Target::On(a) = &p.target
                && let Some(g) = &a.group_id
            {
                groups.entry(g.clone()).or_default();
            }
        }
        let planned = |id: &str| {
            self.changes.iter().any(|p| p.instance.id == id)
                || self.unchanged.iter().any(|i| i.id == id)
        };
        for i in known {
            for a in &i.addresses {
                if let Some(members) = a.group_id.as_ref().and_then(|g| groups.get_mut(g))
                    && !planned(&i.id)
                    && !members.contains(&i.id)
                {
                    members.push(i.id.clone());
                }
            }
        }
        groups
            .into_iter()
            .filter(|(_, m)| !m.is_empty())
            .map(|(group, members)| GroupOffer { group, members })
            .collect()
    }

    /// How confirming this plan must be done (`protected`: the protected profile's
    /// name, when the session's profile is protected).
    pub fn confirmation(&self, protected: Option<&str>) -> crate::ops::confirm::Confirmation {
        let only = match self.changes.as_slice() {
            [one] => Some(one.instance.id.as_str()),
            _ => None,
        };
        crate::ops::confirm::for_many(self.changes.len(), only, protected)
    }

    /// What a person must see before confirming, shared by the CLI and the TUI: a line
    /// per change (current and new state, the address), the skipped with why, the count
    /// and the restart warning.
    pub fn summary(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let width = self
            .changes
            .iter()
            .map(|p| p.instance.id.len())
            .max()
            .unwrap_or(0);
        // The region is a column only when the plan spans several (a narrow terminal
        // then still has room for the address).
        let one_region = self
            .changes
            .windows(2)
            .all(|w| w[0].instance.region == w[1].instance.region);
        for p in &self.changes {
            let now = p
                .current()
                .map_or_else(|| "unknown".into(), SslState::describe);
            let region = if one_region {
                String::new()
            } else {
                format!("{:<16}  ", p.instance.region)
            };
            lines.push(format!(
                "  {:<width$}  {region}{} -> {}",
                p.instance.id,
                now,
                p.new_state()
            ));
        }
        if !self.unchanged.is_empty() {
            lines.push(format!(
                "Already as asked, nothing sent ({}): {}",
                self.unchanged.len(),
                self.unchanged
                    .iter()
                    .map(|i| i.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !self.skipped.is_empty() {
            lines.push(format!("Skipped ({}):", self.skipped.len()));
            for s in &self.skipped {
                lines.push(format!("  {}: {}", s.instance_id, s.why));
            }
        }
        let n = self.changes.len();
        // An undo of a run may turn SSL on for some and off for others.
        let on = self.changes.iter().filter(|p| p.enables()).count();
        let (direction, disables) = match (n, on) {
            (0, _) if self.want.enables() => (Some("on"), false),
            // Nothing planned while disabling, or every change disables.
            (0, _) | (_, 0) => (Some("off"), true),
            (n, on) if n == on => (Some("on"), false),
            _ => (None, true),
        };
        lines.push(format!(
            "{n} instance{} to change{}: SSL {}; each change restarts its instance, and connections to it drop briefly{}",
            if n == 1 { "" } else { "s" },
            match self.changes.first() {
                Some(p) if one_region => format!(" in {}", p.instance.region),
                _ => String::new(),
            },
            direction.map_or_else(
                || format!("on for {on}, off for {}", n - on),
                str::to_string
            ),
            if disables {
                "; clients using sslmode=verify-* will fail to connect"
            } else {
                ""
            }
        ));
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addresses::{Address, AddressKind, AddressSpec};
    use crate::domain::{InstanceKind, InstanceStatus, SslSeen};

    fn instance(id: &str, kind: InstanceKind, addresses: Vec<Address>, ssl: bool) -> Instance {
        Instance {
            id: id.into(),
            region: "ap-singapore".into(),
            name: String::new(),
            kind,
            status: InstanceStatus::from_api("running"),
            master: None,
            version: None,
            addresses,
            unusable: vec![],
            ssl: Some(SslSeen {
                state: if ssl {
                    SslState {
                        enabled: true,
                        protected: Some("192.0.2.9".parse().expect("ip")),
                        ca_url: None,
                        inline_ca: None,
                    }
                } else {
                    SslState::OFF
                },
                read_at: "2026-12-01T00:00:00Z".into(),
            }),
            read_at: "2026-12-01T00:00:00Z".into(),
            ca: None,
            tls: None,
        }
    }

    fn private(ip: &str) -> Address {
        Address {
            kind: AddressKind::Private,
            ..Address::unverified(ip.parse().expect("ip"))
        }
    }

    fn group(ip: &str) -> Address {
        Address {
            kind: AddressKind::Group,
            group_id: Some("pgrogrp-1".into()),
            ..Address::unverified(ip.parse().expect("ip"))
        }
    }

    #[test]
    fn each_instance_is_planned_skipped_with_why_or_left_as_it_is() {
        let read = vec![
            Ok(instance(
                "postgres-aaaa0001",
                InstanceKind::Primary,
                vec![private("192.0.2.1")],
                false,
            )),
            Ok(instance(
                "postgres-aaaa0002",
                InstanceKind::Primary,
                vec![],
                false,
            )),
            Ok(instance(
                "postgres-aaaa0003",
                InstanceKind::Primary,
                vec![private("192.0.2.9")],
                true,
            )),
            Err(Skipped {
                instance_id: "postgres-aaaa0004".into(),
                region: "ap-singapore".into(),
                why: SkipWhy::Unreadable("test".into()),
            }),
        ];
        let p = plan_many(read, &Want::Enable(AddressSpec::Kind(AddressKind::Private)));
        assert_eq!(p.changes.len(), 1);
        assert_eq!(p.unchanged.len(), 1);
        assert_eq!(p.skipped.len(), 2);
        assert!(
            matches!(
                &p.skipped[0].why,
                SkipWhy::Refused(r) if matches!(**r, PlanRefusal::Address(
                    crate::ops::refusal::AddressRefusal::NoneOfKind { .. }
                ))
            ),
            "{:?}",
            p.skipped
        );
        let text = p.summary().join("\n");
        assert!(text.contains("postgres-aaaa0001"), "{text}");
        assert!(
            text.contains("off -> on, protecting private 192.0.2.1"),
            "{text}"
        );
        assert!(text.contains("Skipped (2):"), "{text}");
        assert!(text.contains("1 instance to change"), "{text}");
        assert!(!p.confirmation(None).is_typed());
    }

    #[test]
    fn the_group_address_offers_the_rest_of_the_group() {
        let ro = |id| {
            instance(
                id,
                InstanceKind::ReadOnly,
                vec![private("192.0.2.50"), group("192.0.2.60")],
                false,
            )
        };
        let known = vec![
            ro("pgro-aaaa0001"),
            ro("pgro-aaaa0002"),
            ro("pgro-aaaa0003"),
        ];
        let p = plan_many(
            vec![Ok(known[0].clone())],
            &Want::Enable(AddressSpec::Kind(AddressKind::Group)),
        );
        let offers = p.group_offers(&known);
        assert_eq!(offers.len(), 1);
        assert_eq!(offers[0].members, vec!["pgro-aaaa0002", "pgro-aaaa0003"]);
        // A private address protects no group: nothing offered.
        let p = plan_many(
            vec![Ok(known[0].clone())],
            &Want::Enable(AddressSpec::Kind(AddressKind::Private)),
        );
        assert!(p.group_offers(&known).is_empty());
    }
}
