//! The actions, one function each, behind one dispatcher that checks the region.

use serde::Serialize;
use serde_json::{Map, Value};

use super::params::{check_params, filters, int, invalid_value, page, string};
use super::{Fail, Shared, fail, quote};
use crate::fleet::{Fleet, SSLConfig, parse_time};
use pgssl_wire::models::{
    DescribeDBInstanceAttributeResponse, DescribeDBInstanceSSLConfigResponse,
    DescribeDBInstancesResponse, DescribeReadOnlyGroupsResponse, DescribeRegionsResponse,
    DescribeTasksResponse, ModifyDBInstanceSSLConfigResponse, RegionInfo,
};
use pgssl_wire::{Action, SSL_REGIONS, is_ssl_region};

fn to_value(v: impl Serialize) -> Result<Value, Fail> {
    serde_json::to_value(v).map_err(|_| fail("InternalError", "Could not encode the reply."))
}

/// The region names DescribeRegions reports.
const REGION_NAMES: [(&str, &str, i64); 18] = [
    ("ap-bangkok", "Southeast Asia(Bangkok)", 23),
    ("ap-beijing", "North China(Beijing)", 8),
    ("ap-chengdu", "Southwest China(Chengdu)", 16),
    ("ap-chongqing", "Southwest China(Chongqing)", 19),
    ("ap-guangzhou", "South China(Guangzhou)", 1),
    (
        "ap-hongkong",
        "Hong Kong, Macau and Taiwan (China)(Hong Kong, China)",
        5,
    ),
    ("ap-jakarta", "Southeast Asia(Jakarta)", 72),
    ("ap-nanjing", "East China(Nanjing)", 33),
    ("ap-seoul", "Northeast Asia(Seoul)", 18),
    ("ap-shanghai", "East China(Shanghai)", 4),
    ("ap-shanghai-fsi", "East China(Shanghai Finance)", 7),
    ("ap-shenzhen-fsi", "South China(Shenzhen Finance)", 11),
    ("ap-singapore", "Southeast Asia(Singapore)", 9),
    ("ap-tokyo", "Northeast Asia(Tokyo)", 25),
    ("eu-frankfurt", "Europe(Frankfurt)", 17),
    ("na-ashburn", "US East(Virginia)", 22),
    ("na-siliconvalley", "US West(Silicon Valley)", 15),
    ("sa-saopaulo", "South America(São Paulo)", 74),
];

/// Regions beyond the 18, as the tccli example of DescribeRegions lists some
/// (`examples/postgres/v20170312/DescribeRegions.md`: `na-toronto` with RegionState
/// `UNAVAILABLE`, RegionId 6): a newer region that serves the SSL actions (the seed page's
/// 18 are a snapshot) and one Tencent no longer serves.
const MORE_REGIONS: [(&str, &str, i64, &str); 2] = [
    (
        "me-saudi-arabia",
        "Middle East(Saudi Arabia)",
        88,
        "AVAILABLE",
    ),
    ("na-toronto", "North America(Toronto)", 6, "UNAVAILABLE"),
];

/// The emulator's region policy: what DescribeRegions lists, and which regions serve
/// which actions. A region listed `UNAVAILABLE` serves nothing (`UnsupportedRegion`);
/// the SSL and task actions are served in the 18 and the newer AVAILABLE region; other
/// regions the fleet uses serve the rest.
fn region_policy(region: &str, fleet: &Fleet) -> (bool, bool) {
    let more = MORE_REGIONS.iter().find(|(r, ..)| *r == region);
    if more.is_some_and(|(.., state)| *state != "AVAILABLE") {
        return (false, false);
    }
    let ssl = is_ssl_region(region) || more.is_some();
    let known = ssl || fleet.regions().iter().any(|r| r == region);
    (known, ssl)
}

