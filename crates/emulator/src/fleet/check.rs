//! A fleet file checked before it is used: only the API's own field names (with a
//! "did you mean" for a typo), generated instances expanded, every reference resolved.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::{FleetFile, addresses_of, parse_time};
use pgssl_wire::models::{DBInstance, DBInstanceNetInfo, ReadOnlyGroup};

/// Keys the fleet file may use at each level: those of the API's own types.
pub(super) fn check_known_fields(value: &serde_json::Value) -> Result<(), String> {
    fn keys_of<T: Serialize + Default>() -> HashSet<String> {
        match serde_json::to_value(T::default()) {
            Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
            _ => HashSet::new(),
        }
    }
    let instance = keys_of::<DBInstance>();
    let net = keys_of::<DBInstanceNetInfo>();
    let group = keys_of::<ReadOnlyGroup>();
    let check_obj =
        |path: &str, v: &serde_json::Value, known: &HashSet<String>| -> Result<(), String> {
            if let Some(obj) = v.as_object() {
                for k in obj.keys() {
                    if !known.contains(k) {
                        let hint = known
                            .iter()
                            .map(|c| {
                                let d =
                                    edit_distance(&c.to_ascii_lowercase(), &k.to_ascii_lowercase());
                                (d, c)
                            })
                            .filter(|(d, _)| *d <= 2)
                            .min()
                            .map(|(_, c)| format!(" (did you mean {c}?)"))
                            .unwrap_or_default();
                        return Err(format!(
                            "{path}.{}: unknown field{hint}",
                            pgssl_wire::text::sanitize(k)
                        ));
                    }
                }
            }
            Ok(())
        };
    let list = |key: &str| {
        value
            .get(key)
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default()
    };
    for (i, inst) in list("DBInstanceSet").iter().enumerate() {
        let path = format!("DBInstanceSet[{i}]");
        check_obj(&path, inst, &instance)?;
        if let Some(nets) = inst.get("DBInstanceNetInfo").and_then(|v| v.as_array()) {
            for (j, n) in nets.iter().enumerate() {
                check_obj(&format!("{path}.DBInstanceNetInfo[{j}]"), n, &net)?;
            }
        }
    }
    for (i, g) in list("ReadOnlyGroupList").iter().enumerate() {
        let path = format!("ReadOnlyGroupList[{i}]");
        check_obj(&path, g, &group)?;
        if let Some(nets) = g.get("DBInstanceNetInfo").and_then(|v| v.as_array()) {
            for (j, n) in nets.iter().enumerate() {
                check_obj(&format!("{path}.DBInstanceNetInfo[{j}]"), n, &net)?;
            }
        }
        if let Some(members) = g.get("ReadOnlyDBInstanceList").and_then(|v| v.as_array()) {
            for (j, m) in members.iter().enumerate() {
                check_obj(&format!("{path}.ReadOnlyDBInstanceList[{j}]"), m, &instance)?;
            }
        }
    }
    Ok(())
}

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Deterministic 8-character id suffix for generated instances.
fn generated_suffix(region: &str, n: usize) -> String {
    let digest = pgssl_wire::sign::sha256_hex(format!("{region}/{n}").as_bytes());
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    digest
        .as_bytes()
        .chunks(2)
        .take(8)
        .map(|pair| {
            alphabet[(usize::from(pair[0]) * 7 + usize::from(pair[1])) % alphabet.len()] as char
        })
        .collect()
}

