//! `pgssl ssl show`: one instance, its addresses and SSL state; with `--verbose`, the
//! tccli reads it stands for.

use serde::Serialize;

use super::super::json::InstanceJson;
use super::super::{Io, Report, Text, instance_id, region};
use crate::context::Context;
use crate::domain::Instance;
use crate::ops::{self, OpsError};

/// `ssl show`: the instance, in the vocabulary every command's JSON uses.
/// An instance as `ssl show` prints it; with `--verbose`, the tccli reads it stands for.
struct Show<'a>(&'a Instance, Option<Vec<String>>);

impl Serialize for Show<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            instance: InstanceJson<'a>,
            #[serde(skip_serializing_if = "Option::is_none")]
            tccli: Option<&'a Vec<String>>,
        }
        Out {
            instance: InstanceJson::of(self.0),
            tccli: self.1.as_ref(),
        }
        .serialize(s)
    }
}

impl Report for Show<'_> {
    fn text(&self, out: &mut Text) {
        let i = self.0;
        for line in self.1.iter().flatten() {
            out.note(format!("tccli: {line}"));
        }
        let state = i.ssl_state();
        out.line(format!(
            "{}  {}  {}  {}  {}",
            i.id,
            i.name,
            i.kind.as_api(),
            i.status.as_str(),
            i.region
        ));
        if let Some(v) = &i.version {
            out.line(format!(
                "Version:   PostgreSQL {v}{}",
                if v.supports_ssl() {
                    ""
                } else {
                    " (SSL needs PostgreSQL 11 or later)"
                }
            ));
        }
        out.line(format!(
            "SSL:       {}",
            match (state, i.status.as_str()) {
                (Some(s), _) => s.describe(),
                (None, "running") => "unknown".into(),
                (None, status) => format!(
                    "unknown: not now, the instance is '{status}' and the API does not answer for it until it runs"
                ),
            }
        ));
        if let Some(url) = state.and_then(|s| s.ca_url.as_deref()) {
            out.line(format!("CA URL:    {url}"));
        }
        let protected = i.protected_host();
        out.line("Addresses:");
        if i.addresses.is_empty() {
            out.line("  (none reported)");
        }
        // The other names of what the certificate names: verify-full fails through them.
        let mut elsewise: Vec<String> = Vec::new();
        for a in &i.addresses {
            let named = protected.is_some_and(|p| a.is(p));
            for other in [a.dns.clone(), a.ip.map(|ip| ip.to_string())]
                .into_iter()
                .flatten()
            {
                let is_it = protected.is_some_and(|p| p.to_string() == other);
                let dns_of_an_ip = a.dns.as_deref() == Some(other.as_str())
                    && matches!(protected, Some(crate::addresses::Host::Ip(_)));
                if !is_it && (named || dns_of_an_ip) && !elsewise.contains(&other) {
                    elsewise.push(other);
                }
            }
            let also = match (&a.host, a.ip, a.dns.as_deref()) {
                (crate::addresses::Host::Name(_), Some(ip), _) => format!("  ip {ip}"),
                (crate::addresses::Host::Ip(_), _, Some(d)) => format!("  dns {d}"),
                _ => String::new(),
            };
            out.line(format!(
                "  {:<8} {}:{}{}{}{}{}",
                a.kind.keyword(),
                a.host,
                a.port_or_default(),
                a.group_name
                    .as_deref()
                    .or(a.group_id.as_deref())
                    .map(|g| format!("  group {g}"))
                    .unwrap_or_default(),
                also,
                if a.is_open() {
                    String::new()
                } else {
                    format!(
                        "  network '{}': not offered",
                        a.status.as_deref().unwrap_or("?")
                    )
                },
                if named { "  <- protected by SSL" } else { "" }
            ));
        }
        for u in &i.unusable {
            out.line(format!("  unusable: {u} (never offered or sent)"));
        }
        if let (Some(p), false) = (protected, elsewise.is_empty()) {
            out.line(format!(
                "Note:      the certificate names {p}: clients using sslmode=verify-full must connect to {p}, not to {}",
                elsewise.join(" or ")
            ));
        }
    }
}

pub(super) async fn show(
    ctx: &Context,
    instance: &str,
    verbose: bool,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    let id = instance_id(instance)?;
    // Whose the credential is was asked as the session opened, beside this read; the
    // read never waits for it (the account line comes when known, `Io::account_at_end`).
    let opened = ctx.open().await?;
    let region = region(ctx, &opened, Some(&id)).await?;
    super::super::announce(&opened, io).await;
    let info = ops::inventory::describe(&opened.session, &region, &id).await?;
    let tccli = verbose.then(|| ops::tccli::reads(&region, &id, opened.session.profile.as_deref()));
    io.emit(&Show(&info, tccli));
    Ok(())
}
