//! The emulator's HTTP side: authentication exactly as Tencent does it (recomputing
//! TC3 from the request as received, with pgssl's one signer), parameter checks, the
//! actions, the reply envelope, rate limits and injected faults.
//!
//! This module holds the shared state and the request pipeline; `http` shapes the
//! replies, `auth` checks a request before it runs, `params` decodes and checks
//! its parameters and `actions` runs it.

mod actions;
mod auth;
mod http;
mod params;
mod sts;
mod sts_options;

pub use sts::METADATA_ROLES;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};

use super::faults::{Damage, Faults};
use super::fleet::Fleet;
use pgssl_wire::Action;
use pgssl_wire::credential::Secret;

use actions::execute;
use auth::authenticate;
use http::{ca_reply, damaged_reply, envelope, json_reply};

/// Requests per second per action per SecretId, as Tencent documents.
pub const RATE_LIMIT: usize = 20;
const MAX_BODY: usize = 10 << 20;

/// A key the emulator accepts.
#[derive(Debug, Clone)]
pub struct Key {
    pub secret_id: String,
    pub secret_key: Secret,
    pub token: Option<Secret>,
}

pub type LogFn = Arc<dyn Fn(String) + Send + Sync>;

/// One API request the emulator served, as tests count it: typed, so "sent exactly
/// once" is a count of values, never a substring search over log lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// None: the request named no action the emulator knows (refused before it ran).
    pub action: Option<Action>,
    pub region: Option<String>,
    /// The request's `DBInstanceId`, when it has one.
    pub instance: Option<String>,
    /// None: answered without an error; else the error code answered.
    pub code: Option<String>,
    /// The TaskId answered, if any.
    pub task_id: Option<i64>,
    /// A fault injected into this reply (the action ran, the reply was damaged).
    pub damaged: bool,
}

pub struct Shared {
    pub fleet: Mutex<Fleet>,
    pub keys: Vec<Key>,
    /// The account, its roles and the temporary keys handed out.
    pub identities: super::identity::Identities,
    /// Seconds the clock has been moved on at run time (tests of expiry), on top of
    /// `--clock-offset`.
    advanced: std::sync::atomic::AtomicI64,
    pub faults: Faults,
    pub task_seconds: i64,
    pub ca: Arc<super::ca::CertificateAuthority>,
    pub ca_pem: String,
    /// The CA in every form it is served or answered in (replaced when it is rotated).
    ca_files: Mutex<super::ca::CaFiles>,
    /// Times the CA was rotated (`rotate_ca`, `--ca-rotate-after`).
    ca_rotations: std::sync::atomic::AtomicUsize,
    /// Times the CA was handed out, downloaded or inline (`--ca-rotate-after`).
    ca_handed: std::sync::atomic::AtomicUsize,
    /// How the CA is handed out (`--ca-form`, `--ca-inline`, `--ca-host`).
    ca_serving: Mutex<super::ca::CaArgs>,
    /// GET requests for the CA served, whatever the form.
    ca_downloads: std::sync::atomic::AtomicUsize,
    pub addr: SocketAddr,
    /// Serving https (`--tls`): CAUrl is https too.
    pub tls: bool,
    pub log: Option<LogFn>,
    /// Every API request served, in order (`Served`).
    served: Mutex<Vec<Served>>,
    rate: Mutex<HashMap<(Action, String), VecDeque<Instant>>>,
    pg: Mutex<Option<Arc<super::pg::PgBackend>>>,
    closed: std::sync::atomic::AtomicBool,
}

