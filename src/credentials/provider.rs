//! The credential a request is signed with, at the moment it is signed. Long-term keys
//! never change; temporary ones (a CVM role, an assumed role, TKE OIDC, a tccli sso or
//! oauth login) are fetched when first needed and fetched again before they expire, so a
//! TUI left open for hours keeps working without the user doing anything. No request is
//! ever signed with a key that has expired or is about to.

use std::fmt;
use std::sync::{Arc, Mutex};

use super::fetch::Fetcher;
use super::{Credential, CredentialError};

/// Seconds since the epoch; replaced by a fast clock in tests.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// A temporary key is fetched again once it has less than this left (tencentcloud-sdk-go
/// `cvm_role_credential.go`: `ExpiredTimeout = 300`; a signature is valid for 5 minutes).
pub const REFRESH_BEFORE: i64 = 300;
/// A key with less than this left is never used, even when fetching a new one failed: a
/// request may take up to its timeout (30 s) to arrive.
pub const SIGN_MARGIN: i64 = 60;
/// A fetch that took this long to fail waited for a service that did not answer (a
/// refusal comes back in milliseconds)...
const SLOW_FAILURE: std::time::Duration = std::time::Duration::from_secs(1);
/// ...and is not waited for again this soon: each request of one command would otherwise
/// wait its whole deadline anew (a silent STS held a command once per request it made).
const SLOW_FAILURE_KEPT: std::time::Duration = std::time::Duration::from_secs(30);

/// A temporary key and when it stops working.
#[derive(Clone)]
pub struct Issued {
    pub credential: Credential,
    /// Unix seconds.
    pub expires_at: i64,
    /// What it is, for a person: e.g. "CVM role pgssl-bastion".
    pub what: String,
}

/// Something a person should hear about a temporary credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialEvent {
    /// A new temporary key was fetched.
    Renewed { what: String, expires_at: i64 },
    /// Fetching a new key failed; the old one (if any) is used while it lasts.
    RenewFailed { message: String },
}

pub type EventSink = Arc<dyn Fn(&CredentialEvent) + Send + Sync>;

/// Where the key comes from and how it is kept fresh. Cheap to clone.
#[derive(Clone)]
pub struct Provider {
    inner: Arc<Inner>,
}

struct Inner {
    kind: Kind,
    clock: Clock,
    /// Held while fetching, so concurrent requests wait for one fetch instead of each
    /// starting their own.
    fetching: tokio::sync::Mutex<()>,
    state: Mutex<State>,
}

enum Kind {
    Fixed(Credential),
    Temporary(Fetcher),
    /// No key at all: only for the one STS action taken unsigned.
    Unsigned,
}

#[derive(Default)]
struct State {
    issued: Option<Issued>,
    problem: Option<String>,
    sink: Option<EventSink>,
    /// The last fetch, when it failed slowly: when it ended, and why.
    slow_failure: Option<(std::time::Instant, CredentialError)>,
}

/// What the header shows about a temporary credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub what: String,
    pub expires_at: i64,
    /// The last fetch failed, and why.
    pub problem: Option<String>,
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.kind {
            Kind::Fixed(c) => f.debug_tuple("Provider::Fixed").field(c).finish(),
            Kind::Temporary(fetcher) => f
                .debug_tuple("Provider::Temporary")
                .field(&fetcher.describe())
                .finish(),
            Kind::Unsigned => f.write_str("Provider::Unsigned"),
        }
    }
}

impl Provider {
    /// Long-term keys (or a token someone else keeps fresh).
    pub fn fixed(credential: Credential) -> Provider {
        Provider::new(Kind::Fixed(credential))
    }

    /// Temporary keys fetched by `fetcher`, renewed before they expire.
    pub fn temporary(fetcher: Fetcher) -> Provider {
        Provider::new(Kind::Temporary(fetcher))
    }

    /// No key: requests through it can only be sent unsigned.
    pub fn unsigned() -> Provider {
        Provider::new(Kind::Unsigned)
    }

