//! tccli's profile files, read as tccli reads them: `~/.tccli/NAME.credential` (JSON:
//! `secretId`, `secretKey`, `token`, `role-arn`, `role-session-name`, `type` of `default`,
//! `cvm-role`, `sso` or `oauth`, and `expiresAt` for the last two) and `NAME.configure`
//! (`_sys_param.region`, `postgres.endpoint`, `sts.endpoint`). See tccli
//! `tccli/configure.py`, `tccli/sso.py`, `tccli/oauth.py` and `parse_global_arg` in
//! `tccli/services/postgres/postgres_client.py`.

use std::path::{Path, PathBuf};

use super::{Credential, CredentialError};
use crate::store::{bounded, caps};
use crate::text::sanitize;

/// One `NAME.credential`, as far as pgssl uses it. Empty strings count as absent, as
/// tccli's truthiness checks treat them.
#[derive(Clone, Default)]
pub struct ProfileFile {
    pub kind: Option<String>,
    pub secret_id: Option<String>,
    pub secret_key: Option<String>,
    pub token: Option<String>,
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    /// sso/oauth: Unix seconds when the temporary keys stop working.
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for ProfileFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileFile")
            .field("kind", &self.kind)
            .field(
                "secret_id",
                &self.secret_id.as_deref().map(super::mask_secret_id),
            )
            .field("role_arn", &self.role_arn)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl ProfileFile {
    /// The keys in the file, checked.
    pub fn keys(&self) -> Result<Credential, String> {
        let id = self.secret_id.as_deref().ok_or("no secretId in it")?;
        let key = self.secret_key.as_deref().ok_or("no secretKey in it")?;
        Credential::new(id, key, self.token.as_deref()).map_err(str::to_string)
    }
}

/// Read `path`; `Ok(None)` when it does not exist.
pub fn read_profile_file(path: &Path) -> Result<Option<ProfileFile>, CredentialError> {
    let text = match bounded::read_to_string(path, caps::CREDENTIAL) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CredentialError::BadFile {
                path: path.to_path_buf(),
                problem: format!("cannot read it ({e})"),
            });
        }
    };
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| CredentialError::BadFile {
            path: path.to_path_buf(),
            problem: format!("not valid JSON ({e})"),
        })?;
    let field = |k: &str| {
        json.get(k)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    // tccli writes the STS ExpiredTime, an integer; accept a numeric string too.
    let expires_at = json.get("expiresAt").and_then(|v| {
        v.as_i64()
            .or_else(|| {
                v.as_str()
                    .and_then(|s| s.trim().split('.').next()?.parse().ok())
            })
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
    });
    Ok(Some(ProfileFile {
        kind: field("type"),
        secret_id: field("secretId"),
        secret_key: field("secretKey"),
        token: field("token"),
        role_arn: field("role-arn"),
        role_session_name: field("role-session-name"),
        expires_at,
    }))
}

/// What pgssl takes from `NAME.configure`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Configure {
    pub region: Option<String>,
    pub postgres_endpoint: Option<String>,
    pub sts_endpoint: Option<String>,
}

/// Read `path`; absent or unreadable gives nothing (tccli then has no region either, and
/// pgssl asks for `--region`). A FIFO, a device or a file far too large is refused: it
/// would hang or exhaust pgssl, and a person must hear why their settings are not used.
pub fn read_configure(path: &Path) -> Result<Configure, CredentialError> {
    let text = match bounded::read_to_string(path, caps::CREDENTIAL) {
        Ok(text) => text,
        Err(e) if bounded::is_refusal(&e) => {
            return Err(CredentialError::BadFile {
                path: path.to_path_buf(),
                problem: format!("cannot read it ({e})"),
            });
        }
        Err(_) => return Ok(Configure::default()),
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Ok(Configure::default());
    };
    let s = |v: Option<&serde_json::Value>| {
        v.and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Ok(Configure {
        region: s(json.get("_sys_param").and_then(|p| p.get("region"))),
        postgres_endpoint: s(json.get("postgres").and_then(|p| p.get("endpoint"))),
        sts_endpoint: s(json.get("sts").and_then(|p| p.get("endpoint"))),
    })
}

/// tccli's profile directory.
pub fn dir(home: &Path) -> PathBuf {
    home.join(".tccli")
}

pub fn credential_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.credential"))
}

pub fn configure_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.configure"))
}

/// The profiles in `dir` (those with a `.credential` file), sorted, `default` first.
pub fn list(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e
                .file_name()
                .to_str()?
                .strip_suffix(".credential")?
                .to_string();
            valid_name(&name).then_some(name)
        })
        .collect();
    names.sort_by(|a, b| (a != "default", a).cmp(&(b != "default", b)));
    names
}

/// A profile name pgssl will turn into a file name: no paths, nothing hidden.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && !name.starts_with('.')
}

pub fn check_name(name: &str) -> Result<(), CredentialError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(CredentialError::BadEnv(format!(
            "profile name '{}' is not valid: use letters, digits, '-', '_' or '.'",
            sanitize(name)
        )))
    }
}
