//! The library client against the emulator: the per-action limiter keeps a burst under
//! the API's 20 requests/s, and a change is sent exactly once even when reads retry.

use std::sync::Arc;

use crate::common::Emu;
use pgssl::api::models::DescribeRegionsRequest;
use pgssl::api::{Client, ClientOptions, Endpoint};
use pgssl::credentials::Credential;
use pgssl_emulator::FaultArgs;

fn client(emu: &Emu) -> Client {
    let key = emu.key();
    let credential = Credential::new(&key.secret_id, key.secret_key.expose(), None).expect("cred");
    let options = ClientOptions {
        endpoint: Endpoint::parse(&emu.endpoint()).expect("endpoint"),
        // No retries: a rate-limit error would surface instead of being hidden by a retry.
        read_attempts: 1,
        ..ClientOptions::default()
    };
    Client::new(pgssl::credentials::Provider::fixed(credential), options).expect("client")
}

/// `n` DescribeRegions at once through one client.
fn burst(
    emu: &Emu,
    client: &Arc<Client>,
    n: usize,
) -> Vec<Result<pgssl::api::models::DescribeRegionsResponse, pgssl::api::ApiError>> {
    emu.block_on(async {
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let c = client.clone();
                tokio::spawn(async move { c.call(None, &DescribeRegionsRequest {}).await })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("join"));
        }
        out
    })
}

#[test]
fn a_burst_of_reads_stays_under_the_rate_limit() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let client = Arc::new(client(&emu));
    let results = burst(&emu, &client, 45);
    let failures: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(emu.count("DescribeRegions"), 45);
    assert_eq!(emu.refused("RequestLimitExceeded"), 0);
}

#[test]
fn the_emulator_does_limit_a_client_that_does_not_pace_itself() {
    // The same burst with pgssl's limiter opened up: the emulator must push back, so the
    // previous test proves the limiter rather than a lenient emulator.
    let emu = Emu::start(FaultArgs::default(), 1);
    let key = emu.key();
    let credential = Credential::new(&key.secret_id, key.secret_key.expose(), None).expect("cred");
    let client = Arc::new(
        Client::new(
            pgssl::credentials::Provider::fixed(credential),
            ClientOptions {
                endpoint: Endpoint::parse(&emu.endpoint()).expect("endpoint"),
                read_attempts: 1,
                rate_per_action: 1000,
                ..ClientOptions::default()
            },
        )
        .expect("client"),
    );
    let results = burst(&emu, &client, 45);
    let limited = results
        .iter()
        .filter(|r| matches!(r, Err(e) if e.code() == Some("RequestLimitExceeded")))
        .count();
    assert!(limited > 0, "45 requests at once must trip a 20/s limit");
}

#[test]
fn the_emulator_answers_absurd_timestamps_instead_of_crashing() {
    use std::io::{Read, Write};
    let emu = Emu::start(FaultArgs::default(), 1);
    for ts in ["-9223372036854775808", "9223372036854775807", "abc", ""] {
        let mut s = std::net::TcpStream::connect(emu.running.addr).expect("connect");
        let body = "{}";
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nX-TC-Action: DescribeRegions\r\nX-TC-Version: 2017-03-12\r\nX-TC-Timestamp: {ts}\r\nAuthorization: TC3-HMAC-SHA256 Credential=AKIDx/2026-11-28/postgres/tc3_request, SignedHeaders=content-type;host, Signature={}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            emu.running.addr,
            "0".repeat(64),
            body.len()
        );
        s.write_all(request.as_bytes()).expect("send");
        let mut reply = String::new();
        s.read_to_string(&mut reply).expect("reply");
        assert!(reply.starts_with("HTTP/1.1 200"), "{ts}: {reply}");
        assert!(reply.contains("\"Code\":\"AuthFailure."), "{ts}: {reply}");
    }
}
