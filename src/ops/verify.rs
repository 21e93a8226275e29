//! The live TLS check of the address SSL protects, against the instance's CA (`ca`: the
//! one it trusts, or `--ca FILE`).

pub use super::ca::{CaBundle, load_ca_file};
use super::refusal::VerifyRefusal;
use super::{OpsError, Session};
use crate::addresses::Address;
use crate::domain::{Instance, SslState, TlsKnown};
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
        let path = self.ca.path.display().to_string();
        crate::probe::render(
            &self.report,
            // `sslrootcert` takes PEM: a --ca file in another form is not offered there.
            self.ca.pem.then_some(path.as_str()),
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
    let ca = if let Some(path) = &request.ca_file {
        load_ca_file(path)?
    } else {
        if !ssl.enabled {
            return Err(OpsError::refused(VerifyRefusal::NoCaToCheck {
                id: instance_id.to_string(),
            }));
        }
        let bundle = super::ca::trusted(&session.store.paths, instance_id, &ssl).await?;
        if bundle.origin != super::ca::CaOrigin::Kept {
            super::ca::note_ca(session, instance_id, &bundle);
        }
        bundle
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
