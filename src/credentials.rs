//! Where the API key comes from, and keeping its secret half out of sight.
//!
//! The chain, first that yields wins (pgssl always says which one it used):
//! 1. `--profile NAME` or `TCCLI_PROFILE`: tccli's `~/.tccli/NAME.credential`
//!    (and the default region from `NAME.configure`);
//! 2. `TENCENTCLOUD_SECRET_ID` + `TENCENTCLOUD_SECRET_KEY` (+ `TENCENTCLOUD_TOKEN`);
//! 3. `~/.tencentcloud/credentials`, section `[default]` (`TENCENTCLOUD_CREDENTIALS_FILE` overrides the path);
//! 4. tccli's `default` profile.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub use pgssl_wire::credential::{Credential, Secret, mask_secret_id};

/// Which source in the chain gave the credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// tccli profile, by `--profile`, `TCCLI_PROFILE`, or the `default` fallback.
    TccliProfile {
        name: String,
        path: PathBuf,
    },
    Env,
    CredentialsFile {
        path: PathBuf,
    },
    /// Generated for `--demo` or given to the emulator.
    Demo,
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::TccliProfile { name, path } => {
                write!(f, "tccli profile '{name}' ({})", path.display())
            }
            CredentialSource::Env => f.write_str("environment (TENCENTCLOUD_SECRET_ID/KEY)"),
            CredentialSource::CredentialsFile { path } => {
                write!(f, "credentials file {} [default]", path.display())
            }
            CredentialSource::Demo => f.write_str("demo credentials for the embedded emulator"),
        }
    }
}

impl CredentialSource {
    /// Short form for the journal.
    pub fn tag(&self) -> String {
        match self {
            CredentialSource::TccliProfile { name, .. } => format!("profile:{name}"),
            CredentialSource::Env => "env".into(),
            CredentialSource::CredentialsFile { path } => format!("file:{}", path.display()),
            CredentialSource::Demo => "demo".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub credential: Credential,
    pub source: CredentialSource,
    /// Default region from the tccli profile's `.configure`, when there is one.
    pub region: Option<String>,
    /// Endpoint for postgres from the tccli profile's `.configure`, when set.
    pub endpoint: Option<String>,
    /// Things a person should hear about, such as a credential file others can read.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error(
        "no credentials found; tried: {}. Set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or pass --profile NAME",
        tried.join("; ")
    )]
    NotFound { tried: Vec<String> },
    #[error("{}: {problem}; fix the file or choose another source", path.display())]
    BadFile { path: PathBuf, problem: String },
    #[error("{0}")]
    BadEnv(String),
}

/// Inputs to the chain, so tests can run it without touching the real environment.
pub struct Lookup<'a> {
    pub profile: Option<&'a str>,
    pub home: Option<&'a Path>,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

impl Lookup<'_> {
    fn var(&self, name: &str) -> Option<String> {
        (self.env)(name).filter(|v| !v.is_empty())
    }
}

