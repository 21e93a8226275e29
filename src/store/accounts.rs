//! `accounts.json` in the data dir: whose each credential is, as GetCallerIdentity last
//! said, kept a day so that most commands ask STS nothing. A cache and nothing more:
//! missing, damaged or stale, it is asked again; safe to delete.
//!
//! Each entry is filed under a digest of what names the credential (its SecretId, or the
//! role it assumes, and where STS is), never under the SecretId itself, and holds no
//! secret. What is read back is checked as an answer from STS would be (an account id of
//! digits, short text with control characters removed), since anyone who can write the
//! data dir can write this file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{bounded, write_atomic};
use crate::text::{clean, truncate};

/// How long an answer is kept: a day (a credential never changes account, but a day
/// bounds what a wrong or planted entry can do).
pub const KEEP_SECS: i64 = 86_400;
/// The most credentials kept: the newest answers win.
const MAX_ENTRIES: usize = 64;
/// The file holds at most 64 entries of a few hundred bytes.
const CAP: u64 = 256 << 10;
/// Text fields are cut to this (an ARN is well under it).
const MAX_TEXT: usize = 200;

/// One credential's account, as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptAccount {
    /// Unix seconds when STS answered.
    pub asked_at: i64,
    pub account_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub arn: String,
    pub user_id: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    #[serde(default)]
    accounts: BTreeMap<String, KeptAccount>,
}

/// The file's handle.
#[derive(Debug, Clone)]
pub struct Accounts {
    pub path: PathBuf,
}

/// The name an answer is filed under: a digest of `what` (e.g. `secret-id:AKID...` with
/// STS's endpoint), so the file never holds a SecretId.
pub fn key_of(what: &str) -> String {
    hex::encode(&Sha256::digest(what.as_bytes())[..16])
}

/// An account id is a uin: digits only, at most 20.
pub fn is_account_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())
}

impl KeptAccount {
    /// Checked and cleaned as on entry from STS; None when it cannot be an answer.
    fn checked(mut self, now: i64) -> Option<KeptAccount> {
        if !is_account_id(&self.account_id) {
            return None;
        }
        // Asked within the last day, and not in the future (a clock set back a little
        // is allowed for).
        if self.asked_at > now + 300 || now - self.asked_at >= KEEP_SECS {
            return None;
        }
        for field in [&mut self.kind, &mut self.arn, &mut self.user_id] {
            *field = truncate(&clean(field), MAX_TEXT);
        }
        Some(self)
    }
}

impl Accounts {
    pub fn new(path: PathBuf) -> Accounts {
        Accounts { path }
    }

    fn read(&self) -> File {
        bounded::read(&self.path, CAP)
            .ok()
            .and_then(|b| serde_json::from_slice::<File>(&b).ok())
            .unwrap_or_default()
    }

    /// The account kept for `key`, if it was asked within the day.
    pub fn get(&self, key: &str, now: i64) -> Option<KeptAccount> {
        self.read()
            .accounts
            .remove(key)
            .and_then(|a| a.checked(now))
    }

    /// Keep `account` for `key` (best effort: it is only a cache). Stale and damaged
    /// entries are dropped on the way, and only the newest `MAX_ENTRIES` stay.
    pub fn keep(&self, key: &str, account: KeptAccount) {
        let now = account.asked_at;
        let mut file = self.read();
        file.accounts.insert(key.to_string(), account);
        let mut live: Vec<(String, KeptAccount)> = file
            .accounts
            .into_iter()
            .filter(|(k, _)| k.len() == 32 && k.bytes().all(|b| b.is_ascii_hexdigit()))
            .filter_map(|(k, a)| a.checked(now).map(|a| (k, a)))
            .collect();
        live.sort_by_key(|(_, a)| std::cmp::Reverse(a.asked_at));
        live.truncate(MAX_ENTRIES);
        let file = File {
            accounts: live.into_iter().collect(),
        };
        if let Ok(bytes) = serde_json::to_vec_pretty(&file) {
            let _ = write_atomic(&self.path, &bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn kept(id: &str, at: i64) -> KeptAccount {
        KeptAccount {
            asked_at: at,
            account_id: id.into(),
            kind: "CAMUser".into(),
            arn: "qcs::cam:100000000001:uin/100000000002".into(),
            user_id: "100000000002".into(),
        }
    }

    #[test]
    fn answers_are_kept_a_day_checked_and_bounded() {
        let dir = tempfile::tempdir().expect("tmp");
        let accounts = Accounts::new(dir.path().join("accounts.json"));
        let now = 1_800_000_000;
        let key = key_of("secret-id:AKIDexample@https://sts.tencentcloudapi.com");
        assert_eq!(key.len(), 32);
        assert!(accounts.get(&key, now).is_none());
        accounts.keep(&key, kept("100000000001", now));
        assert_eq!(
            accounts.get(&key, now + 10).map(|a| a.account_id),
            Some("100000000001".into())
        );
        // The file is private and holds no SecretId.
        let text = std::fs::read_to_string(&accounts.path).expect("file");
        assert!(!text.contains("AKID"), "{text}");
        let mode = std::fs::metadata(&accounts.path)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // A day later it is asked again.
        assert!(accounts.get(&key, now + KEEP_SECS).is_none());
        // At most MAX_ENTRIES, the newest kept.
        for i in 0..(MAX_ENTRIES + 5) {
            let at = now + i64::try_from(i).expect("small");
            accounts.keep(&key_of(&i.to_string()), kept("100000000001", at));
        }
        assert!(accounts.get(&key_of("0"), now + 100).is_none());
        assert!(accounts.get(&key_of("68"), now + 100).is_some());
        let text = std::fs::read_to_string(&accounts.path).expect("file");
        assert_eq!(text.matches("asked_at").count(), MAX_ENTRIES);
    }

    #[test]
    fn a_planted_entry_is_checked_like_an_answer() {
        let dir = tempfile::tempdir().expect("tmp");
        let accounts = Accounts::new(dir.path().join("accounts.json"));
        let now = 1_800_000_000;
        let (good, bad, future) = (key_of("a"), key_of("b"), key_of("c"));
        let text = serde_json::json!({"accounts": {
            good.clone(): {"asked_at": now, "account_id": "100000000001", "type": "CAMRole",
                "arn": "qcs::sts:1:assumed-role/4611686018427397919",
                "user_id": "4611686018427397919:ops\u{1b}[2J"},
            bad.clone(): {"asked_at": now, "account_id": "1e5", "type": "", "arn": "", "user_id": ""},
            future.clone(): {"asked_at": now + 3600, "account_id": "1", "type": "", "arn": "", "user_id": ""},
        }});
        std::fs::write(&accounts.path, text.to_string()).expect("write");
        let a = accounts.get(&good, now).expect("good entry");
        assert!(!a.user_id.contains('\u{1b}'), "{a:?}");
        assert!(accounts.get(&bad, now).is_none());
        assert!(accounts.get(&future, now).is_none());
        // Not JSON at all, or too large: nothing kept, nothing fails.
        std::fs::write(&accounts.path, "not json").expect("write");
        assert!(accounts.get(&good, now).is_none());
        std::fs::write(
            &accounts.path,
            vec![b' '; usize::try_from(CAP + 1).expect("small")],
        )
        .expect("write");
        assert!(accounts.get(&good, now).is_none());
        accounts.keep(&good, kept("100000000001", now));
        assert!(accounts.get(&good, now).is_some());
    }
}
