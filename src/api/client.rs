//! Transport: endpoint, headers, signing, timeouts, the reply envelope, error kinds,
//! retries for reads and a per-action rate limit. A change
//! (ModifyDBInstanceSSLConfig) is sent at most once per call: never retried here.

use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::Action;
use super::endpoint::Endpoint;
pub use super::endpoint::Scheme;
use super::error::ApiError;
use super::models::ApiRequest;
pub use super::reply::parse_reply;
use super::reply::{BodyError, MAX_REPLY_BYTES, classify, read_body};
use super::sign::{self, RequestParts, SIGNED_HEADERS};
use crate::credentials::{Credential, Provider};

pub const REQUEST_CLIENT: &str = concat!("pgssl/", env!("CARGO_PKG_VERSION"));
const CONTENT_TYPE: &str = "application/json";

#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Where PostgreSQL actions go.
    pub endpoint: Endpoint,
    /// Where STS actions go (AssumeRole, GetCallerIdentity).
    pub sts_endpoint: Endpoint,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub language: String,
    /// Tries for a read, first one included. Changes always get exactly one.
    pub read_attempts: u32,
    /// STS's wait for one reply, and its tries (a temporary key, whose key it is). STS
    /// answers in well under a second, and a command waits on it before anything else:
    /// at the API's 30 s and 4 tries, one that never answered held a command 364 s.
    pub sts_timeout: Duration,
    pub sts_read_attempts: u32,
    /// Base delay of the exponential, jittered backoff between read retries.
    pub backoff: Duration,
    /// Requests in any second per action that pgssl allows itself: the API's 20.
    pub rate_per_action: u32,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            endpoint: Endpoint::default(),
            sts_endpoint: Endpoint::sts_default(),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            language: "en-US".into(),
            read_attempts: 4,
            sts_timeout: Duration::from_secs(10),
            sts_read_attempts: 2,
            backoff: Duration::from_millis(300),
            rate_per_action: 20,
        }
    }
}

/// One attempt, as seen by whoever watches the client (the TUI's log).
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub action: Action,
    pub region: Option<String>,
    pub request_id: Option<String>,
    pub error: Option<ApiError>,
    pub elapsed: Duration,
}

pub type Observer = Arc<dyn Fn(&CallRecord) + Send + Sync>;
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// A request ready to go: exactly what will be on the wire.
#[derive(Clone)]
pub struct Prepared {
    pub action: Action,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Prepared {
    /// The request as `--dry-run` shows it: exactly as signed, except that the SecretId
    /// in Authorization is masked (so the printout cannot be replayed by whoever sees it)
    /// and the session token is replaced by its length.
    pub fn masked(&self) -> MaskedRequest {
        let headers = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = match *name {
                    "X-TC-Token" => format!("<redacted, {} characters>", value.len()),
                    // The SecretId masked, and the signature shortened: whole, with the
                    // request, it would let anyone who reads a dry run replay it for the
                    // five minutes its timestamp is accepted.
                    "Authorization" => match sign::parse_authorization(value) {
                        Some(a) => value
                            .replacen(
                                &format!("Credential={}/", a.secret_id),
                                &format!(
                                    "Credential={}/",
                                    crate::credentials::mask_secret_id(&a.secret_id)
                                ),
                                1,
                            )
                            .replacen(
                                &format!("Signature={}", a.signature),
                                &format!(
                                    "Signature={}... (not shown whole: it would let the request be replayed)",
                                    a.signature.get(..8).unwrap_or("")
                                ),
                                1,
                            ),
                        None => "<unparsable>".into(),
                    },
                    _ => value.clone(),
                };
                ((*name).to_string(), shown)
            })
            .collect();
        MaskedRequest {
            method: "POST",
            url: self.url.clone(),
            headers,
            body: String::from_utf8_lossy(&self.body).into_owned(),
        }
    }

    /// The masked request as text: method and URL, headers, a blank line, the body.
    pub fn render(&self) -> String {
        let m = self.masked();
        let mut out = format!("{} {}\n", m.method, m.url);
        for (name, value) in &m.headers {
            let _ = writeln!(out, "{name}: {value}");
        }
        out.push('\n');
        out.push_str(&m.body);
        out
    }
}

/// A prepared request with its secrets masked, for showing.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MaskedRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl fmt::Debug for Prepared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prepared")
            .field("action", &self.action)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Who signs a request.
