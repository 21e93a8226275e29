//! Fetching temporary keys: from the CVM metadata service (an instance role), from STS
//! (AssumeRole with long-term keys; AssumeRoleWithWebIdentity with a TKE OIDC token), or
//! from a tccli sso/oauth login file, read again each time so a fresh `tccli sso login`
//! in another shell is picked up without restarting pgssl.

use std::path::PathBuf;
use std::time::Duration;

use super::provider::Issued;
use super::{Credential, CredentialError};
use crate::api::Client;
use crate::api::reply::BodyError;
use crate::store::{bounded, caps};
use crate::text::sanitize;
use pgssl_wire::sts::{AssumeRoleRequest, AssumeRoleResponse, AssumeRoleWithWebIdentityRequest};

/// The metadata service of a CVM (tencentcloud-sdk-go `cvm_role_provider.go`).
pub const METADATA_BASE: &str = "http://metadata.tencentyun.com";
pub const METADATA_ROLES: &str = "/latest/meta-data/cam/security-credentials/";
/// The metadata service's wait: on a machine that is not a CVM nothing answers, and pgssl
/// must not wait (Terraform's metadata client uses 2 s).
const METADATA_CONNECT: Duration = Duration::from_secs(1);
const METADATA_TIMEOUT: Duration = Duration::from_secs(2);
/// The most pgssl reads of a metadata reply: a role's name, or its key with an STS token
/// of a few KiB.
const METADATA_MAX_BYTES: usize = 64 << 10;
/// What tccli and the SDKs ask STS for: 7200 seconds (`STSAssumeRoleCredential`).
pub const ROLE_DURATION: u64 = 7200;
/// tccli's STS calls name this region (`STSAssumeRoleCredential._region`).
pub const STS_REGION: &str = "ap-guangzhou";

#[derive(Clone)]
pub enum Fetcher {
    CvmRole(CvmRole),
    AssumeRole(AssumeRole),
    Oidc(Oidc),
    Login(Login),
}

/// The instance role of the CVM pgssl runs on.
#[derive(Clone)]
pub struct CvmRole {
    pub base: String,
    pub http: reqwest::Client,
}

/// A role assumed with long-term keys (a tccli profile's `role-arn`).
#[derive(Clone)]
pub struct AssumeRole {
    /// Signs with the long-term keys, no token (tccli drops it too), at the STS endpoint.
    pub client: Client,
    pub role_arn: String,
    pub session_name: String,
}

/// TKE OIDC: a pod's web identity token exchanged for a role's key.
#[derive(Clone)]
pub struct Oidc {
    pub client: Client,
    pub region: String,
    pub provider_id: String,
    pub token_file: PathBuf,
    pub role_arn: String,
    pub session_name: String,
}

/// Which tccli login made a profile's temporary keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginKind {
    Sso,
    Oauth,
}

impl LoginKind {
    pub fn name(self) -> &'static str {
        match self {
            LoginKind::Sso => "sso",
            LoginKind::Oauth => "oauth",
        }
    }

    /// The tccli command that makes new keys (tccli/plugins/sso, tccli/plugins/auth).
    pub fn login_command(self, profile: &str) -> String {
        let flag = if profile == "default" {
            String::new()
        } else {
            format!(" --profile {profile}")
        };
        match self {
            LoginKind::Sso => format!("tccli sso login{flag}"),
            LoginKind::Oauth => format!("tccli auth login{flag}"),
        }
    }
}

/// A tccli sso or oauth profile: its keys are good until `expiresAt`.
#[derive(Clone)]
pub struct Login {
    pub kind: LoginKind,
    pub profile: String,
    pub path: PathBuf,
}

impl Fetcher {
    /// What these keys are, for a person.
    pub fn describe(&self) -> String {
        match self {
            Fetcher::CvmRole(_) => "CVM instance role".into(),
            Fetcher::AssumeRole(a) => format!("role {}", sanitize(&a.role_arn)),
            Fetcher::Oidc(o) => format!("role {} (TKE OIDC)", sanitize(&o.role_arn)),
            Fetcher::Login(l) => {
                format!("tccli {} login of profile '{}'", l.kind.name(), l.profile)
            }
        }
    }

