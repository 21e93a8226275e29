//! The live TLS check of a protected address: PostgreSQL's SSLRequest, then a rustls
//! handshake verified against the instance's CA, then a report a DBA can act on.
//!
//! Nothing the server sends before the handshake is ever shown (CVE-2024-10977): the
//! answer to SSLRequest is read as exactly one byte, and anything but `S` or `N` is
//! described, not printed. Certificate text is sanitized like any untrusted text.

mod plaintext;
pub use plaintext::{Auth, Plaintext, plaintext};

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::text::clean;

/// PostgreSQL's SSLRequest: length 8, code 80877103.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// Days of validity under which a certificate gets a warning.
pub const WARN_DAYS: i64 = 30;

/// What a certificate says, for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// `DNS name` / `IP addr` entries.
    pub sans: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub not_after_unix: i64,
    pub sha256: String,
}

impl CertInfo {
    pub fn days_left(&self, now_unix: i64) -> i64 {
        (self.not_after_unix - now_unix).div_euclid(86_400)
    }

    /// "123 days left", or "EXPIRED".
    pub fn time_left(&self, now_unix: i64) -> String {
        match self.days_left(now_unix) {
            d if d < 0 => "EXPIRED".into(),
            d => format!("{d} days left"),
        }
    }
}

fn fmt_unix(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

/// Describe one DER certificate. Fails only on something that is not X.509.
pub fn cert_info(der: &[u8]) -> Result<CertInfo, String> {
    use x509_parser::prelude::*;
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| format!("not an X.509 certificate ({e})"))?;
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(d) => sans.push(format!("DNS {}", clean(d))),
                GeneralName::IPAddress(bytes) => {
                    let ip = match bytes.len() {
                        4 => <[u8; 4]>::try_from(*bytes).map(IpAddr::from).ok(),
                        16 => <[u8; 16]>::try_from(*bytes).map(IpAddr::from).ok(),
                        _ => None,
                    };
                    sans.push(match ip {
                        Some(ip) => format!("IP {ip}"),
                        None => "IP (malformed)".into(),
                    });
                }
                other => sans.push(clean(&format!("{other:?}"))),
            }
        }
    }
    let validity = cert.validity();
    Ok(CertInfo {
        subject: clean(&cert.subject().to_string()),
        issuer: clean(&cert.issuer().to_string()),
        sans,
        not_before: fmt_unix(validity.not_before.timestamp()),
        not_after: fmt_unix(validity.not_after.timestamp()),
        not_after_unix: validity.not_after.timestamp(),
        sha256: hex::encode(Sha256::digest(der))
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).to_uppercase())
            .collect::<Vec<_>>()
            .join(":"),
    })
}

/// Every certificate in a PEM bundle. An empty or unparsable bundle is an error.
pub fn parse_pem_certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("not a PEM certificate bundle ({e:?})"))?;
    if certs.is_empty() {
        return Err("no certificate found in the PEM data".into());
    }
    for c in &certs {
        cert_info(c)?;
    }
    Ok(certs)
}

/// Where to connect and which name the certificate must carry.
#[derive(Debug, Clone)]
pub struct Target {
    /// The protected address as the API names it (an IP, or a DNS name).
    pub address: String,
    pub port: u16,
    /// Connect here instead (an SSH tunnel, a port forward, the demo's local server);
    /// the certificate is still checked against `address`.
    pub via: Option<SocketAddr>,
}

impl Target {
    pub fn display(&self) -> String {
        let base = if self.address.contains(':') {
            format!("[{}]:{}", self.address, self.port)
        } else {
            format!("{}:{}", self.address, self.port)
        };
        match self.via {
            Some(v) => format!("{base} (via {v})"),
            None => base,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub answer: Duration,
    pub handshake: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            answer: Duration::from_secs(5),
            handshake: Duration::from_secs(10),
        }
    }
}

/// What a check concluded, in one word (`verify-full`, `verify-ca`, `failed`, `no-ssl`,
/// `unreachable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerifyResult {
    VerifyFull,
    VerifyCa,
    Failed,
    NoSsl,
    Unreachable,
}

