//! Reply plumbing: the JSON envelope, the headers the SDK looks at, and the shapes
//! an injected fault gives a reply.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde_json::{Map, Value, json};

use super::{Dropped, Fail};
use crate::faults::Damage;

pub(super) fn json_reply(status: StatusCode, body: Vec<u8>, date: i64) -> Response<Full<Bytes>> {
    // A time before 1970 (a clock set far back, less --clock-offset) is sent as the epoch.
    let date =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(date).unwrap_or(0));
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    // Exactly this: the official SDK ignores error envelopes under any other Content-Type.
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = hyper::header::HeaderValue::from_str(&httpdate::fmt_http_date(date)) {
        headers.insert(hyper::header::DATE, v);
    }
    response
}

pub(super) fn envelope(result: &Result<Value, Fail>, request_id: &str) -> Vec<u8> {
    let mut inner = match result {
        Ok(Value::Object(m)) => m.clone(),
        Ok(_) => Map::new(),
        Err(f) => {
            let mut m = Map::new();
            m.insert(
                "Error".into(),
                json!({"Code": f.code, "Message": f.message}),
            );
            m
        }
    };
    inner.insert("RequestId".into(), Value::String(request_id.to_string()));
    serde_json::to_vec(&json!({ "Response": inner })).unwrap_or_default()
}

/// The CA certificate in one of its forms (`CaForm::path`).
pub(super) fn ca_reply(body: Vec<u8>, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    r
}

/// The reply with `body` (the envelope) as the injected fault shapes it; `Dropped`
/// when the connection is to close without one.
pub(super) fn damaged_reply(
    damage: Damage,
    body: Vec<u8>,
    now: i64,
) -> Result<Response<Full<Bytes>>, Dropped> {
    Ok(match damage {
        Damage::Drop => return Err(Dropped),
        Damage::Truncate => json_reply(StatusCode::OK, body[..body.len() / 2].to_vec(), now),
        Damage::NonJson => {
            let mut r = json_reply(
                StatusCode::OK,
                b"<html><body><h1>Gateway maintenance</h1></body></html>".to_vec(),
                now,
            );
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/html"),
            );
            r
        }
        Damage::Status(s) => {
            let mut r = json_reply(
                StatusCode::from_u16(s).unwrap_or(StatusCode::BAD_GATEWAY),
                format!("<html><body>{s} emulated upstream error</body></html>").into_bytes(),
                now,
            );
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/html"),
            );
            r
        }
        Damage::None | Damage::Fail => json_reply(StatusCode::OK, body, now),
    })
}
