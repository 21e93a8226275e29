//! Where the key comes from, keeping it fresh, and keeping its secret half out of sight.
//!
//! - `chain`: which source, in tccli's order, then the SDKs' (docs/credentials.md's table);
//! - `tccli`: tccli's profile files, read as tccli reads them;
//! - `fetch`: temporary keys from the CVM metadata service, STS or a tccli login;
//! - `provider`: the key to sign with now, renewed before it expires.

pub mod chain;
pub mod choices;
pub mod fetch;
pub mod provider;
pub mod tccli;

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub use chain::{How, Lookup, Resolved, resolve};
pub use fetch::{Fetcher, LoginKind};
pub use pgssl_wire::credential::{Credential, Secret, mask_secret_id};
pub use provider::{CredentialEvent, Provider};

use crate::api::{Client, ClientOptions, Endpoint};
use crate::text::sanitize;

/// Which source in the chain gave the credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// `TENCENTCLOUD_SECRET_ID/KEY` (and `TENCENTCLOUD_TOKEN`).
    Env,
    /// Keys in a tccli profile.
    Profile { name: String, path: PathBuf },
    /// A tccli sso or oauth profile's temporary keys.
    Login {
        kind: LoginKind,
        name: String,
        path: PathBuf,
    },
    /// The SDKs' INI file.
    CredentialsFile { path: PathBuf },
    /// The CVM's instance role; `profile` when a tccli profile asked for it.
    CvmRole { profile: Option<String> },
    /// A role assumed through STS with the keys of `keys`.
    AssumeRole {
        role_arn: String,
        keys: Box<CredentialSource>,
    },
    /// TKE OIDC: a pod's web identity exchanged for a role.
    Oidc { role_arn: String },
    /// Generated for `--demo` or given to the emulator.
    Demo,
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Env => f.write_str("environment (TENCENTCLOUD_SECRET_ID/KEY)"),
            CredentialSource::Profile { name, path } => {
                write!(
                    f,
                    "tccli profile '{name}' ({})",
                    sanitize(&path.display().to_string())
                )
            }
            CredentialSource::Login { kind, name, .. } => {
                write!(f, "tccli {} login, profile '{name}'", kind.name())
            }
            CredentialSource::CredentialsFile { path } => write!(
                f,
                "credentials file {} [default]",
                sanitize(&path.display().to_string())
            ),
            CredentialSource::CvmRole { profile: Some(p) } => {
                write!(f, "CVM instance role (tccli profile '{p}')")
            }
            CredentialSource::CvmRole { profile: None } => f.write_str("CVM instance role"),
            CredentialSource::AssumeRole { role_arn, keys } => {
                write!(f, "role {} assumed with {keys}", sanitize(role_arn))
            }
            CredentialSource::Oidc { role_arn } => {
                write!(f, "role {} through TKE OIDC", sanitize(role_arn))
            }
            CredentialSource::Demo => f.write_str("demo credentials for the embedded emulator"),
        }
    }
}

/// The role's name in a role ARN (`qcs::cam::uin/1:roleName/dba` → `dba`), its id in
/// the other documented form (`qcs::cam::uin/1:role/4611686018427397919` → the id; sts
/// `models.go` RoleArn), else the ARN.
pub fn role_name(arn: &str) -> &str {
    arn.rsplit_once("roleName/")
        .or_else(|| arn.rsplit_once(":role/"))
        .map_or(arn, |(_, name)| name.rsplit('/').next().unwrap_or(name))
}

impl CredentialSource {
    /// A few words for the TUI's header: `profile ops`, `role dba via profile prod`.
    pub fn brief(&self) -> String {
        match self {
            CredentialSource::Env => "env keys".into(),
            CredentialSource::Profile { name, .. } => format!("profile {}", sanitize(name)),
            CredentialSource::Login { kind, name, .. } => {
                format!("{} login {}", kind.name(), sanitize(name))
            }
            CredentialSource::CredentialsFile { .. } => "credentials file".into(),
            CredentialSource::CvmRole { .. } => "CVM role".into(),
            CredentialSource::AssumeRole { role_arn, keys } => format!(
                "role {} via {}",
                sanitize(role_name(role_arn)),
                keys.brief()
            ),
            CredentialSource::Oidc { role_arn } => {
                format!("role {} via TKE OIDC", sanitize(role_name(role_arn)))
            }
            CredentialSource::Demo => "demo key".into(),
        }
    }

