//! `pgssl audit`: the fleet judged, for cron and for people; every instance listed, for
//! auditors (`--output json|csv|html`); what changed since an earlier one (`--since`).

mod html;

use serde::Serialize;

use super::args::AuditArgs;
use super::{Io, Report, Text, open, regions_to_use};
use crate::context::Context;
use crate::ops::OpsError;
use crate::ops::audit::{self, Audit};

pub async fn run(ctx: &Context, args: &AuditArgs, io: &mut Io<'_>) -> Result<(), OpsError> {
    if let Some(u) = args.plaintext_user.as_deref()
        && (u.is_empty() || u.len() > 63 || u.contains('\0'))
    {
        return Err(OpsError::Usage(
            "--plaintext-user takes a PostgreSQL user name (1 to 63 bytes)".into(),
        ));
    }
    // The earlier audit is read first: a wrong file is said before anything is asked.
    let earlier = args
        .since
        .as_deref()
        .map(|p| audit::since::load(p).map(|e| (e, p)))
        .transpose()
        .map_err(OpsError::Usage)?;
    let regions = regions_to_use(ctx, &[])?;
    let opened = open(ctx, io).await?;
    for region in &regions {
        super::confirm(ctx, &opened, region).await?;
    }
    // A baseline of another account compares nothing: said before anything is read.
    if let Some(was) = earlier
        .as_ref()
        .and_then(|(e, _)| audit::since::account_of(e))
        && let Some(is) = opened.session.identity().await.account_id()
        && was != is
    {
        return Err(OpsError::Usage(format!(
            "{} was taken as account {was}, this is account {is}: compare audits of one account (take a baseline with pgssl audit --output json > FILE); nothing was compared",
            earlier
                .as_ref()
                .map(|(_, p)| crate::text::clean(&p.display().to_string()))
                .unwrap_or_default()
        )));
    }
    let quiet = io.output != super::Output::Text;
    let mut shown = 0;
    let mut result = audit::run(
        &opened.session,
        &regions,
        args.verify,
        args.plaintext_user.as_deref(),
        |done, total| {
            let step = (total / 10).max(1);
            if !quiet && (done == total || done >= shown + step) {
                shown = done;
                io.info(format!("SSL state {done}/{total}"));
            }
        },
    )
    .await?;
    if let Some((earlier, path)) = &earlier {
        let file = crate::text::clean(&path.display().to_string());
        result.since = Some(audit::since::compare(earlier, &result, &file));
    }
    // One code for one result: every format renders the same `Audit`, and the code is
    // its own (the JSON carries it too).
    let code = result.exit_code();
    io.emit(&Report_(&result, regions.join(", ")));
    let (found, unchecked) = result.counts();
    match (code, &result.since) {
        (0, _) => Ok(()),
        (1, Some(s)) => Err(OpsError::Failed(format!(
            "{} change(s) for the worse since {}: see above (exit 1)",
            s.worse, s.file
        ))),
        // The findings are the output: the error line only says what the status means.
        (1, None) => Err(OpsError::Failed(if unchecked == 0 {
            format!("{found} finding(s): see above (exit 1)")
        } else {
            format!(
                "{found} finding(s), and {unchecked} not checked: see above (exit 1: a finding outweighs what could not be checked)"
            )
        })),
        _ => Err(OpsError::Unchecked(
            "some instances could not be checked (exit 3): see above".into(),
        )),
    }
}

struct Report_<'a>(&'a Audit, String);

impl Serialize for Report_<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct WithCode<'a> {
            #[serde(flatten)]
            audit: &'a Audit,
            exit_code: i32,
        }
        WithCode {
            audit: self.0,
            exit_code: self.0.exit_code(),
        }
        .serialize(s)
    }
}

impl Report for Report_<'_> {
    fn text(&self, out: &mut Text) {
        let a = self.0;
        // As the closing line counts them: findings, and what could not be checked apart.
        let (found, unchecked) = a.counts();
        out.note(format!(
            "audit of {} instances in {}: SSL on {}, off {}, unknown {}; {found} finding(s){}",
            a.instances,
            self.1,
            a.ssl_on,
            a.ssl_off,
            a.ssl_unknown,
            if unchecked == 0 {
                String::new()
            } else {
                format!(", {unchecked} not checked")
            }
        ));
        for f in &a.findings {
            out.line(format!(
                "{:<6} {:<18} {:<18} {:<14} {}",
                f.severity.as_str(),
                f.kind.as_str(),
                f.DBInstanceId,
                f.Region,
                f.detail
            ));
        }
        // Named, not only counted: each instance whose SSL state is not known, and why.
        for r in a.rows.iter().filter(|r| r.unread.is_some()) {
            out.line(format!(
                "{:<6} {:<18} {:<18} {:<14} {}",
                "-",
                "ssl_unknown",
                r.DBInstanceId,
                r.Region,
                r.unread.as_deref().unwrap_or_default()
            ));
        }
        if let Some(s) = &a.since {
            out.line(format!(
                "since {}{}: {} change(s), {} for the worse",
                s.file,
                s.taken_at
                    .as_deref()
                    .map(|t| format!(" (taken {t})"))
                    .unwrap_or_default(),
                s.changes.len(),
                s.worse
            ));
            if let Some(note) = &s.note {
                out.line(format!("  note: {note}"));
            }
            for c in &s.changes {
                out.line(format!("  {}", c.line()));
            }
        }
    }

    fn csv(&self) -> Option<(Vec<&'static str>, Vec<Vec<String>>)> {
        Some((
            audit::rows::CSV_HEADER.to_vec(),
            self.0.rows.iter().map(audit::Row::csv).collect(),
        ))
    }

    fn html(&self) -> Option<String> {
        Some(html::page(self.0))
    }
}
