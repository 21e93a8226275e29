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
    /// Client connections held open for the census to count (`with_clients`).
    clients: Mutex<Vec<tokio_postgres::Client>>,
    /// Whether to hold some: plaintext ones at once, TLS ones once SSL is on.
    hold_clients: bool,
}

/// The stand-in's census login: a member of pg_monitor, by SCRAM.
pub const MONITOR_USER: &str = "pgssl_monitor";
/// Plaintext clients held at start, and TLS clients held once SSL is on.
const PLAINTEXT_CLIENTS: (&str, usize) = ("billing-worker", 3);
const TLS_CLIENTS: (&str, usize) = ("orders-api", 2);

/// pg_hba.conf of a stand-in with a census login: the superuser on the local socket,
/// the monitoring login by SCRAM, the applications trusted (the stand-in's own).
pub const HBA: &str = "local all all trust\n\
    host all pgssl_monitor 127.0.0.1/32 scram-sha-256\n\
    host all app 127.0.0.1/32 trust\n";

impl PgBackend {
    pub fn new(instance_id: String, server: LocalPostgres) -> PgBackend {
        PgBackend {
            instance_id,
            server,
            applied: Mutex::new(None),
            clients: Mutex::new(Vec::new()),
            hold_clients: false,
        }
    }

    /// A stand-in whose census shows something: the monitoring login (with `password`)
    /// and the applications' role are made, and client connections are held.
    pub fn with_clients(
        instance_id: String,
        server: LocalPostgres,
        password: &str,
    ) -> Result<PgBackend, String> {
        if password.contains('\'') || password.len() > 128 {
            return Err("the census password must be short and without quotes".into());
        }
        server.sql(&format!(
            "CREATE ROLE {MONITOR_USER} LOGIN PASSWORD '{password}' IN ROLE pg_monitor; CREATE ROLE app LOGIN;"
        ))?;
        let mut b = PgBackend::new(instance_id, server);
        b.hold_clients = true;
        Ok(b)
    }

    /// Open and hold `n` client connections named `app`, over TLS (checked against
    /// `ca_pem` and `name`) or not.
    async fn hold(&self, app: &str, n: usize, tls: Option<(&str, &str)>) -> Result<(), String> {
        let mut opened = Vec::new();
        for _ in 0..n {
            let stream = tokio::net::TcpStream::connect(self.server.addr())
                .await
                .map_err(|e| e.to_string())?;
            let mut cfg = tokio_postgres::Config::new();
            cfg.user("app").dbname("postgres").application_name(app);
            let client = match tls {
                None => {
                    let (client, conn) = cfg
                        .connect_raw(stream, tokio_postgres::NoTls)
                        .await
                        .map_err(|e| e.to_string())?;
                    tokio::spawn(conn);
                    client
                }
                Some((ca_pem, name)) => {
                    use tokio_postgres::tls::MakeTlsConnect;
                    let mut roots = rustls::RootCertStore::empty();
                    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(ca_pem.as_bytes())
                        .flatten()
                    {
                        roots.add(cert).map_err(|e| e.to_string())?;
                    }
                    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                        rustls::crypto::ring::default_provider(),
                    ))
                    .with_safe_default_protocol_versions()
                    .map_err(|e| e.to_string())?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                    let mut make = tokio_postgres_rustls::MakeRustlsConnect::new(config);
                    let connect = <tokio_postgres_rustls::MakeRustlsConnect as MakeTlsConnect<
                        tokio::net::TcpStream,
                    >>::make_tls_connect(&mut make, name)
                    .map_err(|e| e.to_string())?;
                    cfg.ssl_mode(tokio_postgres::config::SslMode::Require);
                    let (client, conn) = cfg
                        .connect_raw(stream, connect)
                        .await
                        .map_err(|e| e.to_string())?;
                    tokio::spawn(conn);
                    client
                }
            };
            opened.push(client);
        }
        if let Ok(mut held) = self.clients.lock() {
            held.extend(opened);
        }
        Ok(())
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

/// Bring the backend (if any) in line with the fleet, off the async threads. A backend
/// that holds clients opens its plaintext ones first, and its TLS ones once SSL is on.
pub async fn sync(shared: &Arc<super::server::Shared>) {
    let Some(pg) = shared.pg() else { return };
    let want = shared.fleet().ssl_of(&pg.instance_id);
    if pg.is_current(&want) {
        return;
    }
    let first = pg.applied.lock().is_ok_and(|a| a.is_none());
    let ca = shared.ca.clone();
    let (applying, wanted) = (pg.clone(), want.clone());
    let problem = match tokio::task::spawn_blocking(move || applying.apply(&ca, &wanted)).await {
        Ok(Ok(())) => {
            if !pg.hold_clients {
                return;
            }
            // Plaintext clients from the start (whatever SSL is: SSL on the server does
            // not make clients use it), TLS clients each time SSL comes on.
            let mut held = Ok(());
            if first {
                held = pg
                    .hold(PLAINTEXT_CLIENTS.0, PLAINTEXT_CLIENTS.1, None)
                    .await;
            }
            if let (Ok(()), true, Some(name)) = (&held, want.SSLEnabled, &want.ConnectAddress) {
                let ca = shared.ca.cert_pem();
                held = pg
                    .hold(TLS_CLIENTS.0, TLS_CLIENTS.1, Some((&ca, name)))
                    .await;
            }
            match held {
                Ok(()) => return,
                Err(e) => format!("could not hold client connections: {e}"),
            }
        }
        Ok(Err(e)) => e,
        Err(e) => e.to_string(),
    };
    if let Some(log) = &shared.log {
        log(format!(
            "postgres backend: could not apply the SSL change: {problem}"
        ));
    }
}
