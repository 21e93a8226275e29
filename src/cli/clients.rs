//! `pgssl clients`: who is connected to an instance, and how (`ops::census`).

use serde::Serialize;

use super::args::ClientsArgs;
use super::{Io, Report, Text, instance_id, open, region};
use crate::context::Context;
use crate::ops::census::{CensusRequest, Taken};
use crate::ops::{self, OpsError};

pub async fn run(ctx: &Context, args: &ClientsArgs, io: &mut Io<'_>) -> Result<(), OpsError> {
    let id = instance_id(&args.instance)?;
    let (address, port) = match &args.address {
        None => (None, None),
        Some(a) => {
            let (host, port) = super::verify::split_host_port(a).map_err(OpsError::Usage)?;
            (Some(host), port)
        }
    };
    if let Some(path) = &args.ca {
        // A CA file that cannot be read is bad input, refused before anything is asked.
        ops::ca::load_ca_file(path)?;
    }
    let opened = open(ctx, io).await?;
    let region = region(ctx, &opened, Some(&id)).await?;
    let info = ops::inventory::describe(&opened.session, &region, &id).await?;
    let request = CensusRequest {
        address,
        port,
        via: args.via,
        ca_file: args.ca.clone(),
    };
    let taken = ops::census::take(&opened.session, &info, &request).await?;
    io.emit(&Shown {
        id: &id,
        taken: &taken,
    });
    Ok(())
}

struct Shown<'a> {
    id: &'a str,
    taken: &'a Taken,
}

impl Serialize for Shown<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[allow(non_snake_case)]
        struct Out<'a> {
            DBInstanceId: &'a str,
            #[serde(flatten)]
            taken: &'a Taken,
        }
        Out {
            DBInstanceId: self.id,
            taken: self.taken,
        }
        .serialize(s)
    }
}

impl Report for Shown<'_> {
    fn text(&self, out: &mut Text) {
        let t = self.taken;
        out.line(format!(
            "{}: {} (at {}, {}, as {})",
            self.id,
            t.census.summary(),
            t.address,
            t.channel.said(),
            t.user
        ));
        if let Some(n) = &t.note {
            out.note(n.clone());
        }
        if t.census.clients.is_empty() {
            return;
        }
        out.line(format!(
            "{:<10} {:<8} {:<24} {:<16} {:<20} {:<16} {:>5}",
            "TLS", "VERSION", "CIPHER", "ADDRESS", "APPLICATION", "USER", "COUNT"
        ));
        for c in &t.census.clients {
            out.line(format!(
                "{:<10} {:<8} {:<24} {:<16} {:<20} {:<16} {:>5}",
                if c.ssl { "tls" } else { "PLAINTEXT" },
                c.version.as_deref().unwrap_or("-"),
                c.cipher.as_deref().unwrap_or("-"),
                c.client_addr.as_deref().unwrap_or("local"),
                if c.application_name.is_empty() {
                    "-"
                } else {
                    c.application_name.as_str()
                },
                c.usename.as_deref().unwrap_or("-"),
                c.count
            ));
        }
    }
}
