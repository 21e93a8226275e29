//! STS (2018-08-13) and the CVM metadata service, as far as a credential chain needs
//! them: AssumeRole, AssumeRoleWithWebIdentity, GetCallerIdentity, and the instance
//! role's temporary key. Shapes follow tencentcloud-sdk-go `sts/v20180813/models.go`,
//! the examples tccli ships (`examples/sts/v20180813/`) and the SDKs' metadata readers
//! (`cvm_role_credential.go`); docs/emulator.md cites each.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde_json::{Map, Value, json};

use super::params::{int_or_digits, string};
use super::{Fail, Shared, fail};
use crate::identity::{Principal, Temporary, role_id, valid_role_name};
use pgssl_wire::Action;

/// The path of the metadata service's role list (its base URL is the emulator's).
pub const METADATA_ROLES: &str = "/latest/meta-data/cam/security-credentials/";
/// DurationSeconds: default and maximum (sts models.go: "默认 7200 秒，最长可设定有效期为 43200 秒").
const DEFAULT_DURATION: i64 = 7200;
const MAX_DURATION: i64 = 43_200;

/// Run one STS action for `caller` (None: unsigned, only AssumeRoleWithWebIdentity).
pub(super) fn execute(
    shared: &Shared,
    action: Action,
    caller: Option<&Principal>,
    params: &Map<String, Value>,
    now: i64,
) -> Result<Value, Fail> {
    match action {
        Action::GetCallerIdentity => caller_identity(shared, caller),
        Action::AssumeRole => {
            let role = role(shared, params)?;
            let session = session_name(params)?;
            let duration = duration(params)?;
            super::sts_options::check(params)?;
            let by = caller.map_or_else(
                || shared.identities.args.account.clone(),
                |c| c.principal_id().to_string(),
            );
            Ok(issued(&shared.identities.issue(
                Principal::Role {
                    name: role,
                    session,
                    by,
                },
                now + duration,
                now,
            )))
        }
        Action::AssumeRoleWithWebIdentity => {
            let accepted = shared.identities.args.oidc_token.as_deref();
            let given = string(params, "WebIdentityToken").unwrap_or("");
            if accepted.is_none_or(|t| t != given) || given.is_empty() {
                return Err(fail(
                    "InvalidParameter.WebIdentityTokenError",
                    "The WebIdentityToken is invalid or expired.",
                ));
            }
            if string(params, "ProviderId").unwrap_or("").is_empty() {
                return Err(fail("InvalidParameter.ParamError", "ProviderId is empty."));
            }
            let role = role(shared, params)?;
            let session = session_name(params)?;
            let duration = duration(params)?;
            // No uin asked for this key (the request is unsigned): the account's own is
            // named, as for an instance role. The SDK documents PrincipalId for a user
            // and a role assumed with a key only.
            Ok(issued(&shared.identities.issue(
                Principal::Role {
                    name: role,
                    session,
                    by: shared.identities.args.account.clone(),
                },
                now + duration,
                now,
            )))
        }
        _ => Err(fail("InvalidAction", "Not an STS action.")),
    }
}

fn role(shared: &Shared, params: &Map<String, Value>) -> Result<String, Fail> {
    let arn = string(params, "RoleArn").unwrap_or("");
    shared.identities.role_of_arn(arn).ok_or_else(|| {
        fail(
            "ResourceNotFound.RoleNotFound",
            format!(
                "The role {} does not exist in this account.",
                super::quote(arn)
            ),
        )
    })
}

/// "长度在2到128之间，可包含大小写字符，数字以及特殊字符：=,.@_-" (sts models.go).
fn session_name(params: &Map<String, Value>) -> Result<String, Fail> {
    let name = string(params, "RoleSessionName").unwrap_or("");
    if name.len() < 2 || !valid_role_name(name) {
        return Err(fail(
            "InvalidParameter.ParamError",
            "RoleSessionName must be 2 to 128 of letters, digits and =,.@_-.",
        ));
    }
    Ok(name.to_string())
}

