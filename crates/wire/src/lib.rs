//! What both ends of Tencent Cloud API 3.0 for TencentDB for PostgreSQL agree on:
//! TC3-HMAC-SHA256 signing, the request and response models, the actions, the key,
//! and the handling of text that crossed the wire. pgssl (the client) and its emulator
//! (the server) share this one definition.

pub mod bounded;
pub mod cafile;
pub mod clock;
pub mod credential;
pub mod ids;
pub mod models;
pub mod sign;
pub mod sts;
pub mod text;

/// The API version every PostgreSQL request names.
pub const VERSION: &str = "2017-03-12";

/// The Tencent Cloud services pgssl speaks to: PostgreSQL for the work, STS for
/// temporary credentials (AssumeRole) and for who the credential belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Postgres,
    Sts,
}

impl Service {
    /// The name in the TC3 credential scope (`DATE/NAME/tc3_request`).
    pub fn name(self) -> &'static str {
        match self {
            Service::Postgres => "postgres",
            Service::Sts => "sts",
        }
    }
    /// The API version each request to it names.
    pub fn version(self) -> &'static str {
        match self {
            Service::Postgres => VERSION,
            Service::Sts => "2018-08-13",
        }
    }
    /// Its public endpoint host.
    pub fn host(self) -> &'static str {
        match self {
            Service::Postgres => "postgres.tencentcloudapi.com",
            Service::Sts => "sts.tencentcloudapi.com",
        }
    }
}

/// The regions the SSL and task actions support (seed page of ModifyDBInstanceSSLConfig).
pub const SSL_REGIONS: [&str; 18] = [
    "ap-bangkok",
    "ap-beijing",
    "ap-chengdu",
    "ap-chongqing",
    "ap-guangzhou",
    "ap-hongkong",
    "ap-jakarta",
    "ap-nanjing",
    "ap-seoul",
    "ap-shanghai",
    "ap-shanghai-fsi",
    "ap-shenzhen-fsi",
    "ap-singapore",
    "ap-tokyo",
    "eu-frankfurt",
    "na-ashburn",
    "na-siliconvalley",
    "sa-saopaulo",
];

pub fn is_ssl_region(region: &str) -> bool {
    SSL_REGIONS.contains(&region)
}

/// The actions pgssl calls (and the emulator answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    DescribeRegions,
    DescribeDBInstances,
    DescribeDBInstanceAttribute,
    DescribeReadOnlyGroups,
    DescribeDBInstanceSSLConfig,
    ModifyDBInstanceSSLConfig,
    DescribeTasks,
    AssumeRole,
    AssumeRoleWithWebIdentity,
    GetCallerIdentity,
}

impl Action {
    pub const ALL: [Action; 10] = [
        Action::DescribeRegions,
        Action::DescribeDBInstances,
        Action::DescribeDBInstanceAttribute,
        Action::DescribeReadOnlyGroups,
        Action::DescribeDBInstanceSSLConfig,
        Action::ModifyDBInstanceSSLConfig,
        Action::DescribeTasks,
        Action::AssumeRole,
        Action::AssumeRoleWithWebIdentity,
        Action::GetCallerIdentity,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::DescribeRegions => "DescribeRegions",
            Action::DescribeDBInstances => "DescribeDBInstances",
            Action::DescribeDBInstanceAttribute => "DescribeDBInstanceAttribute",
            Action::DescribeReadOnlyGroups => "DescribeReadOnlyGroups",
            Action::DescribeDBInstanceSSLConfig => "DescribeDBInstanceSSLConfig",
            Action::ModifyDBInstanceSSLConfig => "ModifyDBInstanceSSLConfig",
            Action::DescribeTasks => "DescribeTasks",
            Action::AssumeRole => "AssumeRole",
            Action::AssumeRoleWithWebIdentity => "AssumeRoleWithWebIdentity",
            Action::GetCallerIdentity => "GetCallerIdentity",
        }
    }

    pub fn service(self) -> Service {
        match self {
            Action::AssumeRole | Action::AssumeRoleWithWebIdentity | Action::GetCallerIdentity => {
                Service::Sts
            }
            _ => Service::Postgres,
        }
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Reads may be retried; a change is never re-sent blindly. Asking STS for a temporary
    /// key again only yields another key, so those count as reads.
    pub fn is_read(self) -> bool {
        !matches!(self, Action::ModifyDBInstanceSSLConfig)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Action, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Action::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown action {name:?}")))
    }
}
