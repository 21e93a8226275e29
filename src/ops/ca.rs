//! The instance's CA: where it comes from (DescribeDBInstanceSSLConfig's cloud-disk
//! fields, else CAUrl as PEM, DER or the console's zip), whether it may be a trust
//! anchor, where it is kept, and the forms application teams get it in.
//!
//! The rule: a CA is kept and verified against only when it arrived authenticated:
//! inline in the API's reply (signed, over https), from an https CAUrl, or from a
//! loopback CAUrl (the emulator). A CAUrl over plain http from another host (the only
//! form Tencent's examples show) may be downloaded and shown with its SHA-256, but is
//! kept only once a person confirms every certificate's fingerprint (`ssl ca ID
//! --fingerprint`); until then `verify` refuses, unless given `--ca FILE`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pgssl_wire::cafile::{self, Form};
use rustls::pki_types::CertificateDer;

use super::refusal::VerifyRefusal;
use super::{OpsError, Session, read};
use crate::domain::{CaKnown, InlineCa, SslState};
use crate::probe::CertInfo;

/// Where a CA came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaOrigin {
    /// A cloud-disk field of DescribeDBInstanceSSLConfig (CACert, CAP7B or CAJKS).
    Inline { field: &'static str },
    /// CAUrl over https, or over plain http from this machine (the emulator).
    Url { url: String },
    /// CAUrl over plain http from another host: nothing vouches for what arrived.
    Unauthenticated { url: String },
    /// A file given with `--ca`.
    File,
    /// The copy kept from an earlier fetch or confirmation.
    Kept,
}

impl CaOrigin {
    pub fn authenticated(&self) -> bool {
        !matches!(self, CaOrigin::Unauthenticated { .. })
    }

    /// Where it came from, for people.
    pub fn describe(&self) -> String {
        match self {
            CaOrigin::Inline { field } => format!("{field} in DescribeDBInstanceSSLConfig"),
            CaOrigin::Url { url } => url.clone(),
            CaOrigin::Unauthenticated { url } => {
                format!("{url} (plain http from another host: unauthenticated)")
            }
            CaOrigin::File => "the file given".into(),
            CaOrigin::Kept => "the copy kept earlier".into(),
        }
    }

    /// Where it came from, for scripts.
    pub fn kind(&self) -> &'static str {
        match self {
            CaOrigin::Inline { .. } => "inline",
            CaOrigin::Url { .. } => "url",
            CaOrigin::Unauthenticated { .. } => "unauthenticated",
            CaOrigin::File => "file",
            CaOrigin::Kept => "kept",
        }
    }

    pub fn url(&self) -> Option<&str> {
        match self {
            CaOrigin::Url { url } | CaOrigin::Unauthenticated { url } => Some(url),
            _ => None,
        }
    }
}

/// A CA's certificates, each parsed as X.509, not yet kept.
#[derive(Debug, Clone)]
pub struct CaCerts {
    pub origin: CaOrigin,
    pub form: Form,
    pub certs: Vec<CertificateDer<'static>>,
    pub infos: Vec<CertInfo>,
}

/// A CA pgssl trusts, and the file it is in.
#[derive(Debug, Clone)]
pub struct CaBundle {
    /// Where it is kept (always PEM), or the file given with `--ca`.
    pub path: PathBuf,
    pub certs: Vec<CertificateDer<'static>>,
    pub infos: Vec<CertInfo>,
    pub origin: CaOrigin,
    /// The file is PEM, what `sslrootcert` takes.
    pub pem: bool,
}

/// The forms `ssl ca --format` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaFormat {
    /// PEM certificates: psql's `sslrootcert`, libpq, Go, Python, Node.
    #[default]
    Pem,
    /// A PKCS#7 bundle, DER: Windows, .NET.
    P7b,
    /// A Java KeyStore, password `tencentdb_pg` as in Tencent's download: JDBC.
    Jks,
}

impl CaFormat {
    pub fn name(self) -> &'static str {
        match self {
            CaFormat::Pem => "pem",
            CaFormat::P7b => "p7b",
            CaFormat::Jks => "jks",
        }
    }
}

fn shown(path: &Path) -> String {
    crate::text::clean(&path.display().to_string())
}

