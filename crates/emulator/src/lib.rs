//! A local stand-in for the TencentDB for PostgreSQL API, on loopback: `pgssl emulator`,
//! and in-process behind `--demo` and the tests. It verifies signatures with the same
//! signer the client uses, keeps a fleet of instances with SSL state and tasks, and can
//! inject faults. What it does and does not prove is listed in docs/emulator.md.

pub mod ca;
pub mod faults;
pub mod fleet;
pub mod identity;
pub mod pg;
pub mod pgserver;
pub mod server;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

pub use faults::{FaultArgs, Faults, TaskEnd};
pub use fleet::Fleet;
pub use identity::IdentityArgs;
use pgssl_wire::credential::Secret;
pub use server::{Key, LogFn, Served};

#[derive(Clone, Args)]
pub struct EmulatorArgs {
    /// Address to listen on (loopback only); port 0 picks a free port
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Fleet file (JSON with DBInstanceSet, ReadOnlyGroupList, SSLConfigSet); default: the demo fleet
    #[arg(long, value_name = "FILE")]
    pub fleet: Option<PathBuf>,
    /// SecretId to accept (default: generated and printed)
    #[arg(long, value_name = "ID")]
    pub secret_id: Option<String>,
    /// SecretKey to accept (default: generated and printed). Also from the environment
    /// (PGSSL_EMULATOR_SECRET_KEY) or a file (--secret-key-file), where `ps` cannot see it
    #[arg(
        long,
        value_name = "KEY",
        requires = "secret_id",
        env = "PGSSL_EMULATOR_SECRET_KEY",
        hide_env_values = true,
        conflicts_with = "secret_key_file"
    )]
    pub secret_key: Option<String>,
    /// Read the SecretKey to accept from this file (its first line)
    #[arg(long, value_name = "FILE", requires = "secret_id")]
    pub secret_key_file: Option<PathBuf>,
    /// Require this session token (X-TC-Token) with the key
    #[arg(long, value_name = "TOKEN", requires = "secret_id")]
    pub token: Option<String>,
    /// How long an SSL change task runs before it ends
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub task_seconds: u32,
    /// Stand a real local PostgreSQL server in for this instance's addresses (needs
    /// PostgreSQL installed); its certificate follows the instance's SSL changes
    #[arg(long, value_name = "INSTANCE")]
    pub postgres_for: Option<String>,
    /// Serve https, with a certificate for 127.0.0.1 and localhost made at start by a CA
    /// of its own; the CA is written to --tls-ca-out (default: a file in the temp dir) and
    /// its path printed, to trust with SSL_CERT_FILE
    #[arg(long)]
    pub tls: bool,
    /// With --tls: write the CA that signed the API's certificate here
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub tls_ca_out: Option<PathBuf>,
    #[command(flatten)]
    pub identity: IdentityArgs,
    #[command(flatten)]
    pub ca: ca::CaArgs,
    #[command(flatten)]
    pub faults: FaultArgs,
}

