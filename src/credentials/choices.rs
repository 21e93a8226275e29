//! The credentials a person can switch to without restarting (the TUI's `P`): each tccli
//! profile found, the environment's keys when set, and the CVM role when the metadata
//! service names one.

use std::path::Path;

use super::tccli;
use crate::text::sanitize;

/// One credential to switch to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// A tccli profile: `kind` says how it gets its key, `region` is its default.
    Profile {
        name: String,
        kind: String,
        region: Option<String>,
    },
    /// `TENCENTCLOUD_SECRET_ID/KEY`.
    Environment,
    /// The CVM's instance role.
    CvmRole { role: String },
    /// The demo's own key (only in `--demo`).
    Demo,
}

impl Choice {
    /// The name in the list.
    pub fn label(&self) -> String {
        match self {
            Choice::Profile { name, .. } => name.clone(),
            Choice::Environment => "environment".into(),
            Choice::CvmRole { .. } => "CVM role".into(),
            Choice::Demo => "demo key".into(),
        }
    }

    /// Where it comes from and its region, in one line.
    pub fn detail(&self) -> String {
        match self {
            Choice::Profile { kind, region, .. } => format!(
                "tccli profile, {kind}{}",
                region
                    .as_deref()
                    .map_or_else(String::new, |r| format!(", region {}", sanitize(r)))
            ),
            Choice::Environment => "TENCENTCLOUD_SECRET_ID/KEY".into(),
            Choice::CvmRole { role } => format!("this CVM's role {}", sanitize(role)),
            Choice::Demo => "the embedded emulator's key".into(),
        }
    }
}

/// How a profile file gets its key, for the list (`now` tells an expired login).
fn kind_of(file: &tccli::ProfileFile, now: i64) -> String {
    match file.kind.as_deref() {
        Some("cvm-role") => "CVM role".into(),
        Some(k @ ("sso" | "oauth")) => match file.expires_at {
            Some(t) if t > now => format!(
                "{k} login until {}",
                pgssl_wire::clock::rfc3339(t).unwrap_or_default()
            ),
            _ => format!("{k} login, expired"),
        },
        _ if file.role_arn.is_some() && file.role_session_name.is_some() => {
            format!(
                "assumes role {}",
                sanitize(super::role_name(file.role_arn.as_deref().unwrap_or("")))
            )
        }
        _ => "keys".into(),
    }
}

/// The tccli profiles in `home` (unreadable ones are listed as such, never skipped
/// silently), then the environment, then the CVM role if `cvm_role` names one.
pub fn list(
    home: Option<&Path>,
    environment: bool,
    cvm_role: Option<String>,
    now: i64,
) -> Vec<Choice> {
    let mut out = Vec::new();
    if let Some(home) = home {
        let dir = tccli::dir(home);
        for name in tccli::list(&dir) {
            let kind = match tccli::read_profile_file(&tccli::credential_path(&dir, &name)) {
                Ok(Some(file)) => kind_of(&file, now),
                Ok(None) => continue,
                Err(e) => format!("unreadable: {e}"),
            };
            let region = tccli::read_configure(&tccli::configure_path(&dir, &name))
                .ok()
                .and_then(|c| c.region);
            out.push(Choice::Profile { name, kind, region });
        }
    }
    if environment {
        out.push(Choice::Environment);
    }
    if let Some(role) = cvm_role {
        out.push(Choice::CvmRole { role });
    }
    out
}
