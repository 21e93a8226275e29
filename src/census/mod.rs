//! Who is connected to an instance, and how: the client connections `pg_stat_ssl` joined
//! with `pg_stat_activity` shows (client backends only), grouped by how and from where
//! they connect. Pure: the rows come from `ops::census`, which logs in; `login` says
//! which login, the libpq way.

pub mod login;

use std::fmt::Write as _;

use serde::Serialize;

use crate::text::clean;

/// The query: every client backend but this login's own, with its TLS state. A login
/// without `pg_read_all_stats` (a member of `pg_monitor` has it) sees other users'
/// sessions with their backend type and TLS state NULL (their user and database still
/// shown; a background worker has no database): those rows are counted as hidden.
pub const QUERY: &str = "SELECT s.ssl, s.version, s.cipher, host(a.client_addr), a.application_name, a.usename::text \
     FROM pg_stat_activity a LEFT JOIN pg_stat_ssl s ON s.pid = a.pid \
     WHERE a.pid <> pg_backend_pid() \
       AND (a.backend_type = 'client backend' OR (a.backend_type IS NULL AND a.datname IS NOT NULL))";

/// Whether this login sees every session's details.
pub const SEES_ALL: &str = "SELECT r.rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') \
     FROM pg_roles r WHERE r.rolname = current_user";

/// One row of `QUERY`, as read (text from the server, not yet trusted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    /// None: this login may not see the session's details.
    pub ssl: Option<bool>,
    pub version: Option<String>,
    pub cipher: Option<String>,
    /// None for a connection over the server's local socket.
    pub client_addr: Option<String>,
    pub application_name: Option<String>,
    pub usename: Option<String>,
}

/// Connections alike: the same TLS state, version, cipher, address, application and user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clients {
    pub ssl: bool,
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub client_addr: Option<String>,
    pub application_name: String,
    pub usename: Option<String>,
    pub count: usize,
}

/// How many client connections there are, and how they connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Census {
    pub connections: usize,
    pub tls: usize,
    pub plaintext: usize,
    /// Sessions of other users this login may not see the details of (no `pg_monitor`).
    pub hidden: usize,
    /// Plaintext first, then the most connections, then address.
    pub clients: Vec<Clients>,
}

impl Census {
    /// Group and count the rows, sanitizing every text the server sent.
    pub fn of(rows: &[Row]) -> Census {
        let mut clients: Vec<Clients> = Vec::new();
        let mut hidden = 0;
        for r in rows {
            let Some(ssl) = r.ssl else {
                hidden += 1;
                continue;
            };
            let c = Clients {
                ssl,
                version: r.version.as_deref().filter(|_| ssl).map(clean),
                cipher: r.cipher.as_deref().filter(|_| ssl).map(clean),
                client_addr: r.client_addr.as_deref().map(clean),
                application_name: clean(r.application_name.as_deref().unwrap_or("")),
                usename: r.usename.as_deref().map(clean),
                count: 1,
            };
            match clients.iter_mut().find(|k| {
                (
                    k.ssl,
                    &k.version,
                    &k.cipher,
                    &k.client_addr,
                    &k.application_name,
                    &k.usename,
                ) == (
                    c.ssl,
                    &c.version,
                    &c.cipher,
                    &c.client_addr,
                    &c.application_name,
                    &c.usename,
                )
            }) {
                Some(k) => k.count += 1,
                None => clients.push(c),
            }
        }
        clients.sort_by(|a, b| {
            (
                a.ssl,
                std::cmp::Reverse(a.count),
                &a.client_addr,
                &a.application_name,
            )
                .cmp(&(
                    b.ssl,
                    std::cmp::Reverse(b.count),
                    &b.client_addr,
                    &b.application_name,
                ))
        });
        let tls = clients.iter().filter(|c| c.ssl).map(|c| c.count).sum();
        let plaintext = clients.iter().filter(|c| !c.ssl).map(|c| c.count).sum();
        Census {
            connections: tls + plaintext + hidden,
            tls,
            plaintext,
            hidden,
            clients,
        }
    }

    /// `14 client connections: 9 over TLS (TLSv1.3 9), 5 plaintext from 2 addresses`.
    pub fn summary(&self) -> String {
        let mut versions: Vec<(String, usize)> = Vec::new();
        for c in self.clients.iter().filter(|c| c.ssl) {
            let v = c.version.clone().unwrap_or_else(|| "?".into());
            match versions.iter_mut().find(|(k, _)| *k == v) {
                Some((_, n)) => *n += c.count,
                None => versions.push((v, c.count)),
            }
        }
        versions.sort();
        let mut plain_from: Vec<&str> = self
            .clients
            .iter()
            .filter(|c| !c.ssl)
            .map(|c| c.client_addr.as_deref().unwrap_or("local"))
            .collect();
        plain_from.sort_unstable();
        plain_from.dedup();
        let plural = |n: usize, one: &str, many: &str| {
            if n == 1 {
                format!("{n} {one}")
            } else {
                format!("{n} {many}")
            }
        };
        let mut s = format!(
            "{}: {} over TLS",
            plural(self.connections, "client connection", "client connections"),
            self.tls
        );
        if !versions.is_empty() {
            let list: Vec<String> = versions.iter().map(|(v, n)| format!("{v} {n}")).collect();
            let _ = write!(s, " ({})", list.join(", "));
        }
        let _ = write!(s, ", {} plaintext", self.plaintext);
        if self.plaintext > 0 {
            let _ = write!(
                s,
                " from {}",
                plural(plain_from.len(), "address", "addresses")
            );
        }
        if self.hidden > 0 {
            let _ = write!(
                s,
                ", {} of other users not visible to this login",
                self.hidden
            );
        }
        s
    }

