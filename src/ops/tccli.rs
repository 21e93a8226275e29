//! The tccli bridge (pure): what a plan or a read stands for in tccli's terms, so a DBA
//! who knows tccli sees exactly what pgssl will send, and can run it by hand. The form is
//! tccli's own examples' (`--cli-unfold-argument`, `--SSLEnabled True|False`:
//! tencentcloud-cli `tccli/examples/postgres/v20170312/ModifyDBInstanceSSLConfig.md`).

use super::Plan;

/// A word as a shell reads it: as is when it holds only characters a shell leaves alone,
/// else single-quoted.
fn word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/@%+=,".contains(&b));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// `--profile NAME` when one is in effect, so the line runs as the same credential.
fn profile(profile: Option<&str>) -> String {
    profile.map_or_else(String::new, |p| format!(" --profile {}", word(p)))
}

/// The tccli command that sends what this plan sends.
pub fn modify(plan: &Plan, with_profile: Option<&str>) -> String {
    let request = plan.request();
    let address = request
        .ConnectAddress
        .as_deref()
        .map_or_else(String::new, |a| format!(" --ConnectAddress {}", word(a)));
    format!(
        "tccli postgres ModifyDBInstanceSSLConfig --cli-unfold-argument{} --region {} --DBInstanceId {} --SSLEnabled {}{address}",
        profile(with_profile),
        word(plan.region()),
        word(&request.DBInstanceId),
        if request.SSLEnabled { "True" } else { "False" },
    )
}

/// The tccli reads `ssl show` stands for: the instance, and its SSL configuration.
pub fn reads(region: &str, instance_id: &str, with_profile: Option<&str>) -> Vec<String> {
    let p = profile(with_profile);
    let (region, id) = (word(region), word(instance_id));
    vec![
        format!(
            "tccli postgres DescribeDBInstances --cli-unfold-argument{p} --region {region} --Filters.0.Name db-instance-id --Filters.0.Values {id}"
        ),
        format!(
            "tccli postgres DescribeDBInstanceSSLConfig --cli-unfold-argument{p} --region {region} --DBInstanceId {id}"
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_a_shell_would_split_or_expand_are_quoted() {
        assert_eq!(word("postgres-5gevh7gr"), "postgres-5gevh7gr");
        assert_eq!(word("10.6.0.4"), "10.6.0.4");
        assert_eq!(word("prod ops"), "'prod ops'");
        assert_eq!(word("it's"), "'it'\\''s'");
        assert_eq!(word("$(rm -rf /)"), "'$(rm -rf /)'");
        assert_eq!(word(""), "''");
    }

    #[test]
    fn reads_name_the_instance_in_tccli_terms() {
        let r = reads("ap-guangzhou", "postgres-5gevh7gr", Some("prod"));
        assert_eq!(
            r[1],
            "tccli postgres DescribeDBInstanceSSLConfig --cli-unfold-argument --profile prod --region ap-guangzhou --DBInstanceId postgres-5gevh7gr"
        );
        assert!(
            r[0].contains("--Filters.0.Name db-instance-id --Filters.0.Values postgres-5gevh7gr")
        );
    }
}
