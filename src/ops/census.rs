//! The census: log in to an instance with the monitoring login and count its client
//! connections (`census::QUERY`). Over TLS with the instance's CA whenever SSL is on
//! (verify-full against the protected address, verify-ca elsewhere, saying which); over
//! plaintext only with SCRAM or no password, never a cleartext or MD5 password. Bounded
//! in time; the password never reaches a message.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error as TlsError, SignatureScheme};
use tokio_postgres::tls::MakeTlsConnect;

use super::{OpsError, Session};
use crate::census::login::{self, Login, PasswordFrom};
use crate::census::{Census, Row};
use crate::domain::Instance;
use crate::text::sanitize;

/// How long a census may take, all of it (connect, TLS, login, two queries).
pub const TIME_LIMIT: Duration = Duration::from_secs(8);

/// Where and how to count.
#[derive(Debug, Clone, Default)]
pub struct CensusRequest {
    /// Another address of the instance (default: the protected one, else its private).
    pub address: Option<String>,
    pub port: Option<u16>,
    /// Reach the address through here (a tunnel, the demo's stand-in).
    pub via: Option<std::net::SocketAddr>,
    /// The instance's CA from a file instead of the kept one.
    pub ca_file: Option<std::path::PathBuf>,
}

/// How the census connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    /// TLS, the certificate checked against the CA and the address's name.
    VerifyFull,
    /// TLS, the chain checked against the CA, not the name (not the protected address).
    VerifyCa,
    /// No TLS (SSL is off): only SCRAM or no password.
    Plaintext,
}

impl Channel {
    pub fn said(self) -> &'static str {
        match self {
            Channel::VerifyFull => "over TLS, verify-full",
            Channel::VerifyCa => {
                "over TLS, verify-ca (the certificate names another address than this one)"
            }
            Channel::Plaintext => "without TLS (SSL is off), SCRAM login",
        }
    }
}

/// A census taken.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Taken {
    #[serde(flatten)]
    pub census: Census,
    /// `10.6.0.4:5432`.
    pub address: String,
    pub channel: Channel,
    pub user: String,
    /// Said when this login cannot see other users' sessions (no pg_monitor).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Take the census of `info` (just described).
pub async fn take(
    session: &Session,
    info: &Instance,
    request: &CensusRequest,
) -> Result<Taken, OpsError> {
    let protected = info.protected_host().map(ToString::to_string);
    let (host, port) = match (&request.address, &protected) {
        (Some(a), _) => (a.clone(), request.port),
        (None, Some(p)) => (p.clone(), None),
        (None, None) => {
            let a = info
                .addresses
                .iter()
                .find(|a| a.kind == crate::addresses::AddressKind::Private)
                .or_else(|| info.addresses.first())
                .ok_or_else(|| {
                    OpsError::Usage(format!(
                        "{} lists no address to count clients at: pass --address HOST[:PORT]",
                        info.id
                    ))
                })?;
            (a.host.to_string(), None)
        }
    };
    let port = port.unwrap_or_else(|| {
        crate::addresses::Host::parse(&host)
            .ok()
            .and_then(|h| info.addresses.iter().find(|a| a.is(&h)))
            .map_or(5432, crate::addresses::Address::port_or_default)
    });
    let via = request.via.or_else(|| session.reach.via_for(&host));
    session.reach.allows(&host, via)?;
    let login = login_for(session, &host, port)?;
    let ssl_on = info.ssl_state().is_some_and(|s| s.enabled);
    let shown = format!("{}:{port}", sanitize(&host));
    let work = async {
        let stream = connect(&host, port, via).await?;
        if ssl_on {
            let ca = match &request.ca_file {
                Some(path) => super::ca::load_ca_file(path)?,
                None => kept_ca(session, info).await?,
            };
            let full = protected.as_deref() == Some(host.as_str());
            let channel = if full {
                Channel::VerifyFull
            } else {
                Channel::VerifyCa
            };
            let config = tls_config(&ca.certs, full)?;
            let mut make = tokio_postgres_rustls::MakeRustlsConnect::new(config);
            let tls = <tokio_postgres_rustls::MakeRustlsConnect as MakeTlsConnect<
                tokio::net::TcpStream,
            >>::make_tls_connect(&mut make, &host)
            .map_err(|e| OpsError::Usage(format!("{shown}: {}", sanitize(&e.to_string()))))?;
            let mut cfg = pg_config(&login);
            cfg.ssl_mode(tokio_postgres::config::SslMode::Require);
            let (client, connection) = cfg
                .connect_raw(stream, tls)
                .await
                .map_err(|e| refused(&shown, &login, &e))?;
            count(client, connection, &shown, &login, channel).await
        } else {
            // Before any password leaves without TLS: what will the server ask for?
            let target = crate::probe::Target {
                address: host.clone(),
                port,
                via,
            };
            match crate::probe::plaintext(&target, &login.user, crate::probe::Timeouts::default())
                .await
            {
                crate::probe::Plaintext::Accepted(auth)
                    if auth.exposes_password() && login.password.is_some() =>
                {
                    return Err(OpsError::Unchecked(format!(
                        "{shown} asks for a {} password over a connection without TLS: pgssl will not send it (anyone on the way could read or replay it); use a SCRAM login, or count once SSL is on",
                        if auth == crate::probe::Auth::Md5 {
                            "MD5-hashed"
                        } else {
                            "cleartext"
                        }
                    )));
                }
                crate::probe::Plaintext::Accepted(_) => {}
                crate::probe::Plaintext::Refused(why) => {
                    return Err(OpsError::Unchecked(format!(
                        "{shown} refused the census login without TLS: {why}"
                    )));
                }
                crate::probe::Plaintext::Unreachable(why) => {
                    return Err(OpsError::Unchecked(format!(
                        "could not reach {shown} for the census: {why}"
                    )));
                }
            }
            let mut cfg = pg_config(&login);
            cfg.ssl_mode(tokio_postgres::config::SslMode::Disable);
            let (client, connection) = cfg
                .connect_raw(stream, tokio_postgres::NoTls)
                .await
                .map_err(|e| refused(&shown, &login, &e))?;
            count(client, connection, &shown, &login, Channel::Plaintext).await
        }
    };
    match tokio::time::timeout(TIME_LIMIT, work).await {
        Ok(result) => result,
        Err(_) => Err(OpsError::Unchecked(format!(
            "the census of {shown} took more than {}s: nothing was counted",
            TIME_LIMIT.as_secs()
        ))),
    }
}