impl std::fmt::Debug for EmulatorArgs {
    // By hand, so the key and token given on the command line never reach Debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorArgs")
            .field("listen", &self.listen)
            .field("fleet", &self.fleet)
            .field(
                "secret_id",
                &self
                    .secret_id
                    .as_deref()
                    .map(pgssl_wire::credential::mask_secret_id),
            )
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field("secret_key_file", &self.secret_key_file)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("task_seconds", &self.task_seconds)
            .field("postgres_for", &self.postgres_for)
            .field("tls", &self.tls)
            .field("tls_ca_out", &self.tls_ca_out)
            .field("account", &self.identity.account)
            .field("cvm_role", &self.identity.cvm_role)
            .field("ca", &self.ca)
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

/// Everything needed to start an emulator.
pub struct EmulatorConfig {
    pub listen: SocketAddr,
    pub fleet: Fleet,
    pub key: Key,
    pub task_seconds: i64,
    pub faults: Faults,
    pub log: Option<LogFn>,
    /// Serve https with a certificate made at start (`--tls`).
    pub tls: bool,
    /// The account, its roles, the CVM role and the OIDC token accepted.
    pub identity: IdentityArgs,
    /// The instance CA to hand out (the demo keeps its own between runs); None: one
    /// generated at start.
    pub ca: Option<ca::CertificateAuthority>,
}

/// A running emulator. Dropping it stops accepting connections.
pub struct Running {
    pub addr: SocketAddr,
    pub key: Key,
    pub shared: Arc<server::Shared>,
    accept: tokio::task::JoinHandle<()>,
    /// With `--tls`: the CA that signed the API's certificate (PEM), for clients to trust.
    pub api_ca_pem: Option<String>,
}

impl Running {
    pub fn endpoint(&self) -> String {
        let scheme = if self.api_ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.accept.abort();
        self.shared.close();
    }
}

/// A fresh random key, in the shape of Tencent's.
pub fn generated_key() -> Key {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    Key {
        secret_id: format!("AKID{}", pgssl_wire::ids::random_string(32, ALNUM)),
        secret_key: Secret::new(pgssl_wire::ids::random_string(32, ALNUM)),
        token: None,
    }
}

/// Bind and start serving on the current tokio runtime.
pub async fn start(config: EmulatorConfig) -> Result<Running, String> {
    if !config.listen.ip().is_loopback() {
        return Err(format!(
            "refusing to listen on {}: the emulator serves plain http and accepts test keys, so it binds loopback only (e.g. 127.0.0.1:0)",
            config.listen
        ));
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {} ({e})", config.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address ({e})"))?;
    let ca = match config.ca {
        Some(ca) => ca,
        None => ca::CertificateAuthority::generate(ca::CA_NAME)?,
    };
    let (acceptor, api_ca_pem) = if config.tls {
        let (acceptor, pem) = tls_acceptor()?;
        (Some(acceptor), Some(pem))
    } else {
        (None, None)
    };
    let identities = identity::Identities::new(config.identity)?;
    let shared = Arc::new(server::Shared::new(
        config.fleet,
        (vec![config.key.clone()], identities),
        config.faults,
        config.task_seconds,
        Arc::new(ca),
        (addr, config.tls),
        config.log,
    ));
    let accept = tokio::spawn(server::serve(listener, shared.clone(), acceptor));
    Ok(Running {
        addr,
        key: config.key,
        shared,
        accept,
        api_ca_pem,
    })
}

/// The names the `--tls` certificate carries: loopback by address and by name, and a
/// reserved name (RFC 2606) that only a test's own proxy resolves, to rehearse CONNECT.
pub const TLS_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "pgssl-emulator.invalid"];

/// A certificate for the API itself, made at start by a CA of its own, and the acceptor
/// that serves it. Returns the CA's PEM, for the client to trust.
fn tls_acceptor() -> Result<(tokio_rustls::TlsAcceptor, String), String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let api_ca = ca::CertificateAuthority::generate("pgssl emulator API CA")?;
    let now = time::OffsetDateTime::now_utc();
    let names: Vec<String> = TLS_NAMES.iter().map(|n| (*n).to_string()).collect();
    let issued = api_ca.issue(
        &names,
        now - time::Duration::hours(1),
        now + time::Duration::days(7),
    )?;
    let chain = vec![
        CertificateDer::from_pem_slice(issued.cert_pem.as_bytes())
            .map_err(|e| format!("the API certificate does not parse: {e}"))?,
    ];
    let key = PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes())
        .map_err(|e| format!("the API key does not parse: {e}"))?;
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    Ok((
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        api_ca.cert_pem(),
    ))
}

/// Start a local PostgreSQL server for `instance_id` on `port`, in the background, and
/// attach it when it is up. Returns at once. The server follows the instance's SSL state.
/// Join the returned thread before exiting, or a server still starting would outlive pgssl.
pub fn attach_postgres(
    shared: Arc<server::Shared>,
    instance_id: String,
    port: u16,
) -> std::thread::JoinHandle<()> {
    attach(shared, instance_id, port, None)
}

