//! Regions as DescribeRegions lists them: which exist and whether Tencent serves each
//! now (RegionState). Every region check goes through a [`Catalog`]: the last answer of
//! DescribeRegions for this endpoint, kept a day in the data dir, or, only when that
//! cannot be asked, the 18 regions the seed page documents for the SSL actions (and the
//! refusal then says so). Pure: asking and keeping are `ops::regions` and `store`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::api::SSL_REGIONS;
use crate::api::models::RegionInfo;
use crate::ops::refusal::RegionRefusal;
use crate::text::clean;

/// How long a kept answer is used before DescribeRegions is asked again.
pub const FRESH_FOR_SECS: i64 = 24 * 3600;

/// RegionState, as the API documents it (`AVAILABLE`, `UNAVAILABLE`); any other value is
/// kept, sanitized, and not sent to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum RegionState {
    Available,
    Unavailable,
    Other(String),
}

impl RegionState {
    pub fn from_api(value: &str) -> RegionState {
        match value {
            "AVAILABLE" => RegionState::Available,
            "UNAVAILABLE" => RegionState::Unavailable,
            other => RegionState::Other(clean(other)),
        }
    }

    pub fn as_api(&self) -> &str {
        match self {
            RegionState::Available => "AVAILABLE",
            RegionState::Unavailable => "UNAVAILABLE",
            RegionState::Other(s) => s,
        }
    }
}

impl fmt::Display for RegionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_api())
    }
}

impl From<String> for RegionState {
    fn from(s: String) -> Self {
        RegionState::from_api(&s)
    }
}

impl From<RegionState> for String {
    fn from(s: RegionState) -> String {
        s.as_api().to_string()
    }
}

/// One region DescribeRegions listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub name: String,
    pub state: RegionState,
    /// RegionName, sanitized (for people).
    #[serde(default)]
    pub label: String,
}

/// Where a catalog came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Origin {
    /// DescribeRegions at this endpoint answered it then (RFC 3339).
    Listed { endpoint: String, at: String },
    /// DescribeRegions could not be asked: the 18 documented SSL regions, and why.
    Documented { why: String },
}

/// The regions pgssl checks against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub origin: Origin,
    pub regions: Vec<Region>,
}

impl Catalog {
    /// The 18 regions the seed page documents for the SSL actions: the offline fallback.
    pub fn documented(why: &str) -> Catalog {
        Catalog {
            origin: Origin::Documented { why: clean(why) },
            regions: SSL_REGIONS
                .iter()
                .map(|r| Region {
                    name: (*r).to_string(),
                    state: RegionState::Available,
                    label: String::new(),
                })
                .collect(),
        }
    }

    /// What DescribeRegions answered, checked on entry: a name that is not shaped like a
    /// region is dropped (never offered, never sent to), text is sanitized, each once.
    pub fn listed(endpoint: &str, at: &str, set: &[RegionInfo]) -> Catalog {
        let mut regions: Vec<Region> = Vec::new();
        for r in set {
            let Some(name) = r
                .Region
                .as_deref()
                .and_then(|n| crate::validate::region_name(n).ok())
            else {
                continue;
            };
            if regions.iter().any(|k| k.name == name) {
                continue;
            }
            regions.push(Region {
                name,
                state: RegionState::from_api(r.RegionState.as_deref().unwrap_or("")),
                label: clean(r.RegionName.as_deref().unwrap_or("")),
            });
        }
        Catalog {
            origin: Origin::Listed {
                endpoint: endpoint.to_string(),
                at: at.to_string(),
            },
            regions,
        }
    }

    pub fn get(&self, region: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.name == region)
    }

    /// Whether `region` may be sent to: listed and AVAILABLE.
    pub fn check(&self, region: &str) -> Result<(), RegionRefusal> {
        let shown = || crate::text::sanitize(region).into_owned();
        match (self.get(region), &self.origin) {
            (Some(r), _) if r.state == RegionState::Available => Ok(()),
            (Some(r), _) => Err(RegionRefusal::NotServed {
                region: shown(),
                state: r.state.to_string(),
            }),
            (None, Origin::Listed { .. }) => Err(RegionRefusal::NotListed { region: shown() }),
            (None, Origin::Documented { why }) => Err(RegionRefusal::NotDocumented {
                region: shown(),
                why: why.clone(),
            }),
        }
    }

    /// The regions to offer a person: those served now, in the API's order.
    pub fn available(&self) -> impl Iterator<Item = &str> {
        self.regions
            .iter()
            .filter(|r| r.state == RegionState::Available)
            .map(|r| r.name.as_str())
    }

    /// Listed at `endpoint` less than a day before `now` (unix seconds).
    pub fn is_fresh_for(&self, endpoint: &str, now: i64) -> bool {
        match &self.origin {
            Origin::Listed { endpoint: e, at } => {
                e == endpoint
                    && pgssl_wire::clock::rfc3339_to_unix(at)
                        .is_some_and(|t| (0..FRESH_FOR_SECS).contains(&(now - t)))
            }
            Origin::Documented { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(region: &str, state: &str) -> RegionInfo {
        RegionInfo {
            Region: Some(region.into()),
            RegionName: Some(format!("name of {region}")),
            RegionState: Some(state.into()),
            ..RegionInfo::default()
        }
    }

    #[test]
    fn a_listed_catalog_decides_by_what_the_api_said() {
        let c = Catalog::listed(
            "postgres.tencentcloudapi.com",
            "2026-12-02T10:00:00Z",
            &[
                info("ap-guangzhou", "AVAILABLE"),
                info("me-saudi-arabia", "AVAILABLE"),
                info("na-toronto", "UNAVAILABLE"),
                info("Bad Region\u{1b}[2J", "AVAILABLE"),
                info("ap-guangzhou", "UNAVAILABLE"),
            ],
        );
        assert_eq!(c.regions.len(), 3, "junk dropped, each once");
        assert_eq!(c.check("ap-guangzhou"), Ok(()));
        // A region newer than the 18 the seed page documents is fine when listed.
        assert_eq!(c.check("me-saudi-arabia"), Ok(()));
        assert_eq!(
            c.check("na-toronto"),
            Err(RegionRefusal::NotServed {
                region: "na-toronto".into(),
                state: "UNAVAILABLE".into()
            })
        );
        assert!(matches!(
            c.check("ap-seoul"),
            Err(RegionRefusal::NotListed { .. })
        ));
        assert_eq!(
            c.available().collect::<Vec<_>>(),
            ["ap-guangzhou", "me-saudi-arabia"]
        );
        let now = pgssl_wire::clock::rfc3339_to_unix("2026-12-02T20:00:00Z").expect("time");
        assert!(c.is_fresh_for("postgres.tencentcloudapi.com", now));
        assert!(
            !c.is_fresh_for("127.0.0.1:9", now),
            "another endpoint's answer"
        );
        assert!(!c.is_fresh_for("postgres.tencentcloudapi.com", now + FRESH_FOR_SECS));
    }

    #[test]
    fn offline_the_documented_18_decide_and_the_refusal_says_why() {
        let c = Catalog::documented("connection refused");
        assert_eq!(c.check("ap-jakarta"), Ok(()));
        let e = c.check("me-saudi-arabia").expect_err("not documented");
        assert!(
            e.to_string().contains("connection refused") && e.to_string().contains("18"),
            "{e}"
        );
        let round: Catalog =
            serde_json::from_str(&serde_json::to_string(&c).expect("json")).expect("back");
        assert_eq!(round, c);
    }
}
