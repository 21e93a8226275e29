//! `pgssl audit`: the fleet judged, for cron and for people.

use serde::Serialize;

use super::{Io, Report, Text, open, regions_to_use};
use crate::context::Context;
use crate::ops::OpsError;
use crate::ops::audit::{self, Audit};

pub async fn run(
    ctx: &Context,
    verify: bool,
    plaintext_user: Option<&str>,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    if let Some(u) = plaintext_user
        && (u.is_empty() || u.len() > 63 || u.contains('\0'))
    {
        return Err(OpsError::Usage(
            "--plaintext-user takes a PostgreSQL user name (1 to 63 bytes)".into(),
        ));
    }
    let regions = regions_to_use(ctx, &[])?;
    let opened = open(ctx, io).await?;
    for region in &regions {
        super::confirm(ctx, &opened, region).await?;
    }
    let json = io.json_mode();
    let mut shown = 0;
    let result = audit::run(
        &opened.session,
        &regions,
        verify,
        plaintext_user,
        |done, total| {
            let step = (total / 10).max(1);
            if !json && (done == total || done >= shown + step) {
                shown = done;
                io.info(format!("SSL state {done}/{total}"));
            }
        },
    )
    .await?;
    // One code for one result: every format renders the same `Audit`, and the code is
    // its own (the JSON carries it too).
    let code = result.exit_code();
    io.emit(&Report_(&result, regions.join(", ")));
    match code {
        0 => Ok(()),
        // The findings are the output: the error line only says what the status means.
        1 => {
            let unchecked = result
                .findings
                .iter()
                .filter(|f| f.kind == "unchecked")
                .count();
            let found = result.findings.len() - unchecked;
            Err(OpsError::Failed(if unchecked == 0 {
                format!("{found} finding(s): see above (exit 1)")
            } else {
                format!(
                    "{found} finding(s), and {unchecked} not checked: see above (exit 1: a finding outweighs what could not be checked)"
                )
            }))
        }
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
        let unchecked = a.findings.iter().filter(|f| f.kind == "unchecked").count();
        out.note(format!(
            "audit of {} instances in {}: SSL on {}, off {}, unknown {}; {} finding(s){}",
            a.instances,
            self.1,
            a.ssl_on,
            a.ssl_off,
            a.ssl_unknown,
            a.findings.len() - unchecked,
            if unchecked == 0 {
                String::new()
            } else {
                format!(", {unchecked} not checked")
            }
        ));
        for f in &a.findings {
            out.line(format!(
                "{:<6} {:<15} {:<18} {:<14} {}",
                format!("{:?}", f.severity).to_lowercase(),
                f.kind,
                f.DBInstanceId,
                f.Region,
                f.detail
            ));
        }
    }

    fn csv(&self) -> Option<(Vec<&'static str>, Vec<Vec<String>>)> {
        let rows = self
            .0
            .findings
            .iter()
            .map(|f| {
                vec![
                    format!("{:?}", f.severity).to_lowercase(),
                    f.kind.to_string(),
                    f.DBInstanceId.clone(),
                    f.Region.clone(),
                    f.detail.clone(),
                ]
            })
            .collect();
        Some((
            vec!["severity", "kind", "DBInstanceId", "Region", "detail"],
            rows,
        ))
    }
}
