//! The config layout before the inventory existed: `[[instance]]` tables that mixed what a
//! person chose (id, region) with what pgssl had learned (name, kind, status, addresses,
//! SSL state). Read once, then split: the choice stays in `config.toml`, the learning
//! moves to the inventory.

use serde::Deserialize;

use crate::addresses::{Address, AddressKind};
use crate::domain::{Instance, InstanceKind, InstanceStatus, SslSeen, SslState};
use crate::text::clean;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyInstance {
    pub id: String,
    pub region: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    master: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    addresses: Vec<LegacyAddress>,
    #[serde(default)]
    ssl: Option<LegacySsl>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct LegacyAddress {
    kind: AddressKind,
    ip: String,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    dns: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    group_id: Option<String>,
    #[serde(default)]
    group_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct LegacySsl {
    enabled: bool,
    #[serde(default)]
    connect_address: Option<String>,
    #[serde(default)]
    ca_url: Option<String>,
    #[serde(default)]
    checked: String,
}

impl LegacyInstance {
    /// What the old file had learned, as the inventory keeps it. Values that were never
    /// valid (an address that is not an IP) are dropped: a refresh learns them again.
    pub fn learned(&self) -> Instance {
        let read_at = self
            .ssl
            .as_ref()
            .map(|s| s.checked.clone())
            .unwrap_or_default();
        Instance {
            id: self.id.clone(),
            region: self.region.clone(),
            name: clean(&self.name),
            kind: InstanceKind::from_api(self.kind.as_deref().unwrap_or("primary")),
            status: InstanceStatus::from_api(self.status.as_deref().unwrap_or("")),
            master: self.master.as_deref().map(clean),
            version: None,
            addresses: self
                .addresses
                .iter()
                .filter_map(|a| {
                    let ip: std::net::IpAddr = a.ip.parse().ok()?;
                    Some(Address {
                        kind: a.kind,
                        host: ip.into(),
                        ip: Some(ip),
                        port: a.port,
                        dns: a.dns.as_deref().map(clean),
                        status: a.status.as_deref().map(clean),
                        group_id: a.group_id.as_deref().map(clean),
                        group_name: a.group_name.as_deref().map(clean),
                    })
                })
                .collect(),
            unusable: Vec::new(),
            ssl: self.ssl.as_ref().map(|s| SslSeen {
                state: SslState {
                    enabled: s.enabled,
                    protected: s.connect_address.as_deref().and_then(|a| a.parse().ok()),
                    ca_url: s.ca_url.clone(),
                    inline_ca: None,
                },
                read_at: s.checked.clone(),
            }),
            read_at,
            ca: None,
            tls: None,
        }
    }
}
