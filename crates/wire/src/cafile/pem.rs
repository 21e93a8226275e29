//! PEM armour (RFC 7468): `-----BEGIN LABEL-----`, base64, `-----END LABEL-----`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Every block of `text` as (label, DER). Text between blocks is ignored, as openssl
/// does; a block that does not close or whose base64 is broken is an error.
pub fn blocks(text: &str, max: usize) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let label_end = after
            .find("-----")
            .ok_or("a PEM BEGIN line that does not close")?;
        let label = &after[..label_end];
        if label.len() > 64 || label.contains('\n') {
            return Err("a PEM BEGIN line that does not close".into());
        }
        let body_and_more = &after[label_end + 5..];
        let end_line = format!("-----END {label}-----");
        let end = body_and_more.find(&end_line).ok_or_else(|| {
            format!(
                "a PEM {} block with no END line",
                crate::text::sanitize(label)
            )
        })?;
        if out.len() == max {
            return Err(format!("more than {max} PEM blocks"));
        }
        let b64: String = body_and_more[..end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = STANDARD.decode(b64.as_bytes()).map_err(|_| {
            format!(
                "a PEM {} block whose base64 is damaged",
                crate::text::sanitize(label)
            )
        })?;
        out.push((label.to_string(), der));
        rest = &body_and_more[end + end_line.len()..];
    }
    Ok(out)
}

/// One PEM block of `der`, lines of 64 characters.
pub fn block(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_and_damage_is_an_error() {
        let text = format!(
            "junk\n{}between\n{}",
            block("CERTIFICATE", &[1, 2, 3]),
            block("PKCS7", &[4; 100])
        );
        let got = blocks(&text, 16).expect("reads");
        assert_eq!(
            got,
            vec![
                ("CERTIFICATE".into(), vec![1, 2, 3]),
                ("PKCS7".into(), vec![4; 100])
            ]
        );
        assert!(blocks(&text, 1).is_err());
        assert!(blocks("-----BEGIN CERTIFICATE-----\nAAAA\n", 16).is_err());
        assert!(
            blocks(
                "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
                16
            )
            .is_err()
        );
        assert!(blocks("-----BEGIN CERT", 16).is_err());
        assert_eq!(blocks("no armour at all", 16).expect("none"), vec![]);
    }
}