impl Shared {
    pub fn new(
        fleet: Fleet,
        (keys, identities): (Vec<Key>, super::identity::Identities),
        faults: Faults,
        task_seconds: i64,
        ca: Arc<super::ca::CertificateAuthority>,
        (addr, tls): (SocketAddr, bool),
        log: Option<LogFn>,
    ) -> Shared {
        Shared {
            tls,
            fleet: Mutex::new(fleet),
            keys,
            identities,
            advanced: std::sync::atomic::AtomicI64::new(0),
            faults,
            task_seconds,
            ca_pem: ca.cert_pem(),
            ca_files: Mutex::new(super::ca::CaFiles::of(
                &ca,
                u64::try_from(pgssl_wire::clock::unix_now()).unwrap_or(0) * 1000,
            )),
            ca_rotations: std::sync::atomic::AtomicUsize::new(0),
            ca_handed: std::sync::atomic::AtomicUsize::new(0),
            ca_serving: Mutex::new(super::ca::CaArgs::default()),
            ca_downloads: std::sync::atomic::AtomicUsize::new(0),
            ca,
            addr,
            log,
            served: Mutex::new(Vec::new()),
            rate: Mutex::new(HashMap::new()),
            pg: Mutex::new(None),
            closed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stop whatever the emulator started besides itself (the PostgreSQL stand-in).
    pub fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(pg) = self.pg.lock().ok().and_then(|mut g| g.take()) {
            pg.server.stop();
        }
    }

    /// Every API request served so far, in order.
    pub fn served(&self) -> Vec<Served> {
        match self.served.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn record(&self, served: Served) {
        match self.served.lock() {
            Ok(mut g) => g.push(served),
            Err(p) => p.into_inner().push(served),
        }
    }

    /// The PostgreSQL server standing in for one instance, once it runs.
    pub fn pg(&self) -> Option<Arc<super::pg::PgBackend>> {
        self.pg.lock().ok().and_then(|g| g.clone())
    }

    /// Attach the stand-in; if the emulator closed meanwhile, stop it instead.
    pub fn set_pg(&self, backend: super::pg::PgBackend) {
        if self.closed.load(std::sync::atomic::Ordering::SeqCst) {
            backend.server.stop();
            return;
        }
        if let Ok(mut g) = self.pg.lock() {
            *g = Some(Arc::new(backend));
        }
    }

    /// The emulator's clock, with the injected offset.
    pub fn now(&self) -> i64 {
        pgssl_wire::clock::unix_now()
            .saturating_add(self.faults.args.clock_offset)
            .saturating_add(self.advanced.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// Move the emulator's clock on (tests of temporary keys expiring, with a fast clock).
    pub fn advance_clock(&self, secs: i64) {
        self.advanced
            .fetch_add(secs, std::sync::atomic::Ordering::SeqCst);
    }

    /// The CAUrl DescribeDBInstanceSSLConfig answers with SSL on.
    pub fn ca_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        let serving = self.ca_serving();
        let path = serving.ca_form.path();
        match &serving.ca_host {
            Some(host) => format!("{scheme}://{host}:{}{path}", self.addr.port()),
            None => format!("{scheme}://{}{path}", self.addr),
        }
    }

    /// How the CA is handed out now.
    pub fn ca_serving(&self) -> super::ca::CaArgs {
        match self.ca_serving.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Change how the CA is handed out (`pgssl emulator --ca-*`, and tests at run time).
    pub fn set_ca_serving(&self, serving: super::ca::CaArgs) {
        match self.ca_serving.lock() {
            Ok(mut g) => *g = serving,
            Err(p) => *p.into_inner() = serving,
        }
    }

    /// The CA as handed out now, in every form.
    pub fn ca_files(&self) -> super::ca::CaFiles {
        match self.ca_files.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Tencent changes an instance's CA without notice: from now on CAUrl and the inline
    /// fields hand out a newly generated CA (the stand-in PostgreSQL keeps the server
    /// certificate the first one issued). Returns the new CA's PEM.
    pub fn rotate_ca(&self) -> Result<String, String> {
        let n = self
            .ca_rotations
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        let ca =
            super::ca::CertificateAuthority::generate(&format!("pgssl emulator CA (rotated {n})"))?;
        let files = super::ca::CaFiles::of(
            &ca,
            u64::try_from(pgssl_wire::clock::unix_now()).unwrap_or(0) * 1000,
        );
        let pem = files.pem.clone();
        match self.ca_files.lock() {
            Ok(mut g) => *g = files,
            Err(p) => *p.into_inner() = files,
        }
        Ok(pem)
    }

    /// The CA was handed out once more (downloaded, or answered inline): with
    /// `--ca-rotate-after N`, the Nth time is the last with this CA.
    pub fn ca_handed_out(&self) {
        let n = self
            .ca_handed
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        if let Some(after) = self.ca_serving().ca_rotate_after
            && n == after
            && let Err(e) = self.rotate_ca()
            && let Some(log) = &self.log
        {
            log(format!("cannot rotate the CA: {e}"));
        }
    }

    /// How many times the CA was downloaded.
    pub fn ca_downloads(&self) -> usize {
        self.ca_downloads.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn fleet(&self) -> std::sync::MutexGuard<'_, Fleet> {
        match self.fleet.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// True when this request goes over the per-second budget.
    fn over_rate(&self, action: Action, secret_id: &str) -> bool {
        let mut rate = match self.rate.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let now = Instant::now();
        let window = rate.entry((action, secret_id.to_string())).or_default();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t).as_millis() >= 1000)
        {
            window.pop_front();
        }
        if window.len() >= RATE_LIMIT {
            return true;
        }
        window.push_back(now);
        false
    }
}

/// An API error reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fail {
    pub code: String,
    pub message: String,
}

fn fail(code: &str, message: impl Into<String>) -> Fail {
    Fail {
        code: code.to_string(),
        message: message.into(),
    }
}

/// The connection is closed without a reply (an injected fault).
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

/// Serve one HTTP request.
pub async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = request.into_parts();
    let now = shared.now();
    if parts.method == Method::GET
        && let Some(form) = super::ca::CaForm::ALL
            .into_iter()
            .find(|f| f.path() == parts.uri.path())
    {
        shared
            .ca_downloads
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let body = shared.ca_files().body(form);
        shared.ca_handed_out();
        return Ok(ca_reply(body, form.content_type()));
    }
    if parts.method == Method::GET && parts.uri.path().starts_with("/latest/meta-data/") {
        let reply = sts::metadata(&shared, parts.uri.path(), now);
        if let Some(log) = &shared.log {
            log(format!(
                "{} GET {} {}",
                pgssl_wire::clock::now_rfc3339(),
                quote(parts.uri.path()),
                reply.status().as_u16()
            ));
        }
        return Ok(reply);
    }
    let request_id = pgssl_wire::ids::uuid4();
    let Ok(collected) = Limited::new(body, MAX_BODY).collect().await else {
        let result = Err(fail(
            "RequestSizeLimitExceeded",
            "The request body is larger than 10 MB, or could not be read.",
        ));
        return Ok(json_reply(
            StatusCode::OK,
            envelope(&result, &request_id),
            now,
        ));
    };
    let body = collected.to_bytes();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let region = header("X-TC-Region").filter(|r| !r.is_empty());

    let (action, result, damage) = match authenticate(&shared, &parts, &body, now) {
        Err((action, f)) => (action, Err(f), Damage::None),
        Ok((action, caller)) => {
            let damage = shared.faults.decide(action);
            let result = if damage == Damage::Fail {
                let code = shared
                    .faults
                    .args
                    .fail_with
                    .clone()
                    .unwrap_or_else(|| "InternalError".into());
                Err(Fail {
                    message: format!("Emulated fault: {code}. Please try again later."),
                    code,
                })
            } else {
                execute(
                    &shared,
                    action,
                    caller.as_ref(),
                    region.as_deref(),
                    &body,
                    now,
                )
            };
            (Some(action), result, damage)
        }
    };

    // A finished task may have changed the SSL state a real server stands in for.
    super::pg::sync(&shared).await;

    shared.record(Served {
        action,
        region: region.clone(),
        instance: serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("DBInstanceId")?.as_str().map(str::to_string)),
        code: result.as_ref().err().map(|f| f.code.clone()),
        task_id: result.as_ref().ok().and_then(|v| v.get("TaskId")?.as_i64()),
        damaged: !matches!(damage, Damage::None | Damage::Fail),
    });
    if let Some(log) = &shared.log {
        let outcome = match &result {
            Ok(v) => match v.get("TaskId") {
                Some(t) => format!("ok TaskId={t}"),
                None => "ok".into(),
            },
            Err(f) => format!("error {}", f.code),
        };
        let damage = match damage {
            Damage::None | Damage::Fail => String::new(),
            d => format!(" fault={d:?}"),
        };
        log(format!(
            "{} {} {} {outcome}{damage} RequestId={request_id}",
            pgssl_wire::clock::now_rfc3339(),
            action.map_or("-", Action::name),
            quote(region.as_deref().unwrap_or("-")),
        ));
    }

    let latency = shared.faults.args.latency_ms;
    if latency > 0 && action.is_none_or(|a| shared.faults.applies_to(a)) {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let body = envelope(&result, &request_id);
    damaged_reply(damage, body, now)
}

/// A value from the request, sanitized and cut short, for an error message.
fn quote(value: &str) -> String {
    pgssl_wire::text::truncate(&pgssl_wire::text::sanitize(value), 64)
}

/// Accept connections until the task is aborted.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors or similar: back off instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(shared.clone(), req));
            let http = hyper::server::conn::http1::Builder::new();
            match tls {
                None => {
                    let _ = http
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                }
                Some(acceptor) => {
                    // A client that does not trust the certificate hangs up here.
                    if let Ok(stream) = acceptor.accept(stream).await {
                        let _ = http
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                    }
                }
            }
        });
    }
}