fn checked(origin: CaOrigin, form: Form, ders: Vec<Vec<u8>>) -> Result<CaCerts, String> {
    let infos = ders
        .iter()
        .map(|c| crate::probe::cert_info(c))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CaCerts {
        origin,
        form,
        certs: ders.into_iter().map(CertificateDer::from).collect(),
        infos,
    })
}

/// Read a CA from a file: PEM, DER, PKCS#7, a JKS (password tencentdb_pg) or the
/// console's zip.
pub fn load_ca_file(path: &Path) -> Result<CaBundle, OpsError> {
    let bytes = crate::store::bounded::read(path, crate::store::caps::CA)
        .map_err(|e| OpsError::Usage(format!("cannot read {} ({e})", shown(path))))?;
    let ca = cafile::decode(&bytes)
        .and_then(|d| checked(CaOrigin::File, d.form, d.certs))
        .map_err(|e| OpsError::Usage(format!("{}: {e}", shown(path))))?;
    Ok(CaBundle {
        path: path.to_path_buf(),
        pem: ca.form == Form::Pem,
        certs: ca.certs,
        infos: ca.infos,
        origin: CaOrigin::File,
    })
}

/// The copy kept for an instance, if there is one that reads.
fn kept(paths: &crate::store::Paths, instance_id: &str) -> Option<CaBundle> {
    load_ca_file(&paths.ca_file(instance_id))
        .ok()
        .map(|b| CaBundle {
            origin: CaOrigin::Kept,
            ..b
        })
}

/// True when CAUrl would arrive authenticated: https, or http from this machine.
fn authenticated_url(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| match u.scheme() {
        "https" => true,
        "http" => u.host_str().is_some_and(is_loopback),
        _ => false,
    })
}

fn is_loopback(host: &str) -> bool {
    crate::api::endpoint::is_loopback_host(host.trim_start_matches('[').trim_end_matches(']'))
}

/// Download CAUrl (at most 1 MiB, 5 s to connect, 20 s in all, no redirects): https, or
/// http. Loopback directly; anything else through the proxy the environment names.
/// Says whether what arrived is authenticated (https, or loopback).
async fn download(url: &str) -> Result<(Vec<u8>, bool), String> {
    let parsed = reqwest::Url::parse(url).map_err(|_| format!("CAUrl '{url}' is not a URL"))?;
    let loopback = parsed.host_str().is_some_and(is_loopback);
    let authenticated = match parsed.scheme() {
        "https" => true,
        "http" => loopback,
        _ => return Err(format!("refusing to fetch the CA over {url}: not http(s)")),
    };
    crate::api::client::install_crypto_provider();
    let mut builder = reqwest::Client::builder().no_proxy();
    if !loopback {
        // As the API client: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY, with NO_PROXY.
        builder = builder.proxy(reqwest::Proxy::custom(crate::api::client::system_proxy));
    }
    let client = builder
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(20))
        // No redirects: each hop would need the same checks, and CAUrl is direct.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let mut response = client
        .get(parsed)
        .send()
        .await
        .map_err(|e| format!("cannot fetch the CA from {url} ({e})"))?;
    if !response.status().is_success() {
        return Err(format!(
            "fetching the CA from {url} gave HTTP {}",
            response.status().as_u16()
        ));
    }
    let cap = usize::try_from(crate::store::caps::CA).unwrap_or(usize::MAX);
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("the CA download from {url} broke off ({e})"))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > cap {
            return Err(format!("the CA at {url} is larger than 1 MiB"));
        }
    }
    Ok((body, authenticated))
}

/// The inline CA of a state, checked; None when the reply carried none.
fn inline(ssl: &SslState) -> Option<Result<CaCerts, String>> {
    Some(match ssl.inline_ca.as_ref()? {
        InlineCa::Certs { field, form, certs } => {
            checked(CaOrigin::Inline { field }, *form, certs.clone())
                .map_err(|e| format!("{field}: {e}"))
        }
        InlineCa::Unusable { field, why } => Err(format!("{field}: {why}")),
    })
}