/// Run the chain.
pub fn resolve(lookup: &Lookup<'_>) -> Result<Resolved, CredentialError> {
    let mut tried = Vec::new();
    let tccli_dir = lookup.home.map(|h| h.join(".tccli"));

    // 1. An explicit profile must exist: falling through to another key would be a surprise.
    let explicit = lookup
        .profile
        .map(str::to_string)
        .or_else(|| lookup.var("TCCLI_PROFILE"));
    if let Some(name) = explicit {
        validate_profile_name(&name)?;
        let dir = tccli_dir.ok_or_else(|| {
            CredentialError::BadEnv(format!(
                "profile '{name}' asked for, but HOME is not set so ~/.tccli cannot be found"
            ))
        })?;
        return read_tccli_profile(&dir, &name)?.ok_or_else(|| CredentialError::BadFile {
            path: dir.join(format!("{name}.credential")),
            problem: format!("profile '{name}' does not exist (create it with `tccli configure --profile {name}`)"),
        });
    }

    // 2. Environment.
    let id = lookup.var("TENCENTCLOUD_SECRET_ID");
    let key = lookup.var("TENCENTCLOUD_SECRET_KEY");
    match (&id, &key) {
        (Some(id), Some(key)) => {
            let token = lookup.var("TENCENTCLOUD_TOKEN");
            let credential = Credential::new(id, key, token.as_deref())
                .map_err(|p| CredentialError::BadEnv(format!("environment: {p}")))?;
            return Ok(Resolved {
                credential,
                source: CredentialSource::Env,
                region: lookup.var("TENCENTCLOUD_REGION"),
                endpoint: None,
                warnings: vec![],
            });
        }
        (Some(_), None) => {
            return Err(CredentialError::BadEnv(
                "TENCENTCLOUD_SECRET_ID is set but TENCENTCLOUD_SECRET_KEY is not; set both or neither".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(CredentialError::BadEnv(
                "TENCENTCLOUD_SECRET_KEY is set but TENCENTCLOUD_SECRET_ID is not; set both or neither".into(),
            ));
        }
        (None, None) => tried.push("TENCENTCLOUD_SECRET_ID/KEY (not set)".to_string()),
    }

    // 3. The SDK's credentials file.
    let explicit_file = lookup
        .var("TENCENTCLOUD_CREDENTIALS_FILE")
        .map(PathBuf::from);
    let file = explicit_file.clone().or_else(|| {
        lookup
            .home
            .map(|h| h.join(".tencentcloud").join("credentials"))
    });
    if let Some(path) = file {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let credential =
                    parse_ini_default(&text).map_err(|problem| CredentialError::BadFile {
                        path: path.clone(),
                        problem,
                    })?;
                return Ok(Resolved {
                    credential,
                    warnings: permission_warning(&path).into_iter().collect(),
                    source: CredentialSource::CredentialsFile { path },
                    region: lookup.var("TENCENTCLOUD_REGION"),
                    endpoint: None,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit_file.is_none() => {
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

    // 4. tccli's default profile.
    if let Some(dir) = tccli_dir {
        if let Some(found) = read_tccli_profile(&dir, "default")? {
            return Ok(found);
        }
        tried.push(format!(
            "tccli profile 'default' ({} not found)",
            dir.join("default.credential").display()
        ));
    } else {
        tried.push("~/.tccli (HOME not set)".into());
    }
    Err(CredentialError::NotFound { tried })
}

fn validate_profile_name(name: &str) -> Result<(), CredentialError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(CredentialError::BadEnv(format!(
            "profile name '{}' is not valid: use letters, digits, '-', '_' or '.'",
            crate::text::sanitize(name)
        )))
    }
}

/// Read `DIR/NAME.credential` (and `NAME.configure`). Ok(None) when the profile does not exist.
fn read_tccli_profile(dir: &Path, name: &str) -> Result<Option<Resolved>, CredentialError> {
    let path = dir.join(format!("{name}.credential"));
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CredentialError::BadFile {
                path,
                problem: format!("cannot read it ({e})"),
            });
        }
    };
    let bad = |problem: String| CredentialError::BadFile {
        path: path.clone(),
        problem,
    };
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON ({e})")))?;
    let field = |k: &str| {
        json.get(k)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
    };
    if let Some(kind) = field("type").filter(|t| *t != "default") {
        return Err(bad(format!(
            "profile type '{}' is not supported by pgssl (only secretId/secretKey profiles); use TENCENTCLOUD_SECRET_ID/KEY instead",
            crate::text::sanitize(kind)
        )));
    }
    let id = field("secretId").ok_or_else(|| bad("no secretId in it".into()))?;
    let key = field("secretKey").ok_or_else(|| bad("no secretKey in it".into()))?;
    let credential = Credential::new(id, key, field("token")).map_err(|p| bad(p.to_string()))?;

    let (region, endpoint) = read_tccli_configure(&dir.join(format!("{name}.configure")));
    Ok(Some(Resolved {
        credential,
        warnings: permission_warning(&path).into_iter().collect(),
        source: CredentialSource::TccliProfile {
            name: name.to_string(),
            path,
        },
        region,
        endpoint,
    }))
}

/// Region and postgres endpoint from a tccli `.configure` file; absent or unreadable gives None.
fn read_tccli_configure(path: &Path) -> (Option<String>, Option<String>) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return (None, None);
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return (None, None);
    };
    let s = |v: Option<&serde_json::Value>| {
        v.and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    (
        s(json.get("_sys_param").and_then(|p| p.get("region"))),
        s(json.get("postgres").and_then(|p| p.get("endpoint"))),
    )
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

/// A warning when group or others may read a file holding a key.
pub fn permission_warning(path: &Path) -> Option<String> {
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "warning: {} holds a secret key and is readable by others (mode {:o}); fix with: chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(
        profile: Option<&str>,
        home: &Path,
        vars: &[(&str, &str)],
    ) -> Result<Resolved, CredentialError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env = move |k: &str| map.get(k).cloned();
        resolve(&Lookup {
            profile,
            home: Some(home),
            env: &env,
        })
    }

    fn write(path: &Path, text: &str, mode: u32) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    #[test]
    fn masks_and_redacts() {
        assert_eq!(
            mask_secret_id("AKIDm0JEWnWHkHfjD7P2Go8H2Z0PURRStUWq"),
            "AKID****tUWq"
        );
        assert_eq!(mask_secret_id("short"), "****");
        let c = Credential::new(
            "AKIDm0JEWnWHkHfjD7P2Go8H2Z0PURRStUWq",
            "topsecretkey",
            Some("tok"),
        )
        .expect("valid");
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("topsecretkey") && !dbg.contains("tok\""),
            "{dbg}"
        );
        assert!(dbg.contains("AKID****tUWq"));
        assert!(Credential::new(" id", "k", None).is_err());
        assert!(Credential::new("id", "", None).is_err());
    }

    #[test]
    fn chain_order_and_sources() {
        let home = tempfile::tempdir().expect("tmp");
        let h = home.path();
        // Nothing anywhere: the message lists what was tried.
        let err = run(None, h, &[]).expect_err("nothing");
        let msg = err.to_string();
        assert!(
            msg.contains("TENCENTCLOUD_SECRET_ID/KEY")
                && msg.contains("credentials")
                && msg.contains("tccli profile 'default'"),
            "{msg}"
        );

        // tccli default profile is the last resort.
        write(
            &h.join(".tccli/default.credential"),
            r#"{"secretId":"AKIDdefault0000","secretKey":"kdef"}"#,
            0o600,
        );
        write(
            &h.join(".tccli/default.configure"),
            r#"{"_sys_param":{"region":"ap-seoul"},"postgres":{"endpoint":"postgres.tencentcloudapi.com"}}"#,
            0o600,
        );
        let r = run(None, h, &[]).expect("default profile");
        assert!(
            matches!(r.source, CredentialSource::TccliProfile { ref name, .. } if name == "default")
        );
        assert_eq!(r.region.as_deref(), Some("ap-seoul"));
        assert_eq!(r.endpoint.as_deref(), Some("postgres.tencentcloudapi.com"));

        // The credentials file beats it, and a loose mode gets a warning with the fix.
        write(
            &h.join(".tencentcloud/credentials"),
            "[other]\nsecret_id=x\n[default]\nsecret_id = AKIDfile00000\nsecret_key = kfile\n",
            0o644,
        );
        let r = run(None, h, &[]).expect("file");
        assert_eq!(r.credential.secret_id, "AKIDfile00000");
        assert!(matches!(r.source, CredentialSource::CredentialsFile { .. }));
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].contains("chmod 600"), "{:?}", r.warnings);

        // The environment beats the file.
        let r = run(
            None,
            h,
            &[
                ("TENCENTCLOUD_SECRET_ID", "AKIDenv000000"),
                ("TENCENTCLOUD_SECRET_KEY", "kenv"),
                ("TENCENTCLOUD_TOKEN", "tok"),
            ],
        )
        .expect("env");
        assert_eq!(r.source, CredentialSource::Env);
        assert_eq!(r.credential.token.as_ref().map(Secret::expose), Some("tok"));

        // Half an environment pair is an error, not a silent fallback.
        assert!(run(None, h, &[("TENCENTCLOUD_SECRET_ID", "x")]).is_err());

        // An explicit profile beats everything, and a missing one is an error.
        write(
            &h.join(".tccli/prod.credential"),
            r#"{"secretId":"AKIDprod000000","secretKey":"kprod","type":"default"}"#,
            0o600,
        );
        let r = run(
            Some("prod"),
            h,
            &[
                ("TENCENTCLOUD_SECRET_ID", "AKIDenv000000"),
                ("TENCENTCLOUD_SECRET_KEY", "kenv"),
            ],
        )
        .expect("profile");
        assert_eq!(r.credential.secret_id, "AKIDprod000000");
        assert!(r.warnings.is_empty());
        let r = run(None, h, &[("TCCLI_PROFILE", "prod")]).expect("TCCLI_PROFILE");
        assert_eq!(r.credential.secret_id, "AKIDprod000000");
        let err = run(Some("nope"), h, &[]).expect_err("missing profile");
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(run(Some("../etc"), h, &[]).is_err());

        // TENCENTCLOUD_CREDENTIALS_FILE pointing nowhere is an error.
        let err = run(
            None,
            h,
            &[("TENCENTCLOUD_CREDENTIALS_FILE", "/nonexistent/creds")],
        )
        .expect_err("missing file");
        assert!(err.to_string().contains("/nonexistent/creds"));
    }

    #[test]
    fn unsupported_profile_types_are_refused() {
        let home = tempfile::tempdir().expect("tmp");
        write(
            &home.path().join(".tccli/sso.credential"),
            r#"{"type":"sso","secretId":"a","secretKey":"b"}"#,
            0o600,
        );
        let err = run(Some("sso"), home.path(), &[]).expect_err("sso");
        assert!(err.to_string().contains("not supported"), "{err}");
    }
}