impl VerifyResult {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyResult::VerifyFull => "verify-full",
            VerifyResult::VerifyCa => "verify-ca",
            VerifyResult::Failed => "failed",
            VerifyResult::NoSsl => "no-ssl",
            VerifyResult::Unreachable => "unreachable",
        }
    }
}

impl std::fmt::Display for VerifyResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "detail", rename_all = "kebab-case")]
pub enum Verdict {
    /// Chain verified against the CA and the certificate names the address.
    VerifyFull,
    /// Chain verified, but the certificate does not name the address.
    VerifyCa(String),
    /// TLS happened but the certificate is not acceptable, or the handshake failed.
    Failed(String),
    /// The server answered `N`: it refuses SSL at that address.
    NoSsl,
    /// Could not talk to the server at all.
    Unreachable(String),
}

impl Verdict {
    /// 0 verified, 1 the check failed, 3 could not reach.
    pub fn exit_code(&self) -> i32 {
        match self {
            Verdict::VerifyFull | Verdict::VerifyCa(_) => 0,
            Verdict::Failed(_) | Verdict::NoSsl => 1,
            Verdict::Unreachable(_) => 3,
        }
    }

    /// The verdict without its detail, for the journal and the log.
    pub fn result(&self) -> VerifyResult {
        match self {
            Verdict::VerifyFull => VerifyResult::VerifyFull,
            Verdict::VerifyCa(_) => VerifyResult::VerifyCa,
            Verdict::Failed(_) => VerifyResult::Failed,
            Verdict::NoSsl => VerifyResult::NoSsl,
            Verdict::Unreachable(_) => VerifyResult::Unreachable,
        }
    }

    pub fn sentence(&self, target: &str) -> String {
        match self {
            Verdict::VerifyFull => format!(
                "verify-full holds: the certificate is signed by the instance's CA and names {target}"
            ),
            Verdict::VerifyCa(why) => format!(
                "only verify-ca holds: the certificate is signed by the instance's CA but {why}; clients must use sslmode=verify-ca, or connect to the protected address"
            ),
            Verdict::Failed(why) => format!("the TLS check failed: {why}"),
            Verdict::NoSsl => format!(
                "the server at {target} refuses SSL (it answered N to SSLRequest): SSL is off there, or the change has not taken effect yet"
            ),
            Verdict::Unreachable(why) => format!("could not reach {target}: {why}"),
        }
    }
}

/// What the handshake showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsInfo {
    pub version: String,
    pub cipher: String,
    pub chain_length: usize,
    pub leaf: Option<CertInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub address: String,
    pub port: u16,
    #[serde(flatten)]
    pub verdict: Verdict,
    pub tls: Option<TlsInfo>,
}

/// Records what the server presented and whether it verifies, and lets the handshake
/// finish so the report can say what was negotiated. Nothing is sent after the
/// handshake, so accepting here never exposes anything.
#[derive(Debug)]
struct Recorder {
    inner: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    seen: Mutex<Option<Result<(), rustls::Error>>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = match &self.inner {
            Some(v) => v
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
                .map(|_| ()),
            None => Err(rustls::Error::General("no CA to verify against".into())),
        };
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(result);
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::{ConnectionRefused, ConnectionReset, TimedOut, UnexpectedEof};
    match e.kind() {
        ConnectionRefused => {
            "connection refused (nothing listening on that port, or a firewall)".into()
        }
        ConnectionReset => "the connection was reset".into(),
        UnexpectedEof => "the server closed the connection".into(),
        TimedOut => "timed out".into(),
        _ => clean(&e.to_string()),
    }
}

/// Why a chain failed, in words.
fn chain_reason(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "the certificate has expired".into()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "the certificate is not valid yet (check this machine's clock)".into()
            }
            CertificateError::UnknownIssuer => {
                "the certificate is not signed by the instance's CA (wrong CA file, or a server that is not the instance)".into()
            }
            CertificateError::BadSignature => "the certificate's signature is invalid".into(),
            CertificateError::Revoked => "the certificate is revoked".into(),
            other => clean(&format!("the certificate was rejected ({other:?})")),
        },
        other => clean(&other.to_string()),
    }
}

