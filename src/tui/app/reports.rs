//! What this session learned of an instance beyond its reads: the TLS report, the CA
//! and the census, shown in the details and in full with `V`.

/// What was found out about an instance by hand: a TLS check (`v`), its CA (`C`), who is
/// connected (`w`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reports {
    pub tls: Option<Vec<String>>,
    pub ca: Option<Vec<String>>,
    /// The last census (`w`, or after a change): its summary and table.
    pub clients: Option<Vec<String>>,
}

impl Reports {
    /// Both, in full, for the `V` view.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(tls) = &self.tls {
            out.push("TLS check of the protected address:".to_string());
            out.extend(tls.iter().cloned());
        }
        if let Some(ca) = &self.ca {
            if !out.is_empty() {
                out.push(String::new());
            }
            out.push("CA certificate:".to_string());
            out.extend(ca.iter().cloned());
        }
        if let Some(clients) = &self.clients {
            if !out.is_empty() {
                out.push(String::new());
            }
            out.push("Who is connected:".to_string());
            out.extend(clients.iter().cloned());
        }
        out
    }
}