/// The same, with a census to take: a monitoring login (`pg::MONITOR_USER`, by SCRAM
/// with `password`) and client connections held open, some over TLS once SSL is on.
pub fn attach_postgres_with_clients(
    shared: Arc<server::Shared>,
    instance_id: String,
    port: u16,
    password: String,
) -> std::thread::JoinHandle<()> {
    attach(shared, instance_id, port, Some(password))
}

fn attach(
    shared: Arc<server::Shared>,
    instance_id: String,
    port: u16,
    census: Option<String>,
) -> std::thread::JoinHandle<()> {
    let handle = tokio::runtime::Handle::current();
    std::thread::spawn(move || {
        if shared.is_closed() {
            return;
        }
        let hba = census.as_ref().map(|_| pg::HBA);
        let started =
            crate::pgserver::LocalPostgres::start_with(Some(port), crate::pgserver::Ssl::Off, hba)
                .and_then(|server| match &census {
                    Some(password) => {
                        pg::PgBackend::with_clients(instance_id.clone(), server, password)
                    }
                    None => Ok(pg::PgBackend::new(instance_id.clone(), server)),
                });
        match started {
            Ok(backend) => {
                shared.set_pg(backend);
                handle.block_on(pg::sync(&shared));
            }
            Err(e) => {
                if let Some(log) = &shared.log {
                    log(format!("postgres backend not started: {e}"));
                }
            }
        }
    })
}

/// Attach a local PostgreSQL server already started (with the pg_hba.conf and roles a
/// test needs) for `instance_id`; its SSL then follows the instance's.
pub async fn attach_started(
    shared: Arc<server::Shared>,
    instance_id: String,
    server: crate::pgserver::LocalPostgres,
) {
    shared.set_pg(pg::PgBackend::new(instance_id, server));
    pg::sync(&shared).await;
}

/// The instance's addresses mapped to a local port, as PGSSL_ADDRESS_MAP spells it.
pub fn address_map_for(fleet: &Fleet, instance_id: &str, port: u16) -> Vec<(String, SocketAddr)> {
    fleet
        .instances
        .iter()
        .find(|i| i.id() == instance_id)
        .map(|i| {
            fleet
                .allowed_addresses(i)
                .into_iter()
                .map(|ip| (ip, SocketAddr::from(([127, 0, 0, 1], port))))
                .collect()
        })
        .unwrap_or_default()
}