    /// What to do when the keys cannot be renewed.
    pub fn advice(&self) -> String {
        match self {
            Fetcher::CvmRole(_) => {
                "check that this CVM still has its CAM role (console: instance, bind role)".into()
            }
            Fetcher::AssumeRole(_) => {
                "check the profile's role-arn and that its keys may assume it (CAM)".into()
            }
            Fetcher::Oidc(_) => "check TKE_WEB_IDENTITY_TOKEN_FILE and TKE_ROLE_ARN".into(),
            Fetcher::Login(l) => {
                format!("run `{}`, then try again", l.kind.login_command(&l.profile))
            }
        }
    }

    pub async fn fetch(&self, now: i64) -> Result<Issued, CredentialError> {
        match self {
            Fetcher::CvmRole(c) => c.fetch().await,
            Fetcher::AssumeRole(a) => a.fetch().await,
            Fetcher::Oidc(o) => o.fetch().await,
            Fetcher::Login(l) => l.fetch(now),
        }
    }
}

/// What the metadata service answers for a role (tencentcloud-sdk-go `roleRsp`).
#[derive(serde::Deserialize)]
#[allow(non_snake_case)]
struct RoleKey {
    TmpSecretId: Option<String>,
    TmpSecretKey: Option<String>,
    Token: Option<String>,
    ExpiredTime: Option<i64>,
    Code: Option<String>,
}

