//! The instance's CA (from CAUrl, kept in the data dir) and the live TLS check of the
//! address SSL protects.

use std::time::Duration;

use super::refusal::VerifyRefusal;
use super::{OpsError, Session, read};
use crate::addresses::Address;
use crate::domain::{CaKnown, Instance, SslState, TlsKnown};
use crate::store::journal::Record;
use crate::store::now_rfc3339;

/// How TLS checks may reach addresses: through a tunnel or a local stand-in (`map`), and
/// in the demo only on this machine.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub map: AddressMap,
    /// The demo: connect to loopback only (a mapped address goes to its local stand-in);
    /// every other address is refused in one line instead of probing someone's network.
    pub loopback_only: bool,
}

impl Reach {
    /// Where `address` is reached instead, when the map says: a DNS name matched as DNS
    /// matches names (case aside, with or without the final dot), an IP as itself.
    pub fn via_for(&self, address: &str) -> Option<std::net::SocketAddr> {
        let wanted = crate::addresses::Host::parse(address).ok();
        self.map
            .iter()
            .find(|(a, _)| {
                a == address
                    || wanted
                        .as_ref()
                        .is_some_and(|w| crate::addresses::Host::parse(a).is_ok_and(|h| h == *w))
            })
            .map(|(_, to)| *to)
    }

    pub(crate) fn allows(
        &self,
        address: &str,
        via: Option<std::net::SocketAddr>,
    ) -> Result<(), OpsError> {
        let local = via.map_or_else(
            || {
                address
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
            },
            |v| v.ip().is_loopback(),
        );
        if self.loopback_only && !local {
            return Err(OpsError::refused(VerifyRefusal::NoDemoServer {
                address: crate::text::sanitize(address).into_owned(),
            }));
        }
        Ok(())
    }
}

/// An instance's CA certificate(s), kept on disk.
#[derive(Debug, Clone)]
pub struct CaBundle {
    pub path: std::path::PathBuf,
    pub certs: Vec<rustls::pki_types::CertificateDer<'static>>,
    pub infos: Vec<crate::probe::CertInfo>,
}

/// Addresses reached through somewhere else (an SSH tunnel, the demo's local server):
/// the certificate is still checked against the address itself.
pub type AddressMap = Vec<(String, std::net::SocketAddr)>;

/// Parse `10.0.0.8=127.0.0.1:15432,10.0.0.9=127.0.0.1:15433` (PGSSL_ADDRESS_MAP).
pub fn parse_address_map(text: &str) -> Result<AddressMap, String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (from, to) = pair.split_once('=').ok_or_else(|| {
                format!(
                    "'{}' should look like ADDRESS=HOST:PORT",
                    crate::text::sanitize(pair)
                )
            })?;
            let to = to.trim().parse().map_err(|_| {
                format!(
                    "'{}' is not HOST:PORT with an IP host",
                    crate::text::sanitize(to)
                )
            })?;
            Ok((from.trim().to_string(), to))
        })
        .collect()
}

fn pem_to_bundle(pem: &[u8], path: std::path::PathBuf) -> Result<CaBundle, String> {
    let certs = crate::probe::parse_pem_certs(pem)?;
    let infos = certs
        .iter()
        .map(|c| crate::probe::cert_info(c))
        .collect::<Result<_, _>>()?;
    Ok(CaBundle { path, certs, infos })
}

/// Read a CA bundle from a file.
pub fn load_ca_file(path: &std::path::Path) -> Result<CaBundle, OpsError> {
    let pem = crate::store::bounded::read(path, crate::store::caps::CA)
        .map_err(|e| OpsError::Usage(format!("cannot read {} ({e})", path.display())))?;
    pem_to_bundle(&pem, path.to_path_buf())
        .map_err(|e| OpsError::Usage(format!("{}: {e}", path.display())))
}

