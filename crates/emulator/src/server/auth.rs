//! Everything checked before an action runs, as Tencent checks it: protocol, action,
//! version, the TC3 signature recomputed from the request as received, key and token,
//! clock skew, and the rate limit.

use hyper::Method;
use pgssl_wire::Action;
use pgssl_wire::sign::{self, RequestParts};

use super::{Fail, RATE_LIMIT, Shared, fail, quote};
use crate::identity::{Found, Principal};

const MAX_SKEW_SECS: i64 = 300;

/// Everything that happens before an action runs: protocol, action, version, signature,
/// token, rate limit. Returns the action and whose key signed it (None for the one
/// action STS takes unsigned), or an error (with the action when known).
pub(super) fn authenticate(
    shared: &Shared,
    parts: &hyper::http::request::Parts,
    body: &[u8],
    now: i64,
) -> Result<(Action, Option<Principal>), (Option<Action>, Fail)> {
    let header =
        |name: &str| -> Option<&str> { parts.headers.get(name).and_then(|v| v.to_str().ok()) };
    if parts.method != Method::POST {
        let f = if parts.method == Method::GET {
            fail(
                "InvalidRequest",
                "The emulator accepts POST with a JSON body; GET requests are not emulated.",
            )
        } else {
            fail(
                "UnsupportedProtocol",
                format!("HTTP method {} is not supported; use POST.", parts.method),
            )
        };
        return Err((None, f));
    }
    let action_name = header("X-TC-Action")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            (
                None,
                fail(
                    "MissingParameter",
                    "The request is missing a required parameter `Action`.",
                ),
            )
        })?;
    let action = Action::from_name(action_name).ok_or_else(|| {
        (
            None,
            fail(
                "InvalidAction",
                format!(
                    "The action `{}` is not supported by the emulator (or does not exist).",
                    quote(action_name)
                ),
            ),
        )
    })?;
    let err = |f: Fail| (Some(action), f);
    let service = action.service();
    match header("X-TC-Version") {
        None | Some("") => {
            return Err(err(fail(
                "MissingParameter",
                "The request is missing a required parameter `Version`.",
            )));
        }
        Some(v) if v != service.version() => {
            return Err(err(fail(
                "NoSuchVersion",
                format!(
                    "The API version `{}` does not exist; use {}.",
                    quote(v),
                    service.version()
                ),
            )));
        }
        Some(_) => {}
    }
    // STS takes AssumeRoleWithWebIdentity unsigned: "Authorization 需要传入值 SKIP"
    // (tencentcloud-sdk-go sts/v20180813/client.go); the web identity token is the proof.
    if action == Action::AssumeRoleWithWebIdentity && header("Authorization") == Some("SKIP") {
        if shared.over_rate(action, "SKIP") {
            return Err(err(over_rate()));
        }
        return Ok((action, None));
    }
    let auth = header("Authorization")
        .and_then(sign::parse_authorization)
        .ok_or_else(|| {
            err(fail(
                "AuthFailure.InvalidAuthorization",
                "The Authorization header is missing or not in TC3-HMAC-SHA256 form.",
            ))
        })?;
    let timestamp: i64 = header("X-TC-Timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| {
            err(fail(
                "AuthFailure.InvalidAuthorization",
                "The X-TC-Timestamp header is missing or not a Unix timestamp.",
            ))
        })?;
    if now
        .checked_sub(timestamp)
        .is_none_or(|d| d.abs() > MAX_SKEW_SECS)
    {
        return Err(err(fail(
            "AuthFailure.SignatureExpire",
            format!(
                "Signature expired. Timestamp:{timestamp} Server time:{now}. The request timestamp must be within 5 minutes of the server time."
            ),
        )));
    }
    if auth.service != service.name()
        || Some(auth.date.as_str()) != sign::utc_date(timestamp).as_deref()
    {
        return Err(err(fail(
            "AuthFailure.InvalidAuthorization",
            format!(
                "The credential scope must be <UTC date of X-TC-Timestamp>/{}/tc3_request.",
                service.name()
            ),
        )));
    }
    let (key, principal) = match shared.identities.find(&shared.keys, &auth.secret_id, now) {
        Found::Key(key, principal) => (key, principal),
        Found::Expired => {
            return Err(err(fail(
                "AuthFailure.TokenFailure",
                "The temporary credential has expired; get a new one.",
            )));
        }
        Found::Unknown => {
            return Err(err(fail(
                "AuthFailure.SecretIdNotFound",
                "The SecretId is not found, please ensure that your SecretId is correct.",
            )));
        }
    };
    if let Some(token) = &key.token
        && header("X-TC-Token") != Some(token.expose())
    {
        return Err(err(fail(
            "AuthFailure.TokenFailure",
            "The token is invalid or expired.",
        )));
    }
    let names: Vec<&str> = auth.signed_headers.split(';').collect();
    if !names.contains(&"content-type") || !names.contains(&"host") {
        return Err(err(fail(
            "AuthFailure.InvalidAuthorization",
            "SignedHeaders must include content-type and host.",
        )));
    }
    let mut signed = Vec::with_capacity(names.len());
    for name in &names {
        let value = header(name).unwrap_or("");
        signed.push((*name, value));
    }
    let query = parts.uri.query().unwrap_or("");
    // The SDK's unsignedPayload option signs the hash of this literal instead of the body.
    let payload: &[u8] = if header("X-TC-Content-SHA256") == Some("UNSIGNED-PAYLOAD") {
        b"UNSIGNED-PAYLOAD"
    } else {
        body
    };
    let expected = sign::sign(
        service.name(),
        &key.secret_id,
        key.secret_key.expose(),
        timestamp,
        &auth.date,
        &RequestParts {
            method: parts.method.as_str(),
            query,
            headers: &signed,
            signed_headers: &auth.signed_headers,
            payload,
        },
    );
    if !sign::signatures_match(&expected.signature, &auth.signature) {
        return Err(err(fail(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        )));
    }
    if shared.over_rate(action, &key.secret_id) {
        return Err(err(over_rate()));
    }
    Ok((action, Some(principal)))
}

fn over_rate() -> Fail {
    fail(
        "RequestLimitExceeded",
        format!(
            "Your current request times equals to `{RATE_LIMIT}` in a second, which exceeds the frequency limit `{RATE_LIMIT}` for a second. Please reduce the frequency of calls."
        ),
    )
}
