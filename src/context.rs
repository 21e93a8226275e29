//! Turning global options, the environment and saved files into a ready `Session`:
//! which files, which credential, which endpoint, which region. Shared by both faces.

use std::path::PathBuf;

use crate::api::{Client, ClientOptions, Endpoint};
use crate::credentials::{self, Credential, CredentialSource, Provider};
use crate::ops::{OpsError, Reach, Session};
use crate::store::config::Config;
use crate::store::{Paths, Store};
use crate::validate;

/// Options every command accepts.
#[derive(Debug, Clone, Default)]
pub struct Globals {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    /// `--readonly`: nothing that changes an instance may be sent.
    pub readonly: bool,
    /// `--use-cvm-role` (tccli's flag): the instance role, whatever the profile says.
    pub use_cvm_role: bool,
}

/// Where the credential comes from: the normal chain, one given (demo, tests), or the
/// CVM role chosen in the TUI.
#[derive(Clone)]
pub enum CredentialChoice {
    Chain,
    Fixed(Credential, CredentialSource),
    CvmRole,
}

#[derive(Clone)]
pub struct Context {
    pub store: Store,
    /// What the person chose, as read at start.
    pub config: Config,
    pub globals: Globals,
    pub credentials: CredentialChoice,
    /// Overrides the client's defaults (timeouts, polling); tests and the demo tune these.
    pub client_options: Option<ClientOptions>,
    /// How TLS checks reach addresses (PGSSL_ADDRESS_MAP; the demo's stand-in).
    pub reach: Reach,
    /// Things to say once at start (a config migrated to the new layout).
    pub notes: Vec<String>,
    /// `PGSSL_STS_ENDPOINT`: where STS is (tests, unusual networks).
    pub sts_endpoint: Option<Endpoint>,
    /// `PGSSL_METADATA_ENDPOINT`: the CVM metadata service's base URL.
    pub metadata: Option<String>,
    /// The clock temporary credentials are judged by (tests move it on).
    pub clock: Option<crate::credentials::provider::Clock>,
    /// Where tccli's profiles are looked for instead of $HOME (the demo's own).
    pub home: Option<PathBuf>,
    /// Credentials only from `home`: not the environment, not /etc (the demo never
    /// picks up the person's real keys).
    pub isolated: bool,
    /// The key `Fixed` started with, to switch back to (the demo's).
    pub fixed: Option<(Credential, CredentialSource)>,
}

/// A session plus what the person should be told about how it was made.
pub struct Opened {
    pub session: Session,
    /// e.g. "using credentials from environment (...), SecretId AKID****abcd"
    pub banner: String,
    pub warnings: Vec<String>,
    /// Region default that came with the credential (tccli profile or TENCENTCLOUD_REGION).
    pub credential_region: Option<String>,
}

impl Opened {
    /// The credential in a few words, for the TUI's header: source, masked SecretId and,
    /// for a temporary key, until when.
    pub fn short_line(&self) -> String {
        let provider = self.session.client.provider();
        let id = provider
            .cached()
            .map_or_else(|| "key not fetched yet".to_string(), |c| c.masked_id());
        let until = provider
            .status()
            .filter(|s| s.expires_at > 0)
            .and_then(|s| pgssl_wire::clock::rfc3339(s.expires_at))
            .map_or_else(String::new, |t| {
                format!(" until {}", t.get(11..16).unwrap_or(t.as_str()))
            });
        format!("{} · {id}{until}", self.session.source.brief())
    }

    /// The credential line for a person, once the key is held: its source, the masked
    /// SecretId (and for a temporary key what it is and until when), the endpoint.
    pub fn credential_line(&self) -> String {
        let provider = self.session.client.provider();
        let id = provider
            .cached()
            .map_or_else(|| "not fetched yet".to_string(), |c| c.masked_id());
        let temporary = provider.status().map_or_else(String::new, |s| {
            if s.expires_at > 0 {
                format!(
                    " (temporary, until {})",
                    pgssl_wire::clock::rfc3339(s.expires_at).unwrap_or_default()
                )
            } else {
                " (temporary)".into()
            }
        });
        let profile = if self.session.guard.protected {
            " [PROTECTED]"
        } else {
            ""
        };
        format!(
            "using credentials from {}{profile}, SecretId {id}{temporary}, endpoint {}",
            self.session.source,
            self.session.client.endpoint()
        )
    }
}

