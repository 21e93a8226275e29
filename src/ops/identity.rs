//! Who the credential is: STS GetCallerIdentity, asked beside the work and never in its
//! way, kept a day per credential in the data dir (`store::accounts`), and the account
//! guards a change must pass (config.toml's `allowed_accounts`, `forbidden_accounts`, per
//! profile `readonly`), checked before anything is sent.
//!
//! Who waits for the answer: only a change whose guards need the account (bounded by
//! STS's own deadlines, `PGSSL_STS_TIMEOUT`). Everything else takes what is known when it
//! needs it (`Session::identity_now`): a read shows the account if it came in time, and
//! a change without guards journals it if known.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use super::refusal::GuardRefusal;
use super::{OpsError, Session};
use crate::store::accounts::{KeptAccount, is_account_id, key_of};
use crate::store::config::Effective;
use crate::text::{clean, sanitize};
use pgssl_wire::sts::{GetCallerIdentityRequest, GetCallerIdentityResponse};

/// The account a credential belongs to, as GetCallerIdentity says, checked on entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// The main account's uin (`AccountId`): what the guards compare.
    pub account_id: String,
    /// `CAMUser`, `CAMRole`, ...
    #[serde(rename = "type")]
    pub kind: String,
    pub arn: String,
    /// The user's uin, or `roleId:sessionName` for a role.
    pub user_id: String,
}

impl Account {
    /// Checked on entry: an AccountId that is not a uin is not one to compare with.
    pub fn from_reply(reply: &GetCallerIdentityResponse) -> Result<Account, String> {
        let account_id = reply.AccountId.as_deref().unwrap_or("").trim();
        if !is_account_id(account_id) {
            return Err(format!(
                "GetCallerIdentity answered an AccountId that is not an account id ('{}')",
                crate::text::truncate(&sanitize(account_id), 32)
            ));
        }
        let short =
            |v: &Option<String>| crate::text::truncate(&clean(v.as_deref().unwrap_or("")), 200);
        Ok(Account {
            account_id: account_id.to_string(),
            kind: short(&reply.Type),
            arn: short(&reply.Arn),
            user_id: short(&reply.UserId),
        })
    }

    /// `account 100000000001 (CAM user 100000000002)`, `account ... (role session pgssl-...)`.
    pub fn line(&self) -> String {
        let who = match self.kind.as_str() {
            "CAMUser" => format!("CAM user {}", self.user_id),
            // UserId is ROLEID:SESSION; a role id means nothing to a person, the session
            // name says whose it is.
            "CAMRole" => match self.user_id.split_once(':') {
                Some((_, session)) => format!("role session {session}"),
                None => "a role".to_string(),
            },
            "" => self.arn.clone(),
            other => format!("{other} {}", self.user_id),
        };
        format!("account {} ({who})", self.account_id)
    }
}

/// What is known of the account: the answer, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Known(Account),
    Unknown(String),
}

impl Identity {
    pub fn line(&self) -> String {
        match self {
            Identity::Known(a) => a.line(),
            Identity::Unknown(why) => format!("account unknown ({why})"),
        }
    }

    pub fn account_id(&self) -> Option<&str> {
        match self {
            Identity::Known(a) => Some(&a.account_id),
            Identity::Unknown(_) => None,
        }
    }
}

/// One session's lookup of its account: the answer once had, whether it was started,
/// and the name the answer is kept under on disk.
#[derive(Debug, Default)]
pub struct Lookup {
    answer: tokio::sync::OnceCell<Identity>,
    started: AtomicBool,
    /// The answer came from the data dir, not from STS this session.
    from_disk: AtomicBool,
    /// STS's own answer, for the guards (a file in the data dir never decides one).
    fresh: tokio::sync::OnceCell<Identity>,
    /// `store::accounts::key_of` what names the credential; None: nothing kept on disk.
    key: Option<String>,
}

impl Lookup {
    /// A lookup whose answer is kept under a digest of `what` (e.g. `secret-id:AKID..`
    /// with STS's endpoint: never a secret).
    pub fn keyed(what: &str) -> Arc<Lookup> {
        Arc::new(Lookup {
            key: Some(key_of(what)),
            ..Lookup::default()
        })
    }
}

impl Account {
    fn kept(&self, asked_at: i64) -> KeptAccount {
        KeptAccount {
            asked_at,
            account_id: self.account_id.clone(),
            kind: self.kind.clone(),
            arn: self.arn.clone(),
            user_id: self.user_id.clone(),
        }
    }

    fn from_kept(k: KeptAccount) -> Account {
        Account {
            account_id: k.account_id,
            kind: k.kind,
            arn: k.arn,
            user_id: k.user_id,
        }
    }
}

