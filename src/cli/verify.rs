//! `pgssl verify`: the live TLS check of the protected address.

use serde::Serialize;

use super::args::VerifyArgs;
use super::{Io, Report, Text, instance_id, open, region};
use crate::context::Context;
use crate::ops::{self, OpsError, Verified};
use crate::text::sanitize;

pub async fn run(ctx: &Context, args: &VerifyArgs, io: &mut Io<'_>) -> Result<(), OpsError> {
    let id = instance_id(&args.instance)?;
    let (address, port) = match &args.address {
        None => (None, None),
        Some(a) => {
            let (host, port) = split_host_port(a).map_err(OpsError::Usage)?;
            (Some(host), port)
        }
    };
    let opened = open(ctx, io).await?;
    let region = region(ctx, &opened, Some(&id)).await?;
    let request = ops::VerifyRequest {
        address,
        port,
        ca_file: args.ca.clone(),
        via: args.via,
    };
    let v = ops::verify::verify(&opened.session, &region, &id, &request).await?;
    io.emit(&Checked { id: &id, v: &v });
    match v.report.verdict.exit_code() {
        0 => Ok(()),
        _ => Err(verdict_error(&v.report)),
    }
}

struct Checked<'a> {
    id: &'a str,
    v: &'a Verified,
}

impl Serialize for Checked<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({
            "DBInstanceId": self.id,
            // As text: a path need not be UTF-8, JSON must be.
            "ca": self.v.ca.path.display().to_string(),
            "via": self.v.target.via,
            "report": self.v.report,
        })
        .serialize(s)
    }
}

impl Report for Checked<'_> {
    fn text(&self, out: &mut Text) {
        out.line(format!(
            "TLS check of {} for {}",
            self.v.target.display(),
            self.id
        ));
        for line in self.v.lines() {
            out.line(line);
        }
    }
}

/// A verdict that is not a pass, as the error that sets the exit code.
pub fn verdict_error(report: &crate::probe::Report) -> OpsError {
    let target = format!("{}:{}", report.address, report.port);
    let line = report.verdict.sentence(&target);
    match report.verdict {
        crate::probe::Verdict::Unreachable(_) => OpsError::Unreachable(line),
        _ => OpsError::Failed(line),
    }
}

/// `HOST`, `HOST:PORT`, `[V6]:PORT` or a bare IPv6 address.
pub(super) fn split_host_port(input: &str) -> Result<(String, Option<u16>), String> {
    let bad = || format!("'{}' is not HOST or HOST:PORT", sanitize(input));
    let s = input.trim();
    if s.is_empty() {
        return Err(bad());
    }
    if let Ok(ip) = s.parse::<std::net::IpAddr>() {
        return Ok((ip.to_string(), None));
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        let port = after
            .strip_prefix(':')
            .map(|p| p.parse().map_err(|_| bad()))
            .transpose()?;
        return Ok((host.to_string(), port));
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse::<u16>().map_err(|_| bad())?)),
        None => (s, None),
    };
    let valid = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if valid {
        Ok((host.to_string(), port))
    } else {
        Err(bad())
    }
}
