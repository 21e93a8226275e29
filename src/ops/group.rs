//! Read-only groups stay consistent. A group's address (its VIP) is load-balanced over
//! its members, and Tencent asks for SSL on every member when that address is protected:
//! a member left off, or protecting its own address instead, serves clients of the group
//! address without the certificate they expect. Decided here for both faces: which address
//! a form starts from, and what the confirm must say when a change would leave a group
//! inconsistent (naming the members and their state).

use crate::addresses::{AddressKind, Host};
use crate::domain::{Instance, SslState};
use crate::ops::{OpsError, Plan, Session, Target, read};

/// Another member of a group, as last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub id: String,
    pub ssl: Option<SslState>,
}

impl Peer {
    /// Whether it protects the group's address `ip`.
    pub fn protects(&self, host: &Host) -> bool {
        self.ssl
            .as_ref()
            .is_some_and(|s| s.enabled && s.protected.as_ref() == Some(host))
    }

    fn said(&self) -> String {
        format!(
            "{} (SSL {})",
            self.id,
            self.ssl
                .as_ref()
                .map_or_else(|| "unknown".into(), SslState::describe)
        )
    }
}

/// A read-only group an instance belongs to, with its other members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    /// Its name, else its id.
    pub name: String,
    /// The group's address.
    pub host: Host,
    pub peers: Vec<Peer>,
}

/// The groups `instance` belongs to, each with its other members among `known`.
pub fn groups_of<'a>(
    instance: &Instance,
    known: impl IntoIterator<Item = &'a Instance>,
) -> Vec<Group> {
    let known: Vec<&Instance> = known.into_iter().collect();
    instance
        .addresses
        .iter()
        .filter(|a| a.kind == AddressKind::Group)
        .map(|a| {
            let same = |b: &crate::addresses::Address| {
                b.kind == AddressKind::Group
                    && match (&a.group_id, &b.group_id) {
                        (Some(x), Some(y)) => x == y,
                        _ => a.host == b.host,
                    }
            };
            let mut peers: Vec<Peer> = known
                .iter()
                .filter(|i| i.id != instance.id && i.addresses.iter().any(same))
                .map(|i| Peer {
                    id: i.id.clone(),
                    ssl: i.ssl_state().cloned(),
                })
                .collect();
            peers.sort_by(|x, y| x.id.cmp(&y.id));
            peers.dedup_by(|x, y| x.id == y.id);
            Group {
                id: a.group_id.clone().unwrap_or_else(|| a.host.to_string()),
                name: crate::text::clean(
                    a.group_name
                        .as_deref()
                        .or(a.group_id.as_deref())
                        .unwrap_or(&a.host.to_string()),
                ),
                host: a.host.clone(),
                peers,
            }
        })
        .collect()
}

/// The address a form for this instance starts from: its group's address when another
/// member already protects it (the group stays as it is unless the person chooses).
pub fn preselect(groups: &[Group]) -> Option<Host> {
    groups
        .iter()
        .find(|g| g.peers.iter().any(|p| p.protects(&g.host)))
        .map(|g| g.host.clone())
}

/// The members a plan protecting a group's address leaves without it (they would serve
/// the group's clients without its certificate): what a face offers to change too.
pub fn left_out(plan: &Plan, groups: &[Group]) -> Vec<String> {
    let Target::On(a) = &plan.target else {
        return vec![];
    };
    groups
        .iter()
        .filter(|g| g.host == a.host)
        .flat_map(|g| g.peers.iter().filter(|p| !p.protects(&g.host)))
        .map(|p| p.id.clone())
        .collect()
}

