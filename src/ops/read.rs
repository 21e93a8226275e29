//! Reads: instances, read-only groups, SSL state and tasks, parsed into `domain` types
//! on entry. Nothing past this module sees the API's strings for what pgssl decides on,
//! and a value that cannot be used (an address that is not an IP, an unknown task
//! status) is refused here, with the RequestId of the reply that carried it.

use futures_util::future::join_all;
use std::collections::HashMap;

use super::OpsError;
use crate::addresses::{self, Host};
use crate::api::models::{
    DBInstance, DescribeDBInstanceSSLConfigRequest, DescribeDBInstanceSSLConfigResponse,
    DescribeDBInstancesRequest, DescribeReadOnlyGroupsRequest, DescribeTasksRequest, Filter,
    ReadOnlyGroup, TaskSet,
};
use crate::api::{Action, ApiError, Client};
use crate::domain::{
    InlineCa, Instance, InstanceKind, InstanceStatus, SslSeen, SslState, Task, TaskStatus,
};
use crate::text::clean;
use pgssl_wire::clock::now_rfc3339_millis;

/// Every instance in a region matching `filters`, paging with the maximum Limit of 100.
pub async fn list_instances(
    client: &Client,
    region: &str,
    filters: Option<Vec<Filter>>,
) -> Result<Vec<DBInstance>, ApiError> {
    let mut all = Vec::new();
    loop {
        let reply = client
            .call(
                Some(region),
                &DescribeDBInstancesRequest {
                    Filters: filters.clone(),
                    Limit: Some(100),
                    Offset: Some(all.len() as u64),
                    ..Default::default()
                },
            )
            .await?;
        let page = reply.DBInstanceSet.unwrap_or_default();
        let got = page.len();
        all.extend(page);
        let total = usize::try_from(reply.TotalCount.unwrap_or(0)).unwrap_or(usize::MAX);
        // Stop on a short or empty page too, so a server that miscounts cannot loop us.
        if got == 0 || all.len() >= total || got < 100 {
            return Ok(all);
        }
    }
}

/// The read-only groups of a primary, paging until a short page.
pub async fn list_groups(
    client: &Client,
    region: &str,
    master_id: &str,
) -> Result<Vec<ReadOnlyGroup>, ApiError> {
    const PAGE: u64 = 99;
    let mut all = Vec::new();
    for page_number in 1..=1000 {
        let reply = client
            .call(
                Some(region),
                &DescribeReadOnlyGroupsRequest {
                    Filters: Some(vec![Filter::new("db-master-instance-id", master_id)]),
                    PageSize: Some(PAGE),
                    PageNumber: Some(page_number),
                    ..Default::default()
                },
            )
            .await?;
        let page = reply.ReadOnlyGroupList.unwrap_or_default();
        let got = page.len() as u64;
        all.extend(page);
        if got < PAGE {
            break;
        }
    }
    Ok(all)
}

/// The groups of every primary that has read-only instances among `instances`, read
/// concurrently (the client's limiter keeps the pace).
async fn groups_for(
    client: &Client,
    region: &str,
    instances: &[DBInstance],
) -> Result<Vec<ReadOnlyGroup>, ApiError> {
    let mut masters: Vec<&str> = instances
        .iter()
        .filter(|i| i.is_readonly())
        .filter_map(DBInstance::master_id)
        .collect();
    masters.sort_unstable();
    masters.dedup();
    let replies = join_all(masters.iter().map(|m| list_groups(client, region, m))).await;
    let mut groups = Vec::new();
    for r in replies {
        groups.extend(r?);
    }
    Ok(groups)
}

