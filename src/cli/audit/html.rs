//! `audit --output html`: one self-contained page an auditor keeps. No script, no
//! remote resource (styles inline), and it prints: the summary, what changed since, the
//! findings, the table of every instance, and when and as whom it was taken.
//!
//! Written by hand rather than with a template crate: one page, a few tables, and every
//! value goes through `esc` (sanitized for the terminal the page may be printed to, then
//! HTML-escaped), which a template engine would do no more safely and would add a
//! dependency and a build step for.

use std::fmt::Write as _;

use crate::ops::audit::{Audit, CensusCell, Row};

/// Sanitized and HTML-escaped: safe in text and in a double-quoted attribute.
fn esc(text: &str) -> String {
    let clean = crate::text::sanitize(text);
    let mut out = String::with_capacity(clean.len());
    for c in clean.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:13px/1.4 system-ui,sans-serif;margin:2em;color:#111}\
h1{font-size:20px}h2{font-size:16px;margin-top:1.6em}\
table{border-collapse:collapse;width:100%}th,td{border:1px solid #bbb;padding:3px 5px;text-align:left;vertical-align:top}\
th{background:#eee}td.fp{font-family:monospace;font-size:11px;word-break:break-all}\
.high{color:#a00;font-weight:bold}.medium{color:#a60}.low{color:#555}.worse{color:#a00;font-weight:bold}\
.summary td:first-child{font-weight:bold;width:14em}\
@media print{body{margin:0;font-size:10px}tr{page-break-inside:avoid}th{background:none}}";

/// The page.
pub fn page(a: &Audit) -> String {
    let mut h = String::new();
    let about = &a.about;
    let when = esc(&about.taken_at);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>pgssl audit {when}</title><style>{STYLE}</style></head><body>\n\
<h1>SSL audit of TencentDB for PostgreSQL</h1>\n"
    );
    let (found, unchecked) = a.counts();
    let summary = [
        ("Taken", when.clone()),
        ("Regions", esc(&about.regions.join(", "))),
        (
            "Account",
            match (&about.account, &about.arn) {
                (Some(id), Some(arn)) => format!("{} ({})", esc(id), esc(arn)),
                (Some(id), None) => esc(id),
                _ => "unknown (STS did not answer)".into(),
            },
        ),
        (
            "Credential",
            format!(
                "{}{}",
                esc(&about.credential),
                about
                    .profile
                    .as_deref()
                    .map(|p| format!(", profile {}", esc(p)))
                    .unwrap_or_default()
            ),
        ),
        ("Endpoint", esc(&about.endpoint)),
        (
            "Live checks",
            if about.verify {
                "yes (TLS to each protected address)".into()
            } else {
                "no (the API's answers only; run with --verify for live TLS checks)".into()
            },
        ),
        ("Instances", a.instances.to_string()),
        (
            "SSL",
            format!(
                "on {}, off {}, unknown {}",
                a.ssl_on, a.ssl_off, a.ssl_unknown
            ),
        ),
        (
            "Findings",
            format!(
                "{found} (and {unchecked} not checked); exit status {}",
                a.exit_code()
            ),
        ),
        ("Written by", format!("pgssl {}", esc(&about.pgssl))),
    ];
    h.push_str("<h2>Summary</h2>\n<table class=\"summary\">\n");
    for (k, v) in summary {
        let _ = writeln!(h, "<tr><td>{k}</td><td>{v}</td></tr>");
    }
    h.push_str("</table>\n");
    if let Some(s) = &a.since {
        let _ = writeln!(
            h,
            "<h2>Since {}{}</h2>",
            esc(&s.file),
            s.taken_at
                .as_deref()
                .map(|t| format!(" (taken {})", esc(t)))
                .unwrap_or_default()
        );
        if let Some(note) = &s.note {
            let _ = writeln!(h, "<p>Note: {}</p>", esc(note));
        }
        if s.changes.is_empty() {
            h.push_str("<p>Nothing changed.</p>\n");
        } else {
            h.push_str("<table><tr><th></th><th>Instance</th><th>Change</th></tr>\n");
            for c in &s.changes {
                let line = c.line();
                let what = line.get(24..).unwrap_or(&line);
                let _ = writeln!(
                    h,
                    "<tr><td class=\"worse\">{}</td><td>{}</td><td>{}</td></tr>",
                    if c.worse() { "worse" } else { "" },
                    esc(c.instance()),
                    esc(what.trim())
                );
            }
            h.push_str("</table>\n");
        }
    }
    h.push_str("<h2>Findings</h2>\n");
    if a.findings.is_empty() {
        h.push_str("<p>None.</p>\n");
    } else {
        h.push_str(
            "<table><tr><th>Severity</th><th>Kind</th><th>Instance</th><th>Region</th><th>Detail</th></tr>\n",
        );
        for f in &a.findings {
            let sev = f.severity.as_str();
            let _ = writeln!(
                h,
                "<tr><td class=\"{sev}\">{sev}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                f.kind.as_str(),
                esc(&f.DBInstanceId),
                esc(&f.Region),
                esc(&f.detail)
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str(
        "<h2>Instances</h2>\n<table><tr><th>Instance</th><th>Region</th><th>Kind</th>\
<th>Status</th><th>Version</th><th>SSL</th><th>Protected address</th><th>Read-only group</th>\
<th>CA</th><th>CA SHA-256</th><th>CA not after</th><th>Live check</th><th>Clients</th><th>Findings</th></tr>\n",
    );
    for r in &a.rows {
        row(&mut h, r);
    }
    h.push_str("</table>\n</body></html>\n");
    h
}

fn row(h: &mut String, r: &Row) {
    let opt = |v: Option<&str>| v.map(esc).unwrap_or_default();
    let name = if r.DBInstanceName.is_empty() || r.DBInstanceName == r.DBInstanceId {
        String::new()
    } else {
        format!("<br>{}", esc(&r.DBInstanceName))
    };
    let ssl = match &r.unread {
        Some(why) => format!("unknown: {}", esc(why)),
        None => r.ssl.as_str().to_string(),
    };
    let address = match (&r.protected_address, r.address_kind) {
        (Some(a), Some(k)) => format!("{} ({})", esc(a), k.keyword()),
        (Some(a), None) => esc(a),
        _ => String::new(),
    };
    let group = r.read_only_group.as_ref().map_or_else(String::new, |g| {
        format!(
            "{} {}{}",
            opt(g.id.as_deref()),
            esc(&g.address),
            if g.members_agree {
                ""
            } else {
                " <span class=\"high\">members disagree</span>"
            }
        )
    });
    let (ca, fp, not_after) = r.ca.as_ref().map_or_else(Default::default, |c| {
        (
            format!("{}<br>issuer {}", esc(&c.subject), esc(&c.issuer)),
            esc(&c.sha256),
            format!("{} ({} days left)", esc(&c.not_after), c.days_left),
        )
    });
    let tls = r.tls.as_ref().map_or_else(String::new, |t| {
        let mut s = esc(&t.result);
        if let Some(v) = &t.version {
            let _ = write!(s, " {}", esc(v));
        }
        if let Some(d) = t.cert_days_left {
            let _ = write!(s, "; certificate {d} days left");
        }
        match t.plaintext_accepted {
            Some(true) => s.push_str("; <span class=\"high\">plaintext accepted</span>"),
            Some(false) => s.push_str("; plaintext refused"),
            None => {}
        }
        s
    });
    let clients = match &r.census {
        Some(CensusCell::Counted {
            connections,
            tls,
            plaintext,
            hidden,
        }) => format!("{connections} ({tls} TLS, {plaintext} plaintext, {hidden} hidden)"),
        Some(CensusCell::NotCounted { not_counted }) => {
            format!("not counted: {}", esc(not_counted))
        }
        None => String::new(),
    };
    let findings = r
        .findings
        .iter()
        .map(|f| {
            format!(
                "<span class=\"{0}\">{1}</span>",
                f.severity.as_str(),
                f.kind.as_str()
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    let _ = writeln!(
        h,
        "<tr><td>{}{name}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{ssl}</td>\
<td>{address}</td><td>{group}</td><td>{ca}</td><td class=\"fp\">{fp}</td><td>{not_after}</td>\
<td>{tls}</td><td>{clients}</td><td>{findings}</td></tr>",
        esc(&r.DBInstanceId),
        esc(&r.Region),
        esc(&r.kind),
        esc(&r.status),
        opt(r.version.as_deref()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_escaped_and_nothing_is_remote() {
        let mut a = Audit::default();
        a.about.taken_at = "2026-12-03T00:00:00Z".into();
        a.rows.push(Row {
            DBInstanceName: "<script>alert(1)</script>\u{1b}[31m".into(),
            ssl: crate::ops::audit::Ssl::Off,
            ..Row::named("postgres-aaaaaaaa")
        });
        let page = page(&a);
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains("&lt;script&gt;"));
        assert!(!page.contains('\u{1b}'));
        assert!(!page.contains("src="));
        assert!(!page.contains("http"), "no remote resource");
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.trim_end().ends_with("</html>"));
    }
}
