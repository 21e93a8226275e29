//! What can go wrong with one API call, kept in the four kinds that call for different
//! action: the API said no; nothing was sent; something was sent and we don't know what
//! happened; what answered was not Tencent's API. Every kind renders as one line that
//! says what happened and what to do. All text in here has been sanitized.

use super::Action;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// (a) The API answered with an error envelope.
    Api {
        action: Action,
        code: String,
        message: String,
        request_id: String,
        /// Local clock minus the server's `Date`, in seconds, when the reply had one.
        clock_skew: Option<i64>,
    },
    /// (b) The request never left: DNS, connection refused, TLS handshake.
    NotSent { action: Action, detail: String },
    /// (c) The request may have arrived but no complete reply came back.
    OutcomeUnknown { action: Action, detail: String },
    /// (d) Something answered, but not with Tencent's API envelope.
    BadReply {
        action: Action,
        status: u16,
        excerpt: String,
    },
    /// (e) The API answered, but a value in the reply cannot be used (checked on entry:
    /// an address that is not an IP, a task status the API does not document).
    Unusable {
        action: Action,
        request_id: String,
        detail: String,
    },
    /// (f) No key to sign with: a temporary one could not be had (the request was not
    /// sent).
    Credential {
        action: Action,
        problem: crate::credentials::CredentialError,
    },
}

impl ApiError {
    pub fn action(&self) -> Action {
        match self {
            ApiError::Api { action, .. }
            | ApiError::NotSent { action, .. }
            | ApiError::OutcomeUnknown { action, .. }
            | ApiError::BadReply { action, .. }
            | ApiError::Unusable { action, .. }
            | ApiError::Credential { action, .. } => *action,
        }
    }

    /// The API error code, when the API answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The instance's status refuses the action for now (being created, isolated,
    /// restarting): OperationDenied.InstanceStatusLimitError, or for a read-only instance
    /// OperationDenied.ROInstanceStatusLimitOpError (tencentcloud-sdk-go errors.go). "Not
    /// now", not a failure.
    pub fn is_status_refusal(&self) -> bool {
        self.code().is_some_and(|c| {
            c.starts_with("OperationDenied.InstanceStatusLimit")
                || c.starts_with("OperationDenied.ROInstanceStatusLimit")
        })
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            ApiError::Api { request_id, .. } | ApiError::Unusable { request_id, .. } => {
                Some(request_id)
            }
            _ => None,
        }
    }

    /// A short name for the kind, stable for scripts (`--output json`).
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::Api { .. } => "api",
            ApiError::NotSent { .. } => "not_sent",
            ApiError::OutcomeUnknown { .. } => "outcome_unknown",
            ApiError::BadReply { .. } => "bad_reply",
            ApiError::Unusable { .. } => "unusable_reply",
            ApiError::Credential { .. } => "credential",
        }
    }

    /// Whether a read may be tried again: rate limits and transport failures.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Api { code, .. } => code.starts_with("RequestLimitExceeded"),
            ApiError::NotSent { .. } | ApiError::OutcomeUnknown { .. } => true,
            ApiError::BadReply { status, .. } => matches!(status, 502..=504),
            ApiError::Unusable { .. } | ApiError::Credential { .. } => false,
        }
    }

    /// True when a change may or may not have been made.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, ApiError::OutcomeUnknown { action, .. } if !action.is_read())
    }

    /// Exit status for the CLI: 3 when a change's outcome is unknown, 2 when the person
    /// must fix their credentials first (nothing was sent), else 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            ApiError::Credential { problem, .. } => problem.exit_code(),
            _ if self.is_outcome_unknown() => 3,
            _ => 1,
        }
    }

    /// The one line of advice, without the description of what happened.
    pub fn advice(&self) -> String {
        // The commands it suggests run as this pgssl does (`--demo` in the demo).
        let demo =
            |advice: String| advice.replace("`pgssl ", &format!("`{} ", crate::hint::pgssl()));
        demo(match self {
            ApiError::Api {
                code, clock_skew, ..
            } => hint(code, *clock_skew),
            ApiError::NotSent { .. } => {
                "Nothing was changed; check the endpoint, network and proxy settings.".into()
            }
            ApiError::OutcomeUnknown { action, .. } => unknown_hint(*action).into(),
            ApiError::BadReply { .. } => "Check --endpoint and any proxy in between.".into(),
            ApiError::Unusable { .. } => {
                "pgssl acted on nothing from this reply; look at the instance in the console, and report the RequestId if it persists.".into()
            }
            ApiError::Credential { .. } => "Nothing was sent.".into(),
        })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Api {
                action,
                code,
                message,
                request_id,
                ..
            } => write!(
                f,
                "{action} failed: {code}: {message} (RequestId {request_id})."
            )?,
            ApiError::NotSent { action, detail } => write!(f, "{action} was not sent: {detail}.")?,
            ApiError::OutcomeUnknown { action, detail } => {
                write!(f, "{action}: outcome unknown: {detail}.")?;
            }
            ApiError::BadReply {
                action,
                status,
                excerpt,
            } => write!(
                f,
                "{action} got a reply that is not Tencent Cloud's API (HTTP {status}): \"{excerpt}\"."
            )?,
            ApiError::Unusable {
                action,
                request_id,
                detail,
            } => write!(
                f,
                "{action} answered with something pgssl cannot use: {detail} (RequestId {request_id})."
            )?,
            ApiError::Credential { action, problem } => {
                let problem = problem.to_string();
                let stop = if problem.ends_with('.') { "" } else { "." };
                write!(
                    f,
                    "{action} was not sent: no key to sign it with: {problem}{stop}"
                )?;
            }
        }
        write!(f, " {}", self.advice())
    }
}

