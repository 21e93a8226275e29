//! Request and response types of STS (`sts`, version 2018-08-13), named as the API names
//! them: temporary credentials for a role (AssumeRole, AssumeRoleWithWebIdentity) and whose
//! credential this is (GetCallerIdentity).

use serde::{Deserialize, Serialize};

use crate::Action;
use crate::models::{ApiRequest, HasRequestId};

/// The temporary key STS hands out.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct Credentials {
    pub Token: Option<String>,
    pub TmpSecretId: Option<String>,
    pub TmpSecretKey: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field(
                "TmpSecretId",
                &self
                    .TmpSecretId
                    .as_deref()
                    .map(crate::credential::mask_secret_id),
            )
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct AssumeRoleRequest {
    pub RoleArn: String,
    pub RoleSessionName: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub DurationSeconds: Option<u64>,
}

/// The answer of AssumeRole and AssumeRoleWithWebIdentity alike.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct AssumeRoleResponse {
    pub Credentials: Option<Credentials>,
    /// Unix seconds.
    pub ExpiredTime: Option<i64>,
    /// The same moment as ISO 8601 (`2018-12-04T09:06:16Z`).
    pub Expiration: Option<String>,
    pub RequestId: String,
}

impl ApiRequest for AssumeRoleRequest {
    const ACTION: Action = Action::AssumeRole;
    type Response = AssumeRoleResponse;
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct AssumeRoleWithWebIdentityRequest {
    pub ProviderId: String,
    pub WebIdentityToken: String,
    pub RoleArn: String,
    pub RoleSessionName: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub DurationSeconds: Option<u64>,
}

impl std::fmt::Debug for AssumeRoleWithWebIdentityRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumeRoleWithWebIdentityRequest")
            .field("ProviderId", &self.ProviderId)
            .field("RoleArn", &self.RoleArn)
            .field("RoleSessionName", &self.RoleSessionName)
            .finish_non_exhaustive()
    }
}

impl ApiRequest for AssumeRoleWithWebIdentityRequest {
    const ACTION: Action = Action::AssumeRoleWithWebIdentity;
    type Response = AssumeRoleResponse;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetCallerIdentityRequest {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
pub struct GetCallerIdentityResponse {
    /// e.g. `qcs::cam::uin/100000000001:roleName/ops-bastion`.
    pub Arn: Option<String>,
    pub AccountId: Option<String>,
    pub UserId: Option<String>,
    pub PrincipalId: Option<String>,
    /// `CAMUser`, `AssumedRole`, ...
    pub Type: Option<String>,
    pub RequestId: String,
}

impl ApiRequest for GetCallerIdentityRequest {
    const ACTION: Action = Action::GetCallerIdentity;
    type Response = GetCallerIdentityResponse;
}

impl HasRequestId for AssumeRoleResponse {
    fn request_id(&self) -> &str {
        &self.RequestId
    }
}

impl HasRequestId for GetCallerIdentityResponse {
    fn request_id(&self) -> &str {
        &self.RequestId
    }
}
