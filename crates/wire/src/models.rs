//! Request and response types of the PostgreSQL API (`postgres`, version 2017-03-12),
//! named exactly as the API names them. Unknown fields in replies are ignored and absent
//! optional fields are `None`, so a newer server never breaks an older pgssl.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::Action;

/// A typed API request: which action it is and what it answers.
pub trait ApiRequest: Serialize {
    const ACTION: Action;
    type Response: DeserializeOwned + HasRequestId;
}

/// Every reply carries a RequestId.
pub trait HasRequestId {
    fn request_id(&self) -> &str;
}

macro_rules! request_id {
    ($($t:ty),*) => {$(
        impl HasRequestId for $t {
            fn request_id(&self) -> &str { &self.RequestId }
        }
    )*};
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct Filter {
    pub Name: String,
    pub Values: Vec<String>,
}

impl Filter {
    pub fn new(name: &str, value: impl Into<String>) -> Self {
        Filter {
            Name: name.to_string(),
            Values: vec![value.into()],
        }
    }
}

// ---------------------------------------------------------------- DescribeRegions

#[derive(Debug, Clone, Default, Serialize)]
pub struct DescribeRegionsRequest {}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct DescribeRegionsResponse {
    pub TotalCount: Option<i64>,
    pub RegionSet: Option<Vec<RegionInfo>>,
    pub RequestId: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct RegionInfo {
    pub Region: Option<String>,
    pub RegionName: Option<String>,
    pub RegionId: Option<i64>,
    pub RegionState: Option<String>,
    pub SupportInternational: Option<i64>,
}

impl ApiRequest for DescribeRegionsRequest {
    const ACTION: Action = Action::DescribeRegions;
    type Response = DescribeRegionsResponse;
}

// ---------------------------------------------------------------- DescribeDBInstances

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct DescribeDBInstancesRequest {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub Filters: Option<Vec<Filter>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub Limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub Offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub OrderBy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub OrderByType: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct DescribeDBInstancesResponse {
    pub TotalCount: Option<u64>,
    pub DBInstanceSet: Option<Vec<DBInstance>>,
    pub RequestId: String,
}

impl ApiRequest for DescribeDBInstancesRequest {
    const ACTION: Action = Action::DescribeDBInstances;
    type Response = DescribeDBInstancesResponse;
}

/// One instance, as DescribeDBInstances and DescribeDBInstanceAttribute describe it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct DBInstance {
    pub Region: Option<String>,
    pub Zone: Option<String>,
    pub VpcId: Option<String>,
    pub SubnetId: Option<String>,
    pub DBInstanceId: Option<String>,
    pub DBInstanceName: Option<String>,
    pub DBInstanceStatus: Option<String>,
    pub DBInstanceMemory: Option<i64>,
    pub DBInstanceStorage: Option<i64>,
    pub DBInstanceCpu: Option<i64>,
    pub DBInstanceClass: Option<String>,
    pub DBMajorVersion: Option<String>,
    pub DBVersion: Option<String>,
    pub DBKernelVersion: Option<String>,
    pub DBInstanceType: Option<String>,
    pub DBInstanceVersion: Option<String>,
    pub DBCharset: Option<String>,
    pub CreateTime: Option<String>,
    pub UpdateTime: Option<String>,
    pub ExpireTime: Option<String>,
    pub IsolatedTime: Option<String>,
    pub PayType: Option<String>,
    pub AutoRenew: Option<i64>,
    pub DBInstanceNetInfo: Option<Vec<DBInstanceNetInfo>>,
    pub Type: Option<String>,
    pub AppId: Option<i64>,
    pub Uid: Option<i64>,
    pub ProjectId: Option<i64>,
    pub TagList: Option<Vec<Tag>>,
    pub MasterDBInstanceId: Option<String>,
    pub ReadOnlyInstanceNum: Option<i64>,
    pub StatusInReadonlyGroup: Option<String>,
    pub OfflineTime: Option<String>,
    pub DBNodeSet: Option<Vec<DBNode>>,
    pub IsSupportTDE: Option<i64>,
    pub DBEngine: Option<String>,
    pub DBEngineConfig: Option<String>,
    pub NetworkAccessList: Option<Vec<NetworkAccess>>,
    pub SupportIpv6: Option<i64>,
    pub ExpandedCpu: Option<i64>,
    pub DeletionProtection: Option<bool>,
    pub DBInstanceStorageType: Option<String>,
}

impl DBInstance {
    pub fn id(&self) -> &str {
        self.DBInstanceId.as_deref().unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.DBInstanceName.as_deref().unwrap_or("")
    }
    pub fn status(&self) -> &str {
        self.DBInstanceStatus.as_deref().unwrap_or("")
    }
    pub fn is_readonly(&self) -> bool {
        self.DBInstanceType.as_deref() == Some("readonly")
    }
    pub fn net_info(&self) -> &[DBInstanceNetInfo] {
        self.DBInstanceNetInfo.as_deref().unwrap_or(&[])
    }
    /// The id of the primary a read-only instance replicates (empty string on primaries counts as none).
    pub fn master_id(&self) -> Option<&str> {
        self.MasterDBInstanceId.as_deref().filter(|m| !m.is_empty())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct DBInstanceNetInfo {
    pub Address: Option<String>,
    pub Ip: Option<String>,
    pub Port: Option<u16>,
    /// `inner` (classic), `private` (VPC) or `public`.
    pub NetType: Option<String>,
    /// `initing`, `opened`, `closed`, `opening`, `closing`.
    pub Status: Option<String>,
    pub VpcId: Option<String>,
    pub SubnetId: Option<String>,
    pub ProtocolType: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct Tag {
    pub TagKey: Option<String>,
    pub TagValue: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct DBNode {
    pub Role: Option<String>,
    pub Zone: Option<String>,
    pub DedicatedClusterId: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct NetworkAccess {
    pub ResourceId: Option<String>,
    pub ResourceType: Option<i64>,
    pub VpcId: Option<String>,
    pub Vip: Option<String>,
    pub Vip6: Option<String>,
    pub Vport: Option<i64>,
    pub SubnetId: Option<String>,
    pub VpcStatus: Option<i64>,
}

// ---------------------------------------------------------------- DescribeDBInstanceAttribute

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct DescribeDBInstanceAttributeRequest {
    pub DBInstanceId: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct DescribeDBInstanceAttributeResponse {
    pub DBInstance: Option<DBInstance>,
    pub RequestId: String,
}

impl ApiRequest for DescribeDBInstanceAttributeRequest {
    const ACTION: Action = Action::DescribeDBInstanceAttribute;
    type Response = DescribeDBInstanceAttributeResponse;
}

// ---------------------------------------------------------------- DescribeReadOnlyGroups

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct DescribeReadOnlyGroupsRequest {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub Filters: Option<Vec<Filter>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub PageSize: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub PageNumber: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub OrderBy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub OrderByType: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct DescribeReadOnlyGroupsResponse {
    pub ReadOnlyGroupList: Option<Vec<ReadOnlyGroup>>,
    pub RequestId: String,
}

impl ApiRequest for DescribeReadOnlyGroupsRequest {
    const ACTION: Action = Action::DescribeReadOnlyGroups;
    type Response = DescribeReadOnlyGroupsResponse;
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct ReadOnlyGroup {
    pub ReadOnlyGroupId: Option<String>,
    pub ReadOnlyGroupName: Option<String>,
    pub ProjectId: Option<i64>,
    pub MasterDBInstanceId: Option<String>,
    pub MinDelayEliminateReserve: Option<i64>,
    pub MaxReplayLatency: Option<i64>,
    pub ReplayLatencyEliminate: Option<i64>,
    pub MaxReplayLag: Option<f64>,
    pub ReplayLagEliminate: Option<i64>,
    pub VpcId: Option<String>,
    pub SubnetId: Option<String>,
    pub Region: Option<String>,
    pub Zone: Option<String>,
    pub Status: Option<String>,
    pub ReadOnlyDBInstanceList: Option<Vec<DBInstance>>,
    pub Rebalance: Option<i64>,
    pub DBInstanceNetInfo: Option<Vec<DBInstanceNetInfo>>,
    pub NetworkAccessList: Option<Vec<NetworkAccess>>,
}

impl ReadOnlyGroup {
    pub fn id(&self) -> &str {
        self.ReadOnlyGroupId.as_deref().unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.ReadOnlyGroupName.as_deref().unwrap_or("")
    }
    pub fn members(&self) -> impl Iterator<Item = &str> {
        self.ReadOnlyDBInstanceList
            .iter()
            .flatten()
            .map(DBInstance::id)
    }
    pub fn net_info(&self) -> &[DBInstanceNetInfo] {
        self.DBInstanceNetInfo.as_deref().unwrap_or(&[])
    }
}

// ---------------------------------------------------------------- SSL

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct DescribeDBInstanceSSLConfigRequest {
    pub DBInstanceId: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct DescribeDBInstanceSSLConfigResponse {
    pub SSLEnabled: Option<bool>,
    pub CAUrl: Option<String>,
    pub ConnectAddress: Option<String>,
    /// The CA inline, cloud-disk edition only (tencentcloud-sdk-go v1.3.164, 2026-08-19:
    /// "CA证书公钥，仅云盘版"). The encoding is not documented: PEM text or base64 DER
    /// are both read (`cafile::decode_text`). Absent from a reply that does not carry it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub CACert: Option<String>,
    /// The CA as a JKS ("JKS公钥，仅云盘版"): base64 of the keystore.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub CAJKS: Option<String>,
    /// The CA as PKCS#7 ("CAP7B公钥，仅云盘版"): PEM text or base64 DER.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub CAP7B: Option<String>,
    pub RequestId: String,
}

impl ApiRequest for DescribeDBInstanceSSLConfigRequest {
    const ACTION: Action = Action::DescribeDBInstanceSSLConfig;
    type Response = DescribeDBInstanceSSLConfigResponse;
}

/// The change itself. Field order is the SDK's, so our body looks like the SDK's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct ModifyDBInstanceSSLConfigRequest {
    pub DBInstanceId: String,
    pub SSLEnabled: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ConnectAddress: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct ModifyDBInstanceSSLConfigResponse {
    pub TaskId: Option<i64>,
    pub RequestId: String,
}

impl ApiRequest for ModifyDBInstanceSSLConfigRequest {
    const ACTION: Action = Action::ModifyDBInstanceSSLConfig;
    type Response = ModifyDBInstanceSSLConfigResponse;
}

// ---------------------------------------------------------------- DescribeTasks

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct DescribeTasksRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub TaskId: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub DBInstanceId: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub MinStartTime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub MaxStartTime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub OrderBy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub OrderByType: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct DescribeTasksResponse {
    pub TotalCount: Option<u64>,
    pub TaskSet: Option<Vec<TaskSet>>,
    pub RequestId: String,
}

impl ApiRequest for DescribeTasksRequest {
    const ACTION: Action = Action::DescribeTasks;
    type Response = DescribeTasksResponse;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct TaskSet {
    pub TaskId: Option<i64>,
    pub TaskType: Option<String>,
    pub DBInstanceId: Option<String>,
    pub StartTime: Option<String>,
    pub EndTime: Option<String>,
    /// `Running`, `Success`, `WaitSwitch`, `Fail` or `Pause`.
    pub Status: Option<String>,
    pub Progress: Option<i64>,
    pub TaskDetail: Option<TaskDetail>,
}

impl TaskSet {
    pub fn status(&self) -> &str {
        self.Status.as_deref().unwrap_or("")
    }
    /// Success, Fail and Pause end the wait; Running and WaitSwitch do not.
    pub fn is_finished(&self) -> bool {
        matches!(self.status(), "Success" | "Fail" | "Pause")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct TaskDetail {
    pub CurrentStep: Option<String>,
    pub AllSteps: Option<String>,
    pub Input: Option<String>,
    pub Output: Option<String>,
    pub SwitchTag: Option<i64>,
    pub SwitchTime: Option<String>,
    pub Message: Option<String>,
}

request_id!(
    DescribeRegionsResponse,
    DescribeDBInstancesResponse,
    DescribeDBInstanceAttributeResponse,
    DescribeReadOnlyGroupsResponse,
    DescribeDBInstanceSSLConfigResponse,
    ModifyDBInstanceSSLConfigResponse,
    DescribeTasksResponse
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_replies_parse_and_ignore_unknown_fields() {
        let body = r#"{"TotalCount": 2, "DBInstanceSet": [
 {"Region": "ap-guangzhou", "DBInstanceId": "postgres-6bwgamo3", "DBInstanceName": "orders-db", "DBInstanceStatus": "running", "DBInstanceType": "primary", "MasterDBInstanceId": "", "SomethingNew": {"x": 1},
  "DBInstanceNetInfo": [{"Address": "", "Ip": "10.6.0.4", "Port": 5432, "NetType": "private", "Status": "opened"}]},
 {"DBInstanceId": "postgres-ro9x2k1q", "DBInstanceType": "readonly", "MasterDBInstanceId": "postgres-6bwgamo3", "TagList": null}],
 "RequestId": "0d0c7b6e"}"#;
        let r: DescribeDBInstancesResponse = serde_json::from_str(body).expect("parses");
        let set = r.DBInstanceSet.expect("set");
        assert_eq!(set[0].net_info()[0].Ip.as_deref(), Some("10.6.0.4"));
        assert_eq!(set[0].master_id(), None);
        assert!(set[1].is_readonly());
        assert_eq!(set[1].master_id(), Some("postgres-6bwgamo3"));
        assert_eq!(set[1].TagList, None);
        assert_eq!(r.RequestId, "0d0c7b6e");
    }

    #[test]
    fn modify_body_matches_the_sdk_field_order() {
        let req = ModifyDBInstanceSSLConfigRequest {
            DBInstanceId: "postgres-6bwgamo3".into(),
            SSLEnabled: false,
            ConnectAddress: None,
        };
        assert_eq!(
            serde_json::to_string(&req).expect("serializes"),
            r#"{"DBInstanceId":"postgres-6bwgamo3","SSLEnabled":false}"#
        );
    }
}