impl std::error::Error for ApiError {}

fn unknown_hint(action: Action) -> &'static str {
    if action.is_read() {
        "Nothing was changed; try again."
    } else {
        "The change may or may not have been made: check with `pgssl ssl show` and `pgssl task show` before sending it again."
    }
}

/// Render a clock offset as `7m 12s`.
pub fn human_duration(secs: i64) -> String {
    let s = secs.unsigned_abs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// What to do about an API error code, in one sentence.
pub fn hint(code: &str, clock_skew: Option<i64>) -> String {
    let fixed = match code {
        "AuthFailure.SignatureExpire" => {
            return match clock_skew {
                Some(skew) if skew.abs() >= 1 => format!(
                    "This machine's clock is {} {} the server's: sync it (e.g. `timedatectl set-ntp true`) and try again.",
                    human_duration(skew),
                    if skew > 0 { "ahead of" } else { "behind" }
                ),
                _ => "The request's timestamp was more than 5 minutes off the server's clock: check this machine's clock and try again.".into(),
            };
        }
        "AuthFailure.SignatureFailure" => {
            "The SecretKey does not match the SecretId: check the credential pgssl used (it says which source)."
        }
        "AuthFailure.SecretIdNotFound" | "AuthFailure.InvalidSecretId" => {
            "The SecretId is unknown or disabled: check the credential pgssl used, or create a key in CAM."
        }
        "AuthFailure.TokenFailure" => {
            "The temporary credential's token is wrong or expired: get a fresh one (TENCENTCLOUD_TOKEN)."
        }
        "AuthFailure.InvalidAuthorization" => {
            "The Authorization header was rejected: check the endpoint is Tencent's PostgreSQL API."
        }
        "AuthFailure.UnauthorizedOperation" | "UnauthorizedOperation" => {
            "This key is not allowed to do that: ask for the CAM permission on this action and instance."
        }
        "OperationDenied.InstanceAccessDeniedError" => {
            "This key may not operate on that instance: check CAM permissions."
        }
        "OperationDenied.InstanceStatusLimitError"
        | "OperationDenied.ROInstanceStatusLimitOpError" => {
            "The instance is busy or not running: wait for its current task to end (`pgssl task show`), then try again."
        }
        "ResourceNotFound.InstanceNotFoundError"
        | "InvalidParameterValue.InstanceNotExist"
        | "InstanceNotExist" => {
            "No such instance in that region: check the instance id and --region."
        }
        "InvalidParameterValue.InvalidParameterValueError" => {
            "A value was rejected: the address must be one of the instance's own addresses (see `pgssl ssl show`)."
        }
        "UnsupportedRegion"
        | "InvalidParameterValue.IllegalRegion"
        | "InvalidParameterValue.RegionNotSupported"
        | "InvalidParameterValue.UnsupportedRegionError" => {
            "That region does not serve this action: pick a region DescribeRegions lists as AVAILABLE (`pgssl regions list --remote`)."
        }
        "InvalidAction" | "NoSuchVersion" | "NoSuchProduct" => {
            "The endpoint does not serve the PostgreSQL API 2017-03-12: check --endpoint."
        }
        "FailedOperation.DatabaseAccessError"
        | "InternalError"
        | "FailedOperation.FailedOperationError"
        | "FailedOperation.FlowCreateError"
        | "ServiceUnavailable" => {
            "A temporary failure on Tencent's side: wait a minute and try again; if it persists, open a ticket with the RequestId."
        }
        "FailedOperation.OperateFrequencyLimitedError" => {
            "Too many operations on this instance: wait a few minutes and try again."
        }
        _ if code.starts_with("RequestLimitExceeded") => {
            "Too many requests per second: wait a moment and try again."
        }
        _ if code.starts_with("InvalidParameter")
            || code.starts_with("MissingParameter")
            || code.starts_with("UnknownParameter") =>
        {
            "The request was malformed: this is likely a pgssl bug; please report it with the RequestId."
        }
        _ => "See the Tencent Cloud error code reference, or open a ticket with the RequestId.",
    };
    fixed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_only_instances_status_refusal_is_not_now_and_regions_get_their_hint() {
        let e = ApiError::Api {
            action: Action::ModifyDBInstanceSSLConfig,
            code: "OperationDenied.ROInstanceStatusLimitOpError".into(),
            message: "read-only instance status".into(),
            request_id: "r-2".into(),
            clock_skew: None,
        };
        assert!(e.is_status_refusal());
        assert!(hint("OperationDenied.ROInstanceStatusLimitOpError", None).contains("wait"));
        let h = hint("InvalidParameterValue.UnsupportedRegionError", None);
        assert!(
            h.contains("AVAILABLE") && h.contains("regions list --remote"),
            "{h}"
        );
        assert!(!hint("InvalidParameterValue.UnsupportedRegionError", None).contains("pgssl bug"));
    }

    #[test]
    fn each_kind_is_one_line_with_advice() {
        let errors = [
            ApiError::Api {
                action: Action::ModifyDBInstanceSSLConfig,
                code: "OperationDenied.InstanceStatusLimitError".into(),
                message: "This operation cannot be performed.".into(),
                request_id: "r-1".into(),
                clock_skew: None,
            },
            ApiError::NotSent {
                action: Action::DescribeTasks,
                detail: "connection refused".into(),
            },
            ApiError::OutcomeUnknown {
                action: Action::ModifyDBInstanceSSLConfig,
                detail: "timed out after 30s".into(),
            },
            ApiError::BadReply {
                action: Action::DescribeDBInstances,
                status: 502,
                excerpt: "<html>".into(),
            },
        ];
        for e in &errors {
            let line = e.to_string();
            assert!(!line.contains('\n'), "{line}");
            assert!(line.len() > 40);
        }
        assert!(errors[0].to_string().contains("RequestId r-1"));
        assert!(errors[0].to_string().contains("wait for its current task"));
        assert_eq!(errors[2].exit_code(), 3);
        assert!(errors[2].to_string().contains("before sending it again"));
        assert_eq!(errors[1].exit_code(), 1);
    }

    #[test]
    fn clock_skew_is_measured_in_words() {
        let h = hint("AuthFailure.SignatureExpire", Some(432));
        assert!(h.contains("7m 12s ahead of"), "{h}");
        let h = hint("AuthFailure.SignatureExpire", Some(-3 * 3600 - 60));
        assert!(h.contains("3h 1m behind"), "{h}");
    }

    #[test]
    fn only_rate_limits_and_transport_are_transient() {
        let api = |code: &str| ApiError::Api {
            action: Action::DescribeTasks,
            code: code.into(),
            message: String::new(),
            request_id: String::new(),
            clock_skew: None,
        };
        assert!(api("RequestLimitExceeded").is_transient());
        assert!(api("RequestLimitExceeded.UinLimitExceeded").is_transient());
        assert!(!api("AuthFailure.SignatureFailure").is_transient());
        assert!(!api("InternalError").is_transient());
    }
}
