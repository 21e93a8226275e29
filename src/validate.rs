//! Checks on what a person types, before anything is sent. Each error is one line that
//! says what is wrong and what would be right.

use std::net::IpAddr;

use crate::text::sanitize;

pub use pgssl_wire::ids::instance_id;

/// A name shaped like a Tencent Cloud region (`ap-guangzhou`, `na-siliconvalley`,
/// `ap-shanghai-fsi`): whether it is one is for DescribeRegions to say
/// (`regions::Catalog`).
pub fn region_name(input: &str) -> Result<String, String> {
    let r = input.trim();
    let shaped = (4..=32).contains(&r.len())
        && r.split('-').count() >= 2
        && r.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if shaped {
        Ok(r.to_string())
    } else {
        Err(format!(
            "'{}' is not a region: a region looks like ap-guangzhou (see `{} regions list --remote`)",
            sanitize(input),
            crate::hint::pgssl()
        ))
    }
}

pub fn ip(input: &str) -> Result<IpAddr, String> {
    input
        .trim()
        .parse::<IpAddr>()
        .map_err(|_| format!("'{}' is not an IPv4 or IPv6 address", sanitize(input)))
}

/// A field of a CSV row that is a region: shaped like one, on a continent Tencent names
/// its regions by (ap, na, eu, sa, me, af), so a name such as `orders-db` is not taken
/// for one.
pub fn looks_like_region(field: &str) -> Option<String> {
    let r = region_name(field).ok()?;
    let continent = r.split('-').next().unwrap_or("");
    ["ap", "na", "eu", "sa", "me", "af"]
        .contains(&continent)
        .then_some(r)
}

/// A task id is a positive integer.
pub fn task_id(input: &str) -> Result<i64, String> {
    match input.trim().parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "'{}' is not a task id: expected a positive number such as 100016",
            sanitize(input)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids() {
        assert!(instance_id("postgres-5gevh7gr").is_ok());
        assert!(instance_id("pgro-ro9x2k1q").is_ok());
        assert_eq!(
            instance_id(" postgres-5gevh7gr ").as_deref(),
            Ok("postgres-5gevh7gr")
        );
        for bad in [
            "postgres-5GEVH7GR",
            "postgres-5gevh7g",
            "mysql-5gevh7gr",
            "postgres-5gevh7grx",
            "",
            "postgres-\u{1b}[2Jaaaa",
        ] {
            let e = instance_id(bad).expect_err(bad);
            assert!(
                e.contains("postgres-5gevh7gr") && !e.contains('\u{1b}'),
                "{e}"
            );
        }
    }

    #[test]
    fn regions_and_addresses() {
        assert!(region_name("ap-guangzhou").is_ok());
        assert!(region_name("me-saudi-arabia").is_ok());
        let e = region_name("Mars 1").expect_err("no region");
        assert!(e.contains("ap-guangzhou"));
        assert_eq!(
            looks_like_region("sa-saopaulo").as_deref(),
            Some("sa-saopaulo")
        );
        assert_eq!(looks_like_region("orders-db"), None);
        assert!(ip("10.0.0.8").is_ok());
        assert!(ip("fd00::1").is_ok());
        assert!(ip("10.0.0.256").is_err());
        assert!(ip("db.example.com").is_err());
        assert_eq!(task_id("100016"), Ok(100016));
        assert!(task_id("-1").is_err());
        assert!(task_id("abc").is_err());
    }
}
