//! Planning one change: pure. From what a person wants and what the API just described,
//! the exact change (or the reason there is none), shown before it is confirmed and then
//! sent exactly as shown.

use serde::Serialize;

use crate::addresses::{self, Address, AddressSpec};
use crate::api::models::ModifyDBInstanceSSLConfigRequest;
use crate::domain::{Instance, SslState};
use crate::ops::refusal::PlanRefusal;

/// What a person asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// SSL on, protecting the address this names.
    Enable(AddressSpec),
    Disable,
}

impl Want {
    pub fn enables(&self) -> bool {
        matches!(self, Want::Enable(_))
    }
}

/// A change someone asked for, before anything is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub region: String,
    pub instance_id: String,
    pub want: Want,
}

/// What the change does to SSL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "ssl", rename_all = "snake_case")]
pub enum Target {
    /// SSL on, the certificate protecting this address.
    On(Address),
    Off,
}

impl Target {
    /// SSL already is this: off, or on protecting exactly this address (an IP and a DNS
    /// name are different certificates, so one does not stand for the other).
    pub fn is_now(&self, state: &SslState) -> bool {
        match self {
            Target::Off => !state.enabled,
            Target::On(a) => state.enabled && state.protected.as_ref() == Some(&a.host),
        }
    }

    /// What ConnectAddress carries: the address's host when SSL goes on.
    pub fn host(&self) -> Option<&crate::addresses::Host> {
        match self {
            Target::On(a) => Some(&a.host),
            Target::Off => None,
        }
    }
}

/// A change, fully decided: the instance as it was read, and what SSL becomes. The request
/// is derived from it, so what is shown and what is sent cannot differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub instance: Instance,
    pub target: Target,
}

/// What planning found: a change to send, or nothing to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    Change(Plan),
    /// The instance already is as asked: nothing is sent.
    Unchanged(Instance),
}

impl Prepared {
    pub fn instance(&self) -> &Instance {
        match self {
            Prepared::Change(p) => &p.instance,
            Prepared::Unchanged(i) => i,
        }
    }
}

/// Decide a change. Refused unless the instance is running (SSL can only change then);
/// an address must be one of the instance's own; an instance already as asked needs no
/// change. Pure: the CLI and the TUI plan through this one function.
pub fn plan(instance: &Instance, want: &Want) -> Result<Prepared, PlanRefusal> {
    if !instance.status.is_running() {
        return Err(PlanRefusal::NotRunning {
            id: instance.id.clone(),
            status: instance.status.to_string(),
        });
    }
    if let (Want::Enable(_), Some(v)) = (want, &instance.version)
        && !v.supports_ssl()
    {
        return Err(PlanRefusal::TooOld {
            id: instance.id.clone(),
            version: v.full.clone(),
        });
    }
    let target = match want {
        Want::Disable => Target::Off,
        Want::Enable(spec) => Target::On(addresses::choose(
            &instance.id,
            instance.kind.is_readonly(),
            &instance.addresses,
            spec,
        )?),
    };
    let unchanged = instance.ssl_state().is_some_and(|now| target.is_now(now));
    Ok(if unchanged {
        Prepared::Unchanged(instance.clone())
    } else {
        Prepared::Change(Plan {
            instance: instance.clone(),
            target,
        })
    })
}

impl Plan {
    pub fn enables(&self) -> bool {
        matches!(self.target, Target::On(_))
    }

    pub fn region(&self) -> &str {
        &self.instance.region
    }

    pub fn instance_id(&self) -> &str {
        &self.instance.id
    }

    pub fn current(&self) -> Option<&SslState> {
        self.instance.ssl_state()
    }

    /// The one request this plan sends. The address is the parsed IP or checked DNS
    /// name, never a display form.
    pub fn request(&self) -> ModifyDBInstanceSSLConfigRequest {
        ModifyDBInstanceSSLConfigRequest {
            DBInstanceId: self.instance.id.clone(),
            SSLEnabled: self.enables(),
            ConnectAddress: self.target.host().map(ToString::to_string),
        }
    }

    pub fn new_state(&self) -> String {
        match &self.target {
            Target::On(a) => format!("on, protecting {}", a.label()),
            Target::Off => "off".into(),
        }
    }