fn is_name_mismatch(e: &rustls::Error) -> bool {
    matches!(
        e,
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        )
    )
}

/// Run the check. `ca` is the instance's CA bundle (PEM certificates, parsed).
pub async fn check(target: &Target, ca: &[CertificateDer<'static>], timeouts: Timeouts) -> Report {
    let report = |verdict: Verdict, tls: Option<TlsInfo>| Report {
        address: target.address.clone(),
        port: target.port,
        verdict,
        tls,
    };
    crate::api::client::install_crypto_provider();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for c in ca {
        let _ = roots.add(c.clone());
    }
    let inner = if roots.is_empty() {
        None
    } else {
        match WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build()
        {
            Ok(v) => Some(v),
            Err(e) => {
                return report(
                    Verdict::Failed(format!("the CA cannot be used ({e})")),
                    None,
                );
            }
        }
    };
    let Ok(server_name) = ServerName::try_from(target.address.clone()) else {
        return report(
            Verdict::Failed(format!(
                "'{}' is not a host name or IP address",
                clean(&target.address)
            )),
            None,
        );
    };

    // Connect.
    let connect = async {
        match target.via {
            Some(addr) => TcpStream::connect(addr).await,
            None => TcpStream::connect((target.address.as_str(), target.port)).await,
        }
    };
    let mut stream = match tokio::time::timeout(timeouts.connect, connect).await {
        Err(_) => {
            return report(
                Verdict::Unreachable(format!(
                    "no connection within {}s",
                    timeouts.connect.as_secs()
                )),
                None,
            );
        }
        Ok(Err(e)) => return report(Verdict::Unreachable(io_reason(&e)), None),
        Ok(Ok(s)) => s,
    };

    // SSLRequest, and exactly one byte of answer.
    let answer = async {
        stream.write_all(&SSL_REQUEST).await?;
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await?;
        Ok::<u8, std::io::Error>(byte[0])
    };
    let byte = match tokio::time::timeout(timeouts.answer, answer).await {
        Err(_) => {
            return report(
                Verdict::Unreachable(format!(
                    "connected, but no answer to SSLRequest within {}s (is it PostgreSQL?)",
                    timeouts.answer.as_secs()
                )),
                None,
            );
        }
        Ok(Err(e)) => {
            return report(
                Verdict::Failed(format!("{} before answering SSLRequest", io_reason(&e))),
                None,
            );
        }
        Ok(Ok(b)) => b,
    };
    match byte {
        b'S' => {}
        b'N' => return report(Verdict::NoSsl, None),
        b'E' => {
            return report(
                Verdict::Failed(
                    "the server answered SSLRequest with an error message (not shown: text sent before TLS is unauthenticated); it may not be PostgreSQL, or be too old".into(),
                ),
                None,
            );
        }
        other => {
            return report(
                Verdict::Failed(format!(
                    "unexpected answer to SSLRequest (byte 0x{other:02x}): not a PostgreSQL server?"
                )),
                None,
            );
        }
    }

    // TLS.
    let recorder = Arc::new(Recorder {
        inner,
        provider: provider.clone(),
        seen: Mutex::new(None),
    });
    let config = match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(b) => b
            .dangerous()
            .with_custom_certificate_verifier(recorder.clone())
            .with_no_client_auth(),
        Err(e) => return report(Verdict::Failed(format!("TLS setup failed ({e})")), None),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let handshake = connector.connect(server_name, stream);
    let tls = match tokio::time::timeout(timeouts.handshake, handshake).await {
        Err(_) => {
            return report(
                Verdict::Failed(format!(
                    "the TLS handshake did not finish within {}s",
                    timeouts.handshake.as_secs()
                )),
                None,
            );
        }
        Ok(Err(e)) => {
            let why = match e.kind() {
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
                    "the server closed the connection during the TLS handshake".to_string()
                }
                _ => format!("the TLS handshake failed ({})", clean(&e.to_string())),
            };
            return report(Verdict::Failed(why), None);
        }
        Ok(Ok(tls)) => tls,
    };
    let (_, conn) = tls.get_ref();
    let chain: Vec<CertificateDer<'static>> = conn
        .peer_certificates()
        .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();
    let info = TlsInfo {
        version: conn.protocol_version().map_or_else(
            || "?".into(),
            |v| match v {
                rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
                rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
                other => format!("{other:?}"),
            },
        ),
        cipher: conn
            .negotiated_cipher_suite()
            .map_or_else(|| "?".into(), |c| format!("{:?}", c.suite())),
        chain_length: chain.len(),
        leaf: chain.first().and_then(|c| cert_info(c).ok()),
    };
    let mut tls = tls;
    // Close politely; nothing else is ever sent.
    let _ = tokio::time::timeout(Duration::from_secs(1), tls.shutdown()).await;

    let seen = recorder
        .seen
        .lock()
        .ok()
        .and_then(|mut s| s.take())
        .unwrap_or_else(|| {
            Err(rustls::Error::General(
                "no certificate was presented".into(),
            ))
        });
    let verdict = match seen {
        Ok(()) => Verdict::VerifyFull,
        Err(e) if is_name_mismatch(&e) => Verdict::VerifyCa(format!(
            "it does not name {} (it names: {})",
            clean(&target.address),
            info.leaf
                .as_ref()
                .map(|l| if l.sans.is_empty() {
                    l.subject.clone()
                } else {
                    l.sans.join(", ")
                })
                .unwrap_or_default()
        )),
        Err(e) if ca.is_empty() => {
            Verdict::Failed(format!("no CA to verify against ({})", chain_reason(&e)))
        }
        Err(e) => Verdict::Failed(chain_reason(&e)),
    };
    report(verdict, Some(info))
}

