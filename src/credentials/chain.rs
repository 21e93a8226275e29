//! Which credential to use, decided as tccli decides it (`parse_global_arg` and
//! `do<Action>` in `tccli/services/postgres/postgres_client.py`), then, where tccli would
//! give up, as Tencent's SDKs go on (the credentials file, then the CVM role). docs/credentials.md's
//! credentials section is this function as a table.
//!
//! 1. The profile: `--profile NAME`, else `TCCLI_PROFILE`, else config.toml's `profile`,
//!    else `default`; its files are `~/.tccli/NAME.credential` and `NAME.configure`.
//! 2. Unless `--profile` was given (tccli then ignores the environment):
//!    `TENCENTCLOUD_SECRET_ID` + `TENCENTCLOUD_SECRET_KEY` replace the profile's keys (the
//!    token becomes `TENCENTCLOUD_TOKEN` or none, never the file's), `TENCENTCLOUD_REGION`
//!    its region, and `TENCENTCLOUD_ROLE_ARN` + `TENCENTCLOUD_ROLE_SESSION_NAME` its role.
//! 3. The way to a key, first that applies: the CVM role (`type: cvm-role`, unless step 2
//!    gave keys or a role), AssumeRole (a role ARN and session name, with the keys), TKE
//!    OIDC (`TKE_REGION`, `TKE_PROVIDER_ID`, `TKE_WEB_IDENTITY_TOKEN_FILE`, `TKE_ROLE_ARN`
//!    all set), the keys themselves (an sso/oauth profile's only while they last).
//! 4. No keys anywhere and no profile named: `~/.tencentcloud/credentials` (or
//!    `TENCENTCLOUD_CREDENTIALS_FILE`), then `/etc/tencentcloud/credentials`, then the CVM
//!    role if the metadata service names one.

use std::path::{Path, PathBuf};

use super::fetch::LoginKind;
use super::{Credential, CredentialError, CredentialSource, tccli};

/// Inputs to the chain, so tests run it without touching the real environment.
pub struct Lookup<'a> {
    /// `--profile NAME`.
    pub profile: Option<&'a str>,
    /// config.toml's `profile`: a default, below `TCCLI_PROFILE`.
    pub config_profile: Option<&'a str>,
    pub home: Option<&'a Path>,
    /// `/etc/tencentcloud/credentials` (the Python SDK's second place).
    pub system_file: Option<&'a Path>,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Unix seconds, to tell whether an sso/oauth login is still good.
    pub now: i64,
}

impl Lookup<'_> {
    fn var(&self, name: &str) -> Option<String> {
        (self.env)(name).filter(|v| !v.is_empty())
    }
}

/// How the key will be had.
#[derive(Debug, Clone)]
pub enum How {
    Keys(Credential),
    /// The CVM's instance role. `named`: a profile asked for it; otherwise it is the last
    /// resort, used only if the metadata service names a role.
    CvmRole {
        named: bool,
    },
    AssumeRole {
        /// Long-term keys, without a token: tccli signs AssumeRole so.
        keys: Credential,
        role_arn: String,
        session_name: String,
    },
    Oidc {
        region: String,
        provider_id: String,
        token_file: PathBuf,
        role_arn: String,
    },
    /// A tccli sso/oauth profile's temporary keys, good until `expires_at`.
    Login {
        kind: LoginKind,
        profile: String,
        path: PathBuf,
        credential: Credential,
        expires_at: i64,
    },
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub how: How,
    pub source: CredentialSource,
    /// The tccli profile in effect (its guards apply), if one was named or read.
    pub profile: Option<String>,
    /// Default region: `TENCENTCLOUD_REGION` or the profile's `.configure`.
    pub region: Option<String>,
    /// The profile's `postgres.endpoint`.
    pub endpoint: Option<String>,
    /// The profile's `sts.endpoint`.
    pub sts_endpoint: Option<String>,
    /// What was tried before the last resort (for the message when it fails too).
    pub tried: Vec<String>,
    /// Things a person should hear, such as a credential file others can read.
    pub warnings: Vec<String>,
}

/// Where the profile name came from, for messages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Named {
    Flag,
    Env,
    Config,
    Default,
}