    /// What a person must see before confirming: shared by the CLI prompt and the TUI dialog.
    pub fn summary(&self) -> Vec<String> {
        let i = &self.instance;
        let name = if i.name.is_empty() {
            String::new()
        } else {
            format!(" ({})", i.name)
        };
        let mut lines = vec![
            format!(
                "Instance: {}{name}, {} in {}",
                i.id,
                i.kind.label(),
                i.region
            ),
            format!(
                "SSL now:  {}",
                self.current()
                    .map_or_else(|| "unknown".into(), SslState::describe)
            ),
            format!("SSL new:  {}", self.new_state()),
        ];
        lines.push(if self.enables() {
            "Warning:  changing SSL restarts the instance; connections will drop briefly.".into()
        } else {
            "Warning:  disabling SSL restarts the instance, and clients using sslmode=verify-* will fail to connect.".into()
        });
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addresses::AddressKind;
    use crate::domain::{InstanceKind, InstanceStatus, SslSeen};

    fn instance(status: &str, ssl: Option<SslState>) -> Instance {
        Instance {
            id: "postgres-6bwgamo3".into(),
            region: "ap-guangzhou".into(),
            name: "orders\\x1b[2J-db".into(),
            kind: InstanceKind::Primary,
            status: InstanceStatus::from_api(status),
            master: None,
            version: None,
            addresses: vec![Address::unverified("10.6.0.4".parse().expect("ip"))],
            unusable: vec![],
            ssl: ssl.map(|state| SslSeen {
                state,
                read_at: "2026-12-01T00:00:00Z".into(),
            }),
            read_at: "2026-12-01T00:00:00Z".into(),
            ca: None,
            tls: None,
        }
    }

    fn change(p: Result<Prepared, PlanRefusal>) -> Plan {
        match p.expect("plans") {
            Prepared::Change(plan) => plan,
            Prepared::Unchanged(_) => panic!("expected a change"),
        }
    }

    #[test]
    fn an_address_of_the_instance_is_sent_as_its_ip() {
        let i = instance("running", None);
        let c = change(plan(
            &i,
            &Want::Enable(AddressSpec::Kind(AddressKind::Private)),
        ));
        assert_eq!(c.request().ConnectAddress.as_deref(), Some("10.6.0.4"));
        assert!(
            c.summary()
                .iter()
                .any(|l| l.contains("restarts the instance"))
        );
        let e = plan(
            &i,
            &Want::Enable(AddressSpec::Host("10.9.9.9".parse().expect("ip"))),
        )
        .expect_err("foreign");
        assert!(
            matches!(
                e,
                PlanRefusal::Address(crate::ops::refusal::AddressRefusal::NotItsAddress { .. })
            ),
            "{e}"
        );
        // Disabling never sends an address.
        assert_eq!(
            change(plan(&i, &Want::Disable)).request().ConnectAddress,
            None
        );
        // In tccli's terms, as tccli's own examples spell them.
        assert_eq!(
            crate::ops::tccli::modify(&c, None),
            "tccli postgres ModifyDBInstanceSSLConfig --cli-unfold-argument --region ap-guangzhou --DBInstanceId postgres-6bwgamo3 --SSLEnabled True --ConnectAddress 10.6.0.4"
        );
        assert_eq!(
            crate::ops::tccli::modify(&change(plan(&i, &Want::Disable)), Some("prod")),
            "tccli postgres ModifyDBInstanceSSLConfig --cli-unfold-argument --profile prod --region ap-guangzhou --DBInstanceId postgres-6bwgamo3 --SSLEnabled False"
        );
    }

    #[test]
    fn a_busy_instance_is_refused_before_sending() {
        let e = plan(&instance("restarting", None), &Want::Disable).expect_err("busy");
        assert_eq!(
            e,
            PlanRefusal::NotRunning {
                id: "postgres-6bwgamo3".into(),
                status: "restarting".into()
            }
        );
    }

    #[test]
    fn an_instance_already_as_asked_needs_no_change() {
        let on = SslState {
            enabled: true,
            protected: Some("10.6.0.4".parse().expect("ip")),
            ca_url: None,
            inline_ca: None,
        };
        let i = instance("running", Some(on));
        let spec = Want::Enable(AddressSpec::Host("10.6.0.4".parse().expect("ip")));
        assert!(matches!(plan(&i, &spec), Ok(Prepared::Unchanged(_))));
        assert!(matches!(plan(&i, &Want::Disable), Ok(Prepared::Change(_))));
        let off = instance("running", Some(SslState::OFF));
        assert!(matches!(
            plan(&off, &Want::Disable),
            Ok(Prepared::Unchanged(_))
        ));
        // Unknown state: always a change.
        assert!(matches!(
            plan(&instance("running", None), &Want::Disable),
            Ok(Prepared::Change(_))
        ));
    }
}
