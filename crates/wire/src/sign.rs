//! TC3-HMAC-SHA256, byte for byte as Tencent's official SDK computes it.
//!
//! Pure: no clock, no I/O. The caller passes the timestamp and the exact bytes it
//! will send, so what is signed is always what goes on the wire. The emulator uses
//! the same functions to verify, so there is one implementation of TC3 in pgssl.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The service name in the credential scope of PostgreSQL requests.
pub const SERVICE: &str = "postgres";
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// The headers Tencent's SDKs sign, in canonical order.
pub const SIGNED_HEADERS: &str = "content-type;host";

/// What a request looks like to the signer.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// `POST` or `GET`.
    pub method: &'a str,
    /// The exact query string sent: empty for POST.
    pub query: &'a str,
    /// `(lower-case name, value as sent)` for each signed header, in `signed_headers` order.
    pub headers: &'a [(&'a str, &'a str)],
    /// The `SignedHeaders` value, e.g. `content-type;host`.
    pub signed_headers: &'a str,
    /// The body bytes exactly as sent (empty for GET).
    pub payload: &'a [u8],
}

/// Every intermediate of one signature, so tests can compare each step with the SDK's.
#[derive(Clone, PartialEq, Eq)]
pub struct Signed {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub credential_scope: String,
    pub signature: String,
    pub authorization: String,
}

impl std::fmt::Debug for Signed {
    // The signature is not a secret, but keep Debug short and obviously harmless.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signed")
            .field("credential_scope", &self.credential_scope)
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC-SHA256 takes keys of any length")
    };
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// The UTC calendar date (`YYYY-MM-DD`) of a Unix timestamp, as the SDK's `utcfromtimestamp`.
/// Returns None for timestamps outside the representable range.
pub fn utc_date(timestamp: i64) -> Option<String> {
    let dt = time::OffsetDateTime::from_unix_timestamp(timestamp).ok()?;
    let d = dt.date();
    Some(format!(
        "{:04}-{:02}-{:02}",
        d.year(),
        u8::from(d.month()),
        d.day()
    ))
}

/// Canonical request: method, `/`, query, canonical headers, signed headers, payload hash.
pub fn canonical_request(parts: &RequestParts<'_>) -> String {
    let mut canonical_headers = String::new();
    for (name, value) in parts.headers {
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(value);
        canonical_headers.push('\n');
    }
    format!(
        "{}\n/\n{}\n{}\n{}\n{}",
        parts.method,
        parts.query,
        canonical_headers,
        parts.signed_headers,
        sha256_hex(parts.payload)
    )
}

/// Sign one request for `service` (`postgres`, `sts`). `secret_key` is only read here;
/// it never leaves this function.
pub fn sign(
    service: &str,
    secret_id: &str,
    secret_key: &str,
    timestamp: i64,
    date: &str,
    parts: &RequestParts<'_>,
) -> Signed {
    let canonical_request = canonical_request(parts);
    let credential_scope = format!("{date}/{service}/tc3_request");
    let string_to_sign = format!(
        "{ALGORITHM}\n{timestamp}\n{credential_scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let k_date = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = hmac_sha256(&k_date, service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"tc3_request");
    let signature = hex::encode(hmac_sha256(&k_signing, string_to_sign.as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={secret_id}/{credential_scope}, SignedHeaders={}, Signature={signature}",
        parts.signed_headers
    );
    Signed {
        canonical_request,
        string_to_sign,
        credential_scope,
        signature,
        authorization,
    }
}

/// The parts of an `Authorization` header, as a server reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub secret_id: String,
    pub date: String,
    pub service: String,
    pub signed_headers: String,
    pub signature: String,
}

/// Parse `TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=a;b, Signature=hex`.
/// Returns None when the header is not of that form.
pub fn parse_authorization(header: &str) -> Option<Authorization> {
    let rest = header.strip_prefix(ALGORITHM)?.strip_prefix(' ')?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for field in rest.split(',') {
        let (key, value) = field.trim().split_once('=')?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return None,
        };
        if slot.replace(value.to_string()).is_some() {
            return None;
        }
    }
    let credential = credential?;
    let mut scope = credential.split('/');
    let secret_id = scope.next()?.to_string();
    let date = scope.next()?.to_string();
    let service = scope.next()?.to_string();
    if scope.next()? != "tc3_request" || scope.next().is_some() {
        return None;
    }
    let signed_headers = signed_headers?;
    let signature = signature?;
    let well_formed = !secret_id.is_empty()
        && date.len() == 10
        && !signed_headers.is_empty()
        && signed_headers
            .split(';')
            .all(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        && signature.len() == 64
        && signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    well_formed.then_some(Authorization {
        secret_id,
        date,
        service,
        signed_headers,
        signature,
    })
}

/// Constant-time comparison of two signatures.
pub fn signatures_match(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_date_is_utc_not_local() {
        // 2023-11-14T22:13:20Z is already the 15th in UTC+8.
        assert_eq!(utc_date(1_700_000_000).as_deref(), Some("2023-11-14"));
        assert_eq!(utc_date(2_147_483_647).as_deref(), Some("2038-01-19"));
        assert_eq!(utc_date(i64::MAX), None);
    }

    #[test]
    fn authorization_round_trips_and_rejects_junk() {
        let parts = RequestParts {
            method: "POST",
            query: "",
            headers: &[("content-type", "application/json"), ("host", "h")],
            signed_headers: SIGNED_HEADERS,
            payload: b"{}",
        };
        let signed = sign(SERVICE, "AKIDx", "k", 1_700_000_000, "2023-11-14", &parts);
        let parsed = parse_authorization(&signed.authorization).expect("parses");
        assert_eq!(parsed.secret_id, "AKIDx");
        assert_eq!(parsed.date, "2023-11-14");
        assert_eq!(parsed.service, "postgres");
        assert_eq!(parsed.signed_headers, "content-type;host");
        assert_eq!(parsed.signature, signed.signature);
        for junk in [
            "",
            "TC3-HMAC-SHA256",
            "Bearer x",
            "TC3-HMAC-SHA256 Credential=AKIDx/2023-11-14/postgres/tc3_request, SignedHeaders=content-type;host",
            "TC3-HMAC-SHA256 Credential=AKIDx/2023-11-14/postgres, SignedHeaders=host, Signature=00",
            &signed.authorization.replace("Signature=", "Signature=zz"),
        ] {
            assert_eq!(parse_authorization(junk), None, "{junk}");
        }
    }

    #[test]
    fn signature_comparison() {
        assert!(signatures_match("abc", "abc"));
        assert!(!signatures_match("abc", "abd"));
        assert!(!signatures_match("abc", "ab"));
    }
}