/// The login for `host:port`, or why there is none (with how to get one).
fn login_for(session: &Session, host: &str, port: u16) -> Result<Login, OpsError> {
    let env = session.login_env.clone();
    let passfile = env.passfile_path().and_then(|path| {
        let text = crate::store::bounded::read(&path, 64 << 10).ok()?;
        let text = String::from_utf8(text).ok()?;
        Some((text, private(&path)))
    });
    login::resolve(
        &env,
        &session.guard.monitor,
        host,
        port,
        passfile.as_ref().map(|(t, p)| (t.as_str(), *p)),
    )
    .map_err(OpsError::Usage)?
    .ok_or_else(|| {
        OpsError::Usage(
            "no login for the census: set PGUSER (with PGPASSWORD or ~/.pgpass), or `[monitor] user = \"...\"` in config.toml; a member of pg_monitor sees every session".into(),
        )
    })
}

/// Readable by its owner only (libpq ignores a password file others can read).
fn private(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| matches!(m.permissions().mode() & 0o077, 0))
}

fn pg_config(login: &Login) -> tokio_postgres::Config {
    let mut cfg = tokio_postgres::Config::new();
    cfg.user(&login.user)
        .dbname(&login.database)
        .application_name("pgssl census")
        .connect_timeout(Duration::from_secs(5));
    if let Some(p) = &login.password {
        cfg.password(p.expose());
    }
    cfg
}

async fn connect(
    host: &str,
    port: u16,
    via: Option<std::net::SocketAddr>,
) -> Result<tokio::net::TcpStream, OpsError> {
    let shown = format!("{}:{port}", sanitize(host));
    let attempt = async {
        match via {
            Some(addr) => tokio::net::TcpStream::connect(addr).await,
            None => tokio::net::TcpStream::connect((host, port)).await,
        }
    };
    match tokio::time::timeout(Duration::from_secs(5), attempt).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(OpsError::Unchecked(format!(
            "could not reach {shown} for the census: {}",
            sanitize(&e.to_string())
        ))),
        Err(_) => Err(OpsError::Unchecked(format!(
            "could not reach {shown} for the census: no connection within 5s"
        ))),
    }
}

/// A login the server refused, in one line that never holds the password.
fn refused(shown: &str, login: &Login, e: &tokio_postgres::Error) -> OpsError {
    let why = e
        .as_db_error()
        .map_or_else(|| e.to_string(), |d| d.message().to_string());
    let mut why = sanitize(&why).into_owned();
    if let Some(p) = &login.password
        && !p.expose().is_empty()
    {
        why = why.replace(p.expose(), "***");
    }
    let hint = match login.from {
        PasswordFrom::None => " (no password was given: PGPASSWORD or ~/.pgpass)",
        PasswordFrom::Env | PasswordFrom::PassFile => "",
    };
    OpsError::Unchecked(format!(
        "{shown} refused the census login as {}: {why}{hint}",
        login.user
    ))
}

