//! `pgssl ssl ca`: the instance's CA fetched, kept when it is authenticated (or
//! confirmed with --fingerprint), shown, and written in the form application teams need.

use serde::Serialize;

use super::{Io, Report, Text, instance_id, open, region};
use crate::context::Context;
use crate::ops::OpsError;
use crate::ops::ca::{self, CaFormat};
use crate::ops::refusal::VerifyRefusal;

#[derive(Serialize)]
#[allow(non_snake_case)]
struct Ca<'a> {
    DBInstanceId: &'a str,
    /// Where it came from: inline, url, unauthenticated.
    source: &'static str,
    /// The cloud-disk field it came from (CACert, CAP7B, CAJKS), when inline.
    field: Option<&'static str>,
    CAUrl: Option<&'a str>,
    /// The form it arrived in: PEM, DER, PKCS#7, JKS, zip.
    form: &'static str,
    authenticated: bool,
    /// Paths as text (lossy): a path need not be UTF-8, JSON must be. None: not kept.
    path: Option<String>,
    out: Option<String>,
    format: Option<&'static str>,
    certificates: &'a [crate::probe::CertInfo],
    /// The fingerprint pinned for the instance (first seen or last accepted), and since.
    pinned_sha256: Option<String>,
    pinned_since: Option<String>,
    /// "CA changed since DATE: FP1 -> FP2" while the CA is not the one pinned.
    changed: Option<String>,
    /// With --accept: whether the pin moved (false: it was the pinned one already).
    accepted: Option<bool>,
}

impl Report for Ca<'_> {
    fn text(&self, out: &mut Text) {
        let now = crate::api::client::system_clock();
        let from = match (self.field, self.CAUrl) {
            (Some(field), _) => format!("{field} in DescribeDBInstanceSSLConfig"),
            (None, Some(url)) => url.to_string(),
            (None, None) => "?".into(),
        };
        out.line(format!(
            "CA of {} from {from} ({})",
            self.DBInstanceId, self.form
        ));
        match (&self.path, self.authenticated) {
            (Some(path), true) => out.line(format!("kept at {path}")),
            (Some(path), false) => out.line(format!(
                "kept at {path}: it came over plain http, unauthenticated, and is the CA confirmed there"
            )),
            (None, _) => {}
        }
        if let (Some(o), Some(f)) = (&self.out, self.format) {
            let password = if f == "jks" {
                ", password tencentdb_pg"
            } else {
                ""
            };
            out.line(format!("written to {o} ({f}{password})"));
        }
        for c in self.certificates {
            out.line(format!("  subject:  {}", c.subject));
            out.line(format!("  sha256:   {}", c.sha256));
            out.line(format!(
                "  valid:    {} to {} ({})",
                c.not_before,
                c.not_after,
                c.time_left(now)
            ));
        }
        match (&self.changed, self.accepted, &self.pinned_sha256) {
            (_, Some(true), Some(p)) => out.line(format!(
                "accepted: {p} is now the CA pinned for {}",
                self.DBInstanceId
            )),
            (_, Some(false), Some(p)) => out.line(format!(
                "nothing to accept: {p} was already the CA pinned for {}",
                self.DBInstanceId
            )),
            (Some(changed), _, _) => out.line(changed.clone()),
            (None, _, Some(p)) => out.line(format!(
                "pinned: {p} since {}",
                self.pinned_since.as_deref().unwrap_or("?")
            )),
            _ => {}
        }
        if !self.authenticated && self.path.is_none() {
            out.line(format!(
                "NOT kept, UNAUTHENTICATED: it came over plain http, where anyone on the way can replace it. Compare each sha256 above with the CA from the console; if they match, `{} ssl ca {} --fingerprint SHA256` (once per certificate) keeps it. Until then `verify` refuses unless given --ca FILE.",
                crate::hint::pgssl(),
                self.DBInstanceId
            ));
        }
    }
}

/// What `ssl ca` was asked.
pub(super) struct Ask<'a> {
    pub out: Option<&'a std::path::Path>,
    pub format: CaFormat,
    pub fingerprints: &'a [String],
    pub accept: bool,
}

pub(super) async fn run(
    ctx: &Context,
    instance: &str,
    ask: &Ask<'_>,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    let Ask {
        out,
        format,
        fingerprints,
        accept,
    } = *ask;
    let id = instance_id(instance)?;
    let fingerprints = fingerprints
        .iter()
        .map(|f| {
            ca::parse_fingerprint(f).map_err(|e| {
                OpsError::Usage(format!(
                    "--fingerprint '{}' is not {e}",
                    crate::text::sanitize(f)
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let opened = open(ctx, io).await?;
    let region = region(ctx, &opened, Some(&id)).await?;
    let found = ca::instance_ca(&opened.session, &region, &id, &fingerprints).await?;
    let shown = |p: &std::path::Path| crate::text::clean(&p.display().to_string());
    let written = match (out, &found.kept) {
        (Some(out), Some(_)) => {
            ca::write_ca(&found.ca.certs, format, out)?;
            true
        }
        _ => false,
    };
    // The pin: what the audit compares with; accepted now when asked.
    let accepted = match (accept, &found.kept) {
        (true, Some(_)) => Some(ca::accept(&opened.session, &id)?),
        (true, None) => {
            return Err(OpsError::Failed(format!(
                "{id}'s CA was not kept, so it cannot be accepted: confirm it with --fingerprint first (nothing was pinned)"
            )));
        }
        (false, _) => None,
    };
    let known = ca::pinned(&opened.session, &id);
    let pin = known.as_ref().map(crate::domain::CaKnown::pinned);
    let field = match found.ca.origin {
        ca::CaOrigin::Inline { field } => Some(field),
        _ => None,
    };
    io.emit(&Ca {
        DBInstanceId: &id,
        source: found.ca.origin.kind(),
        field,
        CAUrl: found.ca.origin.url(),
        form: found.ca.form.name(),
        authenticated: found.ca.origin.authenticated(),
        path: found.kept.as_ref().map(|b| shown(&b.path)),
        out: out.filter(|_| written).map(shown),
        format: written.then(|| format.name()),
        certificates: &found.ca.infos,
        pinned_sha256: pin.as_ref().map(|p| p.sha256.clone()),
        pinned_since: pin.as_ref().map(|p| p.since.clone()),
        changed: known.as_ref().and_then(|k| k.changed_line(&id)),
        accepted: accepted.as_ref().map(|(was, now)| was.sha256 != now.sha256),
    });
    match (out, written) {
        (Some(out), false) => Err(OpsError::refused(VerifyRefusal::CaNotWritten {
            id,
            out: shown(out),
        })),
        _ => Ok(()),
    }
}