/// Run the chain. Reads files only; the CVM role and STS are asked later, when a key is
/// first needed.
pub fn resolve(lookup: &Lookup<'_>) -> Result<Resolved, CredentialError> {
    let (name, named) = match (
        lookup.profile,
        lookup.var("TCCLI_PROFILE"),
        lookup.config_profile,
    ) {
        (Some(p), _, _) => (p.to_string(), Named::Flag),
        (None, Some(p), _) => (p, Named::Env),
        (None, None, Some(p)) => (p.to_string(), Named::Config),
        (None, None, None) => ("default".to_string(), Named::Default),
    };
    tccli::check_name(&name)?;
    let dir = lookup.home.map(tccli::dir);
    let cred_path = dir.as_deref().map(|d| tccli::credential_path(d, &name));
    let file = match &cred_path {
        Some(p) => tccli::read_profile_file(p)?,
        None => None,
    };
    let configure = match dir.as_deref() {
        Some(d) => tccli::read_configure(&tccli::configure_path(d, &name))?,
        None => tccli::Configure::default(),
    };
    if file.is_none() && named != Named::Default {
        let why = match named {
            Named::Flag => "--profile",
            Named::Env => "TCCLI_PROFILE",
            _ => "config.toml's `profile`",
        };
        return Err(match &cred_path {
            Some(path) => CredentialError::BadFile {
                path: path.clone(),
                problem: format!(
                    "profile '{name}' (from {why}) does not exist; create it with `tccli configure --profile {name}` or name another"
                ),
            },
            None => CredentialError::BadEnv(format!(
                "profile '{name}' (from {why}) asked for, but HOME is not set so ~/.tccli cannot be found"
            )),
        });
    }
    let mut profile = file.clone().unwrap_or_default();
    let mut region = configure.region.clone();
    let mut keys_from_env = false;
    let mut cvm_allowed = true;

    // Step 2: the environment, unless --profile was given.
    if named != Named::Flag {
        if let Some((id, key)) = pair(lookup, "TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY")?
        {
            profile.secret_id = Some(id);
            profile.secret_key = Some(key);
            profile.token = lookup.var("TENCENTCLOUD_TOKEN");
            keys_from_env = true;
            cvm_allowed = false;
        }
        if let Some(r) = lookup.var("TENCENTCLOUD_REGION") {
            region = Some(r);
        }
        if let Some((arn, session)) = pair(
            lookup,
            "TENCENTCLOUD_ROLE_ARN",
            "TENCENTCLOUD_ROLE_SESSION_NAME",
        )? {
            profile.role_arn = Some(arn);
            profile.role_session_name = Some(session);
            cvm_allowed = false;
        }
    }

    let mut warnings = Vec::new();
    let keys_source = match cred_path.as_ref().filter(|_| !keys_from_env) {
        Some(path) => {
            warnings.extend(super::permission_warning(path));
            CredentialSource::Profile {
                name: name.clone(),
                path: path.clone(),
            }
        }
        None => CredentialSource::Env,
    };
    let in_effect = (file.is_some() || named != Named::Default).then(|| name.clone());
    let done = |how: How, source: CredentialSource, warnings: Vec<String>| Resolved {
        how,
        source,
        profile: in_effect.clone(),
        region: region.clone(),
        endpoint: configure.postgres_endpoint.clone(),
        sts_endpoint: configure.sts_endpoint.clone(),
        tried: Vec::new(),
        warnings,
    };
    let bad_file = |problem: String| match &cred_path {
        Some(path) if !keys_from_env => CredentialError::BadFile {
            path: path.clone(),
            problem,
        },
        _ => CredentialError::BadEnv(format!("environment: {problem}")),
    };

    // Step 3: the way to a key, in tccli's order.
    if cvm_allowed && profile.kind.as_deref() == Some("cvm-role") {
        return Ok(done(
            How::CvmRole { named: true },
            CredentialSource::CvmRole {
                profile: Some(name.clone()),
            },
            warnings,
        ));
    }
    if let (Some(arn), Some(session)) = (&profile.role_arn, &profile.role_session_name) {
        let id = profile.secret_id.as_deref().ok_or_else(|| {
            bad_file("role-arn is set but there is no secretId to assume it with".into())
        })?;
        let key = profile.secret_key.as_deref().ok_or_else(|| {
            bad_file("role-arn is set but there is no secretKey to assume it with".into())
        })?;
        let keys = Credential::new(id, key, None).map_err(|p| bad_file(p.to_string()))?;
        return Ok(done(
            How::AssumeRole {
                keys,
                role_arn: arn.clone(),
                session_name: session.clone(),
            },
            CredentialSource::AssumeRole {
                role_arn: arn.clone(),
                keys: Box::new(keys_source),
            },
            warnings,
        ));
    }
    if let (Some(tke_region), Some(provider_id), Some(token_file), Some(role_arn)) = (
        lookup.var("TKE_REGION"),
        lookup.var("TKE_PROVIDER_ID"),
        lookup.var("TKE_WEB_IDENTITY_TOKEN_FILE"),
        lookup.var("TKE_ROLE_ARN"),
    ) {
        return Ok(done(
            How::Oidc {
                region: tke_region,
                provider_id,
                token_file: PathBuf::from(token_file),
                role_arn: role_arn.clone(),
            },
            CredentialSource::Oidc { role_arn },
            Vec::new(),
        ));
    }
    if profile.secret_id.is_some() || profile.secret_key.is_some() {
        let credential = profile.keys().map_err(bad_file)?;
        let login = match profile.kind.as_deref() {
            _ if keys_from_env => None,
            Some("sso") => Some(LoginKind::Sso),
            Some("oauth") => Some(LoginKind::Oauth),
            _ => None,
        };
        if let (Some(kind), Some(path)) = (login, &cred_path) {
            let expires_at = profile.expires_at.unwrap_or(0);
            if expires_at - super::provider::REFRESH_BEFORE <= lookup.now {
                return Err(CredentialError::LoginExpired {
                    profile: name.clone(),
                    kind,
                    expires_at,
                });
            }
            return Ok(done(
                How::Login {
                    kind,
                    profile: name.clone(),
                    path: path.clone(),
                    credential,
                    expires_at,
                },
                CredentialSource::Login {
                    kind,
                    name: name.clone(),
                    path: path.clone(),
                },
                warnings,
            ));
        }
        if let Some(kind) = profile
            .kind
            .as_deref()
            .filter(|k| !keys_from_env && !matches!(*k, "default" | "cvm-role"))
        {
            return Err(bad_file(format!(
                "profile type '{}' is not one tccli writes (default, cvm-role, sso, oauth)",
                crate::text::sanitize(kind)
            )));
        }
        return Ok(done(How::Keys(credential), keys_source, warnings));
    }
    if let Some(kind) = profile
        .kind
        .as_deref()
        .filter(|k| matches!(*k, "sso" | "oauth"))
    {
        let kind = if kind == "sso" {
            LoginKind::Sso
        } else {
            LoginKind::Oauth
        };
        return Err(CredentialError::LoginExpired {
            profile: name.clone(),
            kind,
            expires_at: 0,
        });
    }
    if file.is_some() {
        return Err(bad_file(
            "no secretId/secretKey, role-arn or type cvm-role in it; fix it with `tccli configure`"
                .into(),
        ));
    }

    // Step 4: nothing of tccli's; the SDKs' places.
    let mut tried = vec![
        "TENCENTCLOUD_SECRET_ID/KEY (not set)".to_string(),
        match &cred_path {
            Some(p) => format!("tccli profile 'default' ({} not found)", p.display()),
            None => "~/.tccli (HOME not set)".into(),
        },
    ];
    if let Some(found) = sdk_file(lookup, &mut tried)? {
        let (credential, path, warning) = found;
        let mut resolved = done(
            How::Keys(credential),
            CredentialSource::CredentialsFile { path },
            warning.into_iter().collect(),
        );
        resolved.profile = None;
        return Ok(resolved);
    }
    let mut resolved = done(
        How::CvmRole { named: false },
        CredentialSource::CvmRole { profile: None },
        Vec::new(),
    );
    resolved.profile = None;
    resolved.tried = tried;
    Ok(resolved)
}