/// Download the CA from CAUrl: https, or http only from a loopback emulator; at most 1 MiB.
async fn download_ca(url: &str) -> Result<Vec<u8>, String> {
    let parsed = reqwest::Url::parse(url).map_err(|_| format!("CAUrl '{url}' is not a URL"))?;
    let loopback = parsed.host_str().is_some_and(|h| {
        crate::api::endpoint::is_loopback_host(h.trim_start_matches('[').trim_end_matches(']'))
    });
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(format!(
                "refusing to fetch the CA over {url}: only https (or a loopback emulator)"
            ));
        }
    }
    crate::api::client::install_crypto_provider();
    let mut builder = reqwest::Client::builder();
    if loopback {
        // The emulator's CA never goes through a proxy (see `Client::new`).
        builder = builder.no_proxy();
    }
    let client = builder
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(20))
        // No redirects: each hop would need the same https-only check, and CAUrl is direct.
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
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("the CA download from {url} broke off ({e})"))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > 1 << 20 {
            return Err(format!("the CA at {url} is larger than 1 MiB"));
        }
    }
    Ok(body)
}

/// Fetch the instance's CA from its CAUrl and keep it under the data dir.
pub async fn fetch_ca(
    paths: &crate::store::Paths,
    instance_id: &str,
    ca_url: &str,
) -> Result<CaBundle, OpsError> {
    let pem = download_ca(ca_url).await.map_err(OpsError::Failed)?;
    let path = paths.ca_file(instance_id);
    let bundle = pem_to_bundle(&pem, path.clone())
        .map_err(|e| OpsError::Failed(format!("the CA from {ca_url}: {e}")))?;
    crate::store::write_atomic(&path, &pem)
        .map_err(|e| OpsError::Failed(format!("cannot keep the CA at {} ({e})", path.display())))?;
    Ok(bundle)
}

/// Keep what was learned of an instance's CA in the inventory (best effort).
fn note_ca(session: &Session, instance_id: &str, bundle: &CaBundle) {
    let Some(first) = bundle.infos.first() else {
        return;
    };
    let ca = CaKnown {
        path: crate::text::clean(&bundle.path.display().to_string()),
        subject: first.subject.clone(),
        not_after: first.not_after.clone(),
        sha256: first.sha256.clone(),
        fetched_at: pgssl_wire::clock::now_rfc3339_millis(),
    };
    let id = instance_id.to_string();
    let _ = session
        .store
        .inventory
        .update(move |inv| inv.note_ca(&id, ca));
}

/// Write a copy of a kept CA where the person asked (`ssl ca --out`).
pub fn copy_ca(bundle: &CaBundle, out: &std::path::Path) -> Result<(), OpsError> {
    let shown = |p: &std::path::Path| crate::text::clean(&p.display().to_string());
    let pem = crate::store::bounded::read(&bundle.path, crate::store::caps::CA)
        .map_err(|e| OpsError::Failed(format!("cannot read {} ({e})", shown(&bundle.path))))?;
    crate::store::write_atomic(out, &pem)
        .map_err(|e| OpsError::Failed(format!("cannot write {} ({e})", shown(out))))
}

/// Fetch an instance's CA from the CAUrl it reports, and keep it.
pub async fn instance_ca(
    session: &Session,
    region: &str,
    instance_id: &str,
) -> Result<(String, CaBundle), OpsError> {
    let seen = read::ssl_state(&session.client, region, instance_id).await?;
    if !seen.state.enabled {
        // With SSL off the API answers an empty CAUrl: there is no CA yet, not an error.
        return Err(OpsError::refused(VerifyRefusal::NoCa {
            id: instance_id.to_string(),
        }));
    }
    let url = seen.state.ca_url.ok_or_else(|| {
        OpsError::Failed(format!(
            "{instance_id} has SSL on but reports no CAUrl: the CA cannot be fetched; look at it in the console"
        ))
    })?;
    let bundle = fetch_ca(&session.store.paths, instance_id, &url).await?;
    note_ca(session, instance_id, &bundle);
    Ok((url, bundle))
}

