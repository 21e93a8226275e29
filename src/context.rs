//! Turning global options, the environment and saved files into a ready `Session`:
//! which files, which credential, which endpoint, which region. Shared by both faces.

use std::path::PathBuf;

use crate::api::{self, Client, ClientOptions, Endpoint};
use crate::credentials::{self, Credential, CredentialSource};
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
}

/// Where the credential comes from: the normal chain, or one given (demo, tests).
#[derive(Clone)]
pub enum CredentialChoice {
    Chain,
    Fixed(Credential, CredentialSource),
}

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

impl Context {
    pub fn load(paths: Paths, mut globals: Globals) -> Result<Context, OpsError> {
        // Checked and used in the same form: `ap-guangzhou\n` is `ap-guangzhou` everywhere.
        // Whether a well-shaped name is a region is DescribeRegions' to say (`confirm_region`).
        if let Some(r) = &globals.region {
            globals.region = Some(validate::region_name(r).map_err(OpsError::Invalid)?);
        }
        if let Some(e) = &globals.endpoint {
            Endpoint::parse(e).map_err(OpsError::Invalid)?;
        }
        let store = Store::new(paths);
        let mut config = store.config.load()?;
        let mut notes = Vec::new();
        if let Some(note) = store.migrate(&config)? {
            notes.push(note);
            config = store.config.load()?;
        }
        let map = match std::env::var("PGSSL_ADDRESS_MAP") {
            Ok(text) => crate::ops::verify::parse_address_map(&text)
                .map_err(|e| OpsError::Invalid(format!("PGSSL_ADDRESS_MAP: {e}")))?,
            Err(_) => Vec::new(),
        };
        Ok(Context {
            reach: Reach {
                map,
                loopback_only: false,
            },
            store,
            config,
            globals,
            credentials: CredentialChoice::Chain,
            client_options: None,
            notes,
        })
    }

    /// Resolve the credential and endpoint, and build the client.
    pub fn open(&self) -> Result<Opened, OpsError> {
        let (credential, source, warnings, cred_region, cred_endpoint) = match &self.credentials {
            CredentialChoice::Fixed(c, s) => (c.clone(), s.clone(), vec![], None, None),
            CredentialChoice::Chain => {
                let home = std::env::var_os("HOME").map(PathBuf::from);
                let env = |k: &str| std::env::var(k).ok();
                let profile = self
                    .globals
                    .profile
                    .as_deref()
                    .or(self.config.profile.as_deref());
                let resolved = credentials::resolve(&credentials::Lookup {
                    profile,
                    home: home.as_deref(),
                    env: &env,
                })
                .map_err(|e| OpsError::Invalid(e.to_string()))?;
                (
                    resolved.credential,
                    resolved.source,
                    resolved.warnings,
                    resolved.region,
                    resolved.endpoint,
                )
            }
        };
        let endpoint_text = self
            .globals
            .endpoint
            .clone()
            .or_else(|| self.config.endpoint.clone())
            .or(cred_endpoint);
        let endpoint = match endpoint_text {
            Some(e) => Endpoint::parse(&e).map_err(OpsError::Invalid)?,
            None => Endpoint::default(),
        };
        let mut options = self.client_options.clone().unwrap_or_default();
        options.endpoint = endpoint;
        let banner = format!(
            "using credentials from {}, SecretId {}, endpoint {}",
            source,
            credential.masked_id(),
            options.endpoint
        );
        let client = Client::new(credential, options).map_err(OpsError::Invalid)?;
        Ok(Opened {
            session: Session {
                client,
                source,
                store: self.store.clone(),
                reach: self.reach.clone(),
            },
            banner,
            warnings,
            credential_region: cred_region.filter(|r| api::is_ssl_region(r)),
        })
    }

    /// Whether `region` is one to send to. One of the 18 regions Tencent documents for the
    /// SSL actions is; any other is checked against what DescribeRegions lists (kept in the
    /// data dir): a real region is sent to with a warning (Tencent may support more regions
    /// than it documents; its own `UnsupportedRegion` answer then says so), a name that is
    /// no region at all is refused before anything is sent.
    pub async fn confirm_region(
        &self,
        session: &Session,
        region: &str,
    ) -> Result<Option<String>, OpsError> {
        if api::is_ssl_region(region) {
            return Ok(None);
        }
        let mut listed = self.store.listed_regions();
        if !listed.iter().any(|r| r == region) {
            let reply = session
                .client
                .call(None, &api::models::DescribeRegionsRequest {})
                .await?;
            listed = reply
                .RegionSet
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| r.Region)
                .filter(|r| validate::region_name(r).is_ok())
                .collect();
            self.store.keep_listed_regions(&listed);
        }
        if listed.iter().any(|r| r == region) {
            Ok(Some(format!(
                "warning: {region} is not one of the 18 regions Tencent documents for the SSL actions; sending anyway (the API says so if it does not support it)"
            )))
        } else {
            Err(OpsError::Invalid(format!(
                "'{region}' is not a region Tencent Cloud lists (DescribeRegions): check the name (pgssl regions list --remote); nothing was sent"
            )))
        }
    }

    /// The region for a command: `--region`, else the saved instance's, else the config's
    /// default, else the credential's default.
    pub fn region_for(
        &self,
        instance_id: Option<&str>,
        credential_region: Option<&str>,
    ) -> Result<String, OpsError> {
        if let Some(r) = &self.globals.region {
            return validate::region_name(r).map_err(OpsError::Invalid);
        }
        if let Some(saved) = instance_id.and_then(|id| self.config.instance(id)) {
            return Ok(saved.region.clone());
        }
        if let Some(r) = self.config.region.as_deref().or(credential_region) {
            return Ok(r.to_string());
        }
        Err(OpsError::Invalid(match instance_id {
            Some(id) => format!(
                "which region is {id} in? pass --region (e.g. --region ap-guangzhou), or save it with `pgssl instances add {id} --region R`"
            ),
            None => "which region? pass --region (e.g. --region ap-guangzhou) or set `region` in the config".into(),
        }))
    }
}