    /// What a person reads about the census when SSL is about to go off.
    pub fn before_disable(&self) -> Option<String> {
        (self.tls > 0).then(|| {
            format!(
                "Clients:  {} connection(s) use TLS now: clients with sslmode=require or verify-* will fail to reconnect",
                self.tls
            )
        })
    }

    /// What a person reads about the census when SSL is about to go on.
    pub fn before_enable(&self) -> Option<String> {
        (self.plaintext > 0).then(|| {
            format!(
                "Clients:  {} plaintext connection(s) ({}): they will stay plaintext; SSL on the server does not make clients use it",
                self.plaintext,
                self.plaintext_from()
            )
        })
    }

    /// `10.0.3.7 (billing-worker), 10.0.3.8`: where plaintext connections come from.
    pub fn plaintext_from(&self) -> String {
        let mut out: Vec<String> = Vec::new();
        for c in self.clients.iter().filter(|c| !c.ssl) {
            let addr = c.client_addr.as_deref().unwrap_or("local");
            let one = if c.application_name.is_empty() {
                addr.to_string()
            } else {
                format!("{addr} ({})", c.application_name)
            };
            if !out.contains(&one) {
                out.push(one);
            }
        }
        out.join(", ")
    }

    /// After SSL went on: enforced in practice, or not.
    pub fn verdict_after_enable(&self) -> String {
        if self.plaintext == 0 && self.hidden == 0 {
            "enforced in practice: every connection over TLS".into()
        } else if self.plaintext == 0 {
            format!(
                "every visible connection over TLS ({} not visible to this login)",
                self.hidden
            )
        } else {
            format!(
                "enabled, not enforced: {} plaintext connection(s) from {}",
                self.plaintext,
                self.plaintext_from()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ssl: Option<bool>, addr: &str, app: &str) -> Row {
        Row {
            ssl,
            version: ssl.filter(|s| *s).map(|_| "TLSv1.3".into()),
            cipher: ssl.filter(|s| *s).map(|_| "TLS_AES_256_GCM_SHA384".into()),
            client_addr: Some(addr.into()),
            application_name: Some(app.into()),
            usename: Some("app".into()),
        }
    }

    #[test]
    fn rows_are_grouped_counted_and_said_plaintext_first() {
        let mut rows = vec![row(Some(true), "10.0.3.9", "orders-api"); 9];
        rows.extend(vec![row(Some(false), "10.0.3.7", "billing-worker"); 3]);
        rows.extend(vec![row(Some(false), "10.0.3.8", ""); 2]);
        let c = Census::of(&rows);
        assert_eq!((c.connections, c.tls, c.plaintext, c.hidden), (14, 9, 5, 0));
        assert_eq!(
            c.summary(),
            "14 client connections: 9 over TLS (TLSv1.3 9), 5 plaintext from 2 addresses"
        );
        assert!(
            !c.clients[0].ssl && c.clients[0].count == 3,
            "{:?}",
            c.clients
        );
        assert_eq!(c.clients.len(), 3);
        assert_eq!(
            c.verdict_after_enable(),
            "enabled, not enforced: 5 plaintext connection(s) from 10.0.3.7 (billing-worker), 10.0.3.8"
        );
        assert!(
            c.before_disable()
                .expect("tls")
                .contains("9 connection(s) use TLS")
        );
    }

    #[test]
    fn hidden_rows_and_hostile_text() {
        let mut rows = vec![row(None, "", ""); 2];
        rows.push(Row {
            application_name: Some("evil\u{1b}[2J\u{202e}".into()),
            ..row(Some(true), "10.0.0.1", "")
        });
        let c = Census::of(&rows);
        assert_eq!((c.connections, c.tls, c.hidden), (3, 1, 2));
        assert!(
            c.summary()
                .ends_with("2 of other users not visible to this login")
        );
        let json = serde_json::to_string(&c).expect("json");
        assert!(
            !json.contains('\u{1b}') && !json.contains('\u{202e}'),
            "{json}"
        );
        assert_eq!(
            Census::of(&[row(Some(true), "10.0.0.1", "x")]).verdict_after_enable(),
            "enforced in practice: every connection over TLS"
        );
    }
}
