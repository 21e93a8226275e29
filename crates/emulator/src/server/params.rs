//! Decoding and checking an action's parameters, and the errors a bad one gets.

use pgssl_wire::Action;
use serde_json::{Map, Value};

use super::{Fail, fail, quote};

#[derive(Clone, Copy)]
enum Ty {
    Str,
    Int,
    /// An integer as a JSON number or a string of digits: STS's DurationSeconds, which
    /// arrives as a string from tccli's `--cli-unfold-argument` and any GET request
    /// (docs/emulator.md).
    Digits,
    Bool,
    Filters,
    /// `[{"Key": string, "Value": string}]` (sts `models.go` Tag).
    Tags,
}

/// (name, type, required)
type Param = (&'static str, Ty, bool);

fn schema(action: Action) -> &'static [Param] {
    use Ty::{Bool, Digits, Filters, Int, Str, Tags};
    match action {
        Action::DescribeRegions | Action::GetCallerIdentity => &[],
        // Every parameter sts `models.go` documents for AssumeRoleRequest; the optional
        // ones are checked as documented (`sts_options`).
        Action::AssumeRole => &[
            ("RoleArn", Str, true),
            ("RoleSessionName", Str, true),
            ("DurationSeconds", Digits, false),
            ("Policy", Str, false),
            ("ExternalId", Str, false),
            ("Tags", Tags, false),
            ("SourceIdentity", Str, false),
            ("SerialNumber", Str, false),
            ("TokenCode", Str, false),
        ],
        Action::AssumeRoleWithWebIdentity => &[
            ("ProviderId", Str, true),
            ("WebIdentityToken", Str, true),
            ("RoleArn", Str, true),
            ("RoleSessionName", Str, true),
            ("DurationSeconds", Digits, false),
        ],
        Action::DescribeDBInstances => &[
            ("Filters", Filters, false),
            ("Limit", Int, false),
            ("Offset", Int, false),
            ("OrderBy", Str, false),
            ("OrderByType", Str, false),
        ],
        Action::DescribeDBInstanceAttribute | Action::DescribeDBInstanceSSLConfig => {
            &[("DBInstanceId", Str, true)]
        }
        Action::DescribeReadOnlyGroups => &[
            ("Filters", Filters, false),
            ("PageSize", Int, false),
            ("PageNumber", Int, false),
            ("OrderBy", Str, false),
            ("OrderByType", Str, false),
        ],
        Action::ModifyDBInstanceSSLConfig => &[
            ("DBInstanceId", Str, true),
            ("SSLEnabled", Bool, true),
            ("ConnectAddress", Str, false),
        ],
        Action::DescribeTasks => &[
            ("TaskId", Int, false),
            ("DBInstanceId", Str, false),
            ("MinStartTime", Str, false),
            ("MaxStartTime", Str, false),
            ("Limit", Int, false),
            ("Offset", Int, false),
            ("OrderBy", Str, false),
            ("OrderByType", Str, false),
        ],
    }
}

/// Check the body against the action's parameters; nulls count as absent.
pub(super) fn check_params(action: Action, body: &[u8]) -> Result<Map<String, Value>, Fail> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body)
            .map_err(|_| fail("InvalidParameter", "The request body is not valid JSON."))?
    };
    let Value::Object(mut params) = value else {
        return Err(fail(
            "InvalidParameter",
            "The request body must be a JSON object.",
        ));
    };
    params.retain(|_, v| !v.is_null());
    let schema = schema(action);
    for key in params.keys() {
        if !schema.iter().any(|p| p.0 == key) {
            return Err(fail(
                "UnknownParameter",
                format!("The parameter `{}` is not recognized.", quote(key)),
            ));
        }
    }
    for &(name, ty, required) in schema {
        match params.get(name) {
            None if required => {
                return Err(fail(
                    "MissingParameter",
                    format!("The request is missing a required parameter `{name}`."),
                ));
            }
            None => {}
            Some(v) => {
                let ok = match ty {
                    Ty::Str => v.is_string(),
                    Ty::Int => v.is_i64(),
                    Ty::Digits => {
                        v.is_i64()
                            || v.as_str().is_some_and(|t| {
                                !t.is_empty()
                                    && t.len() <= 18
                                    && t.bytes().all(|b| b.is_ascii_digit())
                            })
                    }
                    Ty::Bool => v.is_boolean(),
                    Ty::Tags => v.as_array().is_some_and(|list| {
                        list.iter().all(|t| {
                            t.as_object().is_some_and(|o| {
                                o.keys().all(|k| k == "Key" || k == "Value")
                                    && o.get("Key").is_some_and(Value::is_string)
                                    && o.get("Value").is_some_and(Value::is_string)
                            })
                        })
                    }),
                    Ty::Filters => v.as_array().is_some_and(|list| {
                        list.iter().all(|f| {
                            f.as_object().is_some_and(|o| {
                                o.keys().all(|k| k == "Name" || k == "Values")
                                    && o.get("Name").is_some_and(Value::is_string)
                                    && o.get("Values")
                                        .and_then(Value::as_array)
                                        .is_some_and(|vals| vals.iter().all(Value::is_string))
                            })
                        })
                    }),
                };
                if !ok {
                    let expected = match ty {
                        Ty::Str => "a string",
                        Ty::Int => "an integer",
                        Ty::Digits => "an integer (a number or a string of digits)",
                        Ty::Bool => "a boolean",
                        Ty::Tags => "a list of {\"Key\": string, \"Value\": string}",
                        Ty::Filters => "a list of {\"Name\": string, \"Values\": [string]}",
                    };
                    return Err(fail(
                        "InvalidParameter",
                        format!("The value of parameter `{name}` must be {expected}."),
                    ));
                }
            }
        }
    }
    Ok(params)
}

pub(super) fn filters(params: &Map<String, Value>) -> Vec<(String, Vec<String>)> {
    params
        .get("Filters")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|f| {
                    (
                        f["Name"].as_str().unwrap_or("").to_string(),
                        f["Values"]
                            .as_array()
                            .map(|v| {
                                v.iter()
                                    .filter_map(|s| s.as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn int(params: &Map<String, Value>, name: &str) -> Option<i64> {
    params.get(name).and_then(Value::as_i64)
}

/// An integer parameter given as a number or a string of digits (`Ty::Digits`).
pub(super) fn int_or_digits(params: &Map<String, Value>, name: &str) -> Option<i64> {
    let v = params.get(name)?;
    v.as_i64()
        .or_else(|| v.as_str().and_then(|t| t.parse().ok()))
}

pub(super) fn string<'a>(params: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str)
}

pub(super) fn invalid_value(message: impl Into<String>) -> Fail {
    fail("InvalidParameterValue.InvalidParameterValueError", message)
}

pub(super) fn page(
    params: &Map<String, Value>,
    default: usize,
    max: usize,
) -> Result<(usize, usize), Fail> {
    let limit = match int(params, "Limit") {
        None | Some(0) => default,
        // A negative Limit does not convert, so it is out of range like a large one.
        Some(l) => match usize::try_from(l) {
            Ok(l) if l <= max => l,
            _ => {
                return Err(invalid_value(format!(
                    "Limit {l} is out of range: 0 to {max}."
                )));
            }
        },
    };
    let offset = int(params, "Offset").unwrap_or(0);
    if offset < 0 {
        return Err(invalid_value("Offset must not be negative."));
    }
    // Only an offset beyond a 32-bit usize fails here; saturated, it is still past the end.
    Ok((limit, usize::try_from(offset).unwrap_or(usize::MAX)))
}