    /// Short form for the journal.
    pub fn tag(&self) -> String {
        match self {
            CredentialSource::Env => "env".into(),
            CredentialSource::Profile { name, .. } => format!("profile:{name}"),
            CredentialSource::Login { kind, name, .. } => format!("{}:{name}", kind.name()),
            CredentialSource::CredentialsFile { path } => format!("file:{}", path.display()),
            CredentialSource::CvmRole { .. } => "cvm-role".into(),
            CredentialSource::AssumeRole { role_arn, keys } => {
                format!("role:{role_arn} via {}", keys.tag())
            }
            CredentialSource::Oidc { role_arn } => format!("oidc:{role_arn}"),
            CredentialSource::Demo => "demo".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error(
        "no credentials found; tried: {}. Set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, pass --profile NAME, or try pgssl --demo",
        tried.join("; ")
    )]
    NotFound { tried: Vec<String> },
    #[error("{}: {problem}", sanitize(&path.display().to_string()))]
    BadFile { path: PathBuf, problem: String },
    #[error("{0}")]
    BadEnv(String),
    /// A tccli sso/oauth login has run out; only tccli can log in again.
    #[error("{}", login_expired(*kind, profile, *expires_at))]
    LoginExpired {
        profile: String,
        kind: LoginKind,
        expires_at: i64,
    },
    /// A temporary key came back already (nearly) expired.
    #[error("{what}: the temporary key handed out has already expired; {advice}")]
    Expired { what: String, advice: String },
    /// The metadata service or a file gave nothing usable.
    #[error("{0}")]
    Unavailable(String),
    /// STS refused or could not be reached (its error, as one line).
    #[error("getting a temporary key: {0}")]
    Sts(String),
}

fn login_expired(kind: LoginKind, profile: &str, expires_at: i64) -> String {
    let when = if expires_at > 0 {
        format!(
            " at {}",
            pgssl_wire::clock::rfc3339(expires_at).unwrap_or_else(|| expires_at.to_string())
        )
    } else {
        String::new()
    };
    format!(
        "the tccli {} login of profile '{profile}' has expired{when} (or will within 5 minutes); run `{}`, then try again",
        kind.name(),
        kind.login_command(profile)
    )
}

impl CredentialError {
    /// 2 when the person must fix something first (nothing was sent), 1 when a service
    /// (metadata, STS) failed.
    pub fn exit_code(&self) -> i32 {
        match self {
            CredentialError::NotFound { .. }
            | CredentialError::BadFile { .. }
            | CredentialError::BadEnv(_)
            | CredentialError::LoginExpired { .. } => 2,
            CredentialError::Expired { .. }
            | CredentialError::Unavailable(_)
            | CredentialError::Sts(_) => 1,
        }
    }
}

/// A warning when group or others may read a file holding a key.
pub fn permission_warning(path: &Path) -> Option<String> {
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        let display = path.display().to_string();
        let shown = sanitize(&display);
        format!(
            "warning: {shown} holds a secret key and is readable by others (mode {:o}); fix with: chmod 600 {shown}",
            mode & 0o777,
        )
    })
}

/// Where STS and the metadata service are, for the providers that need them.
#[derive(Clone)]
pub struct Places {
    pub sts: Endpoint,
    /// Base URL of the metadata service.
    pub metadata: String,
    /// Timeouts, proxies, rate limits: as for the API itself.
    pub options: ClientOptions,
    /// The clock STS requests are stamped with (tests move it on).
    pub clock: Option<provider::Clock>,
}

/// The STS session name pgssl uses where tccli's SDK would generate one (TKE OIDC):
/// `pgssl-` and the time in microseconds, so CloudAudit shows which tool it was.
fn session_name() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    format!("pgssl-{micros}")
}

/// The provider for a resolved source. The last-resort CVM role is asked for its name
/// here, so a machine without one hears "no credentials found" with everything tried.
pub async fn provider(resolved: &Resolved, places: &Places) -> Result<Provider, CredentialError> {
    let sts_client = |credential: Option<Credential>| {
        let mut options = places.options.clone();
        options.endpoint = places.sts.clone();
        let provider = match credential {
            Some(c) => Provider::fixed(c),
            None => Provider::unsigned(),
        };
        let client = Client::new(provider, options).map_err(CredentialError::Unavailable)?;
        Ok::<Client, CredentialError>(match &places.clock {
            Some(clock) => client.with_clock(clock.clone()),
            None => client,
        })
    };
    Ok(match &resolved.how {
        How::Keys(c) => Provider::fixed(c.clone()),
        How::CvmRole { named } => {
            let cvm =
                fetch::CvmRole::new(&places.metadata).map_err(CredentialError::Unavailable)?;
            if !named {
                let why = match cvm.role_name().await {
                    Ok(Some(_)) => None,
                    Ok(None) => Some("this machine has no CAM role".to_string()),
                    Err(e) => Some(e.to_string()),
                };
                if let Some(why) = why {
                    let mut tried = resolved.tried.clone();
                    tried.push(format!("CVM role ({why})"));
                    return Err(CredentialError::NotFound { tried });
                }
            }
            Provider::temporary(Fetcher::CvmRole(cvm))
        }
        How::AssumeRole {
            keys,
            role_arn,
            session_name,
        } => Provider::temporary(Fetcher::AssumeRole(fetch::AssumeRole {
            client: sts_client(Some(keys.clone()))?,
            role_arn: role_arn.clone(),
            session_name: session_name.clone(),
        })),
        How::Oidc {
            region,
            provider_id,
            token_file,
            role_arn,
        } => Provider::temporary(Fetcher::Oidc(fetch::Oidc {
            client: sts_client(None)?,
            region: region.clone(),
            provider_id: provider_id.clone(),
            token_file: token_file.clone(),
            role_arn: role_arn.clone(),
            session_name: session_name(),
        })),
        How::Login {
            kind,
            profile,
            path,
            ..
        } => Provider::temporary(Fetcher::Login(fetch::Login {
            kind: *kind,
            profile: profile.clone(),
            path: path.clone(),
        })),
    })
}

#[cfg(test)]
mod tests;