/// Run the queries and count.
async fn count<S, T>(
    client: tokio_postgres::Client,
    connection: tokio_postgres::Connection<S, T>,
    shown: &str,
    login: &Login,
    channel: Channel,
) -> Result<Taken, OpsError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let failed = |e: tokio_postgres::Error| {
        OpsError::Unchecked(format!(
            "the census query on {shown} failed: {}",
            sanitize(
                &e.as_db_error()
                    .map_or_else(|| e.to_string(), |d| d.message().to_string())
            )
        ))
    };
    let sees_all: bool = client
        .query_one(crate::census::SEES_ALL, &[])
        .await
        .map_err(failed)?
        .try_get(0)
        .unwrap_or(false);
    let rows = client
        .query(crate::census::QUERY, &[])
        .await
        .map_err(failed)?;
    drop(client);
    driver.abort();
    let rows: Vec<Row> = rows
        .iter()
        .take(100_000)
        .map(|r| Row {
            ssl: r.try_get(0).ok().flatten(),
            version: r.try_get(1).ok().flatten(),
            cipher: r.try_get(2).ok().flatten(),
            client_addr: r.try_get(3).ok().flatten(),
            application_name: r.try_get(4).ok().flatten(),
            usename: r.try_get(5).ok().flatten(),
        })
        .collect();
    let census = Census::of(&rows);
    let note = (!sees_all).then(|| {
        format!(
            "{} is not a member of pg_monitor: other users' sessions are hidden from it (GRANT pg_monitor TO {})",
            login.user, login.user
        )
    });
    Ok(Taken {
        census,
        address: shown.to_string(),
        channel,
        user: login.user.clone(),
        note,
    })
}

/// The instance's CA to trust, as the TLS check takes it (`ops::ca::trusted`): inline
/// or authenticated, fetched now (a CA can change), else the copy kept; a CAUrl over
/// plain http from another host only once confirmed.
async fn kept_ca(session: &Session, info: &Instance) -> Result<super::CaBundle, OpsError> {
    let ssl = info
        .ssl_state()
        .cloned()
        .unwrap_or(crate::domain::SslState::OFF);
    super::ca::trusted(&session.store.paths, &info.id, &ssl).await
}

/// rustls for the census: the instance's CA only; the name checked too (`full`), or not.
fn tls_config(
    certs: &[CertificateDer<'static>],
    full: bool,
) -> Result<rustls::ClientConfig, OpsError> {
    crate::api::client::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    for c in certs {
        roots
            .add(c.clone())
            .map_err(|e| OpsError::Usage(format!("the instance's CA is not usable: {e}")))?;
    }
    let verifier = WebPkiServerVerifier::builder(Arc::new(roots))
        .build()
        .map_err(|e| OpsError::Usage(format!("the instance's CA is not usable: {e}")))?;
    let builder = rustls::ClientConfig::builder();
    Ok(if full {
        builder.with_webpki_verifier(verifier).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnly(verifier)))
            .with_no_client_auth()
    })
}

/// verify-ca: the chain must lead to the instance's CA; the name is not checked (the
/// certificate names the protected address, and this is another).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(TlsError::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The verdict after a change: enforced in practice or not (enable), or how many still
/// use TLS (disable: they reconnected without it since the restart).
pub fn verdict(census: &Census, enabled: bool) -> String {
    if enabled {
        census.verdict_after_enable()
    } else if census.tls == 0 {
        format!(
            "disabled: {} connection(s), none over TLS",
            census.connections
        )
    } else {
        format!(
            "disabled, yet {} connection(s) still over TLS (from before the restart, or another address)",
            census.tls
        )
    }
}

/// How long a plan waits for its census before it is shown without one.
pub const PLAN_LIMIT: Duration = Duration::from_secs(4);

/// Whether a census login is set (PGUSER, or `[monitor] user`): without one, a plan says
/// how to get the census instead of trying.
pub fn has_login(session: &Session) -> bool {
    session.login_env.user.is_some() || session.guard.monitor.user.is_some()
}

/// What a plan's confirm says of the clients (never blocking it more than `PLAN_LIMIT`):
/// the census, and what the change means for them; or why there is none.
pub async fn plan_lines(session: &Session, plan: &super::Plan) -> Vec<String> {
    if !has_login(session) {
        return vec![
            "Clients:  not counted: set PGUSER (with PGPASSWORD or ~/.pgpass) or [monitor] user in config.toml to see who is connected before the change".into(),
        ];
    }
    match tokio::time::timeout(
        PLAN_LIMIT,
        take(session, &plan.instance, &CensusRequest::default()),
    )
    .await
    {
        Err(_) => vec![format!(
            "Clients:  not counted: the census took more than {}s",
            PLAN_LIMIT.as_secs()
        )],
        Ok(Err(e)) => vec![format!("Clients:  not counted ({e})")],
        Ok(Ok(t)) => census_lines(&t.census, plan),
    }
}

