//! Who a key belongs to, and the temporary keys the emulator hands out: the CVM metadata
//! service (an instance role's temporary key), STS `AssumeRole` and
//! `AssumeRoleWithWebIdentity`, and `GetCallerIdentity`. A temporary key is accepted only
//! together with its token and only until it expires, as Tencent does.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Args;
use pgssl_wire::credential::Secret;

use crate::server::Key;

/// The demo account: a made-up uin in the shape of Tencent's (a 12-digit number).
pub const DEMO_ACCOUNT: &str = "100000000001";
/// The CAM user the emulator's own key belongs to.
pub const DEMO_USER: &str = "100000000002";
/// The role the demo fleet's bastion has, and a role to assume.
pub const DEMO_CVM_ROLE: &str = "pgssl-bastion";
pub const DEMO_ROLE: &str = "pgssl-dba";
/// The OIDC provider and web identity token the emulator accepts by default.
pub const DEMO_OIDC_PROVIDER: &str = "pgssl-demo-oidc";

#[derive(Debug, Clone, Args)]
pub struct IdentityArgs {
    /// The account (uin) the emulator's keys and roles belong to
    #[arg(long, value_name = "UIN", default_value = DEMO_ACCOUNT)]
    pub account: String,
    /// Serve the CVM metadata service with this instance role (GET
    /// /latest/meta-data/cam/security-credentials/); without it, the machine has no role
    #[arg(long, value_name = "ROLE")]
    pub cvm_role: Option<String>,
    /// Roles AssumeRole may assume, by name (repeatable; default: pgssl-dba and the CVM role)
    #[arg(long = "role", value_name = "ROLE")]
    pub roles: Vec<String>,
    /// How long the CVM role's temporary keys last, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 43_200)]
    pub role_key_seconds: i64,
    /// The web identity token AssumeRoleWithWebIdentity accepts (TKE OIDC)
    #[arg(
        long,
        value_name = "TOKEN",
        hide_env_values = true,
        env = "PGSSL_EMULATOR_OIDC_TOKEN"
    )]
    pub oidc_token: Option<String>,
}

impl Default for IdentityArgs {
    fn default() -> Self {
        IdentityArgs {
            account: DEMO_ACCOUNT.into(),
            cvm_role: None,
            roles: Vec::new(),
            role_key_seconds: 43_200,
            oidc_token: None,
        }
    }
}

/// Whose key a request was signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The emulator's own key: a CAM user of the account.
    User { uin: String },
    /// A temporary key of a role. `by`: the uin that asked for the key, which
    /// GetCallerIdentity answers as PrincipalId ("调用者是角色，返回的申请角色密钥的账号Uin",
    /// sts `models.go`).
    Role {
        name: String,
        session: String,
        by: String,
    },
}

impl Principal {
    /// The uin GetCallerIdentity names as PrincipalId: the user's own, or the one that
    /// asked for the role's key.
    pub fn principal_id(&self) -> &str {
        match self {
            Principal::User { uin } => uin,
            Principal::Role { by, .. } => by,
        }
    }
}

/// A temporary key handed out, with when it stops working and whose it is.
#[derive(Debug, Clone)]
pub struct Temporary {
    pub key: Key,
    pub expires_at: i64,
    pub principal: Principal,
}

/// What a key lookup found.
pub enum Found {
    Key(Key, Principal),
    Expired,
    Unknown,
}

/// The emulator's identities: its account, roles and the temporary keys alive.
pub struct Identities {
    pub args: IdentityArgs,
    temporaries: Mutex<Vec<Temporary>>,
    /// Tests turn the metadata service off and on to rehearse a failed refresh.
    metadata_down: AtomicBool,
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Expired keys are remembered a day, so using one says "expired" rather than "unknown".
const KEEP_EXPIRED_SECS: i64 = 86_400;
const MAX_TEMPORARIES: usize = 10_000;

impl Identities {
    pub fn new(args: IdentityArgs) -> Result<Identities, String> {
        if args.account.is_empty() || !args.account.bytes().all(|b| b.is_ascii_digit()) {
            return Err("--account takes a uin: digits only, e.g. 100000000001".into());
        }
        for role in args.roles.iter().chain(&args.cvm_role) {
            if !valid_role_name(role) {
                return Err(format!(
                    "--role/--cvm-role {}: a role name has letters, digits and +=,.@_- only",
                    pgssl_wire::text::sanitize(role)
                ));
            }
        }
        if !(60..=7 * 86_400).contains(&args.role_key_seconds) {
            return Err("--role-key-seconds must be between 60 and 604800".into());
        }
        Ok(Identities {
            args,
            temporaries: Mutex::new(Vec::new()),
            metadata_down: AtomicBool::new(false),
        })
    }

