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
        self.haystack = crate::ops::select::haystack(
            self.id(),
            self.name(),
            self.region(),
            self.learned.as_deref(),
        );
    }

    /// Take what a read learned, unless it is older than what is shown (`Instance::absorb`).
    pub fn learn(&mut self, instance: Instance) {
        match &mut self.learned {
            Some(known) => known.absorb(instance),
            None => self.learned = Some(Box::new(instance)),
        }
        self.index();
    }

    /// Does the filter word (lower case) match? `key:value` words match a field (see
    /// `ops::select::field`, shared with the CLI's `--filter`); any other word is searched
    /// in the id, name, region, addresses and group names.
    pub fn matches(&self, word: &str) -> bool {
        word.split_once(':')
            .and_then(|(key, value)| {
                crate::ops::select::field(self.learned.as_deref(), self.region(), key, value)
            })
            .unwrap_or_else(|| self.haystack.contains(word))
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
