//! Checks on what a person types, before anything is sent. Each error is one line that
//! says what is wrong and what would be right.

use std::net::IpAddr;

use crate::api::{SSL_REGIONS, is_ssl_region};
use crate::text::sanitize;

pub use pgssl_wire::ids::instance_id;

pub fn region(input: &str) -> Result<String, String> {
    let r = input.trim();
    if is_ssl_region(r) {
        Ok(r.to_string())
    } else {
        Err(format!(
            "'{}' is not a region the SSL API supports; use one of: {}",
            sanitize(input),
            SSL_REGIONS.join(", ")
        ))
    }
}

/// A name shaped like a Tencent Cloud region (`ap-guangzhou`, `na-siliconvalley`,
/// `ap-shanghai-fsi`): whether it is one is for DescribeRegions to say.
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
            "'{}' is not a region: a region looks like ap-guangzhou (see `pgssl regions list --all`)",
            sanitize(input)
        ))
    }
}

pub fn ip(input: &str) -> Result<IpAddr, String> {
    input
        .trim()
        .parse::<IpAddr>()
        .map_err(|_| format!("'{}' is not an IPv4 or IPv6 address", sanitize(input)))
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
        assert!(region("ap-guangzhou").is_ok());
        assert!(region("sa-saopaulo").is_ok());
        let e = region("us-east-1").expect_err("aws region");
        assert!(e.contains("ap-guangzhou"));
        assert!(ip("10.0.0.8").is_ok());
        assert!(ip("fd00::1").is_ok());
        assert!(ip("10.0.0.256").is_err());
        assert!(ip("db.example.com").is_err());
        assert_eq!(task_id("100016"), Ok(100016));
        assert!(task_id("-1").is_err());
        assert!(task_id("abc").is_err());
    }
}