impl Session {
    /// The account as kept on disk for this credential, if asked within the day.
    fn kept_account(&self) -> Option<Identity> {
        let key = self.identity.key.as_deref()?;
        let kept = self.store.accounts.get(key, self.client.now())?;
        Some(Identity::Known(Account::from_kept(kept)))
    }

    /// Start finding out whose the credential is, without waiting: from the data dir
    /// when it was asked within the day, else GetCallerIdentity in the background.
    /// Called once the session is open; later calls do nothing.
    pub fn start_identity(&self) {
        let lookup = &self.identity;
        if lookup.answer.initialized() || lookup.started.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(kept) = self.kept_account() {
            lookup.from_disk.store(true, Ordering::SeqCst);
            let _ = lookup.answer.set(kept);
            return;
        }
        // Outside a runtime (a pure test) the first `identity()` asks instead.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let session = self.clone();
            runtime.spawn(async move {
                session.identity().await;
            });
        }
    }

    /// What is known of the account now, without waiting: the answer kept or had, or
    /// None while STS has not answered.
    pub fn identity_now(&self) -> Option<Identity> {
        self.start_identity();
        self.identity.answer.get().cloned()
    }

    /// The account, waiting for STS if need be (its deadlines bound the wait: 10 s a
    /// try, 2 tries, `PGSSL_STS_TIMEOUT`). Asked once per session; a known answer is
    /// kept on disk for a day.
    pub async fn identity(&self) -> Identity {
        self.identity
            .answer
            .get_or_init(|| async {
                if let Some(kept) = self.kept_account() {
                    self.identity.from_disk.store(true, Ordering::SeqCst);
                    return kept;
                }
                let identity = self.ask_identity().await;
                if let (Identity::Known(account), Some(key)) =
                    (&identity, self.identity.key.as_deref())
                {
                    self.store
                        .accounts
                        .keep(key, account.kept(self.client.now()));
                }
                identity
            })
            .await
            .clone()
    }

    /// The account as STS says it this session, for a guard: the kept answer only shows
    /// the account sooner, it never lets a change through (anyone who can write the data
    /// dir could plant one). Asked once per session, bounded as `identity`.
    pub async fn fresh_identity(&self) -> Identity {
        self.identity
            .fresh
            .get_or_init(|| async {
                let had = self.identity().await;
                if !self.identity.from_disk.load(Ordering::SeqCst) {
                    return had;
                }
                let identity = self.ask_identity().await;
                if let (Identity::Known(account), Some(key)) =
                    (&identity, self.identity.key.as_deref())
                {
                    self.store
                        .accounts
                        .keep(key, account.kept(self.client.now()));
                }
                identity
            })
            .await
            .clone()
    }

    async fn ask_identity(&self) -> Identity {
        match self.client.call(None, &GetCallerIdentityRequest {}).await {
            Ok(reply) => match Account::from_reply(&reply) {
                Ok(a) => Identity::Known(a),
                Err(e) => Identity::Unknown(e),
            },
            Err(e) => {
                let sts = self
                    .client
                    .endpoint_for(pgssl_wire::Action::GetCallerIdentity);
                Identity::Unknown(match (&e, e.code()) {
                    (_, Some(code)) => format!("GetCallerIdentity refused: {code}"),
                    (crate::api::ApiError::OutcomeUnknown { .. }, None) => {
                        format!("STS at {sts} did not answer GetCallerIdentity in time")
                    }
                    (crate::api::ApiError::NotSent { .. }, None) => {
                        format!("STS at {sts} could not be reached")
                    }
                    (_, None) => {
                        format!("GetCallerIdentity failed: {}", e.kind().replace('_', " "))
                    }
                })
            }
        }
    }

    /// Whether a change may be sent with this session: not read-only, and the account
    /// allowed. Asks for the account when a guard needs it. Nothing is sent on refusal.
    pub async fn guard_change(&self) -> Result<(), OpsError> {
        self.guard_readonly()?;
        self.guard_account().await
    }

    /// The protected profile's name, when the session's profile is protected
    /// (config.toml `protected = true`): confirming then takes more than `y`.
    pub fn protected(&self) -> Option<&str> {
        self.guard.protected.then(|| {
            self.guard
                .profile
                .as_deref()
                .or(self.profile.as_deref())
                .unwrap_or("default")
        })
    }

    /// Neither `--readonly` nor a read-only profile.
    pub fn guard_readonly(&self) -> Result<(), OpsError> {
        if self.readonly_flag {
            return Err(OpsError::refused(GuardRefusal::ReadOnlyFlag));
        }
        if self.guard.readonly {
            return Err(OpsError::refused(GuardRefusal::ReadOnlyProfile {
                profile: self.guard.profile.clone().unwrap_or_else(|| "?".into()),
            }));
        }
        Ok(())
    }

    /// The account is allowed and not forbidden. Only here does a change wait for the
    /// account, and only when a guard is set.
    pub async fn guard_account(&self) -> Result<(), OpsError> {
        if self.guard.allowed.is_empty() && self.guard.forbidden.is_empty() {
            return Ok(());
        }
        check_account(&self.guard, &self.fresh_identity().await).map_err(OpsError::refused)
    }
}