/// DurationSeconds, a JSON number or a string of digits (`check_params` let only those
/// through; see `Ty::Digits`).
fn duration(params: &Map<String, Value>) -> Result<i64, Fail> {
    match int_or_digits(params, "DurationSeconds") {
        None => Ok(DEFAULT_DURATION),
        Some(d) if (1..=MAX_DURATION).contains(&d) => Ok(d),
        Some(_) => Err(fail(
            "InvalidParameter.OverTimeError",
            "DurationSeconds is over the limit of 43200 seconds.",
        )),
    }
}

fn issued(t: &Temporary) -> Value {
    json!({
        "Credentials": {
            "Token": t.key.token.as_ref().map(|s| s.expose().to_string()).unwrap_or_default(),
            "TmpSecretId": t.key.secret_id,
            "TmpSecretKey": t.key.secret_key.expose(),
        },
        "ExpiredTime": t.expires_at,
        "Expiration": iso8601(t.expires_at),
    })
}

/// The two shapes of tccli's GetCallerIdentity examples: a CAM user
/// (`qcs::cam:ACCOUNT:uin/UIN`) and an assumed role (`qcs::sts:ACCOUNT:assumed-role/ROLEID`,
/// UserId `ROLEID:SESSION`, PrincipalId the uin that asked for the role's key: example 2
/// answers the CAM user's uin there, not the account's). The role id is stable per name.
fn caller_identity(shared: &Shared, caller: Option<&Principal>) -> Result<Value, Fail> {
    let account = &shared.identities.args.account;
    match caller {
        Some(Principal::User { uin }) => Ok(json!({
            "Arn": format!("qcs::cam:{account}:uin/{uin}"),
            "AccountId": account,
            "UserId": uin,
            "PrincipalId": uin,
            "Type": "CAMUser",
        })),
        Some(Principal::Role { name, session, by }) => {
            let role_id = role_id(name);
            Ok(json!({
                "Arn": format!("qcs::sts:{account}:assumed-role/{role_id}"),
                "AccountId": account,
                "UserId": format!("{role_id}:{session}"),
                "PrincipalId": by,
                "Type": "CAMRole",
            }))
        }
        None => Err(fail(
            "AuthFailure.AccessKeyIllegal",
            "GetCallerIdentity must be signed.",
        )),
    }
}

fn iso8601(unix: i64) -> String {
    pgssl_wire::clock::rfc3339(unix).unwrap_or_default()
}

/// `GET` on the metadata paths: the role's name, then its temporary key, as a CVM's
/// metadata service answers (404 when the machine has no role).
pub(super) fn metadata(shared: &Shared, path: &str, now: i64) -> Response<Full<Bytes>> {
    let Some(rest) = path.strip_prefix(METADATA_ROLES) else {
        return text(StatusCode::NOT_FOUND, "Not Found");
    };
    if shared.identities.metadata_down() {
        return text(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
    }
    let Some(role) = shared.identities.args.cvm_role.clone() else {
        return text(StatusCode::NOT_FOUND, "Not Found");
    };
    if rest.is_empty() {
        return text(StatusCode::OK, &role);
    }
    if rest != role {
        return text(StatusCode::NOT_FOUND, "Not Found");
    }
    let t = shared.identities.issue(
        Principal::Role {
            name: role.clone(),
            session: format!("cvm-{}", shared.addr.port()),
            // The machine's role is asked for by no user: the account's uin is named.
            by: shared.identities.args.account.clone(),
        },
        now + shared.identities.args.role_key_seconds,
        now,
    );
    let body = json!({
        "TmpSecretId": t.key.secret_id,
        "TmpSecretKey": t.key.secret_key.expose(),
        "ExpiredTime": t.expires_at,
        "Expiration": iso8601(t.expires_at),
        "Token": t.key.token.as_ref().map(|s| s.expose().to_string()).unwrap_or_default(),
        "Code": "Success",
    });
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    r
}
