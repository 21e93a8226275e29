//! Every vector produced by Tencent's official Python SDK must come out identical:
//! canonical request, string to sign, signature and Authorization.

use pgssl::api::sign::{self, RequestParts, SIGNED_HEADERS};
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tc3-vectors.json"
    ))
    .expect("fixture present");
    let doc: Value = serde_json::from_str(&text).expect("fixture is JSON");
    doc["vectors"].as_array().expect("vectors array").clone()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} missing in {}", v["id"]))
}

#[test]
fn all_24_official_sdk_vectors_match_byte_for_byte() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 24);
    let mut methods = std::collections::BTreeSet::new();
    for v in &vectors {
        let id = s(v, "id");
        let timestamp = v["timestamp"].as_i64().expect("timestamp");
        let date = sign::utc_date(timestamp).expect("date in range");
        assert_eq!(date, s(v, "date"), "{id}: UTC date");
        let host = s(v, "host");
        // The Host header the SDK sent is the one that was signed.
        let sent_host = v["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .find(|h| h[0] == "Host")
            .and_then(|h| h[1].as_str())
            .expect("Host header");
        assert_eq!(sent_host, host, "{id}");
        let parts = RequestParts {
            method: s(v, "http_method"),
            query: s(v, "query_string"),
            headers: &[("content-type", s(v, "content_type")), ("host", host)],
            signed_headers: SIGNED_HEADERS,
            payload: s(v, "payload").as_bytes(),
        };
        let signed = sign::sign(
            s(v, "service"),
            s(v, "secret_id"),
            s(v, "secret_key"),
            timestamp,
            &date,
            &parts,
        );
        assert_eq!(
            sign::sha256_hex(parts.payload),
            s(v, "hashed_payload"),
            "{id}: payload hash"
        );
        assert_eq!(
            signed.canonical_request,
            s(v, "canonical_request"),
            "{id}: canonical request"
        );
        assert_eq!(
            signed.credential_scope,
            s(v, "credential_scope"),
            "{id}: scope"
        );
        assert_eq!(
            signed.string_to_sign,
            s(v, "string_to_sign"),
            "{id}: string to sign"
        );
        assert_eq!(signed.signature, s(v, "signature"), "{id}: signature");
        assert_eq!(
            signed.authorization,
            s(v, "authorization"),
            "{id}: Authorization"
        );

        // The server side reads back what the client wrote.
        let parsed = sign::parse_authorization(&signed.authorization).expect("parses");
        assert_eq!(parsed.signature, signed.signature);
        methods.insert(s(v, "http_method").to_string());
    }
    assert!(methods.contains("GET") && methods.contains("POST"));
    assert!(vectors.iter().any(|v| v["host"] == "http://127.0.0.1:8080"));
}

#[test]
fn a_changed_byte_changes_the_signature() {
    let v = &vectors()[0];
    let timestamp = v["timestamp"].as_i64().expect("timestamp");
    let date = sign::utc_date(timestamp).expect("date");
    let mut payload = s(v, "payload").as_bytes().to_vec();
    payload[2] ^= 1;
    let parts = RequestParts {
        method: "POST",
        query: "",
        headers: &[("content-type", "application/json"), ("host", s(v, "host"))],
        signed_headers: SIGNED_HEADERS,
        payload: &payload,
    };
    let signed = sign::sign(
        s(v, "service"),
        s(v, "secret_id"),
        s(v, "secret_key"),
        timestamp,
        &date,
        &parts,
    );
    assert_ne!(signed.signature, s(v, "signature"));
}
