//! The use cases both faces call. Neither the TUI nor the CLI talks HTTP, follows a task
//! or writes state itself: they call these and render what comes back (the CLI renders
//! the signed request of a dry run with the client's `prepare`, which sends nothing).
//!
//! - `read`: describe instances, groups, SSL state and tasks, parsed into `domain` types;
//! - `plan`: pure planning of one change (`Want` + `Instance` -> `Plan`);
//! - `change`: `prepare` (fresh read + plan) and `execute` (journal, send once, follow,
//!   refresh, verify), reporting to a `ChangeObserver`;
//! - `check`: what an unknown outcome turned out to be, before anything new is sent;
//! - `follow`: a task polled to its end;
//! - `verify`: the instance's CA and the live TLS check;
//! - `inventory`: import, add, remove and refresh of the saved instances;
//! - `regions`: the region check, against what DescribeRegions says.

pub mod audit;
pub mod bulk;
pub mod ca;
pub mod census;
pub mod change;
pub mod check;
pub mod confirm;
pub mod exit;
pub mod follow;
pub mod group;
pub mod identity;
pub mod inventory;
pub mod plan;
pub mod read;
pub mod refusal;
pub mod regions;
pub mod select;
pub mod send;
pub mod tccli;
pub mod undo;
pub mod verify;

use crate::api::{ApiError, Client};
use crate::credentials::CredentialSource;
use crate::domain::CheckResult;
use crate::store::{ConfigError, InventoryError, JournalError, Store};

pub use change::{ChangeObserver, ExecuteOptions, Outcome, VerifyAfter};
pub use follow::{FollowEnd, FollowOptions, MAX_FOLLOW};
pub use plan::{Intent, Plan, Prepared, Target, Want};
pub use refusal::Refusal;
pub use send::{Dispatched, SendOptions, Sent};
pub use verify::{AddressMap, CaBundle, Reach, Verified, VerifyRequest};

/// Everything a use case needs: the API client, where its credential came from and the
/// guards on it, the files, and how TLS checks may reach addresses.
#[derive(Clone)]
pub struct Session {
    pub client: Client,
    pub source: CredentialSource,
    /// The tccli profile in effect, if any (recorded with every change).
    pub profile: Option<String>,
    /// config.toml's guards for this credential.
    pub guard: crate::store::config::Effective,
    /// `--readonly`: nothing that changes an instance may be sent.
    pub readonly_flag: bool,
    pub store: Store,
    pub reach: Reach,
    /// Where the census's login comes from (the libpq variables, ~/.pgpass).
    pub login_env: crate::census::login::Env,
    /// Whose the credential is: GetCallerIdentity's answer, asked once, beside the work.
    pub identity: std::sync::Arc<identity::Lookup>,
}

impl Session {
    pub fn new(client: Client, source: CredentialSource, store: Store, reach: Reach) -> Session {
        Session {
            client,
            source,
            profile: None,
            guard: crate::store::config::Effective::default(),
            readonly_flag: false,
            store,
            reach,
            login_env: crate::census::login::Env::from_process(),
            identity: std::sync::Arc::default(),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum OpsError {
    /// Bad input (an argument, a variable, a file named on the command line); nothing
    /// was sent.
    #[error("{0}")]
    Usage(String),
    /// What was asked was refused before anything was sent, and why (typed).
    #[error("{0}")]
    Refused(#[from] Refusal),
    #[error("{0}")]
    Api(#[from] ApiError),
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("cannot write the inventory {0}")]
    Inventory(#[from] InventoryError),
    /// The journal could not be read or written (its Display says whether anything was sent).
    #[error("{0}")]
    Journal(#[from] JournalError),
    #[error("{0}")]
    NotFound(String),
    /// Something the API did ended badly (a task failed or paused, no such task).
    #[error("{0}")]
    Failed(String),
    /// Waiting gave up while the task still ran (or could not be read): it goes on
    /// without pgssl.
    #[error("{0}")]
    StillRunning(String),
    /// A TLS check could not reach the server.
    #[error("{0}")]
    Unreachable(String),
    /// Some of what was asked could not be checked (an audit's unreadable instances).
    #[error("{0}")]
    Unchecked(String),
    /// The person interrupted (Ctrl-C, a hangup) what was under way; the message says
    /// how to go on.
    #[error("{0}")]
    Interrupted(String),
    /// A change may or may not have been made.
    #[error("{error} Checked since: {}", check.detail)]
    Unknown {
        error: ApiError,
        check: Box<CheckResult>,
        /// The journal entry of the change.
        journal_id: Box<str>,
    },
}

impl OpsError {
    /// A refusal of any kind (`PlanRefusal`, `GuardRefusal`, ...).
    pub fn refused(r: impl Into<Refusal>) -> OpsError {
        OpsError::Refused(r.into())
    }

    /// The refusal inside, when this is one (tests match its variant).
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            OpsError::Refused(r) => Some(r),
            _ => None,
        }
    }

    /// The exit-code contract (`exit`): 1 failed, 2 refused before sending, 3 unknown
    /// or still running, 130 interrupted.
    pub fn exit_code(&self) -> i32 {
        match self {
            OpsError::Usage(_) | OpsError::Refused(_) => exit::REFUSED,
            OpsError::Api(e) => e.exit_code(),
            OpsError::Config(e) => e.exit_code(),
            OpsError::Inventory(_)
            | OpsError::NotFound(_)
            | OpsError::Failed(_)
            | OpsError::Journal(_) => exit::FAILED,
            OpsError::Unknown { .. }
            | OpsError::StillRunning(_)
            | OpsError::Unreachable(_)
            | OpsError::Unchecked(_) => exit::UNKNOWN,
            OpsError::Interrupted(_) => exit::INTERRUPTED,
        }
    }

    /// A short name for the kind, stable for scripts (`--output json`).
    pub fn kind(&self) -> &'static str {
        match self {
            OpsError::Usage(_) => "invalid",
            OpsError::Refused(_) => "refused",
            OpsError::Config(_) => "config",
            OpsError::Inventory(_) => "inventory",
            OpsError::NotFound(_) => "not_found",
            OpsError::Failed(_) => "failed",
            OpsError::StillRunning(_) => "still_running",
            OpsError::Unreachable(_) => "unreachable",
            OpsError::Unchecked(_) => "unchecked",
            OpsError::Interrupted(_) => "interrupted",
            OpsError::Journal(_) => "journal",
            OpsError::Unknown { .. } => "outcome_unknown",
            OpsError::Api(e) => e.kind(),
        }
    }

    /// The API error inside, when there is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            OpsError::Api(e) | OpsError::Unknown { error: e, .. } => Some(e),
            _ => None,
        }
    }
}