#[derive(Clone, Copy)]
enum Signer<'a> {
    /// The client's provider, at the moment of sending.
    Provider,
    This(&'a Credential),
    /// Exactly this credential, in a send slot already reserved (`Client::reserve`).
    Reserved(&'a Credential),
    Nobody,
}

/// A send slot the limiter gave out: the request it is for goes without waiting again.
/// Had before a change is journaled, so that the journal's "request" line is written
/// the moment before the request leaves, not seconds ahead of it while it waits its turn.
pub struct Slot {
    _held: Permit,
}

fn body_of<R: ApiRequest>(request: &R) -> Vec<u8> {
    // Serializing our own plain structs to JSON cannot fail.
    serde_json::to_vec(request).expect(
        "API requests are plain structs of strings, numbers and lists; they always serialize",
    )
}

/// The proxy the environment names for `url` (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, with
/// NO_PROXY), for clients that must bypass it for loopback only.
pub(crate) fn system_proxy(url: &reqwest::Url) -> Option<reqwest::Url> {
    let var = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
    };
    let host = url.host_str()?;
    if let Some(no) = var(&["NO_PROXY", "no_proxy"]) {
        let skip = no.split(',').map(str::trim).any(|d| {
            d == "*"
                || (!d.is_empty()
                    && (host == d.trim_start_matches('.')
                        || host.ends_with(&format!(".{}", d.trim_start_matches('.')))))
        });
        if skip {
            return None;
        }
    }
    let named = if url.scheme() == "https" {
        var(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"])
    } else {
        var(&["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
    }?;
    let with_scheme = if named.contains("://") {
        named
    } else {
        format!("http://{named}")
    };
    reqwest::Url::parse(&with_scheme).ok()
}

use super::limiter::{Limiter, Permit};

/// A signed-request client for one credential and endpoint. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    options: ClientOptions,
    provider: Provider,
    limiter: Limiter,
    clock: Clock,
    observer: Option<Observer>,
}

/// Make sure rustls has its crypto provider (ring) before any TLS happens.
pub fn install_crypto_provider() {
    // Err means one is installed already, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub use pgssl_wire::clock::unix_now as system_clock;

impl Client {
    pub fn new(provider: Provider, options: ClientOptions) -> Result<Client, String> {
        install_crypto_provider();
        let mut builder = reqwest::Client::builder();
        // A loopback endpoint (the emulator, the demo) never goes through a proxy: a proxy
        // would see the request in clear text, Authorization and SecretId included. Real
        // endpoints keep honouring HTTPS_PROXY / NO_PROXY.
        let loopbacks = (
            options.endpoint.is_loopback(),
            options.sts_endpoint.is_loopback(),
        );
        if loopbacks == (true, true) {
            builder = builder.no_proxy();
        } else if loopbacks.0 || loopbacks.1 {
            // One of the two is loopback (an emulator for one service only): that one
            // directly, the other through whatever proxy the environment names.
            let loopback = |url: &reqwest::Url| {
                url.host_str().is_some_and(|h| {
                    super::endpoint::is_loopback_host(
                        h.trim_start_matches('[').trim_end_matches(']'),
                    )
                })
            };
            let proxy = reqwest::Proxy::custom(move |url| {
                if loopback(url) {
                    None
                } else {
                    system_proxy(url)
                }
            });
            builder = builder.no_proxy().proxy(proxy);
        }
        let http = builder
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(REQUEST_CLIENT)
            .pool_idle_timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        let rate = usize::try_from(options.rate_per_action.max(1)).unwrap_or(usize::MAX);
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                limiter: Limiter {
                    rate,
                    key: options.endpoint.to_string(),
                },
                options,
                provider,
                clock: Arc::new(system_clock),
                observer: None,
            }),
        })
    }

    /// Seconds since the epoch, by the clock requests are stamped with.
    pub fn now(&self) -> i64 {
        (self.inner.clock)()
    }

    /// Replace the clock (seconds since the epoch) used for timestamps.
    pub fn with_clock(self, clock: Clock) -> Client {
        self.rebuild(|inner| inner.clock = clock)
    }

    /// Watch every attempt (used by the TUI's log).
    pub fn with_observer(self, observer: Observer) -> Client {
        self.rebuild(|inner| inner.observer = Some(observer))
    }

    fn rebuild(self, f: impl FnOnce(&mut Inner)) -> Client {
        let mut inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => Inner {
                http: shared.http.clone(),
                options: shared.options.clone(),
                provider: shared.provider.clone(),
                limiter: Limiter {
                    rate: shared.limiter.rate,
                    key: shared.limiter.key.clone(),
                },
                clock: shared.clock.clone(),
                observer: shared.observer.clone(),
            },
        };
        f(&mut inner);
        Client {
            inner: Arc::new(inner),
        }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.options.endpoint
    }

    /// Where requests of `action` go: the PostgreSQL endpoint or STS's.
    pub fn endpoint_for(&self, action: Action) -> &Endpoint {
        match action.service() {
            pgssl_wire::Service::Postgres => &self.inner.options.endpoint,
            pgssl_wire::Service::Sts => &self.inner.options.sts_endpoint,
        }
    }

    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// How long one request of `action` may wait for its whole reply, and how many tries
    /// a read gets.
    fn patience(&self, action: Action) -> (Duration, u32) {
        let o = &self.inner.options;
        match action.service() {
            pgssl_wire::Service::Postgres => (o.timeout, o.read_attempts),
            pgssl_wire::Service::Sts => (o.sts_timeout, o.sts_read_attempts),
        }
    }

    pub fn provider(&self) -> &Provider {
        &self.inner.provider
    }

    /// The key requests are signed with now (fetching a temporary one when due).
    pub async fn credential(&self, action: Action) -> Result<Credential, ApiError> {
        self.inner
            .provider
            .current()
            .await
            .map_err(|problem| ApiError::Credential { action, problem })
    }

    /// Build and sign a request for `timestamp` without sending it, with the key held
    /// now. None when a temporary key has not been fetched yet.
    pub fn prepare<R: ApiRequest>(
        &self,
        region: Option<&str>,
        request: &R,
        timestamp: i64,
    ) -> Option<Prepared> {
        let credential = self.inner.provider.cached()?;
        Some(self.prepare_raw(
            R::ACTION,
            region,
            body_of(request),
            timestamp,
            Some(&credential),
        ))
    }

    fn prepare_raw(
        &self,
        action: Action,
        region: Option<&str>,
        body: Vec<u8>,
        timestamp: i64,
        credential: Option<&Credential>,
    ) -> Prepared {
        let inner = &self.inner;
        let service = action.service();
        let endpoint = self.endpoint_for(action);
        let host = endpoint.authority.clone();
        let date = sign::utc_date(timestamp).unwrap_or_else(|| "1970-01-01".into());
        let mut headers: Vec<(&'static str, String)> = vec![
            ("Content-Type", CONTENT_TYPE.into()),
            ("Host", host.clone()),
            ("X-TC-Action", action.name().into()),
            ("X-TC-RequestClient", REQUEST_CLIENT.into()),
            ("X-TC-Timestamp", timestamp.to_string()),
            ("X-TC-Version", service.version().into()),
        ];
        if let Some(region) = region {
            headers.push(("X-TC-Region", region.into()));
        }
        if let Some(token) = credential.and_then(|c| c.token.as_ref()) {
            headers.push(("X-TC-Token", token.expose().into()));
        }
        headers.push(("X-TC-Language", inner.options.language.clone()));
        let authorization = match credential {
            Some(c) => {
                sign::sign(
                    service.name(),
                    &c.secret_id,
                    c.secret_key.expose(),
                    timestamp,
                    &date,
                    &RequestParts {
                        method: "POST",
                        query: "",
                        headers: &[("content-type", CONTENT_TYPE), ("host", &host)],
                        signed_headers: SIGNED_HEADERS,
                        payload: &body,
                    },
                )
                .authorization
            }
            // The SDK's SkipSign (AssumeRoleWithWebIdentity): the literal SKIP.
            None => "SKIP".into(),
        };
        headers.push(("Authorization", authorization));
        Prepared {
            action,
            url: endpoint.url(),
            headers,
            body,
        }
    }

    /// Send a typed request. Reads are retried on rate limits and transport failures
    /// with jittered exponential backoff, each attempt signed afresh; a change is sent once.
    pub async fn call<R: ApiRequest>(
        &self,
        region: Option<&str>,
        request: &R,
    ) -> Result<R::Response, ApiError> {
        self.call_as(Signer::Provider, region, request).await
    }

    /// Send a request signed with exactly `credential` (the one the journal recorded).
    pub async fn call_with<R: ApiRequest>(
        &self,
        credential: &Credential,
        region: Option<&str>,
        request: &R,
    ) -> Result<R::Response, ApiError> {
        self.call_as(Signer::This(credential), region, request)
            .await
    }

    /// Wait for a send slot for `action` (the limiter's pace), to send with `call_in`.
    pub async fn reserve(&self, action: Action) -> Slot {
        Slot {
            _held: self.inner.limiter.acquire(action).await,
        }
    }

    /// Send a request signed with exactly `credential`, in a slot already reserved.
    pub async fn call_in<R: ApiRequest>(
        &self,
        slot: Slot,
        credential: &Credential,
        region: Option<&str>,
        request: &R,
    ) -> Result<R::Response, ApiError> {
        // The slot is spent by this one request, and held until its reply.
        let result = self
            .call_as(Signer::Reserved(credential), region, request)
            .await;
        drop(slot);
        result
    }

    /// Send a request unsigned (`Authorization: SKIP`): only STS's
    /// AssumeRoleWithWebIdentity takes that.
    pub async fn call_unsigned<R: ApiRequest>(
        &self,
        region: Option<&str>,
        request: &R,
    ) -> Result<R::Response, ApiError> {
        self.call_as(Signer::Nobody, region, request).await
    }

    async fn call_as<R: ApiRequest>(
        &self,
        signer: Signer<'_>,
        region: Option<&str>,
        request: &R,
    ) -> Result<R::Response, ApiError> {
        let body = body_of(request);
        let attempts = if R::ACTION.is_read() {
            self.patience(R::ACTION).1.max(1)
        } else {
            1
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            // Held until the reply: a request counts against the budget from when it
            // leaves until a window after its reply (see `limiter`).
            let _permit = if attempt > 1 || !matches!(signer, Signer::Reserved(..)) {
                Some(self.inner.limiter.acquire(R::ACTION).await)
            } else {
                None
            };
            // Each attempt asks for the key anew: a retry after a long backoff may need
            // a renewed temporary key.
            let credential = match signer {
                Signer::Provider => Some(self.credential(R::ACTION).await?),
                Signer::This(c) | Signer::Reserved(c) => Some(c.clone()),
                Signer::Nobody => None,
            };
            let prepared = self.prepare_raw(
                R::ACTION,
                region,
                body.clone(),
                (self.inner.clock)(),
                credential.as_ref(),
            );
            let started = std::time::Instant::now();
            let result = self.send::<R::Response>(prepared).await;
            if let Some(observer) = &self.inner.observer {
                observer(&CallRecord {
                    action: R::ACTION,
                    region: region.map(str::to_string),
                    request_id: match &result {
                        Ok(r) => Some(super::models::HasRequestId::request_id(r).to_string()),
                        Err(e) => e.request_id().map(str::to_string),
                    },
                    error: result.as_ref().err().cloned(),
                    elapsed: started.elapsed(),
                });
            }
            match result {
                Err(e) if attempt < attempts && e.is_transient() => {
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
                other => return other,
            }
        }
    }

    /// Equal jitter: half of base * 2^(attempt-1) (capped at 5 s), plus a random part up
    /// to the other half, so retries never bunch up at zero.
    fn backoff(&self, attempt: u32) -> Duration {
        let cap = self
            .inner
            .options
            .backoff
            .saturating_mul(1 << (attempt - 1).min(10))
            .min(Duration::from_secs(5));
        let millis = u64::try_from(cap.as_millis().max(1)).unwrap_or(5_000);
        Duration::from_millis(millis / 2 + crate::ids::random_u64() % (millis / 2 + 1))
    }

    async fn send<T: DeserializeOwned + super::models::HasRequestId>(
        &self,
        prepared: Prepared,
    ) -> Result<T, ApiError> {
        let action = prepared.action;
        let timeout = self.patience(action).0;
        let mut builder = self.inner.http.post(&prepared.url).timeout(timeout);
        for (name, value) in &prepared.headers {
            builder = builder.header(*name, value);
        }
        let response = builder
            .body(prepared.body)
            .send()
            .await
            .map_err(|e| classify(action, &e, timeout))?;
        let status = response.status().as_u16();
        let date = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(|d| httpdate::parse_http_date(d).ok());
        let mut response = response;
        let body = match read_body(&mut response, MAX_REPLY_BYTES).await {
            Ok(body) => body,
            Err(BodyError::TooLarge(cap)) => {
                return Err(ApiError::BadReply {
                    action,
                    status,
                    excerpt: BodyError::too_large(cap),
                });
            }
            Err(BodyError::Broken(e)) => return Err(classify(action, &e, timeout)),
        };
        let skew = date.map(|d| {
            let server = d
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            (self.inner.clock)() - server
        });
        parse_reply(action, status, &body, skew)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_run_render_hides_the_token() {
        let cred = Credential::new("AKIDexample0000", "secretkey123", Some("tokentokentoken"))
            .expect("cred");
        let client = Client::new(Provider::fixed(cred), ClientOptions::default()).expect("client");
        let p = client.prepare(
            Some("ap-guangzhou"),
            &crate::api::models::ModifyDBInstanceSSLConfigRequest {
                DBInstanceId: "postgres-abcd1234".into(),
                SSLEnabled: false,
                ConnectAddress: None,
            },
            1_700_000_000,
        );
        let text = p.expect("a fixed key is always held").render();
        assert!(text.starts_with("POST https://postgres.intl.tencentcloudapi.com/\n"));
        assert!(text.contains("X-TC-Token: <redacted, 15 characters>"));
        assert!(!text.contains("tokentokentoken") && !text.contains("secretkey123"));
        assert!(text.contains("X-TC-Region: ap-guangzhou"));
        assert!(
            text.contains("Credential=AKID****0000/2023-11-14/postgres/tc3_request"),
            "{text}"
        );
        assert!(!text.contains("AKIDexample0000"));
        assert!(text.ends_with(r#"{"DBInstanceId":"postgres-abcd1234","SSLEnabled":false}"#));
    }
}