/// What a person must read before confirming `plan` when its instance is in a read-only
/// group: the other members and their state, and how the change would leave the group.
pub fn notes(plan: &Plan, groups: &[Group]) -> Vec<String> {
    let mut out = Vec::new();
    for g in groups {
        let list = |peers: &[&Peer]| {
            peers
                .iter()
                .map(|p| p.said())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let all: Vec<&Peer> = g.peers.iter().collect();
        let protecting: Vec<&Peer> = g.peers.iter().filter(|p| p.protects(&g.host)).collect();
        let not: Vec<&Peer> = g.peers.iter().filter(|p| !p.protects(&g.host)).collect();
        let head = format!("Group:    read-only group {} ({})", g.name, g.host);
        match &plan.target {
            Target::On(a) if a.host == g.host => {
                if all.is_empty() {
                    out.push(format!(
                        "{head}: Tencent asks for SSL on every member when its address is protected; no other member is known"
                    ));
                } else if !not.is_empty() {
                    out.push(format!(
                        "{head}: Tencent asks for SSL on every member when its address is protected; {} would not protect it: change them too (the whole group), or the group stays inconsistent",
                        list(&not)
                    ));
                } else {
                    out.push(format!(
                        "{head}: every other member protects it: {}",
                        list(&all)
                    ));
                }
            }
            Target::On(_) if !protecting.is_empty() => out.push(format!(
                "{head}: {} protect the group's address; protecting {}'s own address instead leaves the group inconsistent (clients reaching {} through {} get no certificate for it)",
                list(&protecting),
                plan.instance.id,
                plan.instance.id,
                g.host
            )),
            Target::Off if !protecting.is_empty() => out.push(format!(
                "{head}: {} protect the group's address; turning SSL off on {} leaves the group inconsistent (clients reaching it through {} lose TLS)",
                list(&protecting),
                plan.instance.id,
                g.host
            )),
            _ if !all.is_empty() => out.push(format!("{head}: the others are {}", list(&all))),
            _ => {}
        }
    }
    out
}

/// The groups of a read-only instance with their members read fresh (their SSL state):
/// what the CLI shows with a single change. Empty for a primary.
pub async fn read_groups(session: &Session, instance: &Instance) -> Result<Vec<Group>, OpsError> {
    let Some(master) = instance
        .master
        .as_deref()
        .filter(|_| instance.kind.is_readonly())
    else {
        return Ok(vec![]);
    };
    if !instance
        .addresses
        .iter()
        .any(|a| a.kind == AddressKind::Group)
    {
        return Ok(vec![]);
    }
    let groups = read::list_groups(&session.client, &instance.region, master).await?;
    let mut ids: Vec<String> = groups
        .iter()
        .flat_map(|g| g.ReadOnlyDBInstanceList.clone().unwrap_or_default())
        .filter_map(|m| m.DBInstanceId)
        .filter(|id| *id != instance.id && crate::validate::instance_id(id).is_ok())
        .collect();
    ids.sort();
    ids.dedup();
    let members: Vec<Instance> = read::describe_many(&session.client, &instance.region, &ids)
        .await
        .into_iter()
        .filter_map(|(_, r)| r.ok())
        .collect();
    Ok(groups_of(instance, &members))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addresses::Address;
    use crate::domain::{InstanceKind, InstanceStatus, SslSeen};

    fn member(id: &str, ssl: Option<(bool, &str)>) -> Instance {
        let mut i = Instance::unread(id, "ap-singapore");
        i.kind = InstanceKind::ReadOnly;
        i.status = InstanceStatus::from_api("running");
        i.master = Some("postgres-aaaa0001".into());
        i.addresses = vec![
            Address {
                kind: AddressKind::Private,
                ..Address::unverified(format!("192.0.2.{}", id.len()).parse().expect("ip"))
            },
            Address {
                kind: AddressKind::Group,
                group_id: Some("pgrogrp-1".into()),
                group_name: Some("reports".into()),
                ..Address::unverified("192.0.2.60".parse().expect("ip"))
            },
        ];
        i.ssl = ssl.map(|(enabled, ip)| SslSeen {
            state: SslState {
                enabled,
                protected: Some(ip.parse().expect("ip")),
                ca_url: None,
                inline_ca: None,
            },
            read_at: "2026-12-01T00:00:00Z".into(),
        });
        i
    }

    #[test]
    fn a_member_joins_the_group_address_another_protects_and_is_warned_otherwise() {
        let a = member("pgro-a", Some((false, "192.0.2.60")));
        let b = member("pgro-bb", Some((true, "192.0.2.60")));
        let c = member("pgro-ccc", None);
        let known = [a.clone(), b, c];
        let groups = groups_of(&a, &known);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].peers.len(), 2);
        // The form starts from the group's address: pgro-bb protects it.
        assert_eq!(preselect(&groups), Some("192.0.2.60".parse().expect("ip")));
        // Protecting its own address instead: said, naming who protects the group's.
        let own = crate::ops::plan::plan(
            &a,
            &crate::ops::Want::Enable(crate::addresses::AddressSpec::Kind(AddressKind::Private)),
        )
        .expect("plans");
        let crate::ops::Prepared::Change(own) = own else {
            panic!("a change")
        };
        let n = notes(&own, &groups).join("\n");
        assert!(n.contains("pgro-bb (SSL on, protecting 192.0.2.60)"), "{n}");
        assert!(n.contains("leaves the group inconsistent"), "{n}");
        // The group's address: the member not protecting it is named and offered.
        let group = crate::ops::plan::plan(
            &a,
            &crate::ops::Want::Enable(crate::addresses::AddressSpec::Kind(AddressKind::Group)),
        )
        .expect("plans");
        let crate::ops::Prepared::Change(group) = group else {
            panic!("a change")
        };
        assert_eq!(left_out(&group, &groups), ["pgro-ccc"]);
        let n = notes(&group, &groups).join("\n");
        assert!(
            n.contains("pgro-ccc (SSL unknown) would not protect it"),
            "{n}"
        );
        // Off, while another member protects the group's address: said.
        let mut on = a.clone();
        on.ssl = member("pgro-a", Some((true, "192.0.2.60"))).ssl;
        let off = crate::ops::plan::plan(&on, &crate::ops::Want::Disable).expect("plans");
        let crate::ops::Prepared::Change(off) = off else {
            panic!("a change")
        };
        assert!(
            notes(&off, &groups)
                .join("\n")
                .contains("turning SSL off on pgro-a leaves the group inconsistent")
        );
    }
}