/// Both variables of a pair, or neither; one without the other is an error rather than a
/// silent fall back to some other identity.
fn pair(
    lookup: &Lookup<'_>,
    a: &str,
    b: &str,
) -> Result<Option<(String, String)>, CredentialError> {
    match (lookup.var(a), lookup.var(b)) {
        (Some(x), Some(y)) => Ok(Some((x, y))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(CredentialError::BadEnv(format!(
            "{a} is set but {b} is not; set both or neither"
        ))),
        (None, Some(_)) => Err(CredentialError::BadEnv(format!(
            "{b} is set but {a} is not; set both or neither"
        ))),
    }
}

type Found = (Credential, PathBuf, Option<String>);

/// `TENCENTCLOUD_CREDENTIALS_FILE` or `~/.tencentcloud/credentials` (tencentcloud-sdk-go
/// `profile_provider.go`), then `/etc/tencentcloud/credentials` (tencentcloud-sdk-python
/// `ProfileCredential`): section `[default]`, `secret_id` and `secret_key`.
fn sdk_file(
    lookup: &Lookup<'_>,
    tried: &mut Vec<String>,
) -> Result<Option<Found>, CredentialError> {
    let explicit = lookup
        .var("TENCENTCLOUD_CREDENTIALS_FILE")
        .map(PathBuf::from);
    let mut places: Vec<(PathBuf, bool)> = Vec::new();
    match explicit {
        Some(p) => places.push((p, true)),
        None => {
            if let Some(h) = lookup.home {
                places.push((h.join(".tencentcloud").join("credentials"), false));
            }
        }
    }
    if let Some(p) = lookup.system_file {
        places.push((p.to_path_buf(), false));
    }
    for (path, must_exist) in places {
        match crate::store::bounded::read_to_string(&path, crate::store::caps::CREDENTIAL) {
            Ok(text) => {
                let credential =
                    parse_ini_default(&text).map_err(|problem| CredentialError::BadFile {
                        path: path.clone(),
                        problem,
                    })?;
                let warning = super::permission_warning(&path);
                return Ok(Some((credential, path, warning)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                tried.push(format!("{} (not found)", path.display()));
            }
            Err(e) => {
                return Err(CredentialError::BadFile {
                    path,
                    problem: format!("cannot read it ({e})"),
                });
            }
        }
    }
    Ok(None)
}

/// `[default]` of an INI file with `secret_id`, `secret_key` and optionally `token`.
fn parse_ini_default(text: &str) -> Result<Credential, String> {
    let mut section = String::new();
    let (mut id, mut key, mut token) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        if section != "default" {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().to_string();
            match k.trim() {
                "secret_id" => id = Some(v),
                "secret_key" => key = Some(v),
                "token" => token = Some(v),
                _ => {}
            }
        }
    }
    let id = id.ok_or("no secret_id in section [default]")?;
    let key = key.ok_or("no secret_key in section [default]")?;
    Credential::new(&id, &key, token.as_deref()).map_err(str::to_string)
}