/// The CA an SSL state points at, checked, not kept: the inline field when it reads,
/// else CAUrl (PEM, DER or the console's zip).
pub async fn obtain(instance_id: &str, ssl: &SslState) -> Result<CaCerts, OpsError> {
    let problem = match inline(ssl) {
        Some(Ok(ca)) => return Ok(ca),
        Some(Err(why)) => Some(why),
        None => None,
    };
    let Some(url) = ssl.ca_url.as_deref() else {
        return Err(OpsError::Failed(match problem {
            Some(why) => format!(
                "{instance_id}'s CA in DescribeDBInstanceSSLConfig cannot be read ({why}) and there is no CAUrl: pass --ca FILE with the CA from the console"
            ),
            None => format!(
                "{instance_id} has SSL on but reports no CAUrl: the CA cannot be fetched; look at it in the console"
            ),
        }));
    };
    let (bytes, authenticated) = download(url).await.map_err(OpsError::Failed)?;
    let origin = if authenticated {
        CaOrigin::Url { url: url.into() }
    } else {
        CaOrigin::Unauthenticated { url: url.into() }
    };
    cafile::decode(&bytes)
        .and_then(|d| checked(origin, d.form, d.certs))
        .map_err(|e| OpsError::Failed(format!("the CA from {url}: {e}")))
}

/// Keep a CA as the instance's (PEM, mode 0600, atomically).
fn keep(
    paths: &crate::store::Paths,
    instance_id: &str,
    ca: &CaCerts,
) -> Result<CaBundle, OpsError> {
    let path = paths.ca_file(instance_id);
    let ders: Vec<Vec<u8>> = ca.certs.iter().map(|c| c.to_vec()).collect();
    crate::store::write_atomic(&path, cafile::to_pem(&ders).as_bytes())
        .map_err(|e| OpsError::Failed(format!("cannot keep the CA at {} ({e})", shown(&path))))?;
    Ok(CaBundle {
        path,
        certs: ca.certs.clone(),
        infos: ca.infos.clone(),
        origin: ca.origin.clone(),
        pem: true,
    })
}

/// The CA to verify an instance against: the inline one or an authenticated CAUrl,
/// fetched and kept (the copy kept earlier if fetching fails); with a CAUrl over plain
/// http from another host, only a copy kept earlier (confirmed, or from an
/// authenticated source), else refused: nothing unauthenticated is trusted silently.
pub async fn trusted(
    paths: &crate::store::Paths,
    instance_id: &str,
    ssl: &SslState,
) -> Result<CaBundle, OpsError> {
    let inline_ok = matches!(inline(ssl), Some(Ok(_)));
    if let (false, Some(url)) = (inline_ok, ssl.ca_url.as_deref())
        && !authenticated_url(url)
    {
        return kept(paths, instance_id).ok_or_else(|| {
            OpsError::refused(VerifyRefusal::CaUnconfirmed {
                id: instance_id.to_string(),
                url: url.to_string(),
            })
        });
    }
    match obtain(instance_id, ssl).await {
        Ok(ca) => keep(paths, instance_id, &ca),
        // Fall back to the copy kept from an earlier fetch.
        Err(e) => kept(paths, instance_id).ok_or(e),
    }
}

/// Check `--fingerprint` against every certificate: each must be confirmed, and each
/// fingerprint given must be one of them.
fn confirm(instance_id: &str, ca: &CaCerts, fingerprints: &[String]) -> Result<(), OpsError> {
    let have: BTreeSet<&str> = ca.infos.iter().map(|c| c.sha256.as_str()).collect();
    let given: BTreeSet<&str> = fingerprints.iter().map(String::as_str).collect();
    if have == given {
        return Ok(());
    }
    let stray: Vec<&str> = given.difference(&have).copied().collect();
    let missing: Vec<&str> = have.difference(&given).copied().collect();
    let mut why = Vec::new();
    if !stray.is_empty() {
        why.push(format!("{} matches no certificate of it", stray.join(", ")));
    }
    if !missing.is_empty() {
        why.push(format!("not confirmed: {}", missing.join(", ")));
    }
    Err(OpsError::Failed(format!(
        "{instance_id}'s CA from {} does not match --fingerprint ({}): nothing was kept or written",
        ca.origin.describe(),
        why.join("; ")
    )))
}

fn same_certs(a: &[CertInfo], b: &[CertInfo]) -> bool {
    let set = |v: &[CertInfo]| v.iter().map(|c| c.sha256.clone()).collect::<BTreeSet<_>>();
    set(a) == set(b)
}