    pub fn set_metadata_down(&self, down: bool) {
        self.metadata_down.store(down, Ordering::SeqCst);
    }

    pub fn metadata_down(&self) -> bool {
        self.metadata_down.load(Ordering::SeqCst)
    }

    fn temporaries(&self) -> std::sync::MutexGuard<'_, Vec<Temporary>> {
        match self.temporaries.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The roles AssumeRole accepts.
    pub fn roles(&self) -> Vec<String> {
        let mut roles = if self.args.roles.is_empty() {
            vec![DEMO_ROLE.to_string()]
        } else {
            self.args.roles.clone()
        };
        roles.extend(self.args.cvm_role.clone());
        roles
    }

    /// The role an ARN names, if it is one of ours, in either form sts `models.go`
    /// documents for RoleArn: `qcs::cam::uin/ACCOUNT:roleName/NAME` or
    /// `qcs::cam::uin/ACCOUNT:role/ROLEID` (the role's numeric id, `role_id`). Service
    /// roles (`:role/tencentcloudServiceRole...`) are not emulated: not found.
    pub fn role_of_arn(&self, arn: &str) -> Option<String> {
        let rest = arn.strip_prefix("qcs::cam::uin/")?;
        let (account, role) = rest.split_once(':')?;
        if account != self.args.account {
            return None;
        }
        let roles = self.roles();
        if let Some(name) = role.strip_prefix("roleName/") {
            return roles.into_iter().find(|r| r == name);
        }
        let id = role.strip_prefix("role/")?;
        roles.into_iter().find(|r| role_id(r) == id)
    }

    pub fn role_arn(&self, name: &str) -> String {
        format!("qcs::cam::uin/{}:roleName/{name}", self.args.account)
    }

    /// Hand out a temporary key for `principal`, good until `expires_at`.
    pub fn issue(&self, principal: Principal, expires_at: i64, now: i64) -> Temporary {
        let temporary = Temporary {
            key: Key {
                secret_id: format!("AKID{}", pgssl_wire::ids::random_string(32, ALNUM)),
                secret_key: Secret::new(pgssl_wire::ids::random_string(32, ALNUM)),
                token: Some(Secret::new(pgssl_wire::ids::random_string(96, ALNUM))),
            },
            expires_at,
            principal,
        };
        let mut all = self.temporaries();
        all.retain(|t| t.expires_at + KEEP_EXPIRED_SECS > now);
        if all.len() >= MAX_TEMPORARIES {
            all.remove(0);
        }
        all.push(temporary.clone());
        temporary
    }

    /// The key with this SecretId: one of `base` (the emulator's own), or a temporary one.
    pub fn find(&self, base: &[Key], secret_id: &str, now: i64) -> Found {
        if let Some(k) = base.iter().find(|k| k.secret_id == secret_id) {
            return Found::Key(
                k.clone(),
                Principal::User {
                    uin: DEMO_USER.into(),
                },
            );
        }
        match self
            .temporaries()
            .iter()
            .find(|t| t.key.secret_id == secret_id)
        {
            Some(t) if t.expires_at > now => Found::Key(t.key.clone(), t.principal.clone()),
            Some(_) => Found::Expired,
            None => Found::Unknown,
        }
    }
}

/// A role's id: 19 digits starting 4611686 as in Tencent's examples
/// (`qcs::cam::uin/12345678:role/4611686018427397919`, sts `models.go`), stable per name.
pub fn role_id(name: &str) -> String {
    let hash = name
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    format!("4611686{:012}", hash % 1_000_000_000_000)
}

/// CAM's rule for role names: up to 128 of letters, digits and `+=,.@_-`.
pub fn valid_role_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}
