//! Which instances a fleet command takes: the filter words the TUI's `/` and the CLI's
//! `--filter` share, and the instance list `--from FILE` reads. Pure.

use crate::domain::Instance;

/// The field keys a filter word may name (`key:value`).
pub const FIELDS: &str = "ssl:on|off|unknown, status:running, region:sing, type:primary|ro, protected:private|public|group|none";

/// Does the field word `key:value` (lower case) match this instance? `None` when `key`
/// is not a field: the word is then searched as text (an address with a port, an IPv6
/// address). `learned` is None for an instance nothing was learned about yet.
pub fn field(learned: Option<&Instance>, region: &str, key: &str, value: &str) -> Option<bool> {
    Some(match key {
        "ssl" => {
            let state = match learned.and_then(Instance::ssl_state) {
                Some(s) if s.enabled => "on",
                Some(_) => "off",
                None => "unknown",
            };
            state.starts_with(value) || (value == "?" && state == "unknown")
        }
        "status" => learned.is_some_and(|i| i.status.as_str().to_lowercase().starts_with(value)),
        "region" => region.contains(value),
        "type" | "kind" => {
            let label = learned.map_or("?", |i| i.kind.label());
            label.starts_with(value) || (value == "ro" && label == "read-only")
        }
        "protected" | "prot" => match learned.and_then(Instance::protected_address) {
            Some(a) => a.kind.keyword().starts_with(value),
            None if learned.and_then(Instance::protected_host).is_some() => value == "other",
            None => value == "none",
        },
        _ => return None,
    })
}

/// The text a filter word that is not a field is searched in: id, name, region, the
/// addresses and group names, lower case.
pub fn haystack(id: &str, name: &str, region: &str, learned: Option<&Instance>) -> String {
    let mut h = format!("{id} {name} {region}");
    for a in learned.map_or(&[][..], |i| i.addresses.as_slice()) {
        h.push(' ');
        h.push_str(&a.host.to_string());
        for other in [a.ip.map(|ip| ip.to_string()), a.dns.clone()]
            .into_iter()
            .flatten()
        {
            h.push(' ');
            h.push_str(&other);
        }
        if let Some(g) = &a.group_name {
            h.push(' ');
            h.push_str(g);
        }
    }
    h.to_lowercase()
}

/// A field's value must be one it can take (a prefix of one, as typed in the TUI): an
/// empty or unknown value would quietly match everything or nothing.
fn check_value(key: &str, value: &str) -> Result<(), String> {
    let takes: &[&str] = match key {
        "ssl" => &["on", "off", "unknown", "?"],
        "type" | "kind" => &["primary", "read-only", "ro", "guard", "temp"],
        "protected" | "prot" => &["private", "public", "group", "none", "other"],
        _ => &[],
    };
    if value.is_empty() {
        return Err(format!(
            "give a value after '{key}:'{}",
            if takes.is_empty() {
                String::new()
            } else {
                format!(" ({})", takes.join(", "))
            }
        ));
    }
    if !takes.is_empty() && !takes.iter().any(|t| t.starts_with(value)) {
        return Err(format!("{key} takes {}", takes.join(", ")));
    }
    Ok(())
}

/// A filter: words that must all match (`ssl:off region:sing orders`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    words: Vec<String>,
}

impl Filter {
    /// Words separated by spaces. A `key:` word whose key looks like a field name but is
    /// not one is refused (a typo would otherwise match nothing, or everything).
    pub fn parse(expr: &str) -> Result<Filter, String> {
        let words: Vec<String> = expr.split_whitespace().map(str::to_lowercase).collect();
        if words.is_empty() {
            return Err(format!(
                "--filter is empty: give words that must all match, such as ssl:off or region:singapore (fields: {FIELDS})"
            ));
        }
        for w in &words {
            if let Some((key, value)) = w.split_once(':') {
                let named = key.chars().all(|c| c.is_ascii_alphabetic()) && !key.is_empty();
                if named && field(None, "", key, value).is_none() {
                    return Err(format!(
                        "--filter: '{}' is not a field; the fields are {FIELDS}",
                        crate::text::clean(key)
                    ));
                }
                if named && let Err(e) = check_value(key, value) {
                    return Err(format!("--filter: '{}': {e}", crate::text::clean(w)));
                }
            }
        }
        Ok(Filter { words })
    }

    pub fn matches(&self, instance: &Instance) -> bool {
        let text = haystack(
            &instance.id,
            &instance.name,
            &instance.region,
            Some(instance),
        );
        self.words.iter().all(|w| {
            w.split_once(':')
                .and_then(|(k, v)| field(Some(instance), &instance.region, k, v))
                .unwrap_or_else(|| text.contains(w.as_str()))
        })
    }
}

/// One instance `--from FILE` names, with its region when the line gives one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: String,
    pub region: Option<String>,
}

