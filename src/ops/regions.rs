//! The region check every command passes before it reads or sends in a region: against
//! what DescribeRegions said at this endpoint (kept a day in the data dir, asked again
//! when a region is refused from the kept answer, since regions open and come back), and
//! only when DescribeRegions cannot be asked, against the 18 documented SSL regions.

use super::refusal::RegionRefusal;
use super::{OpsError, Session};
use crate::api::models::DescribeRegionsRequest;
use crate::regions::Catalog;
use crate::store::now_rfc3339;

/// The catalog for this session's endpoint: the kept answer while fresh, else asked
/// (and kept). `ask` asks even when a fresh answer is kept. Never fails: when asking
/// fails, an older answer of this endpoint, else the documented 18, with why.
pub async fn catalog(session: &Session, ask: bool) -> Catalog {
    lookup(session, ask).await.0
}

/// The catalog, and whether DescribeRegions answered it just now.
async fn lookup(session: &Session, ask: bool) -> (Catalog, bool) {
    let endpoint = session.client.endpoint().to_string();
    let kept = session
        .store
        .listed_regions()
        .filter(|c| matches!(&c.origin, crate::regions::Origin::Listed { endpoint: e, .. } if *e == endpoint));
    if !ask
        && let Some(c) = kept
            .as_ref()
            .filter(|c| c.is_fresh_for(&endpoint, pgssl_wire::clock::unix_now()))
    {
        return (c.clone(), false);
    }
    match session.client.call(None, &DescribeRegionsRequest {}).await {
        Ok(reply) => {
            let c = Catalog::listed(
                &endpoint,
                &now_rfc3339(),
                reply.RegionSet.as_deref().unwrap_or(&[]),
            );
            if c.regions.is_empty() {
                let c = kept.unwrap_or_else(|| {
                    Catalog::documented("DescribeRegions listed no region pgssl can use")
                });
                return (c, false);
            }
            session.store.keep_listed_regions(&c);
            (c, true)
        }
        Err(e) => (
            kept.unwrap_or_else(|| Catalog::documented(&e.to_string())),
            false,
        ),
    }
}

/// `region` may be read and sent to: DescribeRegions lists it as AVAILABLE. A refusal
/// from a kept answer is checked once more against a fresh one before it stands.
pub async fn confirm(session: &Session, region: &str) -> Result<(), OpsError> {
    let (kept, asked_now) = lookup(session, false).await;
    let Err(first) = kept.check(region) else {
        return Ok(());
    };
    let offline = matches!(kept.origin, crate::regions::Origin::Documented { .. });
    let refusal: RegionRefusal = if asked_now || offline {
        first
    } else {
        match catalog(session, true).await.check(region) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        }
    };
    Err(OpsError::refused(refusal))
}
