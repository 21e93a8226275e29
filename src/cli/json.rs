//! The one vocabulary of `--output json`, for every command: what the Tencent API has a
//! name for is named as the API names it (DBInstanceId, DBInstanceName, Region,
//! DBInstanceType, DBInstanceStatus, SSLEnabled, ConnectAddress, CAUrl, TaskId,
//! RequestId, Status, Progress, ...); what pgssl adds (its own verdicts and bookkeeping)
//! is snake_case (kind, result, timed_out, label, read_at, ...). docs/cli.md's "JSON fields"
//! lists them.

use serde::Serialize;

use crate::addresses::Address;
use crate::domain::Instance;

/// An instance, as `ssl show`, `instances list` and `instances add` give it.
#[derive(Serialize)]
#[allow(non_snake_case)]
pub struct InstanceJson<'a> {
    pub DBInstanceId: &'a str,
    pub DBInstanceName: &'a str,
    pub Region: &'a str,
    pub DBInstanceType: &'a str,
    pub DBInstanceStatus: &'a str,
    /// The primary of a read-only instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub MasterDBInstanceId: Option<&'a str>,
    /// The PostgreSQL version (DBVersion, else DBMajorVersion), null when not known.
    pub DBVersion: Option<&'a str>,
    /// Null when not known (not read yet, or the API does not answer for the instance now).
    pub SSLEnabled: Option<bool>,
    /// The protected address: an IP or a DNS name.
    pub ConnectAddress: Option<&'a crate::addresses::Host>,
    pub CAUrl: Option<&'a str>,
    pub Addresses: Vec<AddressJson<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub UnusableAddresses: &'a [String],
    /// When the instance was described (RFC 3339, UTC).
    pub read_at: &'a str,
}

impl<'a> InstanceJson<'a> {
    pub fn of(i: &'a Instance) -> InstanceJson<'a> {
        let ssl = i.ssl_state();
        InstanceJson {
            DBInstanceId: &i.id,
            DBInstanceName: &i.name,
            Region: &i.region,
            DBInstanceType: i.kind.as_api(),
            DBInstanceStatus: i.status.as_str(),
            MasterDBInstanceId: i.master.as_deref(),
            DBVersion: i.version.as_ref().map(|v| v.full.as_str()),
            SSLEnabled: ssl.map(|s| s.enabled),
            ConnectAddress: ssl.and_then(|s| s.protected.as_ref()),
            CAUrl: ssl.and_then(|s| s.ca_url.as_deref()),
            Addresses: i.addresses.iter().map(AddressJson::of).collect(),
            UnusableAddresses: &i.unusable,
            read_at: &i.read_at,
        }
    }
}

/// One address the certificate could protect, with the names of the API's
/// DBInstanceNetInfo (and of the read-only group it belongs to).
#[derive(Serialize)]
#[allow(non_snake_case)]
pub struct AddressJson<'a> {
    /// pgssl's word for it: private, public or group (the keyword `--address` takes).
    pub kind: &'static str,
    /// What `--address KIND` sends for it: the DNS name of a public entry that has one,
    /// else the IP.
    pub ConnectAddress: &'a crate::addresses::Host,
    /// Null when the API lists a DNS name only.
    pub Ip: Option<std::net::IpAddr>,
    pub Port: u16,
    /// The DNS name, when the API gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Address: Option<&'a str>,
    /// The network's status (opened, closed, initing, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ReadOnlyGroupId: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ReadOnlyGroupName: Option<&'a str>,
}

impl<'a> AddressJson<'a> {
    pub fn of(a: &'a Address) -> AddressJson<'a> {
        AddressJson {
            kind: a.kind.keyword(),
            ConnectAddress: &a.host,
            Ip: a.ip,
            Port: a.port_or_default(),
            Address: a.dns.as_deref(),
            Status: a.status.as_deref(),
            ReadOnlyGroupId: a.group_id.as_deref(),
            ReadOnlyGroupName: a.group_name.as_deref(),
        }
    }
}