/// A credential problem as pgssl reports it: one line; exit 2 when the person must fix
/// something, 1 when a service failed.
fn credential_error(e: &credentials::CredentialError) -> OpsError {
    if e.exit_code() == 2 {
        OpsError::Usage(e.to_string())
    } else {
        OpsError::Failed(e.to_string())
    }
}

/// `PGSSL_STS_TIMEOUT`: how long one STS request may wait for its reply, in seconds (tests;
/// networks where STS is slow).
fn sts_timeout(text: &str) -> Result<std::time::Duration, OpsError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
        .filter(|d| !d.is_zero() && d.as_secs() <= 600)
        .ok_or_else(|| {
            OpsError::Usage(format!(
                "PGSSL_STS_TIMEOUT '{}' must be a number of seconds above 0 and at most 600 (e.g. 10 or 0.5)",
                crate::text::sanitize(text)
            ))
        })
}

/// `PGSSL_METADATA_ENDPOINT`: `http://HOST[:PORT]`, no path (the metadata paths are added).
fn metadata_base(text: &str) -> Result<String, OpsError> {
    let t = text.trim().trim_end_matches('/');
    let rest = t.strip_prefix("http://").ok_or_else(|| {
        OpsError::Usage(format!(
            "PGSSL_METADATA_ENDPOINT '{}' must be http://HOST[:PORT] (the metadata service speaks plain http)",
            crate::text::sanitize(text)
        ))
    })?;
    if rest.is_empty()
        || !rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    {
        return Err(OpsError::Usage(format!(
            "PGSSL_METADATA_ENDPOINT '{}' must be http://HOST[:PORT], without a path",
            crate::text::sanitize(text)
        )));
    }
    Ok(t.to_string())
}

/// Where STS is: `PGSSL_STS_ENDPOINT`; else, beside a loopback API endpoint (an
/// emulator, a tunnel), that same endpoint, whatever the tccli profile's `sts.endpoint`
/// says (tccli writes every service's public endpoint into `default.configure` on first
/// use, which says nothing of where this command's STS is; a loopback `sts.endpoint` in
/// the profile was put there on purpose and is kept); else the profile's `sts.endpoint`;
/// else beside the API endpoint (`Endpoint::sts_beside`).
fn sts_for(
    endpoint: &Endpoint,
    explicit: Option<&Endpoint>,
    profile: Option<&str>,
) -> Result<Endpoint, OpsError> {
    if let Some(e) = explicit {
        return Ok(e.clone());
    }
    let profile = profile
        .map(|e| {
            Endpoint::parse(e)
                .map_err(|p| OpsError::Usage(format!("the tccli profile's sts.endpoint: {p}")))
        })
        .transpose()?;
    Ok(match profile {
        Some(p) if p.is_loopback() || !endpoint.is_loopback() => p,
        _ => Endpoint::sts_beside(endpoint),
    })
}

/// What names the credential for the account kept on disk (digested before it is
/// used, `store::accounts::key_of`): the SecretId of a key, the role of a temporary
/// one (its keys change at each renewal, its account never), with where STS is, so
/// an emulator's answer is never taken for Tencent's.
fn account_key(
    choice: &CredentialChoice,
    how: Option<&credentials::How>,
    sts: &Endpoint,
    metadata: &str,
) -> Option<String> {
    use credentials::How;
    let who = match (choice, how) {
        (CredentialChoice::Fixed(c, _), _) | (_, Some(How::Keys(c))) => {
            format!("secret-id:{}", c.secret_id)
        }
        (_, Some(How::Login { credential, .. })) => format!("secret-id:{}", credential.secret_id),
        (_, Some(How::AssumeRole { role_arn, .. })) => format!("role:{role_arn}"),
        (_, Some(How::Oidc { role_arn, .. })) => format!("oidc:{role_arn}"),
        // A machine's role belongs to the machine's account: the metadata service says
        // which machine.
        (_, Some(How::CvmRole { .. })) => format!("cvm-role:{metadata}"),
        (_, None) => return None,
    };
    Some(format!("{who} sts:{sts}"))
}