    fn new(kind: Kind) -> Provider {
        Provider {
            inner: Arc::new(Inner {
                kind,
                clock: Arc::new(pgssl_wire::clock::unix_now),
                fetching: tokio::sync::Mutex::new(()),
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// The same provider with another clock (tests move it on to reach expiry).
    #[must_use]
    pub fn with_clock(self, clock: Clock) -> Provider {
        let kind = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner.kind,
            Err(shared) => match &shared.kind {
                Kind::Fixed(c) => Kind::Fixed(c.clone()),
                Kind::Temporary(f) => Kind::Temporary(f.clone()),
                Kind::Unsigned => Kind::Unsigned,
            },
        };
        let mut p = Provider::new(kind);
        if let Some(inner) = Arc::get_mut(&mut p.inner) {
            inner.clock = clock;
        }
        p
    }

    /// Be told when a temporary key is renewed or renewing fails (the TUI's log).
    pub fn on_event(&self, sink: EventSink) {
        self.state().sink = Some(sink);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        match self.inner.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    pub fn is_temporary(&self) -> bool {
        matches!(self.inner.kind, Kind::Temporary(_))
    }

    fn now(&self) -> i64 {
        (self.inner.clock)()
    }

    /// The key to sign with now: the long-term one, or a temporary one with more than
    /// `REFRESH_BEFORE` left (fetching a new one when needed). If fetching fails, the
    /// old key is used while it has more than `SIGN_MARGIN` left; after that, an error.
    pub async fn current(&self) -> Result<Credential, CredentialError> {
        let fetcher = match &self.inner.kind {
            Kind::Fixed(c) => return Ok(c.clone()),
            Kind::Temporary(f) => f,
            Kind::Unsigned => {
                return Err(CredentialError::Unavailable(
                    "this request has no key to be signed with".into(),
                ));
            }
        };
        if let Some(c) = self.fresh(REFRESH_BEFORE) {
            return Ok(c);
        }
        let _one_at_a_time = self.inner.fetching.lock().await;
        // Someone else may have fetched while this one waited.
        if let Some(c) = self.fresh(REFRESH_BEFORE) {
            return Ok(c);
        }
        let recent = self
            .state()
            .slow_failure
            .as_ref()
            .filter(|(at, _)| at.elapsed() < SLOW_FAILURE_KEPT)
            .map(|(_, e)| e.clone());
        if let Some(e) = recent {
            return self.fresh(SIGN_MARGIN).ok_or(e);
        }
        let started = std::time::Instant::now();
        // Boxed: an assumed role's fetch signs with another provider, so this recurses.
        let result = Box::pin(fetcher.fetch(self.now())).await;
        self.state().slow_failure = match &result {
            Err(e) if started.elapsed() >= SLOW_FAILURE => {
                Some((std::time::Instant::now(), e.clone()))
            }
            _ => None,
        };
        let now = self.now();
        match result {
            Ok(issued) if issued.expires_at - SIGN_MARGIN > now => {
                let credential = issued.credential.clone();
                let event = CredentialEvent::Renewed {
                    what: issued.what.clone(),
                    expires_at: issued.expires_at,
                };
                let sink = {
                    let mut state = self.state();
                    state.issued = Some(issued);
                    state.problem = None;
                    state.sink.clone()
                };
                if let Some(sink) = sink {
                    sink(&event);
                }
                Ok(credential)
            }
            Ok(issued) => {
                let e = CredentialError::Expired {
                    what: issued.what,
                    advice: fetcher.advice(),
                };
                self.failed(&e);
                Err(e)
            }
            Err(e) => {
                self.failed(&e);
                // The old key still has a little time: use it, and say renewing failed.
                self.fresh(SIGN_MARGIN).ok_or(e)
            }
        }
    }

    /// The key already held, if it has more than `margin` seconds left.
    fn fresh(&self, margin: i64) -> Option<Credential> {
        let now = self.now();
        self.state()
            .issued
            .as_ref()
            .filter(|i| i.expires_at - margin > now)
            .map(|i| i.credential.clone())
    }

    fn failed(&self, e: &CredentialError) {
        let message = e.to_string();
        let sink = {
            let mut state = self.state();
            state.problem = Some(message.clone());
            state.sink.clone()
        };
        if let Some(sink) = sink {
            sink(&CredentialEvent::RenewFailed { message });
        }
    }

    /// The key held now, without fetching: for showing a request that is not sent.
    pub fn cached(&self) -> Option<Credential> {
        match &self.inner.kind {
            Kind::Fixed(c) => Some(c.clone()),
            Kind::Temporary(_) => self.state().issued.as_ref().map(|i| i.credential.clone()),
            Kind::Unsigned => None,
        }
    }

    /// For temporary keys: what they are, until when, and whether renewing failed.
    pub fn status(&self) -> Option<Status> {
        if !self.is_temporary() {
            return None;
        }
        let state = self.state();
        let issued = state.issued.as_ref();
        Some(Status {
            what: issued.map_or_else(
                || match &self.inner.kind {
                    Kind::Temporary(f) => f.describe(),
                    Kind::Fixed(_) | Kind::Unsigned => String::new(),
                },
                |i| i.what.clone(),
            ),
            expires_at: issued.map_or(0, |i| i.expires_at),
            problem: state.problem.clone(),
        })
    }
}