/// The report as lines for people, with ready-to-paste client settings.
pub fn render(report: &Report, ca_path: Option<&str>, now_unix: i64) -> Vec<String> {
    let target = if report.address.contains(':') {
        format!("[{}]:{}", report.address, report.port)
    } else {
        format!("{}:{}", report.address, report.port)
    };
    let mut lines = vec![report.verdict.sentence(&target)];
    if let Some(tls) = &report.tls {
        lines.push(format!("  TLS:      {}, {}", tls.version, tls.cipher));
        if let Some(leaf) = &tls.leaf {
            lines.push(format!("  subject:  {}", leaf.subject));
            lines.push(format!(
                "  names:    {}",
                if leaf.sans.is_empty() {
                    "(no subjectAltName)".into()
                } else {
                    leaf.sans.join(", ")
                }
            ));
            lines.push(format!("  issuer:   {}", leaf.issuer));
            let days = leaf.days_left(now_unix);
            lines.push(format!(
                "  expires:  {} ({})",
                leaf.not_after,
                if days < 0 {
                    format!("expired {} days ago", -days)
                } else {
                    format!("{days} days left")
                }
            ));
            if (0..WARN_DAYS).contains(&days) {
                lines.push(format!(
                    "  warning:  the certificate expires in {days} days: renew it before clients start failing"
                ));
            }
            lines.push(format!("  sha256:   {}", leaf.sha256));
        }
    }
    let mode = match report.verdict {
        Verdict::VerifyFull => Some("verify-full"),
        Verdict::VerifyCa(_) => Some("verify-ca"),
        _ => None,
    };
    if let (Some(mode), Some(ca)) = (mode, ca_path) {
        lines.push("  client settings:".into());
        lines.push(format!("    sslmode={mode} sslrootcert={ca}"));
        lines.push(format!(
            "    psql \"host={} port={} dbname=postgres user=YOUR_USER sslmode={mode} sslrootcert={ca}\"",
            report.address, report.port
        ));
    }
    lines
}