/// What to check and against which CA.
#[derive(Debug, Clone, Default)]
pub struct VerifyRequest {
    /// Override the address (default: the protected ConnectAddress).
    pub address: Option<String>,
    pub port: Option<u16>,
    pub ca_file: Option<std::path::PathBuf>,
    pub via: Option<std::net::SocketAddr>,
}

/// A finished check.
#[derive(Debug, Clone)]
pub struct Verified {
    pub report: crate::probe::Report,
    pub ca: CaBundle,
    pub target: crate::probe::Target,
}

impl Verified {
    /// The report for people, client settings pointing at the CA file pgssl keeps.
    pub fn lines(&self) -> Vec<String> {
        crate::probe::render(
            &self.report,
            Some(&self.ca.path.display().to_string()),
            crate::api::client::system_clock(),
        )
    }
}

/// Check the protected address of an instance over TLS and record the result in the
/// journal next to the instance's latest change.
pub async fn verify(
    session: &Session,
    region: &str,
    instance_id: &str,
    request: &VerifyRequest,
) -> Result<Verified, OpsError> {
    let info = super::inventory::describe(session, region, instance_id).await?;
    verify_described(session, &info, request).await
}

/// The same for an instance just described (so its state is not asked for twice).
pub async fn verify_described(
    session: &Session,
    info: &Instance,
    request: &VerifyRequest,
) -> Result<Verified, OpsError> {
    let instance_id = info.id.as_str();
    let ssl = info.ssl_state().cloned().unwrap_or(SslState::OFF);
    let address = match (&request.address, ssl.enabled, &ssl.protected) {
        (Some(a), _, _) => a.clone(),
        (None, true, Some(a)) => a.to_string(),
        _ => {
            return Err(OpsError::refused(VerifyRefusal::NothingProtected {
                id: instance_id.to_string(),
            }));
        }
    };
    let port = request.port.unwrap_or_else(|| {
        info.addresses
            .iter()
            .find(|a| crate::addresses::Host::parse(&address).is_ok_and(|h| a.is(&h)))
            .map_or(5432, Address::port_or_default)
    });
    let via = request.via.or_else(|| session.reach.via_for(&address));
    session.reach.allows(&address, via)?;
    let paths = &session.store.paths;
    let ca = if let Some(path) = &request.ca_file {
        load_ca_file(path)?
    } else {
        let url = ssl.ca_url.clone().ok_or_else(|| {
            if ssl.enabled {
                OpsError::Failed(format!(
                    "{instance_id} reports no CAUrl: pass --ca FILE with the instance's CA"
                ))
            } else {
                OpsError::refused(VerifyRefusal::NoCaToCheck {
                    id: instance_id.to_string(),
                })
            }
        })?;
        match fetch_ca(paths, instance_id, &url).await {
            Ok(b) => {
                note_ca(session, instance_id, &b);
                b
            }
            // Fall back to the copy kept from an earlier fetch.
            Err(e) => load_ca_file(&paths.ca_file(instance_id)).map_err(|_| e)?,
        }
    };
    let target = crate::probe::Target {
        address: address.clone(),
        port,
        via,
    };
    let report = crate::probe::check(&target, &ca.certs, crate::probe::Timeouts::default()).await;
    let tls = TlsKnown {
        address: target.display(),
        result: report.verdict.result(),
        checked_at: pgssl_wire::clock::now_rfc3339_millis(),
    };
    let id = instance_id.to_string();
    let _ = session
        .store
        .inventory
        .update(move |inv| inv.note_tls(&id, tls));
    let journal = &session.store.journal;
    if let Ok((entries, _)) = journal.latest(1, Some(instance_id))
        && let Some(entry) = entries.last()
    {
        // Best effort: the check happened whether or not its line is kept.
        let _ = journal.append(&Record::Verify {
            id: entry.request.id.clone(),
            time: now_rfc3339(),
            address: target.display(),
            result: report.verdict.result(),
            detail: report.verdict.sentence(&target.display()),
        });
    }
    Ok(Verified { report, ca, target })
}