/// SSL state as DescribeDBInstanceSSLConfig reports it, checked: an empty ConnectAddress
/// or CAUrl (as the API answers while SSL is off) is none; anything else must be an IP
/// or a DNS name, and an http(s) URL.
pub async fn ssl_state(
    client: &Client,
    region: &str,
    instance_id: &str,
) -> Result<SslSeen, ApiError> {
    // Stamped when asked: the state is at least this fresh.
    let read_at = now_rfc3339_millis();
    let r = client
        .call(
            Some(region),
            &DescribeDBInstanceSSLConfigRequest {
                DBInstanceId: instance_id.to_string(),
            },
        )
        .await?;
    let unusable = |detail: String| ApiError::Unusable {
        action: Action::DescribeDBInstanceSSLConfig,
        request_id: clean(&r.RequestId),
        detail,
    };
    let enabled = r
        .SSLEnabled
        .ok_or_else(|| unusable(format!("no SSLEnabled for {instance_id}")))?;
    // An IP (a VIP) or a public domain name, as Tencent's SSL page says either may be
    // protected; anything else is not an address.
    let protected = match r.ConnectAddress.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => Some(Host::parse(a).map_err(|_| {
            unusable(format!(
                "ConnectAddress '{}' of {instance_id} is neither an IP address nor a DNS name",
                clean(a)
            ))
        })?),
    };
    let ca_url = match r.CAUrl.as_deref().filter(|u| !u.is_empty()) {
        None => None,
        Some(u) => {
            let usable = !u.chars().any(crate::text::is_unsafe)
                && reqwest::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "https" | "http"));
            if !usable {
                return Err(unusable(format!(
                    "CAUrl '{}' of {instance_id} is not an http(s) URL",
                    clean(u)
                )));
            }
            Some(u.to_string())
        }
    };
    Ok(SslSeen {
        state: SslState {
            enabled,
            protected,
            ca_url,
            inline_ca: inline_ca(&r),
        },
        read_at,
    })
}

/// The CA in the cloud-disk fields: CACert first, else CAP7B, else CAJKS (an empty string
/// is no field). Their encoding is not documented: PEM text and base64 (of DER, of a
/// PKCS#7 bundle, of a JKS with Tencent's password) are all read. A field that reads as
/// none of them does not fail the reply: the state is still shown, and the CA is taken
/// from CAUrl, or its absence said when a CA is needed.
pub(crate) fn inline_ca(r: &DescribeDBInstanceSSLConfigResponse) -> Option<InlineCa> {
    let (field, text) = [
        ("CACert", &r.CACert),
        ("CAP7B", &r.CAP7B),
        ("CAJKS", &r.CAJKS),
    ]
    .into_iter()
    .find_map(|(f, v)| {
        v.as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(|t| (f, t))
    })?;
    Some(match pgssl_wire::cafile::decode_text(text) {
        Ok(d) => InlineCa::Certs {
            field,
            form: d.form,
            certs: d.certs,
        },
        Err(why) => InlineCa::Unusable {
            field,
            why: clean(&why),
        },
    })
}

/// An instance as the API described it, checked and sanitized; `groups` are the
/// read-only groups of its primary (only the one it belongs to counts). None when the
/// API listed something that is not an instance id (never offered, never sent to).
pub fn instance_from_api(
    region: &str,
    instance: &DBInstance,
    groups: &[ReadOnlyGroup],
    ssl: Option<SslSeen>,
    read_at: &str,
) -> Option<Instance> {
    let id = crate::validate::instance_id(instance.id()).ok()?;
    if id != instance.id() {
        return None;
    }
    let found = addresses::addresses_of(instance, groups);
    Some(Instance {
        id,
        region: instance
            .Region
            .as_deref()
            .filter(|r| crate::validate::region_name(r).as_deref() == Ok(*r))
            .unwrap_or(region)
            .to_string(),
        name: clean(instance.name()),
        kind: InstanceKind::from_api(instance.DBInstanceType.as_deref().unwrap_or("")),
        status: InstanceStatus::from_api(instance.status()),
        master: instance.master_id().map(clean),
        version: crate::domain::PgVersion::from_api(
            instance.DBMajorVersion.as_deref(),
            instance.DBVersion.as_deref(),
        ),
        addresses: found.usable,
        unusable: found.unusable,
        ssl,
        read_at: read_at.to_string(),
        ca: None,
        tls: None,
    })
}