/// What `ssl ca` found.
#[derive(Debug, Clone)]
pub struct InstanceCa {
    pub ca: CaCerts,
    /// Where it is now kept; None when it came unauthenticated and was not confirmed.
    pub kept: Option<CaBundle>,
}

/// Fetch an instance's CA (inline, else CAUrl) and keep it when it is authenticated or
/// its fingerprints are confirmed (`fingerprints`, normalized as `CertInfo::sha256`).
pub async fn instance_ca(
    session: &Session,
    region: &str,
    instance_id: &str,
    fingerprints: &[String],
) -> Result<InstanceCa, OpsError> {
    let seen = read::ssl_state(&session.client, region, instance_id).await?;
    if !seen.state.enabled {
        // With SSL off the API answers an empty CAUrl: there is no CA yet, not an error.
        return Err(OpsError::refused(VerifyRefusal::NoCa {
            id: instance_id.to_string(),
        }));
    }
    let ca = obtain(instance_id, &seen.state).await?;
    if !fingerprints.is_empty() {
        confirm(instance_id, &ca, fingerprints)?;
    }
    let paths = &session.store.paths;
    let kept = if ca.origin.authenticated() || !fingerprints.is_empty() {
        let bundle = keep(paths, instance_id, &ca)?;
        // The pin lives with the instance in the inventory: one not known yet is
        // described first, so its CA is pinned from the first time it is seen.
        let known = session
            .store
            .inventory
            .load()
            .is_ok_and(|inv| inv.get(instance_id).is_some());
        if !known {
            let _ = super::inventory::describe(session, region, instance_id).await;
        }
        note_ca(session, instance_id, &bundle);
        Some(bundle)
    } else {
        // The same certificates as the copy kept earlier (confirmed then): still that one.
        kept(paths, instance_id).filter(|k| same_certs(&k.infos, &ca.infos))
    };
    Ok(InstanceCa { ca, kept })
}

/// What the inventory keeps of a CA: its first certificate (the one pinned).
pub(crate) fn known_of(bundle: &CaBundle) -> Option<CaKnown> {
    let first = bundle.infos.first()?;
    Some(CaKnown {
        path: crate::text::clean(&bundle.path.display().to_string()),
        subject: first.subject.clone(),
        not_after: first.not_after.clone(),
        sha256: first.sha256.clone(),
        fetched_at: pgssl_wire::clock::now_rfc3339_millis(),
        pin: None,
    })
}

/// Keep what was learned of an instance's CA in the inventory (best effort); its pin
/// stays (`Inventory::note_ca`).
pub(crate) fn note_ca(session: &Session, instance_id: &str, bundle: &CaBundle) {
    let Some(ca) = known_of(bundle) else {
        return;
    };
    let id = instance_id.to_string();
    let _ = session.store.inventory.update(move |inv| {
        inv.note_ca(&id, ca);
    });
}

/// The CA pinned for an instance and the one fetched last, as the inventory keeps them.
pub fn pinned(session: &Session, instance_id: &str) -> Option<CaKnown> {
    session
        .store
        .inventory
        .load()
        .ok()?
        .get(instance_id)?
        .ca
        .clone()
}

/// `ssl ca ID --accept`: the CA fetched last becomes the one pinned. The pin it
/// replaced and the new one (the same when nothing had changed).
pub fn accept(
    session: &Session,
    instance_id: &str,
) -> Result<(crate::domain::CaPin, crate::domain::CaPin), OpsError> {
    let now = pgssl_wire::clock::now_rfc3339();
    let id = instance_id.to_string();
    session
        .store
        .inventory
        .update(move |inv| inv.accept_ca(&id, &now))?
        .ok_or_else(|| {
            OpsError::Failed(format!(
                "no CA of {instance_id} is kept to accept: nothing was pinned (a CA that came unauthenticated is kept once confirmed with --fingerprint)"
            ))
        })
}

