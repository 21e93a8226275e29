//! What this session learned of an instance beyond its reads: the TLS report, the CA
//! and the census, shown in the details and in full with `V`, each with its time.

/// What was found out about an instance by hand: a TLS check (`v`), its CA (`C`), who is
/// connected (`w`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reports {
    pub tls: Option<Vec<String>>,
    pub ca: Option<Vec<String>>,
    /// The last census (`w`, or after a change): its summary and table.
    pub clients: Option<Vec<String>>,
    /// When each came (RFC 3339), empty while there is none.
    pub tls_at: String,
    pub ca_at: String,
    pub clients_at: String,
}

impl Reports {
    /// The newest of their times: when what `V` shows last changed.
    pub fn latest(&self) -> &str {
        [&self.tls_at, &self.ca_at, &self.clients_at]
            .into_iter()
            .max()
            .map_or("", String::as_str)
    }

    /// All of them, in full, for the `V` view, each headed with its time.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (title, lines, at) in [
            (
                "TLS check of the protected address",
                &self.tls,
                &self.tls_at,
            ),
            ("CA certificate", &self.ca, &self.ca_at),
            ("Who is connected", &self.clients, &self.clients_at),
        ] {
            let Some(lines) = lines else { continue };
            if !out.is_empty() {
                out.push(String::new());
            }
            let at = at.get(..19).unwrap_or(at.as_str());
            out.push(if at.is_empty() {
                format!("{title}:")
            } else {
                format!("{title} ({at}):")
            });
            out.extend(lines.iter().cloned());
        }
        out
    }
}