/// The census lines of a plan (pure): how many, and what the change does to them.
pub fn census_lines(census: &Census, plan: &super::Plan) -> Vec<String> {
    use super::Target;
    let mut lines = vec![format!("Clients:  {}", census.summary())];
    let now = plan.current();
    let extra = match (&plan.target, now) {
        (Target::Off, _) => census.before_disable(),
        (Target::On(a), Some(s)) if s.enabled && s.protected.as_ref() != Some(&a.host) => {
            (census.tls > 0).then(|| {
                format!(
                    "          {} connection(s) use TLS now: clients with sslmode=verify-full to {} will fail once the certificate names {} instead",
                    census.tls,
                    s.protected
                        .as_ref()
                        .map_or_else(|| "the old address".into(), ToString::to_string),
                    a.host
                )
            })
        }
        (Target::On(_), _) => census.before_enable(),
    };
    lines.extend(extra.map(|l| l.replacen("Clients:  ", "          ", 1)));
    lines
}

/// Censuses taken at once for a plan of many.
const AT_ONCE: usize = 8;
/// A plan of many counts its first instances only: enough to see the blast radius
/// without holding the confirm (the rest are said not counted).
pub const BULK_COUNTED: usize = 40;

/// What a plan of many says of the clients: the totals over the instances counted, and a
/// line per instance the change would matter to (plaintext ones before enabling, TLS ones
/// before disabling); within `PLAN_LIMIT` in all, or why not.
pub async fn bulk_lines(session: &Session, changes: &[super::Plan]) -> Vec<String> {
    use futures_util::stream::{self, StreamExt};
    if changes.is_empty() {
        return Vec::new();
    }
    if !has_login(session) {
        return vec![
            "Clients:  not counted: set PGUSER (with PGPASSWORD or ~/.pgpass) or [monitor] user in config.toml to see who is connected before the changes".into(),
        ];
    }
    let counted: Vec<super::Plan> = changes.iter().take(BULK_COUNTED).cloned().collect();
    let count = counted.len();
    let work = stream::iter(counted.into_iter().map(|p| census_one(session, p)))
        .buffer_unordered(AT_ONCE)
        .collect::<Vec<_>>();
    let Ok(results) = tokio::time::timeout(PLAN_LIMIT * 2, work).await else {
        return vec![format!(
            "Clients:  not counted: the census of {} instance(s) took more than {}s",
            count,
            (PLAN_LIMIT * 2).as_secs()
        )];
    };
    bulk_summary(&results, changes.len())
}

/// One instance's census for a plan of many.
async fn census_one(session: &Session, p: super::Plan) -> (super::Plan, Result<Taken, OpsError>) {
    let r = take(session, &p.instance, &CensusRequest::default()).await;
    (p, r)
}

/// The lines of a plan of many (pure): totals, then the instances it matters to.
pub fn bulk_summary(
    results: &[(super::Plan, Result<Taken, OpsError>)],
    planned: usize,
) -> Vec<String> {
    let (mut tls, mut plain, mut ok, mut failed) = (0, 0, 0, 0);
    let mut notable = Vec::new();
    let mut sorted: Vec<&(super::Plan, Result<Taken, OpsError>)> = results.iter().collect();
    sorted.sort_by(|a, b| a.0.instance.id.cmp(&b.0.instance.id));
    for (p, r) in sorted {
        match r {
            Ok(t) => {
                ok += 1;
                tls += t.census.tls;
                plain += t.census.plaintext;
                let line = if p.enables() {
                    (t.census.plaintext > 0).then(|| {
                        format!(
                            "          {}: {} plaintext ({}): they will stay plaintext",
                            p.instance.id,
                            t.census.plaintext,
                            t.census.plaintext_from()
                        )
                    })
                } else {
                    (t.census.tls > 0).then(|| {
                        format!(
                            "          {}: {} over TLS: sslmode=require or verify-* clients will fail to reconnect",
                            p.instance.id, t.census.tls
                        )
                    })
                };
                notable.extend(line);
            }
            Err(_) => failed += 1,
        }
    }
    let mut lines = vec![format!(
        "Clients:  {tls} over TLS, {plain} plaintext on the {ok} instance(s) counted{}{}",
        if failed > 0 {
            format!(", {failed} not counted")
        } else {
            String::new()
        },
        if planned > results.len() {
            format!(
                ", {} more not counted (the first {} are)",
                planned - results.len(),
                results.len()
            )
        } else {
            String::new()
        }
    )];
    lines.extend(notable);
    lines
}