impl Context {
    pub fn load(paths: Paths, mut globals: Globals) -> Result<Context, OpsError> {
        // Checked and used in the same form: `ap-guangzhou\n` is `ap-guangzhou` everywhere.
        // Whether a well-shaped name is a region is DescribeRegions' to say (`confirm_region`).
        if let Some(r) = &globals.region {
            globals.region = Some(validate::region_name(r).map_err(OpsError::Usage)?);
        }
        if let Some(e) = &globals.endpoint {
            Endpoint::parse(e).map_err(OpsError::Usage)?;
        }
        let store = Store::new(paths);
        store.remove_dead_temps();
        let mut config = store.config.load()?;
        let mut notes = Vec::new();
        if let Some(note) = store.migrate(&config)? {
            notes.push(note);
            config = store.config.load()?;
        }
        let sts_endpoint = match std::env::var("PGSSL_STS_ENDPOINT") {
            Ok(e) if !e.trim().is_empty() => Some(
                Endpoint::parse(&e)
                    .map_err(|p| OpsError::Usage(format!("PGSSL_STS_ENDPOINT: {p}")))?,
            ),
            _ => None,
        };
        let client_options = match std::env::var("PGSSL_STS_TIMEOUT") {
            Ok(t) if !t.trim().is_empty() => Some(ClientOptions {
                sts_timeout: sts_timeout(&t)?,
                ..ClientOptions::default()
            }),
            _ => None,
        };
        let metadata = match std::env::var("PGSSL_METADATA_ENDPOINT") {
            Ok(e) if !e.trim().is_empty() => Some(metadata_base(&e)?),
            _ => None,
        };
        let map = match std::env::var("PGSSL_ADDRESS_MAP") {
            Ok(text) => crate::ops::verify::parse_address_map(&text)
                .map_err(|e| OpsError::Usage(format!("PGSSL_ADDRESS_MAP: {e}")))?,
            Err(_) => Vec::new(),
        };
        let credentials = if globals.use_cvm_role {
            CredentialChoice::CvmRole
        } else {
            CredentialChoice::Chain
        };
        Ok(Context {
            reach: Reach {
                map,
                loopback_only: false,
            },
            store,
            config,
            globals,
            credentials,
            client_options,
            notes,
            sts_endpoint,
            metadata,
            clock: None,
            home: None,
            isolated: false,
            fixed: None,
        })
    }

    /// The chain's answer for this context (files and environment only; nothing sent).
    pub fn resolve(&self) -> Result<credentials::Resolved, OpsError> {
        let home = self.home_dir();
        let isolated = self.isolated;
        let env = move |k: &str| {
            if isolated {
                None
            } else {
                std::env::var(k).ok()
            }
        };
        let system_file = PathBuf::from("/etc/tencentcloud/credentials");
        let now = self
            .clock
            .as_ref()
            .map_or_else(pgssl_wire::clock::unix_now, |c| c());
        credentials::resolve(&credentials::Lookup {
            profile: self.globals.profile.as_deref(),
            config_profile: self.config.profile.as_deref(),
            home: home.as_deref(),
            system_file: (!isolated).then_some(system_file.as_path()),
            env: &env,
            now,
        })
        .map_err(|e| credential_error(&e))
    }