/// Read an instance list: one instance id per line, optionally followed by its region
/// (space, tab or comma separated, so `instances list --output csv` works as is). Blank
/// lines, `#` comments and a header line are ignored. Any other line that is not an
/// instance id is refused with its line number: nothing is half-taken.
pub fn parse_list(text: &str) -> Result<Vec<Listed>, String> {
    let mut out: Vec<Listed> = Vec::new();
    // The ids taken so far: a list of 100,000 checked against `out` took 17 s.
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    // A file saved by a spreadsheet starts with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .map(|f| f.trim().trim_matches('"'))
            .filter(|f| !f.is_empty());
        let Some(first) = fields.next() else { continue };
        if out.is_empty()
            && matches!(
                first.to_lowercase().as_str(),
                "id" | "dbinstanceid" | "instance"
            )
        {
            continue;
        }
        if first.chars().count() > 64 {
            return Err(format!(
                "line {}: not an instance id (a field of {} characters); the file lists one instance id per line, optionally with its region",
                n + 1,
                first.chars().count()
            ));
        }
        let id = crate::validate::instance_id(first).map_err(|e| {
            format!(
                "line {}: {} (the file lists one instance id per line, optionally with its region)",
                n + 1,
                e
            )
        })?;
        let rest: Vec<&str> = fields.collect();
        let region = match rest.as_slice() {
            // `ID REGION`: the second field must be a region.
            [one] => Some(
                crate::validate::region_name(one).map_err(|e| format!("line {}: {e}", n + 1))?,
            ),
            // A CSV row: its region is the field that is one.
            more => more
                .iter()
                .find_map(|f| crate::validate::looks_like_region(f)),
        };
        // The first mention of an id is the one kept, in the file's order.
        if seen.insert(id.clone()) {
            out.push(Listed { id, region });
        }
    }
    if out.is_empty() {
        return Err("the file lists no instance ids: give one per line".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_takes_ids_regions_csv_and_refuses_junk_by_line() {
        let l = parse_list(
            "# tonight\nDBInstanceId,Region\npostgres-aaaa1111,x,ap-singapore\n\npostgres-bbbb2222\npostgres-aaaa1111\n",
        )
        .expect("parses");
        assert_eq!(l.len(), 2, "{l:?}");
        assert_eq!(l[0].region.as_deref(), Some("ap-singapore"));
        assert_eq!(l[1].region, None);
        let e = parse_list("postgres-aaaa1111\nrm -rf /\n").expect_err("junk");
        assert!(e.starts_with("line 2:"), "{e}");
        assert!(parse_list("# only a comment\n").is_err());
        // Shaped like a region: whether it is one is DescribeRegions' to say, before
        // anything is read in it (`ops::regions::confirm`).
        let typo = parse_list("postgres-aaaa1111,ap-singapre\n").expect("a region's shape");
        assert_eq!(typo[0].region.as_deref(), Some("ap-singapre"));
        let e = parse_list("postgres-aaaa1111,mars!\n").expect_err("no region");
        assert!(e.starts_with("line 1:") && e.contains("mars!"), "{e}");
        let bom = parse_list("\u{feff}postgres-aaaa1111\n").expect("a BOM is no id");
        assert_eq!(bom[0].id, "postgres-aaaa1111");
        let e = parse_list(&"x".repeat(100_000)).expect_err("long");
        assert!(
            e.len() < 200,
            "the error does not echo the line: {}",
            e.len()
        );
    }

    #[test]
    fn a_long_list_is_deduplicated_in_one_pass_keeping_the_first_order() {
        let ids: Vec<String> = (0..100_000).map(|n| format!("postgres-{n:08x}")).collect();
        // Every id twice, the second time with a region the first did not give.
        let text = format!(
            "{}\n{}\n",
            ids.join("\n"),
            ids.iter()
                .map(|i| format!("{i} ap-seoul"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let started = std::time::Instant::now();
        let listed = parse_list(&text).expect("parses");
        let took = started.elapsed();
        assert_eq!(listed.len(), ids.len());
        assert!(listed.iter().map(|l| &l.id).eq(ids.iter()), "file order");
        assert!(listed.iter().all(|l| l.region.is_none()), "first kept");
        // Quadratic, this took minutes in a debug build (17 s released); linear, well
        // under a second.
        assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    }

    #[test]
    fn a_filter_refuses_a_field_it_does_not_know() {
        assert!(Filter::parse("ssl:off region:sing").is_ok());
        let e = Filter::parse("sll:off").expect_err("typo");
        assert!(e.contains("'sll' is not a field"), "{e}");
        // An address with a port is text, not a field.
        assert!(Filter::parse("10.0.0.8:5432").is_ok());
        assert!(Filter::parse("  ").is_err());
        for bad in [
            "status:",
            "ssl:",
            "ssl:maybe",
            "type:replica",
            "protected:xyz",
        ] {
            assert!(Filter::parse(bad).is_err(), "{bad}");
        }
        assert!(Filter::parse("ssl:of type:ro protected:pub status:run").is_ok());
    }
}