/// The API refuses to read SSL for an instance being created, isolated or recycled
/// (OperationDenied.InstanceStatusLimitError): that is "not now", shown with the
/// instance's status, not a failure of the whole description.
pub(crate) fn refused_is_unknown(
    ssl: Result<SslSeen, ApiError>,
) -> Result<Option<SslSeen>, ApiError> {
    match ssl {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.is_status_refusal() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Describe one instance fully: the instance and its SSL state (read together), then
/// the read-only groups of its primary when it is a read-only instance.
pub async fn describe(
    client: &Client,
    region: &str,
    instance_id: &str,
) -> Result<Instance, OpsError> {
    let filter = Some(vec![Filter::new("db-instance-id", instance_id)]);
    let read_at = now_rfc3339_millis();
    let (found, ssl) = tokio::join!(
        list_instances(client, region, filter),
        ssl_state(client, region, instance_id)
    );
    let not_found = || {
        OpsError::NotFound(format!(
            "no instance {instance_id} in {region}: check the id and --region ({} instances list --remote --region {region})",
            crate::hint::pgssl()
        ))
    };
    let instance = found?
        .into_iter()
        .find(|i| i.id() == instance_id)
        .ok_or_else(not_found)?;
    let ssl = refused_is_unknown(ssl)?;
    let groups = match instance.master_id() {
        Some(master) if instance.is_readonly() => list_groups(client, region, master).await?,
        _ => Vec::new(),
    };
    instance_from_api(region, &instance, &groups, ssl, &read_at).ok_or_else(not_found)
}

/// Everything in a region, read-only instances with their group addresses (no SSL state:
/// that is one call per instance).
pub async fn discover(client: &Client, region: &str) -> Result<Vec<Instance>, ApiError> {
    let read_at = now_rfc3339_millis();
    let instances = list_instances(client, region, None).await?;
    let groups = groups_for(client, region, &instances).await?;
    Ok(instances
        .iter()
        .filter_map(|i| instance_from_api(region, i, &groups, None, &read_at))
        .collect())
}

/// How many SSL reads are under way at once when many are asked for.
pub const IN_FLIGHT: usize = 32;

/// These instances of one region, described with their SSL state: the instances in
/// batches of 20 ids, the groups their read-only members need, then every SSL state at
/// once (the client's limiter keeps the pace). Each result comes back on its own, so one
/// failure does not hide the others; a failure to read groups fails only read-only ones.
pub async fn describe_many(
    client: &Client,
    region: &str,
    ids: &[String],
) -> Vec<(String, Result<Instance, OpsError>)> {
    let mut got: HashMap<String, Result<Instance, OpsError>> = HashMap::new();
    describe_each(client, region, ids, |id, result| {
        got.insert(id.to_string(), result);
    })
    .await;
    ids.iter()
        .map(|id| {
            let result = got.get(id).cloned().unwrap_or_else(|| {
                Err(OpsError::NotFound(format!("no instance {id} in {region}")))
            });
            (id.clone(), result)
        })
        .collect()
}

/// The same, each instance reported to `on_each` as soon as its SSL state is read (those
/// the listing did not find first), so that a count of what is read is true as it goes.
pub async fn describe_each(
    client: &Client,
    region: &str,
    ids: &[String],
    mut on_each: impl FnMut(&str, Result<Instance, OpsError>),
) {
    let read_at = now_rfc3339_millis();
    let mut listed: HashMap<String, DBInstance> = HashMap::new();
    let mut list_error: Option<ApiError> = None;
    for chunk in ids.chunks(20) {
        let filter = Filter {
            Name: "db-instance-id".into(),
            Values: chunk.to_vec(),
        };
        match list_instances(client, region, Some(vec![filter])).await {
            Ok(list) => listed.extend(list.into_iter().map(|i| (i.id().to_string(), i))),
            Err(e) => list_error = Some(e),
        }
    }
    let all: Vec<DBInstance> = listed.values().cloned().collect();
    let groups = groups_for(client, region, &all).await;
    let result_of = |id: &str, seen: Option<Result<SslSeen, ApiError>>| match (
        listed.get(id),
        &list_error,
    ) {
        (None, Some(e)) => Err(e.clone().into()),
        (None, None) => Err(OpsError::NotFound(format!(
            "no instance {id} in {region} any more: it was deleted or moved; forget it, or add it again in its region"
        ))),
        (Some(instance), _) => {
            let groups = match (&groups, instance.is_readonly()) {
                (Ok(g), _) => Ok(g.as_slice()),
                (Err(_), false) => Ok(&[][..]),
                (Err(e), true) => Err(OpsError::from(e.clone())),
            };
            match (groups, seen.map(refused_is_unknown)) {
                (Err(e), _) => Err(e),
                (Ok(_), Some(Err(e))) => Err(e.into()),
                (Ok(groups), Some(Ok(ssl))) => {
                    instance_from_api(region, instance, groups, ssl, &read_at)
                        .ok_or_else(|| OpsError::NotFound(format!("no instance {id} in {region}")))
                }
                (Ok(_), None) => Err(OpsError::NotFound(format!("no instance {id} in {region}"))),
            }
        }
    };
    let mut wanted: Vec<String> = Vec::new();
    for id in ids {
        if listed.contains_key(id) {
            wanted.push(id.clone());
        } else {
            on_each(id, result_of(id, None));
        }
    }
    // At most IN_FLIGHT at once (the limiter paces them anyway): 10,000 instances do not
    // mean 10,000 futures held in memory.
    let mut states = std::pin::pin!(futures_util::StreamExt::buffer_unordered(
        futures_util::stream::iter(wanted.into_iter().map(|id| async move {
            let seen = ssl_state(client, region, &id).await;
            (id, seen)
        })),
        IN_FLIGHT,
    ));
    while let Some((id, seen)) = futures_util::StreamExt::next(&mut states).await {
        on_each(&id, result_of(&id, Some(seen)));
    }
}

/// A task as DescribeTasks reported it, checked: a status outside the five documented
/// ones is refused rather than guessed at.
pub fn task_from_api(t: &TaskSet, request_id: &str) -> Result<Task, ApiError> {
    let unusable = |detail: String| ApiError::Unusable {
        action: Action::DescribeTasks,
        request_id: clean(request_id),
        detail,
    };
    let task_id = t
        .TaskId
        .ok_or_else(|| unusable("a task without a TaskId".into()))?;
    let status = TaskStatus::from_api(t.status()).ok_or_else(|| {
        unusable(format!(
            "task {task_id} has status '{}', which is not one the API documents (Running, Success, WaitSwitch, Fail, Pause)",
            clean(t.status())
        ))
    })?;
    let text = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(clean);
    let detail = t.TaskDetail.as_ref();
    Ok(Task {
        task_id,
        status,
        progress: t.Progress.map(|p| p.clamp(0, 100)),
        instance_id: text(t.DBInstanceId.as_deref()),
        task_type: text(t.TaskType.as_deref()),
        start_time: text(t.StartTime.as_deref()),
        started_unix: t
            .StartTime
            .as_deref()
            .and_then(pgssl_wire::clock::beijing_to_unix),
        end_time: text(t.EndTime.as_deref()),
        message: text(detail.and_then(|d| d.Message.as_deref())),
        current_step: text(detail.and_then(|d| d.CurrentStep.as_deref())),
    })
}

/// One task by id, if DescribeTasks lists it (a task may appear a moment after the
/// change that made it).
pub async fn task(client: &Client, region: &str, task_id: i64) -> Result<Option<Task>, ApiError> {
    let reply = client
        .call(
            Some(region),
            &DescribeTasksRequest {
                TaskId: Some(task_id),
                ..Default::default()
            },
        )
        .await?;
    reply
        .TaskSet
        .unwrap_or_default()
        .iter()
        .find(|t| t.TaskId == Some(task_id))
        .map(|t| task_from_api(t, &reply.RequestId))
        .transpose()
}

/// The latest tasks of an instance: those pgssl can read, and how many it could not (a
/// status outside the five, no TaskId): one odd task must not hide the others.
#[derive(Debug, Clone, Default)]
pub struct Tasks {
    pub read: Vec<Task>,
    pub unreadable: usize,
}

pub async fn tasks_of(client: &Client, region: &str, instance_id: &str) -> Result<Tasks, ApiError> {
    let reply = client
        .call(
            Some(region),
            &DescribeTasksRequest {
                DBInstanceId: Some(instance_id.to_string()),
                Limit: Some(20),
                ..Default::default()
            },
        )
        .await?;
    let mut out = Tasks::default();
    for t in reply.TaskSet.unwrap_or_default() {
        match task_from_api(&t, &reply.RequestId) {
            Ok(task) => out.read.push(task),
            Err(_) => out.unreadable += 1,
        }
    }
    Ok(out)
}