    /// Resolve the credential and endpoints, and build the client. A CVM role as the
    /// last resort is asked for here; other temporary keys are fetched when first used.
    pub async fn open(&self) -> Result<Opened, OpsError> {
        let resolved = match &self.credentials {
            CredentialChoice::Fixed(..) => None,
            CredentialChoice::Chain => Some(self.resolve()?),
            CredentialChoice::CvmRole => Some(credentials::Resolved {
                how: credentials::How::CvmRole { named: true },
                source: CredentialSource::CvmRole { profile: None },
                profile: None,
                region: None,
                endpoint: None,
                sts_endpoint: None,
                tried: Vec::new(),
                warnings: Vec::new(),
            }),
        };
        let endpoint_text = self
            .globals
            .endpoint
            .clone()
            .or_else(|| self.config.endpoint.clone())
            .or_else(|| resolved.as_ref().and_then(|r| r.endpoint.clone()));
        let endpoint = match endpoint_text {
            Some(e) => Endpoint::parse(&e).map_err(OpsError::Usage)?,
            None => Endpoint::default(),
        };
        let sts = sts_for(
            &endpoint,
            self.sts_endpoint.as_ref(),
            resolved.as_ref().and_then(|r| r.sts_endpoint.as_deref()),
        )?;
        let metadata = self.metadata_for(&endpoint);
        let account_what = account_key(
            &self.credentials,
            resolved.as_ref().map(|r| &r.how),
            &sts,
            &metadata,
        );
        let mut options = self.client_options.clone().unwrap_or_default();
        options.endpoint = endpoint;
        options.sts_endpoint = sts.clone();
        let (provider, source, warnings, cred_region, profile) = match (&self.credentials, resolved)
        {
            (CredentialChoice::Fixed(c, s), _) => {
                (Provider::fixed(c.clone()), s.clone(), vec![], None, None)
            }
            (CredentialChoice::Chain | CredentialChoice::CvmRole, Some(r)) => {
                let places = credentials::Places {
                    sts,
                    metadata,
                    options: options.clone(),
                    clock: self.clock.clone(),
                };
                let provider = credentials::provider(&r, &places)
                    .await
                    .map_err(|e| credential_error(&e))?;
                (provider, r.source, r.warnings, r.region, r.profile)
            }
            (CredentialChoice::Chain | CredentialChoice::CvmRole, None) => {
                return Err(OpsError::Usage("no credential chain was resolved".into()));
            }
        };
        let provider = match &self.clock {
            Some(clock) => provider.with_clock(clock.clone()),
            None => provider,
        };
        let mut client = Client::new(provider, options).map_err(OpsError::Usage)?;
        if let Some(clock) = &self.clock {
            client = client.with_clock(clock.clone());
        }
        let guard = self.config.guards.effective(profile.as_deref());
        let mut session = Session::new(client, source, self.store.clone(), self.reach.clone());
        // The census's login: the libpq variables, and ~/.pgpass in `home` when pgssl
        // looks there (the demo's own, and nothing of the person's environment).
        if self.isolated {
            session.login_env = crate::census::login::Env {
                home: self.home.clone(),
                ..Default::default()
            };
        } else if let Some(home) = &self.home {
            session.login_env.home = Some(home.clone());
        }
        if let Some(what) = account_what {
            session.identity = crate::ops::identity::Lookup::keyed(&what);
        }
        session.profile = profile;
        session.guard = guard;
        session.readonly_flag = self.globals.readonly;
        let mut opened = Opened {
            session,
            banner: String::new(),
            warnings,
            credential_region: cred_region.filter(|r| validate::region_name(r).is_ok()),
        };
        opened.banner = opened.credential_line();
        // Whose the credential is, asked beside whatever the command does first.
        opened.session.start_identity();
        Ok(opened)
    }

    fn home_dir(&self) -> Option<PathBuf> {
        self.home
            .clone()
            .or_else(|| std::env::var_os("HOME").map(PathBuf::from))
    }

    /// Where the metadata service is: `PGSSL_METADATA_ENDPOINT`, else beside a loopback
    /// API endpoint (an emulator world: nothing leaves this machine, the metadata service
    /// included), else the CVM's own.
    fn metadata_for(&self, endpoint: &Endpoint) -> String {
        self.metadata.clone().unwrap_or_else(|| {
            if endpoint.is_loopback() {
                endpoint.to_string()
            } else {
                credentials::fetch::METADATA_BASE.to_string()
            }
        })
    }

    fn metadata_base(&self) -> String {
        let endpoint = self
            .globals
            .endpoint
            .as_deref()
            .or(self.config.endpoint.as_deref())
            .and_then(|e| Endpoint::parse(e).ok())
            .unwrap_or_default();
        self.metadata_for(&endpoint)
    }

    /// The credentials a person can switch to (the TUI's `P`): tccli profiles, the
    /// environment's keys, the CVM role (asked of the metadata service, briefly).
    pub async fn choices(&self) -> Vec<credentials::choices::Choice> {
        let environment = !self.isolated
            && std::env::var_os("TENCENTCLOUD_SECRET_ID").is_some_and(|v| !v.is_empty())
            && std::env::var_os("TENCENTCLOUD_SECRET_KEY").is_some_and(|v| !v.is_empty());
        let role = match credentials::fetch::CvmRole::new(&self.metadata_base()) {
            Ok(cvm) => cvm.role_name().await.ok().flatten(),
            Err(_) => None,
        };
        let now = self
            .clock
            .as_ref()
            .map_or_else(pgssl_wire::clock::unix_now, |c| c());
        let mut out = Vec::new();
        if self.fixed.is_some() {
            out.push(credentials::choices::Choice::Demo);
        }
        out.extend(credentials::choices::list(
            self.home_dir().as_deref(),
            environment,
            role,
            now,
        ));
        out
    }

