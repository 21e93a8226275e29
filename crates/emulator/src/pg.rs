//! A real PostgreSQL server standing in for one instance's protected address, so a
//! rehearsal (and `--demo`) can end with a real TLS check. When the instance's SSL state
//! changes in the emulator, the server gets a certificate from the emulator's CA that
//! names the new ConnectAddress (or SSL off), and reloads.

use std::sync::{Arc, Mutex};

use super::ca::CertificateAuthority;
use super::fleet::SSLConfig;
use crate::pgserver::{LocalPostgres, Ssl};

pub struct PgBackend {
    pub instance_id: String,
    pub server: LocalPostgres,
    applied: Mutex<Option<SSLConfig>>,
}

impl PgBackend {
    pub fn new(instance_id: String, server: LocalPostgres) -> PgBackend {
        PgBackend {
            instance_id,
            server,
            applied: Mutex::new(None),
        }
    }

    /// Whether the server already reflects `want`.
    pub fn is_current(&self, want: &SSLConfig) -> bool {
        self.applied.lock().is_ok_and(|a| a.as_ref() == Some(want))
    }

    /// Make the server match `want`: a fresh certificate for the protected address, or SSL off.
    pub fn apply(&self, ca: &CertificateAuthority, want: &SSLConfig) -> Result<(), String> {
        let ssl = match (&want.SSLEnabled, &want.ConnectAddress) {
            (true, Some(address)) => {
                let now = time::OffsetDateTime::now_utc();
                let issued = ca.issue(
                    std::slice::from_ref(address),
                    now - time::Duration::days(1),
                    now + time::Duration::days(365),
                )?;
                Ssl::On {
                    cert_pem: issued.cert_pem,
                    key_pem: issued.key_pem,
                }
            }
            _ => Ssl::Off,
        };
        self.server.set_ssl(&ssl)?;
        if let Ok(mut a) = self.applied.lock() {
            *a = Some(want.clone());
        }
        Ok(())
    }
}

/// Bring the backend (if any) in line with the fleet, off the async threads.
pub async fn sync(shared: &Arc<super::server::Shared>) {
    let Some(pg) = shared.pg() else { return };
    let want = shared.fleet().ssl_of(&pg.instance_id);
    if pg.is_current(&want) {
        return;
    }
    let ca = shared.ca.clone();
    let problem = match tokio::task::spawn_blocking(move || pg.apply(&ca, &want)).await {
        Ok(Ok(())) => return,
        Ok(Err(e)) => e,
        Err(e) => e.to_string(),
    };
    if let Some(log) = &shared.log {
        log(format!(
            "postgres backend: could not apply the SSL change: {problem}"
        ));
    }
}