pub(super) fn expand_generated(file: &mut FleetFile) -> Result<(), String> {
    for (gi, g) in file.Generate.iter().enumerate() {
        if !pgssl_wire::is_ssl_region(&g.Region) {
            return Err(format!(
                "Generate[{gi}].Region: '{}' is not one of the 18 SSL regions",
                pgssl_wire::text::sanitize(&g.Region)
            ));
        }
        if g.Count > 20_000 {
            return Err(format!("Generate[{gi}].Count: at most 20000"));
        }
        let prefix = g.NamePrefix.clone().unwrap_or_else(|| "bulk".into());
        for n in 1..=g.Count {
            let octet3 = (n / 250) % 250;
            let octet4 = n % 250 + 2;
            file.DBInstanceSet.push(DBInstance {
                Region: Some(g.Region.clone()),
                Zone: Some(format!("{}-1", g.Region)),
                VpcId: Some("vpc-bulk0001".into()),
                SubnetId: Some("subnet-bulk0001".into()),
                DBInstanceId: Some(format!("postgres-{}", generated_suffix(&g.Region, n))),
                DBInstanceName: Some(format!("{prefix}-{n:04}")),
                DBInstanceStatus: Some("running".into()),
                DBInstanceType: Some("primary".into()),
                DBVersion: Some("15.4".into()),
                DBMajorVersion: Some("15".into()),
                DBInstanceMemory: Some(2),
                DBInstanceStorage: Some(20),
                DBInstanceCpu: Some(1),
                CreateTime: Some("2025-01-01 00:00:00".into()),
                MasterDBInstanceId: Some(String::new()),
                ReadOnlyInstanceNum: Some(0),
                DBInstanceNetInfo: Some(vec![DBInstanceNetInfo {
                    Address: Some(String::new()),
                    Ip: Some(format!("10.{}.{octet3}.{octet4}", 100 + gi)),
                    Port: Some(5432),
                    NetType: Some("private".into()),
                    Status: Some("opened".into()),
                    VpcId: Some("vpc-bulk0001".into()),
                    SubnetId: Some("subnet-bulk0001".into()),
                    ProtocolType: Some("postgresql".into()),
                }]),
                ..Default::default()
            });
        }
    }
    Ok(())
}

/// Relations the API guarantees: ids unique and well formed, read-only instances point
/// at a primary, groups at their members, SSL state at a real address.
fn check_tasks(file: &FleetFile) -> Result<(), String> {
    let mut seen = HashSet::new();
    for (i, t) in file.TaskSet.iter().enumerate() {
        let path = format!("TaskSet[{i}]");
        let id = t.TaskId.ok_or_else(|| format!("{path}.TaskId: missing"))?;
        if !(1..100_017).contains(&id) || !seen.insert(id) {
            return Err(format!(
                "{path}.TaskId: {id} must be unique and below 100017 (the emulator numbers its own from there)"
            ));
        }
        let instance = t.DBInstanceId.as_deref().unwrap_or("");
        if !file.DBInstanceSet.iter().any(|d| d.id() == instance) {
            return Err(format!(
                "{path}.DBInstanceId: no instance '{}' in DBInstanceSet",
                pgssl_wire::text::sanitize(instance)
            ));
        }
        for (name, time) in [("StartTime", &t.StartTime), ("EndTime", &t.EndTime)] {
            if let Some(v) = time.as_deref().filter(|v| !v.is_empty())
                && parse_time(v).is_none()
            {
                return Err(format!(
                    "{path}.{name}: '{}' is not YYYY-MM-DD HH:MM:SS (Beijing time)",
                    pgssl_wire::text::sanitize(v)
                ));
            }
        }
    }
    Ok(())
}

