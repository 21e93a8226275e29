//! One saved instance as the list shows it: what the person saved, what pgssl learned
//! (sanitized at its source: the API reader and the inventory loader), and the text the
//! filter searches, prepared once.

use crate::addresses::Address;
use crate::domain::{Instance, SslState};
use crate::store::SavedInstance;

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub saved: SavedInstance,
    /// The name shown: the person's (from config.toml, sanitized here), else the API's.
    name: String,
    /// Boxed: the list walks 10,000 rows per keystroke, and small rows stay in cache.
    pub learned: Option<Box<Instance>>,
    haystack: String,
}

impl Row {
    pub fn new(saved: SavedInstance, learned: Option<Box<Instance>>) -> Row {
        let mut row = Row {
            name: String::new(),
            saved,
            learned,
            haystack: String::new(),
        };
        row.index();
        row
    }

    fn index(&mut self) {
        self.name = match &self.saved.name {
            Some(label) => crate::text::clean(label),
            None => self
                .learned
                .as_ref()
                .map(|i| i.name.clone())
                .unwrap_or_default(),
        };
        let mut h = format!("{} {} {}", self.id(), self.name(), self.region());
        for a in self.addresses() {
            h.push(' ');
            h.push_str(&a.ip.to_string());
            if let Some(g) = &a.group_name {
                h.push(' ');
                h.push_str(g);
            }
        }
        self.haystack = h.to_lowercase();
    }

    /// Take what a read learned, unless it is older than what is shown (`Instance::absorb`).
    pub fn learn(&mut self, instance: Instance) {
        match &mut self.learned {
            Some(known) => known.absorb(instance),
            None => self.learned = Some(Box::new(instance)),
        }
        self.index();
    }

    /// Does the filter word (lower case) match?
    /// Does the filter word (lower case) match? `key:value` words match a field:
    /// `ssl:on|off|unknown`, `status:running`, `region:sing`, `type:primary|ro`,
    /// `protected:private|public|group|none`; any other word is searched in the id, name,
    /// region, addresses and group names.
    pub fn matches(&self, word: &str) -> bool {
        let Some((key, value)) = word.split_once(':') else {
            return self.haystack.contains(word);
        };
        match key {
            "ssl" => {
                let state = match self.ssl() {
                    Some(s) if s.enabled => "on",
                    Some(_) => "off",
                    None => "unknown",
                };
                state.starts_with(value) || (value == "?" && state == "unknown")
            }
            "status" => self
                .status()
                .is_some_and(|s| s.as_str().to_lowercase().starts_with(value)),
            "region" => self.region().contains(value),
            "type" | "kind" => {
                let label = self.kind_label();
                label.starts_with(value) || (value == "ro" && label == "read-only")
            }
            "protected" | "prot" => {
                let learned = self.learned.as_deref();
                match learned.and_then(Instance::protected_address) {
                    Some(a) => a.kind.keyword().starts_with(value),
                    None if learned.and_then(Instance::protected_ip).is_some() => value == "other",
                    None => value == "none",
                }
            }
            // Not a field: an address with a port, an IPv6 address, text.
            _ => self.haystack.contains(word),
        }
    }

    pub fn id(&self) -> &str {
        &self.saved.id
    }

    pub fn region(&self) -> &str {
        &self.saved.region
    }

    /// The name the person gave it, else the API's.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn kind_label(&self) -> &str {
        self.learned.as_ref().map_or("?", |i| i.kind.label())
    }

    pub fn status(&self) -> Option<&crate::domain::InstanceStatus> {
        self.learned.as_ref().map(|i| &i.status)
    }

    pub fn ssl(&self) -> Option<&SslState> {
        self.learned.as_deref().and_then(Instance::ssl_state)
    }

    pub fn addresses(&self) -> &[Address] {
        self.learned
            .as_ref()
            .map_or(&[], |i| i.addresses.as_slice())
    }

    pub fn is_readonly(&self) -> bool {
        self.learned.as_ref().is_some_and(|i| i.kind.is_readonly())
    }
}