/// Run one authenticated action.
pub(super) fn execute(
    shared: &Shared,
    action: Action,
    caller: Option<&crate::identity::Principal>,
    region: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<Value, Fail> {
    let params = check_params(action, body)?;
    if action.service() == pgssl_wire::Service::Sts {
        return super::sts::execute(shared, action, caller, &params, now);
    }
    if action == Action::DescribeRegions {
        return describe_regions(shared);
    }
    let region = region.ok_or_else(|| {
        fail(
            "MissingParameter",
            "The request is missing a required parameter `Region`.",
        )
    })?;
    let mut fleet = shared.fleet();
    let (known, serves_ssl) = region_policy(region, &fleet);
    let ssl_or_task = matches!(
        action,
        Action::DescribeDBInstanceSSLConfig
            | Action::ModifyDBInstanceSSLConfig
            | Action::DescribeTasks
    );
    if !known || (ssl_or_task && !serves_ssl) {
        return Err(fail(
            "UnsupportedRegion",
            format!(
                "The region `{}` is not supported by this action; supported: {}.",
                quote(region),
                SSL_REGIONS.join(", ")
            ),
        ));
    }
    fleet.advance(now);
    match action {
        Action::DescribeRegions
        | Action::AssumeRole
        | Action::AssumeRoleWithWebIdentity
        | Action::GetCallerIdentity => Err(fail("InternalError", "unreachable")),
        Action::DescribeDBInstances => describe_instances(&fleet, region, &params),
        Action::DescribeDBInstanceAttribute => describe_attribute(&fleet, region, &params),
        Action::DescribeReadOnlyGroups => describe_groups(&fleet, region, &params),
        Action::DescribeDBInstanceSSLConfig => describe_ssl(shared, &fleet, region, &params),
        Action::ModifyDBInstanceSSLConfig => modify_ssl(shared, &mut fleet, region, &params, now),
        Action::DescribeTasks => describe_tasks(&fleet, region, &params, now),
    }
}

fn describe_regions(shared: &Shared) -> Result<Value, Fail> {
    let mut set: Vec<RegionInfo> = REGION_NAMES
        .iter()
        .map(|(r, name, id)| RegionInfo {
            Region: Some((*r).into()),
            RegionName: Some((*name).into()),
            RegionId: Some(*id),
            RegionState: Some("AVAILABLE".into()),
            SupportInternational: Some(1),
        })
        .collect();
    for (r, name, id, state) in MORE_REGIONS {
        set.push(RegionInfo {
            Region: Some(r.into()),
            RegionName: Some(name.into()),
            RegionId: Some(id),
            RegionState: Some(state.into()),
            SupportInternational: Some(1),
        });
    }
    // Regions the fleet uses beyond these are sold too (without the SSL API).
    for (id, r) in (1000..).zip(
        shared
            .fleet()
            .regions()
            .into_iter()
            .filter(|r| !is_ssl_region(r) && !MORE_REGIONS.iter().any(|(m, ..)| m == r)),
    ) {
        set.push(RegionInfo {
            RegionName: Some(r.clone()),
            Region: Some(r),
            RegionId: Some(id),
            RegionState: Some("AVAILABLE".into()),
            SupportInternational: Some(1),
        });
    }
    to_value(DescribeRegionsResponse {
        // A Vec never holds more than isize::MAX items, so this always fits.
        TotalCount: Some(i64::try_from(set.len()).unwrap_or(i64::MAX)),
        RegionSet: Some(set),
        RequestId: String::new(),
    })
}

fn describe_attribute(
    fleet: &Fleet,
    region: &str,
    params: &Map<String, Value>,
) -> Result<Value, Fail> {
    let id = string(params, "DBInstanceId").unwrap_or("");
    let inst = fleet.instance(region, id).ok_or_else(|| not_found(id))?;
    to_value(DescribeDBInstanceAttributeResponse {
        DBInstance: Some(inst.clone()),
        RequestId: String::new(),
    })
}

/// Statuses in which DescribeDBInstanceSSLConfig refuses (the instance is not there to
/// read, or not yet).
const SSL_UNREADABLE: [&str; 9] = [
    "applying",
    "init",
    "initing",
    "isolating",
    "isolated",
    "recycling",
    "recycled",
    "offlining",
    "offline",
];

fn describe_ssl(
    shared: &Shared,
    fleet: &Fleet,
    region: &str,
    params: &Map<String, Value>,
) -> Result<Value, Fail> {
    let id = string(params, "DBInstanceId").unwrap_or("");
    let inst = fleet.instance(region, id).ok_or_else(|| not_found(id))?;
    // The SDK lists OperationDenied.InstanceStatusLimitError for this action too: an
    // instance being created, isolated or recycled has no SSL configuration to read.
    if SSL_UNREADABLE.contains(&inst.status()) {
        return Err(fail(
            "OperationDenied.InstanceStatusLimitError",
            format!(
                "This operation cannot be performed on an instance in this status ({}).",
                pgssl_wire::text::sanitize(inst.status())
            ),
        ));
    }
    let ssl = fleet.ssl_of(id);
    // The cloud-disk fields, when asked for (`--ca-inline`): the SDK documents them
    // (v1.3.164) but no official example shows them, so by default they are not sent.
    // With SSL off they are "", as CAUrl is.
    let inline = shared.ca_serving().ca_inline.map(|form| {
        if ssl.SSLEnabled {
            let inline = shared.ca_files().inline(form);
            shared.ca_handed_out();
            inline
        } else {
            (String::new(), String::new(), String::new())
        }
    });
    let (ca_cert, ca_p7b, ca_jks) = match inline {
        Some((c, p, j)) => (Some(c), Some(p), Some(j)),
        None => (None, None, None),
    };
    to_value(DescribeDBInstanceSSLConfigResponse {
        CACert: ca_cert,
        CAJKS: ca_jks,
        CAP7B: ca_p7b,
        SSLEnabled: Some(ssl.SSLEnabled),
        // With SSL off the API answers an empty CAUrl, as official example 2 shows.
        CAUrl: Some(if ssl.SSLEnabled {
            shared.ca_url()
        } else {
            String::new()
        }),
        ConnectAddress: Some(if ssl.SSLEnabled {
            ssl.ConnectAddress.unwrap_or_default()
        } else {
            String::new()
        }),
        RequestId: String::new(),
    })
}

fn modify_ssl(
    shared: &Shared,
    fleet: &mut Fleet,
    region: &str,
    params: &Map<String, Value>,
    now: i64,
) -> Result<Value, Fail> {
    let id = string(params, "DBInstanceId").unwrap_or("").to_string();
    let enable = params
        .get("SSLEnabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let address = string(params, "ConnectAddress").map(str::to_string);
    if address.as_ref().is_some_and(|a| a.len() > 255) {
        return Err(fail(
            "InvalidParameterValue.ParameterCharacterLimitError",
            "ConnectAddress is longer than 255 characters.",
        ));
    }
    let inst = fleet.instance(region, &id).ok_or_else(|| not_found(&id))?;
    if inst.status() != "running" {
        return Err(fail(
            "OperationDenied.InstanceStatusLimitError",
            format!(
                "This operation cannot be performed on an instance in this status ({}).",
                pgssl_wire::text::sanitize(inst.status())
            ),
        ));
    }
    // Tencent's SSL page (409/115986): SSL needs PostgreSQL 11 or later. The SDK lists no
    // version code for this action, so the refusal is its generic failure.
    if enable && major_version(inst).is_some_and(|m| m < 11) {
        return Err(fail(
            "FailedOperation.FailedOperationError",
            "SSL is supported on PostgreSQL 11 and later only.",
        ));
    }
    let target = if enable {
        let address = address.filter(|a| !a.is_empty()).ok_or_else(|| {
            invalid_value(
                "ConnectAddress is required when enabling SSL or changing the protected address.",
            )
        })?;
        let allowed = fleet.allowed_addresses(inst);
        if !allowed.contains(&address) {
            return Err(invalid_value(format!(
                "ConnectAddress `{}` is not an address of instance {id}.",
                quote(&address)
            )));
        }
        SSLConfig {
            DBInstanceId: id.clone(),
            SSLEnabled: true,
            ConnectAddress: Some(address),
        }
    } else {
        SSLConfig {
            DBInstanceId: id.clone(),
            SSLEnabled: false,
            ConnectAddress: None,
        }
    };
    let task_id = fleet.start_task(
        region,
        target,
        now,
        shared.task_seconds,
        shared.faults.task_end(&id),
        shared.faults.task_listed_after(),
    );
    to_value(ModifyDBInstanceSSLConfigResponse {
        TaskId: Some(task_id),
        RequestId: String::new(),
    })
}

/// DBMajorVersion, else the first number of DBVersion (`9.5.4` on old instances).
fn major_version(inst: &pgssl_wire::models::DBInstance) -> Option<u32> {
    let first = |v: &str| v.split('.').next().and_then(|m| m.trim().parse().ok());
    inst.DBMajorVersion
        .as_deref()
        .and_then(first)
        .or_else(|| inst.DBVersion.as_deref().and_then(first))
}

fn not_found(id: &str) -> Fail {
    fail(
        "ResourceNotFound.InstanceNotFoundError",
        format!("The instance does not exist ({}).", quote(id)),
    )
}

fn describe_instances(
    fleet: &Fleet,
    region: &str,
    params: &Map<String, Value>,
) -> Result<Value, Fail> {
    let (limit, offset) = page(params, 10, 100)?;
    let filters = filters(params);
    for (name, _) in &filters {
        if !matches!(
            name.as_str(),
            "db-instance-id"
                | "db-instance-name"
                | "db-project-id"
                | "db-pay-mode"
                | "db-tag-key"
                | "db-private-ip"
                | "db-public-address"
                | "db-dedicated-cluster-id"
        ) {
            return Err(invalid_value(format!(
                "Filter `{}` is not supported.",
                quote(name)
            )));
        }
    }
    let mut matched: Vec<_> = fleet
        .instances
        .iter()
        .filter(|i| i.Region.as_deref() == Some(region))
        .filter(|i| {
            filters.iter().all(|(name, values)| {
                values.iter().any(|v| match name.as_str() {
                    "db-instance-id" => i.id() == v,
                    "db-instance-name" => i.name().contains(v.as_str()),
                    "db-project-id" => i.ProjectId.map(|p| p.to_string()).as_deref() == Some(v),
                    "db-pay-mode" => i.PayType.as_deref() == Some(v),
                    "db-tag-key" => i
                        .TagList
                        .iter()
                        .flatten()
                        .any(|t| t.TagKey.as_deref() == Some(v)),
                    "db-private-ip" => i.net_info().iter().any(|n| {
                        n.NetType.as_deref() != Some("public") && n.Ip.as_deref() == Some(v)
                    }),
                    "db-public-address" => i.net_info().iter().any(|n| {
                        n.NetType.as_deref() == Some("public")
                            && (n.Ip.as_deref() == Some(v) || n.Address.as_deref() == Some(v))
                    }),
                    "db-dedicated-cluster-id" => i
                        .DBNodeSet
                        .iter()
                        .flatten()
                        .any(|n| n.DedicatedClusterId.as_deref() == Some(v)),
                    _ => false,
                })
            })
        })
        .collect();
    let order_by = string(params, "OrderBy").unwrap_or("CreateTime");
    let desc = match string(params, "OrderByType").unwrap_or("asc") {
        "asc" => false,
        "desc" => true,
        other => {
            return Err(invalid_value(format!(
                "OrderByType `{}` must be asc or desc.",
                quote(other)
            )));
        }
    };
    let key = |i: &&pgssl_wire::models::DBInstance| -> String {
        match order_by {
            "DBInstanceId" => i.id().to_string(),
            "Name" => i.name().to_string(),
            "EndTime" => i.ExpireTime.clone().unwrap_or_default(),
            _ => i.CreateTime.clone().unwrap_or_default(),
        }
    };
    if !matches!(order_by, "DBInstanceId" | "CreateTime" | "Name" | "EndTime") {
        return Err(invalid_value(format!(
            "OrderBy `{}` must be DBInstanceId, CreateTime, Name or EndTime.",
            quote(order_by)
        )));
    }
    matched.sort_by_key(key);
    if desc {
        matched.reverse();
    }
    let total = matched.len();
    let set = matched
        .into_iter()
        .skip(offset)
        .take(limit)
        .cloned()
        .collect();
    to_value(DescribeDBInstancesResponse {
        TotalCount: Some(total as u64),
        DBInstanceSet: Some(set),
        RequestId: String::new(),
    })
}

fn describe_groups(
    fleet: &Fleet,
    region: &str,
    params: &Map<String, Value>,
) -> Result<Value, Fail> {
    let filters = filters(params);
    let mut master = None;
    let mut group_ids: Option<&Vec<String>> = None;
    for (name, values) in &filters {
        match name.as_str() {
            "db-master-instance-id" => master = values.first().cloned(),
            "read-only-group-id" => group_ids = Some(values),
            other => {
                return Err(invalid_value(format!(
                    "Filter `{}` is not supported.",
                    quote(other)
                )));
            }
        }
    }
    let master = master.ok_or_else(|| {
        fail(
            "MissingParameter",
            "The filter db-master-instance-id is required.",
        )
    })?;
    let size = match int(params, "PageSize") {
        None => 10,
        // A negative PageSize does not convert, so it is out of range like a large one.
        Some(s) => match usize::try_from(s) {
            Ok(s @ 1..=99) => s,
            _ => {
                return Err(invalid_value(format!(
                    "PageSize {s} is out of range: 1 to 99."
                )));
            }
        },
    };
    let number = match int(params, "PageNumber") {
        None => 1,
        // Only a page beyond a 32-bit usize fails here; saturated, it is still past the end.
        Some(n) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
        Some(n) => return Err(invalid_value(format!("PageNumber {n} must be 1 or more."))),
    };
    let list: Vec<_> = fleet
        .groups_of_master(region, &master)
        .filter(|g| group_ids.is_none_or(|ids| ids.iter().any(|i| i == g.id())))
        .map(|g| fleet.group_view(g))
        .skip((number - 1).saturating_mul(size))
        .take(size)
        .collect();
    to_value(DescribeReadOnlyGroupsResponse {
        ReadOnlyGroupList: Some(list),
        RequestId: String::new(),
    })
}

fn describe_tasks(
    fleet: &Fleet,
    region: &str,
    params: &Map<String, Value>,
    now: i64,
) -> Result<Value, Fail> {
    let limit = match int(params, "Limit") {
        None => 20,
        // A negative Limit does not convert, so it is out of range like a large one.
        Some(l) => match usize::try_from(l) {
            Ok(l @ 1..=100) => l,
            _ => {
                return Err(fail(
                    "InvalidParameterValue.ParameterValueExceedError",
                    format!("Limit {l} is out of range: 1 to 100."),
                ));
            }
        },
    };
    // A negative Offset counts as 0; one beyond a 32-bit usize saturates, still past the end.
    let offset = usize::try_from(int(params, "Offset").unwrap_or(0).max(0)).unwrap_or(usize::MAX);
    let time_param = |name: &str| -> Result<Option<i64>, Fail> {
        match string(params, name) {
            None => Ok(None),
            Some(s) => parse_time(s).map(Some).ok_or_else(|| {
                invalid_value(format!("{name} must look like 2024-08-23 10:00:00."))
            }),
        }
    };
    let min = time_param("MinStartTime")?.unwrap_or(now - 180 * 86_400);
    let max = time_param("MaxStartTime")?.unwrap_or(i64::MAX);
    let task_id = int(params, "TaskId");
    let instance = string(params, "DBInstanceId");
    let mut tasks: Vec<_> = fleet
        .tasks
        .iter()
        .filter(|t| t.region == region)
        .filter(|t| task_id.is_none_or(|id| t.id == id))
        .filter(|t| instance.is_none_or(|i| t.instance_id == i))
        .filter(|t| t.started >= min && t.started <= max)
        // A task is listed a moment after the change that made it (`--task-listed-after`).
        .filter(|t| now >= t.listed_from)
        .collect();
    let by_end = string(params, "OrderBy") == Some("EndTime");
    tasks.sort_by_key(|t| {
        if by_end {
            t.finished.unwrap_or(i64::MAX)
        } else {
            t.started
        }
    });
    if string(params, "OrderByType").unwrap_or("desc") == "desc" {
        tasks.reverse();
    }
    let total = tasks.len();
    let set = tasks
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|t| t.to_task_set(now))
        .collect();
    to_value(DescribeTasksResponse {
        TotalCount: Some(total as u64),
        TaskSet: Some(set),
        RequestId: String::new(),
    })
}