    /// This context with another credential chosen.
    pub fn with_choice(&self, choice: &credentials::choices::Choice) -> Context {
        use credentials::choices::Choice;
        let mut ctx = self.clone();
        match choice {
            Choice::Profile { name, .. } => {
                ctx.globals.use_cvm_role = false;
                ctx.globals.profile = Some(name.clone());
                ctx.credentials = CredentialChoice::Chain;
            }
            Choice::Environment => {
                ctx.globals.use_cvm_role = false;
                ctx.globals.profile = None;
                ctx.credentials = CredentialChoice::Chain;
            }
            Choice::CvmRole { .. } => {
                ctx.globals.profile = None;
                ctx.credentials = CredentialChoice::CvmRole;
            }
            Choice::Demo => {
                ctx.globals.profile = None;
                if let Some((c, s)) = &self.fixed {
                    ctx.credentials = CredentialChoice::Fixed(c.clone(), s.clone());
                }
            }
        }
        ctx
    }

    /// Whether `region` is one to read and send in: DescribeRegions lists it AVAILABLE
    /// (`ops::regions::confirm`).
    pub async fn confirm_region(&self, session: &Session, region: &str) -> Result<(), OpsError> {
        crate::ops::regions::confirm(session, region).await
    }

    /// The region for a command: `--region`, else the saved instance's, else the config's
    /// default, else the credential's default.
    pub fn region_for(
        &self,
        instance_id: Option<&str>,
        credential_region: Option<&str>,
    ) -> Result<String, OpsError> {
        if let Some(r) = &self.globals.region {
            return validate::region_name(r).map_err(OpsError::Usage);
        }
        if let Some(saved) = instance_id.and_then(|id| self.config.instance(id)) {
            return Ok(saved.region.clone());
        }
        if let Some(r) = self.config.region.as_deref().or(credential_region) {
            return Ok(r.to_string());
        }
        Err(OpsError::Usage(match instance_id {
            Some(id) => format!(
                "which region is {id} in? pass --region (e.g. --region ap-guangzhou), or save it with `{} instances add {id} --region R`",
                crate::hint::pgssl()
            ),
            None => "which region? pass --region (e.g. --region ap-guangzhou) or set `region` in the config".into(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str) -> Endpoint {
        Endpoint::parse(s).expect("endpoint")
    }

    #[test]
    fn sts_beside_a_loopback_endpoint_unless_said_otherwise() {
        let emulator = ep("http://127.0.0.1:4000");
        let real = ep("postgres.intl.tencentcloudapi.com");
        let sts = |api: &Endpoint, explicit: Option<&Endpoint>, profile: Option<&str>| {
            sts_for(api, explicit, profile).expect("sts").to_string()
        };
        // tccli's default.configure names the public STS: beside a loopback endpoint
        // that is not where STS is.
        assert_eq!(
            sts(&emulator, None, Some("sts.tencentcloudapi.com")),
            "http://127.0.0.1:4000"
        );
        assert_eq!(sts(&emulator, None, None), "http://127.0.0.1:4000");
        // A loopback sts.endpoint in the profile was put there on purpose.
        assert_eq!(
            sts(&emulator, None, Some("http://127.0.0.1:5000")),
            "http://127.0.0.1:5000"
        );
        // PGSSL_STS_ENDPOINT wins over everything.
        let explicit = ep("http://127.0.0.1:6000");
        assert_eq!(
            sts(&emulator, Some(&explicit), Some("sts.tencentcloudapi.com")),
            "http://127.0.0.1:6000"
        );
        // A real endpoint keeps the profile's STS, else the one beside it.
        assert_eq!(
            sts(&real, None, Some("sts.tencentcloudapi.com")),
            "https://sts.tencentcloudapi.com"
        );
        assert_eq!(
            sts(&real, None, None),
            "https://sts.intl.tencentcloudapi.com"
        );
        assert!(sts_for(&real, None, Some("http://sts.example.com")).is_err());
    }
}