pub(super) fn check(file: &FleetFile) -> Result<(), String> {
    check_tasks(file)?;
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, inst) in file.DBInstanceSet.iter().enumerate() {
        let path = format!("DBInstanceSet[{i}]");
        let id = inst.id();
        pgssl_wire::ids::instance_id(id).map_err(|e| format!("{path}.DBInstanceId: {e}"))?;
        if ids.insert(id, i).is_some() {
            return Err(format!("{path}.DBInstanceId: {id} appears twice"));
        }
        if inst.Region.as_deref().is_none_or(str::is_empty) {
            return Err(format!("{path}.Region: missing"));
        }
        match inst.DBInstanceType.as_deref() {
            Some("primary" | "readonly") => {}
            other => {
                return Err(format!(
                    "{path}.DBInstanceType: '{}' must be primary or readonly",
                    pgssl_wire::text::sanitize(other.unwrap_or(""))
                ));
            }
        }
        if inst.DBInstanceStatus.as_deref().is_none_or(str::is_empty) {
            return Err(format!("{path}.DBInstanceStatus: missing"));
        }
        for (j, n) in inst.net_info().iter().enumerate() {
            if let Some(ip) = n.Ip.as_deref().filter(|ip| !ip.is_empty()) {
                ip.parse::<std::net::IpAddr>().map_err(|_| {
                    format!(
                        "{path}.DBInstanceNetInfo[{j}].Ip: '{}' is not an IP address",
                        pgssl_wire::text::sanitize(ip)
                    )
                })?;
            }
        }
    }
    for (i, inst) in file.DBInstanceSet.iter().enumerate() {
        if inst.is_readonly() {
            let path = format!("DBInstanceSet[{i}].MasterDBInstanceId");
            let master = inst
                .master_id()
                .ok_or_else(|| format!("{path}: a readonly instance needs its primary's id"))?;
            let m = ids
                .get(master)
                .map(|&k| &file.DBInstanceSet[k])
                .ok_or_else(|| format!("{path}: no instance {master} in DBInstanceSet"))?;
            if m.is_readonly() || m.Region != inst.Region {
                return Err(format!(
                    "{path}: {master} must be a primary in the same region"
                ));
            }
        }
    }
    for (i, g) in file.ReadOnlyGroupList.iter().enumerate() {
        let path = format!("ReadOnlyGroupList[{i}]");
        if g.id().is_empty() {
            return Err(format!("{path}.ReadOnlyGroupId: missing"));
        }
        let master = g.MasterDBInstanceId.as_deref().unwrap_or("");
        if !ids.contains_key(master) {
            return Err(format!(
                "{path}.MasterDBInstanceId: no instance '{}' in DBInstanceSet",
                pgssl_wire::text::sanitize(master)
            ));
        }
        if g.Region.as_deref().is_none_or(str::is_empty) {
            return Err(format!("{path}.Region: missing"));
        }
        for (j, m) in g.members().enumerate() {
            let member = ids.get(m).map(|&k| &file.DBInstanceSet[k]).ok_or_else(|| {
                format!(
                    "{path}.ReadOnlyDBInstanceList[{j}]: no instance '{}' in DBInstanceSet",
                    pgssl_wire::text::sanitize(m)
                )
            })?;
            if member.master_id() != Some(master) {
                return Err(format!(
                    "{path}.ReadOnlyDBInstanceList[{j}]: {m} is not a read-only instance of {master}"
                ));
            }
        }
    }
    for (i, s) in file.SSLConfigSet.iter().enumerate() {
        let path = format!("SSLConfigSet[{i}]");
        let inst = ids
            .get(s.DBInstanceId.as_str())
            .map(|&k| &file.DBInstanceSet[k])
            .ok_or_else(|| {
                format!(
                    "{path}.DBInstanceId: no instance '{}' in DBInstanceSet",
                    pgssl_wire::text::sanitize(&s.DBInstanceId)
                )
            })?;
        if s.SSLEnabled {
            let addr = s.ConnectAddress.as_deref().ok_or_else(|| {
                format!("{path}.ConnectAddress: required when SSLEnabled is true")
            })?;
            let allowed: Vec<String> = addresses_of(inst, &file.ReadOnlyGroupList);
            if !allowed.iter().any(|a| a == addr) {
                return Err(format!(
                    "{path}.ConnectAddress: {} is not one of {}'s addresses ({})",
                    pgssl_wire::text::sanitize(addr),
                    s.DBInstanceId,
                    allowed.join(", ")
                ));
            }
        }
    }
    Ok(())
}