/// `pgssl emulator`: serve until interrupted, logging each request to stderr.
pub async fn run(args: EmulatorArgs) -> Result<(), String> {
    let fleet = match &args.fleet {
        Some(path) => Fleet::load(path)?,
        None => Fleet::demo(),
    };
    let generated = args.secret_id.is_none();
    let from_file = match &args.secret_key_file {
        // A key is a line of a few dozen characters.
        Some(path) => Some(
            pgssl_wire::bounded::read_to_string(path, 64 << 10)
                .map_err(|e| {
                    format!(
                        "--secret-key-file {}: cannot read it ({e})",
                        pgssl_wire::text::sanitize(&path.display().to_string())
                    )
                })?
                .lines()
                .next()
                .unwrap_or("")
                .to_string(),
        ),
        None => None,
    };
    let key = match (
        &args.secret_id,
        args.secret_key.as_ref().or(from_file.as_ref()),
    ) {
        (Some(_), None) => {
            return Err("--secret-id needs the key too: --secret-key, PGSSL_EMULATOR_SECRET_KEY or --secret-key-file".into());
        }
        (Some(id), Some(key)) => {
            pgssl_wire::credential::Credential::new(id, key, args.token.as_deref())
                .map_err(|e| format!("--secret-id/--secret-key: {e}"))?;
            Key {
                secret_id: id.clone(),
                secret_key: Secret::new(key.clone()),
                token: args.token.clone().map(Secret::new),
            }
        }
        _ => generated_key(),
    };
    let faults = Faults::new(args.faults.clone())?;
    let pg = match &args.postgres_for {
        Some(id) => {
            if !fleet.instances.iter().any(|i| i.id() == id) {
                return Err(format!(
                    "--postgres-for {}: no such instance in the fleet",
                    pgssl_wire::text::sanitize(id)
                ));
            }
            if crate::pgserver::find_bin().is_none() {
                return Err(
                    "--postgres-for needs PostgreSQL installed (apt-get install postgresql)".into(),
                );
            }
            let port = crate::pgserver::free_port().map_err(|e| e.to_string())?;
            Some((id.clone(), port, address_map_for(&fleet, id, port)))
        }
        None => None,
    };
    let log: LogFn = Arc::new(|line| eprintln!("{line}"));
    let running = start(EmulatorConfig {
        listen: args.listen,
        fleet,
        key,
        task_seconds: i64::from(args.task_seconds),
        faults,
        log: Some(log),
        tls: args.tls,
        identity: args.identity.clone(),
        ca: None,
    })
    .await?;
    running.shared.set_ca_serving(args.ca.clone());
    println!("pgssl emulator listening on {}", running.endpoint());
    if let Some(pem) = &running.api_ca_pem {
        let path = args.tls_ca_out.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("pgssl-emulator-ca-{}.pem", running.addr.port()))
        });
        std::fs::write(&path, pem).map_err(|e| {
            format!(
                "cannot write the CA to {} ({e})",
                pgssl_wire::text::sanitize(&path.display().to_string())
            )
        })?;
        // The path is the person's argument: shown as visible escapes, as all outside text.
        let shown = pgssl_wire::text::sanitize(&path.display().to_string()).into_owned();
        println!(
            "its certificate is signed by the CA in {shown}: trust it with SSL_CERT_FILE={shown}"
        );
    }
    if generated {
        println!("use these throwaway credentials (they only work here):");
        println!("  export TENCENTCLOUD_SECRET_ID={}", running.key.secret_id);
        println!(
            "  export TENCENTCLOUD_SECRET_KEY={}",
            running.key.secret_key.expose()
        );
    } else {
        println!(
            "accepting SecretId {}",
            pgssl_wire::credential::mask_secret_id(&running.key.secret_id)
        );
    }
    println!(
        "  pgssl --endpoint {} --region ap-guangzhou instances list --remote",
        running.endpoint()
    );
    println!("CA certificate (CAUrl): {}", running.shared.ca_url());
    let mut starting = None;
    let mut passfile_made = None;
    if let Some((id, port, map)) = pg {
        // The census's login: its password only in a 0600 file, named by PGPASSFILE.
        let password = pgssl_wire::ids::random_string(24, b"abcdefghijkmnpqrstuvwxyz23456789");
        let passfile = std::env::temp_dir().join(format!(
            "pgssl-emulator-{}-{:x}.pgpass",
            std::process::id(),
            pgssl_wire::ids::random_u64()
        ));
        {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&passfile)
                .map_err(|e| format!("cannot write {} ({e})", passfile.display()))?;
            writeln!(f, "*:*:*:{}:{password}", pg::MONITOR_USER)
                .map_err(|e| format!("cannot write {} ({e})", passfile.display()))?;
        }
        starting = Some(attach_postgres_with_clients(
            running.shared.clone(),
            id.clone(),
            port,
            password,
        ));
        let map: Vec<String> = map.iter().map(|(a, to)| format!("{a}={to}")).collect();
        println!(
            "PostgreSQL for {id} on 127.0.0.1:{port}; for `pgssl verify` and `pgssl clients`:"
        );
        println!("  export PGSSL_ADDRESS_MAP={}", map.join(","));
        println!(
            "  export PGUSER={} PGPASSFILE={}",
            pg::MONITOR_USER,
            passfile.display()
        );
        passfile_made = Some(passfile);
    }
    let _ = std::io::stdout().flush();
    // Stop on Ctrl-C or SIGTERM, and take the PostgreSQL stand-in down with us.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot watch SIGTERM ({e})"))?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    running.shared.close();
    if let Some(p) = passfile_made {
        let _ = std::fs::remove_file(p);
    }
    if let Some(t) = starting {
        let _ = t.join();
    }
    running.shared.close();
    Ok(())
}
