//! The live TLS check against a real PostgreSQL server (Debian's binaries, started by the
//! harness on a free loopback port), with certificates from a test CA made here.
//! These tests need PostgreSQL: they fail with instructions when it is missing, unless
//! PGSSL_SKIP_PG_TESTS=1 says to skip them (and they say so).

use crate::common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::OnceLock;

use pgssl::probe::{self, Target, Timeouts, Verdict};
use pgssl_emulator::ca::CertificateAuthority;
use pgssl_emulator::pgserver::{LocalPostgres, Ssl};
use rustls::pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

fn ca() -> &'static CertificateAuthority {
    static CA: OnceLock<CertificateAuthority> = OnceLock::new();
    CA.get_or_init(|| CertificateAuthority::generate("pgssl test CA").expect("CA"))
}

fn roots(ca: &CertificateAuthority) -> Vec<CertificateDer<'static>> {
    probe::parse_pem_certs(ca.cert_pem().as_bytes()).expect("CA parses")
}

fn cert_for(names: &[&str], from_days: i64, to_days: i64) -> Ssl {
    let now = OffsetDateTime::now_utc();
    let issued = ca()
        .issue(
            &names
                .iter()
                .map(std::string::ToString::to_string)
                .collect::<Vec<_>>(),
            now + Duration::days(from_days),
            now + Duration::days(to_days),
        )
        .expect("issue");
    Ssl::On {
        cert_pem: issued.cert_pem,
        key_pem: issued.key_pem,
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn check(port: u16, roots: &[CertificateDer<'static>]) -> probe::Report {
    rt().block_on(probe::check(
        &Target {
            address: "127.0.0.1".into(),
            port,
            via: None,
        },
        roots,
        Timeouts::default(),
    ))
}

#[test]
fn one_server_through_every_certificate_case() {
    if !common::pg_available() {
        return;
    }
    let server = LocalPostgres::start(cert_for(&["127.0.0.1"], -1, 365)).expect("postgres starts");
    let good_roots = roots(ca());

    // Valid chain and name: verify-full, with the details a DBA needs.
    let r = check(server.port, &good_roots);
    assert_eq!(r.verdict, Verdict::VerifyFull, "{r:#?}");
    let tls = r.tls.as_ref().expect("tls info");
    assert!(
        tls.version == "TLSv1.3" || tls.version == "TLSv1.2",
        "{tls:?}"
    );
    let leaf = tls.leaf.as_ref().expect("leaf");
    assert_eq!(leaf.sans, vec!["IP 127.0.0.1".to_string()]);
    assert!(leaf.issuer.contains("pgssl test CA"));
    let lines = probe::render(
        &r,
        Some("/tmp/ca.pem"),
        OffsetDateTime::now_utc().unix_timestamp(),
    );
    assert!(lines[0].starts_with("verify-full holds"), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("sslmode=verify-full sslrootcert=/tmp/ca.pem"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("364 days left") || l.contains("365 days left")),
        "{lines:?}"
    );
    assert_eq!(r.verdict.exit_code(), 0);

    // The wrong CA: fails, and says why.
    let other = CertificateAuthority::generate("some other CA").expect("CA");
    let r = check(server.port, &roots(&other));
    match &r.verdict {
        Verdict::Failed(why) => assert!(why.contains("not signed by the instance's CA"), "{why}"),
        v => panic!("{v:?}"),
    }
    assert_eq!(r.verdict.exit_code(), 1);

    // A certificate for another address: verify-ca only.
    server
        .set_ssl(cert_for(&["10.9.9.9"], -1, 365))
        .expect("reload");
    let r = check(server.port, &good_roots);
    match &r.verdict {
        Verdict::VerifyCa(why) => assert!(why.contains("IP 10.9.9.9"), "{why}"),
        v => panic!("{v:?}"),
    }
    assert!(
        probe::render(&r, Some("/ca.pem"), 0)
            .iter()
            .any(|l| l.contains("sslmode=verify-ca"))
    );

    // Expiring soon: verified, with a warning.
    server
        .set_ssl(cert_for(&["127.0.0.1"], -300, 10))
        .expect("reload");
    let r = check(server.port, &good_roots);
    assert_eq!(r.verdict, Verdict::VerifyFull);
    let lines = probe::render(&r, None, OffsetDateTime::now_utc().unix_timestamp());
    assert!(
        lines
            .iter()
            .any(|l| l.contains("warning:  the certificate expires in")),
        "{lines:?}"
    );

    // Expired.
    server
        .set_ssl(cert_for(&["127.0.0.1"], -400, -2))
        .expect("reload");
    let r = check(server.port, &good_roots);
    match &r.verdict {
        Verdict::Failed(why) => assert!(why.contains("expired"), "{why}"),
        v => panic!("{v:?}"),
    }
    assert!(
        probe::render(&r, None, OffsetDateTime::now_utc().unix_timestamp())
            .iter()
            .any(|l| l.contains("expired 2 days ago")
                || l.contains("expired 1 days ago")
                || l.contains("expired 3 days ago"))
    );

    // SSL off: the server answers N.
    server.set_ssl(Ssl::Off).expect("reload");
    let r = check(server.port, &good_roots);
    assert_eq!(r.verdict, Verdict::NoSsl);
    assert!(r.verdict.sentence("127.0.0.1:1").contains("refuses SSL"));
    assert_eq!(r.verdict.exit_code(), 1);
}

#[test]
fn nothing_listening_is_unreachable() {
    let port = pgssl_emulator::pgserver::free_port().expect("port");
    let r = check(port, &roots(ca()));
    match &r.verdict {
        Verdict::Unreachable(why) => assert!(why.contains("connection refused"), "{why}"),
        v => panic!("{v:?}"),
    }
    assert_eq!(r.verdict.exit_code(), 3);
}

/// A fake server: answers SSLRequest with `answer`, then does `then`.
fn fake(answer: &'static [u8], close_after_hello: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let mut req = [0u8; 8];
            if s.read_exact(&mut req).is_err() {
                return;
            }
            let _ = s.write_all(answer);
            if close_after_hello {
                // Read part of the ClientHello, then hang up mid-handshake.
                let mut buf = [0u8; 16];
                let _ = s.read(&mut buf);
            }
        }
    });
    port
}

#[test]
fn a_server_closing_mid_handshake_fails_with_one_clear_line() {
    let r = check(fake(b"S", true), &roots(ca()));
    match &r.verdict {
        Verdict::Failed(why) => assert!(
            why.contains("closed the connection during the TLS handshake"),
            "{why}"
        ),
        v => panic!("{v:?}"),
    }
}

#[test]
fn text_before_the_handshake_is_never_shown() {
    // An error packet full of terminal escapes, as a malicious server might send.
    let r = check(
        fake(
            b"E\x00\x00\x00\x20SFATAL\x00\x1b[2J\x1b]0;pwned\x07\x00\x00",
            false,
        ),
        &roots(ca()),
    );
    let line = r.verdict.sentence("x");
    assert!(line.contains("not shown"), "{line}");
    assert!(
        !line.contains("pwned") && !line.contains('\u{1b}'),
        "{line}"
    );
    let r = check(fake(b"Zgarbage", false), &roots(ca()));
    assert!(
        r.verdict.sentence("x").contains("byte 0x5a"),
        "{:?}",
        r.verdict
    );
}