/// Write a CA where the person asked (`ssl ca --out --format`), mode 0600, atomically.
pub fn write_ca(
    certs: &[CertificateDer<'static>],
    format: CaFormat,
    out: &Path,
) -> Result<(), OpsError> {
    let ders: Vec<Vec<u8>> = certs.iter().map(|c| c.to_vec()).collect();
    let bytes = match format {
        CaFormat::Pem => cafile::to_pem(&ders).into_bytes(),
        CaFormat::P7b => cafile::to_p7b(&ders),
        CaFormat::Jks => {
            let millis = pgssl_wire::clock::unix_now().saturating_mul(1000);
            cafile::to_jks(&ders, u64::try_from(millis).unwrap_or(0))
        }
    };
    crate::store::write_atomic(out, &bytes)
        .map_err(|e| OpsError::Failed(format!("cannot write {} ({e})", shown(out))))
}

/// `--fingerprint`: a SHA-256 as 64 hex digits, with or without colons, any case;
/// normalized as `CertInfo::sha256` spells it (`AB:CD:...`).
pub fn parse_fingerprint(text: &str) -> Result<String, String> {
    // What openssl prints (`sha256 Fingerprint=AB:...`) may be pasted whole.
    let tail = text.rsplit('=').next().unwrap_or(text);
    let hex: String = tail
        .chars()
        .filter(|c| !matches!(c, ':' | ' '))
        .collect::<String>()
        .to_ascii_uppercase();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(
            "a SHA-256 fingerprint: 64 hex digits, with or without colons (AB:CD:...)".into(),
        );
    }
    Ok(hex
        .as_bytes()
        .chunks(2)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect::<Vec<_>>()
        .join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_normalize_and_bad_ones_are_refused() {
        let plain = "ab".repeat(32);
        let want = vec!["AB"; 32].join(":");
        assert_eq!(parse_fingerprint(&plain).as_deref(), Ok(want.as_str()));
        assert_eq!(
            parse_fingerprint(&want.to_lowercase()).as_deref(),
            Ok(want.as_str())
        );
        assert_eq!(
            parse_fingerprint(&format!("sha256 Fingerprint={want}")).as_deref(),
            Ok(want.as_str())
        );
        assert!(parse_fingerprint(&"ab".repeat(31)).is_err());
        assert!(parse_fingerprint(&"zz".repeat(32)).is_err());
        assert!(parse_fingerprint("").is_err());
    }

    #[test]
    fn the_inline_fields_in_order_and_junk_does_not_fail_the_reply() {
        use crate::api::models::DescribeDBInstanceSSLConfigResponse as R;
        use base64::Engine as _;
        let inline = super::read::inline_ca;
        assert_eq!(inline(&R::default()), None);
        let blank = R {
            CACert: Some(String::new()),
            CAJKS: Some("  ".into()),
            ..R::default()
        };
        assert_eq!(inline(&blank), None, "empty strings are no field");
        // A certificate-shaped DER (not parsed as X.509 here), as base64 in CAJKS's JKS.
        let der = vec![0x30, 0x03, 0x02, 0x01, 0x07];
        let jks = cafile::to_jks(std::slice::from_ref(&der), 0);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&jks);
        let only_jks = R {
            CACert: Some(String::new()),
            CAJKS: Some(b64),
            ..R::default()
        };
        assert_eq!(
            inline(&only_jks),
            Some(InlineCa::Certs {
                field: "CAJKS",
                form: Form::Jks,
                certs: vec![der]
            })
        );
        let junk = R {
            CACert: Some("\u{1b}[31mnot a certificate".into()),
            ..only_jks
        };
        let Some(InlineCa::Unusable { field, why }) = inline(&junk) else {
            panic!("CACert comes first, and junk is unusable");
        };
        assert_eq!(field, "CACert");
        assert!(!why.contains('\u{1b}'), "{why}");
    }

    #[test]
    fn only_https_and_loopback_http_are_authenticated() {
        assert!(authenticated_url("https://example.com/ca.pem"));
        assert!(authenticated_url("http://127.0.0.1:8080/ssl/ca.pem"));
        assert!(authenticated_url("http://[::1]:8080/ssl/ca.pem"));
        assert!(authenticated_url("http://localhost/ca.pem"));
        assert!(!authenticated_url("http://testdownload.url"));
        assert!(!authenticated_url(
            "http://pgssl-emulator.invalid:9/ssl/ca.pem"
        ));
        assert!(!authenticated_url("ftp://127.0.0.1/ca.pem"));
    }
}
