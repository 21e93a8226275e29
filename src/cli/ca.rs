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
        if !self.authenticated && self.path.is_none() {
            out.line(format!(
                "NOT kept, UNAUTHENTICATED: it came over plain http, where anyone on the way can replace it. Compare each sha256 above with the CA from the console; if they match, `pgssl ssl ca {} --fingerprint SHA256` (once per certificate) keeps it. Until then `verify` refuses unless given --ca FILE.",
                self.DBInstanceId
            ));
        }
    }
}

pub(super) async fn run(
    ctx: &Context,
    instance: &str,
    out: Option<&std::path::Path>,
    format: CaFormat,
    fingerprints: &[String],
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
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
    });
    match (out, written) {
        (Some(out), false) => Err(OpsError::refused(VerifyRefusal::CaNotWritten {
            id,
            out: shown(out),
        })),
        _ => Ok(()),
    }
}