impl CvmRole {
    /// `base` replaces `http://metadata.tencentyun.com` (PGSSL_METADATA_ENDPOINT).
    pub fn new(base: &str) -> Result<CvmRole, String> {
        crate::api::client::install_crypto_provider();
        let http = reqwest::Client::builder()
            // The metadata service is this machine's own; a proxy would answer for another.
            .no_proxy()
            .connect_timeout(METADATA_CONNECT)
            .timeout(METADATA_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot set up the metadata client: {e}"))?;
        Ok(CvmRole {
            base: base.trim_end_matches('/').to_string(),
            http,
        })
    }

    async fn get(&self, path: &str) -> Result<(u16, String), String> {
        let url = format!("{}{path}", self.base);
        let service = format!("the metadata service at {}", sanitize(&self.base));
        let broken = |e: &reqwest::Error, what: &str| {
            if e.is_timeout() {
                format!(
                    "{service} gave no answer within {}",
                    crate::api::reply::seconds(METADATA_TIMEOUT)
                )
            } else {
                format!("{service} {what} ({e})")
            }
        };
        let mut response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| broken(&e, "did not answer"))?;
        let status = response.status().as_u16();
        let body = match crate::api::reply::read_body(&mut response, METADATA_MAX_BYTES).await {
            Ok(body) => body,
            Err(BodyError::TooLarge(cap)) => {
                return Err(format!(
                    "{service}: its reply was {}",
                    BodyError::too_large(cap)
                ));
            }
            Err(BodyError::Broken(e)) => return Err(broken(&e, "cut its reply off")),
        };
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// The name of the role bound to this CVM; `Ok(None)` when none is bound (404).
    pub async fn role_name(&self) -> Result<Option<String>, CredentialError> {
        let (status, body) = self
            .get(METADATA_ROLES)
            .await
            .map_err(CredentialError::Unavailable)?;
        match status {
            200 => {
                let name = body.trim();
                if name.is_empty()
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
                {
                    return Err(CredentialError::Unavailable(format!(
                        "the metadata service named a role pgssl cannot use ('{}')",
                        crate::text::truncate(&sanitize(name), 64)
                    )));
                }
                Ok(Some(name.to_string()))
            }
            404 => Ok(None),
            s => Err(CredentialError::Unavailable(format!(
                "the metadata service answered HTTP {s} for the role name"
            ))),
        }
    }

    async fn fetch(&self) -> Result<Issued, CredentialError> {
        let role = self.role_name().await?.ok_or_else(|| {
            CredentialError::Unavailable(
                "this CVM has no CAM role bound (the metadata service lists none)".into(),
            )
        })?;
        let (status, body) = self
            .get(&format!("{METADATA_ROLES}{role}"))
            .await
            .map_err(CredentialError::Unavailable)?;
        if status != 200 {
            return Err(CredentialError::Unavailable(format!(
                "the metadata service answered HTTP {status} for role {role}"
            )));
        }
        let key: RoleKey = serde_json::from_str(&body).map_err(|_| {
            CredentialError::Unavailable(format!(
                "the metadata service's key for role {role} is not the JSON it should be"
            ))
        })?;
        if key.Code.as_deref() != Some("Success") {
            return Err(CredentialError::Unavailable(format!(
                "the metadata service refused role {role} (Code {})",
                crate::text::truncate(&sanitize(key.Code.as_deref().unwrap_or("missing")), 40)
            )));
        }
        issued(
            key.TmpSecretId,
            key.TmpSecretKey,
            key.Token,
            key.ExpiredTime,
            format!("CVM role {role}"),
        )
    }
}

/// Check what STS or the metadata service handed out before using it.
fn issued(
    id: Option<String>,
    key: Option<String>,
    token: Option<String>,
    expires_at: Option<i64>,
    what: String,
) -> Result<Issued, CredentialError> {
    let bad = |problem: &str| CredentialError::Unavailable(format!("{what}: {problem}"));
    let (Some(id), Some(key), Some(token)) = (id, key, token.filter(|t| !t.is_empty())) else {
        return Err(bad("the temporary key came without its id, key or token"));
    };
    let expires_at = expires_at.ok_or_else(|| bad("the temporary key came without ExpiredTime"))?;
    let credential = Credential::new(&id, &key, Some(&token)).map_err(bad)?;
    Ok(Issued {
        credential,
        expires_at,
        what,
    })
}

fn from_sts(reply: AssumeRoleResponse, what: String) -> Result<Issued, CredentialError> {
    let c = reply.Credentials.unwrap_or_default();
    issued(
        c.TmpSecretId,
        c.TmpSecretKey,
        c.Token,
        reply.ExpiredTime,
        what,
    )
}

impl AssumeRole {
    async fn fetch(&self) -> Result<Issued, CredentialError> {
        let reply = self
            .client
            .call(
                Some(STS_REGION),
                &AssumeRoleRequest {
                    RoleArn: self.role_arn.clone(),
                    RoleSessionName: self.session_name.clone(),
                    DurationSeconds: Some(ROLE_DURATION),
                },
            )
            .await
            .map_err(|e| CredentialError::Sts(e.to_string()))?;
        from_sts(reply, format!("role {}", sanitize(&self.role_arn)))
    }
}

impl Oidc {
    async fn fetch(&self) -> Result<Issued, CredentialError> {
        // Read again each time: the pod's token is rotated by the kubelet.
        let token = bounded::read_to_string(&self.token_file, caps::CREDENTIAL).map_err(|e| {
            let problem = format!(
                "cannot read TKE_WEB_IDENTITY_TOKEN_FILE {} ({e})",
                sanitize(&self.token_file.display().to_string())
            );
            // Not a file at all, or far too large: the setting is wrong, not the moment.
            if bounded::is_refusal(&e) {
                CredentialError::BadEnv(problem)
            } else {
                CredentialError::Unavailable(problem)
            }
        })?;
        let reply = self
            .client
            .call_unsigned(
                Some(&self.region),
                &AssumeRoleWithWebIdentityRequest {
                    ProviderId: self.provider_id.clone(),
                    WebIdentityToken: token.trim().to_string(),
                    RoleArn: self.role_arn.clone(),
                    RoleSessionName: self.session_name.clone(),
                    DurationSeconds: Some(ROLE_DURATION),
                },
            )
            .await
            .map_err(|e| CredentialError::Sts(e.to_string()))?;
        from_sts(
            reply,
            format!("role {} (TKE OIDC)", sanitize(&self.role_arn)),
        )
    }
}

impl Login {
    fn fetch(&self, now: i64) -> Result<Issued, CredentialError> {
        let profile = super::tccli::read_profile_file(&self.path)?.ok_or_else(|| {
            CredentialError::BadFile {
                path: self.path.clone(),
                problem: format!(
                    "it is gone; run `{}`",
                    self.kind.login_command(&self.profile)
                ),
            }
        })?;
        let what = format!(
            "tccli {} login of profile '{}'",
            self.kind.name(),
            self.profile
        );
        let expires_at = profile.expires_at.unwrap_or(0);
        if expires_at - super::provider::REFRESH_BEFORE <= now {
            return Err(CredentialError::LoginExpired {
                profile: self.profile.clone(),
                kind: self.kind,
                expires_at,
            });
        }
        let credential = profile.keys().map_err(|problem| CredentialError::BadFile {
            path: self.path.clone(),
            problem,
        })?;
        Ok(Issued {
            credential,
            expires_at,
            what,
        })
    }
}
