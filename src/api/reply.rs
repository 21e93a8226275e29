//! Reading a reply: the API's envelope, its error body, and what went wrong below it.

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::Action;
use super::error::ApiError;
use crate::text;

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Envelope<T> {
    Response: T,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Probe {
    Error: Option<ErrorBody>,
    RequestId: Option<String>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct ErrorBody {
    Code: Option<String>,
    Message: Option<String>,
}

/// Turn a reply into a typed response or one of the error kinds.
pub fn parse_reply<T: DeserializeOwned + super::models::HasRequestId>(
    action: Action,
    status: u16,
    body: &[u8],
    clock_skew: Option<i64>,
) -> Result<T, ApiError> {
    let bad = |excerpt: String| ApiError::BadReply {
        action,
        status,
        excerpt,
    };
    if status != 200 {
        return Err(bad(text::excerpt(body, 120)));
    }
    // Most replies are not errors: parse them once, straight into the typed response.
    // Only a body that mentions "Error" pays for the second, error-envelope parse first.
    let mentions_error = body
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'"')
        .any(|(i, _)| body[i + 1..].starts_with(b"Error\""));
    if mentions_error {
        let probe: Envelope<Probe> = serde_json::from_slice(body).map_err(|_| {
            let e = text::excerpt(body, 120);
            bad(if e.is_empty() { "empty body".into() } else { e })
        })?;
        if let Some(err) = probe.Response.Error {
            return Err(ApiError::Api {
                action,
                code: text::clean(err.Code.as_deref().unwrap_or("(no code)")),
                message: text::truncate(&text::sanitize(err.Message.as_deref().unwrap_or("")), 300),
                request_id: text::clean(probe.Response.RequestId.as_deref().unwrap_or("(none)")),
                clock_skew,
            });
        }
    }
    let typed = serde_json::from_slice::<Envelope<T>>(body).map_err(|e| {
        if e.is_data() {
            bad(format!(
                "reply did not have the expected fields ({}): {}",
                text::truncate(&text::sanitize(&e.to_string()), 120),
                text::excerpt(body, 80)
            ))
        } else {
            let e = text::excerpt(body, 120);
            bad(if e.is_empty() { "empty body".into() } else { e })
        }
    })?;
    if typed.Response.request_id().is_empty() {
        return Err(bad(format!(
            "no RequestId in the reply: {}",
            text::excerpt(body, 100)
        )));
    }
    Ok(typed.Response)
}

/// The most pgssl reads of a reply from the API or STS. The largest real one is a
/// DescribeDBInstances page of 100 instances at a few KiB each, well under 1 MiB; STS
/// answers in a few KiB. A server sending more is not the API, and is not held in memory.
pub const MAX_REPLY_BYTES: usize = 8 << 20;

/// A reply's body could not be had.
#[derive(Debug)]
pub enum BodyError {
    /// It said, or sent, more than the cap: reading stopped there.
    TooLarge(usize),
    /// The connection broke, or the wait for the rest ran out.
    Broken(reqwest::Error),
}

impl BodyError {
    /// What a reply over `cap` is called, for one line.
    pub fn too_large(cap: usize) -> String {
        format!(
            "larger than {}, far more than any real reply; pgssl stopped reading it",
            crate::store::bounded::size(u64::try_from(cap).unwrap_or(u64::MAX))
        )
    }
}

/// A reply's body, at most `cap` bytes: a server that announces or sends more is cut off
/// as soon as it does, never held.
pub async fn read_body(response: &mut reqwest::Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    let cap_bytes = u64::try_from(cap).unwrap_or(u64::MAX);
    if response.content_length().is_some_and(|n| n > cap_bytes) {
        return Err(BodyError::TooLarge(cap));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Broken)? {
        if body.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A wait as a person reads it: `30 s`, `0.3 s`.
pub fn seconds(wait: Duration) -> String {
    format!("{} s", wait.as_secs_f64())
}

/// Sort a transport failure into "not sent" or "outcome unknown".
pub(super) fn classify(action: Action, error: &reqwest::Error, timeout: Duration) -> ApiError {
    let detail = error_chain(error);
    if error.is_connect() {
        ApiError::NotSent { action, detail }
    } else if error.is_timeout() {
        ApiError::OutcomeUnknown {
            action,
            detail: format!(
                "no reply within {} (the request may have arrived)",
                seconds(timeout)
            ),
        }
    } else if error.is_builder() {
        ApiError::NotSent { action, detail }
    } else {
        ApiError::OutcomeUnknown {
            action,
            detail: format!("the connection broke after the request was sent ({detail})"),
        }
    }
}

/// The distinct messages along an error's source chain, innermost last.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        let msg = e.to_string();
        if !parts.iter().any(|p| p.contains(&msg)) {
            parts.push(msg);
        }
        current = e.source();
    }
    // reqwest's outer message repeats the URL; the inner ones say what happened.
    let useful: Vec<&String> = parts.iter().skip(usize::from(parts.len() > 1)).collect();
    text::truncate(
        &text::sanitize(
            &useful
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(": "),
        ),
        200,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::models::DescribeDBInstanceSSLConfigResponse;

    #[test]
    fn replies_sort_into_kinds() {
        let action = Action::DescribeDBInstanceSSLConfig;
        let ok: DescribeDBInstanceSSLConfigResponse = parse_reply(
            action,
            200,
            br#"{"Response":{"SSLEnabled":true,"CAUrl":"u","ConnectAddress":"10.0.0.1","RequestId":"r1","New":1}}"#,
            None,
        )
        .expect("ok");
        assert_eq!(ok.SSLEnabled, Some(true));

        let err = parse_reply::<DescribeDBInstanceSSLConfigResponse>(
            action,
            200,
            br#"{"Response":{"Error":{"Code":"AuthFailure.SignatureExpire","Message":"expired\u001b[31m"},"RequestId":"r2"}}"#,
            Some(400),
        )
        .expect_err("api error");
        match &err {
            ApiError::Api {
                code,
                message,
                request_id,
                clock_skew,
                ..
            } => {
                assert_eq!(code, "AuthFailure.SignatureExpire");
                assert_eq!(message, "expired\\x1b[31m");
                assert_eq!(request_id, "r2");
                assert_eq!(*clock_skew, Some(400));
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("6m 40s ahead"), "{err}");

        for (status, body) in [
            (502, &b"<html>Bad Gateway</html>"[..]),
            (200, b"not json"),
            (200, b"{\"Data\":1}"),
            (200, b"{\"Response\":{\"SSLEnabled\":true}}"),
            (
                200,
                b"{\"Response\":{\"SSLEnabled\":\"yes\",\"RequestId\":\"r\"}}",
            ),
            (200, b""),
        ] {
            let e = parse_reply::<DescribeDBInstanceSSLConfigResponse>(action, status, body, None)
                .expect_err("bad reply");
            assert!(matches!(e, ApiError::BadReply { .. }), "{e:?}");
            assert!(!e.to_string().contains('\n'));
        }
    }
}