/// The guards against one account (pure). Fails closed: an unknown account passes only
/// when no allow list is set.
pub fn check_account(guard: &Effective, identity: &Identity) -> Result<(), GuardRefusal> {
    match identity {
        Identity::Known(account) => {
            let id = &account.account_id;
            if let Some((scope, _)) = guard.forbidden.iter().find(|(_, a)| a == id) {
                let key = if scope == "allowed_accounts" {
                    "forbidden_accounts".to_string()
                } else {
                    format!("{scope} forbidden_accounts")
                };
                return Err(GuardRefusal::AccountForbidden {
                    account: id.clone(),
                    key,
                });
            }
            if let Some((scope, _)) = guard.allowed.iter().find(|(_, list)| !list.contains(id)) {
                let key = if scope == "allowed_accounts" {
                    "allowed_accounts".to_string()
                } else {
                    format!("{scope} allowed_accounts")
                };
                return Err(GuardRefusal::AccountNotAllowed {
                    account: id.clone(),
                    key,
                });
            }
            Ok(())
        }
        Identity::Unknown(why) if !guard.allowed.is_empty() => {
            Err(GuardRefusal::AccountUnknown { why: why.clone() })
        }
        Identity::Unknown(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(id: &str) -> Identity {
        Identity::Known(Account {
            account_id: id.into(),
            kind: "CAMUser".into(),
            arn: String::new(),
            user_id: "1".into(),
        })
    }

    #[test]
    fn guards_allow_forbid_and_fail_closed() {
        let open = Effective::default();
        assert!(check_account(&open, &known("1")).is_ok());
        assert!(check_account(&open, &Identity::Unknown("x".into())).is_ok());

        let allow = Effective {
            allowed: vec![("allowed_accounts".into(), vec!["100".into()])],
            ..Effective::default()
        };
        assert!(check_account(&allow, &known("100")).is_ok());
        let e = check_account(&allow, &known("200")).expect_err("not allowed");
        assert!(
            matches!(&e, GuardRefusal::AccountNotAllowed { account, key } if account == "200" && key == "allowed_accounts"),
            "{e}"
        );
        let e = check_account(&allow, &Identity::Unknown("refused".into())).expect_err("closed");
        assert!(matches!(e, GuardRefusal::AccountUnknown { .. }), "{e}");
        assert!(e.to_string().contains("fail closed"), "{e}");

        // A profile's list and the global one must both pass.
        let both = Effective {
            allowed: vec![
                ("allowed_accounts".into(), vec!["100".into(), "200".into()]),
                ("[profiles.prod]".into(), vec!["200".into()]),
            ],
            ..Effective::default()
        };
        let e = check_account(&both, &known("100")).expect_err("profile list");
        assert!(
            matches!(&e, GuardRefusal::AccountNotAllowed { key, .. } if key == "[profiles.prod] allowed_accounts"),
            "{e}"
        );
        assert!(check_account(&both, &known("200")).is_ok());

        let forbid = Effective {
            forbidden: vec![("[profiles.dev]".into(), "300".into())],
            ..Effective::default()
        };
        let e = check_account(&forbid, &known("300")).expect_err("forbidden");
        assert!(
            matches!(&e, GuardRefusal::AccountForbidden { key, .. } if key == "[profiles.dev] forbidden_accounts"),
            "{e}"
        );
        assert!(check_account(&forbid, &Identity::Unknown("x".into())).is_ok());
    }

    #[test]
    fn account_ids_are_checked_on_entry() {
        let reply = |id: &str| GetCallerIdentityResponse {
            AccountId: Some(id.into()),
            Type: Some("CAMRole".into()),
            UserId: Some("4611686018427397919:ops\u{1b}[2J".into()),
            Arn: Some("qcs::sts:100000000001:assumed-role/4611686018427397919".into()),
            ..GetCallerIdentityResponse::default()
        };
        let a = Account::from_reply(&reply("100000000001")).expect("good");
        assert!(!a.user_id.contains('\u{1b}'));
        assert!(
            a.line()
                .starts_with("account 100000000001 (role session ops")
        );
        assert!(Account::from_reply(&reply("1e5")).is_err());
        assert!(Account::from_reply(&reply("")).is_err());
        assert!(Account::from_reply(&reply("100000000001\u{1b}")).is_err());
    }
}
