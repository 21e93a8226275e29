//! AssumeRole's optional parameters, checked as sts `models.go` documents them
//! (AssumeRoleRequest): Policy, ExternalId, Tags, SourceIdentity, SerialNumber and
//! TokenCode. The emulator grants every role everything, so an accepted Policy narrows
//! nothing; what it checks is what a real STS refuses, with the codes the SDK lists for
//! AssumeRole (sts `client.go`, `errors.go`).

use serde_json::{Map, Value};

use super::params::string;
use super::{Fail, fail};

/// "最多可以传递 50 个会话标签，不支持包含相同标签键"; Tag: "标签键，最长128个字符",
/// "标签值，最长256个字符".
const MAX_TAGS: usize = 50;
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;

pub(super) fn check(params: &Map<String, Value>) -> Result<(), Fail> {
    if let Some(policy) = string(params, "Policy") {
        check_policy(policy)?;
    }
    if let Some(id) = string(params, "ExternalId") {
        // "长度在2到128之间，可包含大小写字符，数字以及特殊字符：=,.@:/-。 正则为：[\w+=,.@:\/-]*"
        let ok = (2..=128).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@:/-".contains(&b));
        if !ok {
            return Err(param_error(
                "ExternalId must be 2 to 128 of letters, digits and _+=,.@:/-.",
            ));
        }
    }
    if let Some(tags) = params.get("Tags").and_then(Value::as_array) {
        check_tags(tags)?;
    }
    if let Some(uin) = string(params, "SourceIdentity") {
        // "调用者身份uin".
        if uin.is_empty() || uin.len() > 20 || !uin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(param_error("SourceIdentity must be a uin (digits)."));
        }
    }
    check_mfa(string(params, "SerialNumber"), string(params, "TokenCode"))
}

fn param_error(message: &str) -> Fail {
    fail("InvalidParameter.ParamError", message)
}

/// "该参数需要做urlencode，服务端会对该字段做urldecode"; the CAM policy syntax
/// (`{"version": "2.0", "statement": [...]}`); "策略中不能包含 principal 元素".
fn check_policy(policy: &str) -> Result<(), Fail> {
    let decoded = percent_decode(policy).ok_or_else(|| {
        fail(
            "InvalidParameter.StrategyFormatError",
            "Policy must be URL-encoded.",
        )
    })?;
    let parsed: Option<Map<String, Value>> = serde_json::from_str(&decoded).ok();
    let Some(doc) = parsed else {
        return Err(fail(
            "InvalidParameter.StrategyFormatError",
            "Policy is not a JSON policy document once URL-decoded.",
        ));
    };
    let Some(statements) = doc.get("statement").and_then(Value::as_array) else {
        return Err(fail(
            "InvalidParameter.StrategyFormatError",
            "Policy has no statement list.",
        ));
    };
    let has_principal = statements.iter().any(|st| {
        st.as_object()
            .is_some_and(|o| o.keys().any(|k| k.eq_ignore_ascii_case("principal")))
    });
    if has_principal {
        return Err(fail(
            "InvalidParameter.StrategyInvalid",
            "Policy must not contain a principal element.",
        ));
    }
    Ok(())
}

fn check_tags(tags: &[Value]) -> Result<(), Fail> {
    if tags.len() > MAX_TAGS {
        return Err(param_error("Tags: at most 50 session tags."));
    }
    let mut keys: Vec<&str> = Vec::with_capacity(tags.len());
    for tag in tags {
        let key = tag["Key"].as_str().unwrap_or("");
        let value = tag["Value"].as_str().unwrap_or("");
        if key.is_empty()
            || key.chars().count() > MAX_TAG_KEY
            || value.chars().count() > MAX_TAG_VALUE
        {
            return Err(param_error(
                "Tags: a Key of 1 to 128 characters and a Value of at most 256.",
            ));
        }
        if keys.contains(&key) {
            return Err(param_error("Tags: a tag key may appear once."));
        }
        keys.push(key);
    }
    Ok(())
}

/// "MFA序列号 ... 格式qcs::cam:uin/${ownerUin}::mfa/${mfaType}。mfaType支持softToken";
/// TokenCode "mfa身份验证码". The emulator has no MFA device: any 6-digit code passes.
fn check_mfa(serial: Option<&str>, code: Option<&str>) -> Result<(), Fail> {
    let (serial, code) = match (serial, code) {
        (None, None) => return Ok(()),
        (Some(s), Some(c)) => (s, c),
        _ => {
            return Err(param_error(
                "SerialNumber and TokenCode are given together.",
            ));
        }
    };
    let Some((uin, kind)) = serial
        .strip_prefix("qcs::cam:uin/")
        .and_then(|r| r.split_once("::mfa/"))
    else {
        return Err(param_error(
            "SerialNumber must be qcs::cam:uin/UIN::mfa/TYPE.",
        ));
    };
    if uin.is_empty() || !uin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(param_error("SerialNumber must name a uin."));
    }
    if kind != "softToken" {
        return Err(fail(
            "FailedOperation.MFATypeNotSupported",
            "Only softToken MFA devices are supported.",
        ));
    }
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(fail(
            "FailedOperation.CheckMFAError",
            "The MFA code is not valid.",
        ));
    }
    Ok(())
}

/// `%XX` decoded, `+` as a space (URL form encoding); None when malformed or not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code(params: &Value) -> Option<String> {
        check(params.as_object().expect("object"))
            .err()
            .map(|f| f.code)
    }

    #[test]
    fn the_documented_optional_parameters_are_checked() {
        let policy = "%7B%22version%22%3A%222.0%22%2C%22statement%22%3A%5B%7B%22effect%22%3A%22allow%22%2C%22action%22%3A%5B%22postgres%3A*%22%5D%2C%22resource%22%3A%5B%22*%22%5D%7D%5D%7D";
        let all = json!({
            "Policy": policy, "ExternalId": "ext-1:a/b", "SourceIdentity": "100000000002",
            "Tags": [{"Key": "team", "Value": "dba"}, {"Key": "env", "Value": ""}],
            "SerialNumber": "qcs::cam:uin/100000000002::mfa/softToken", "TokenCode": "123456",
        });
        assert_eq!(code(&all), None);
        for (bad, expect) in [
            (
                json!({"Policy": "{not json"}),
                "InvalidParameter.StrategyFormatError",
            ),
            (
                json!({"Policy": "%ZZ"}),
                "InvalidParameter.StrategyFormatError",
            ),
            (
                json!({"Policy": "%7B%22statement%22%3A%5B%7B%22principal%22%3A%7B%7D%7D%5D%7D"}),
                "InvalidParameter.StrategyInvalid",
            ),
            (json!({"ExternalId": "x"}), "InvalidParameter.ParamError"),
            (
                json!({"Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}),
                "InvalidParameter.ParamError",
            ),
            (
                json!({"SourceIdentity": "me"}),
                "InvalidParameter.ParamError",
            ),
            (
                json!({"TokenCode": "123456"}),
                "InvalidParameter.ParamError",
            ),
            (
                json!({"SerialNumber": "qcs::cam:uin/1::mfa/hardToken", "TokenCode": "123456"}),
                "FailedOperation.MFATypeNotSupported",
            ),
            (
                json!({"SerialNumber": "qcs::cam:uin/1::mfa/softToken", "TokenCode": "12"}),
                "FailedOperation.CheckMFAError",
            ),
        ] {
            assert_eq!(code(&bad).as_deref(), Some(expect), "{bad}");
        }
        let many: Vec<Value> = (0..51)
            .map(|i| json!({"Key": format!("k{i}"), "Value": ""}))
            .collect();
        assert_eq!(
            code(&json!({ "Tags": many })).as_deref(),
            Some("InvalidParameter.ParamError")
        );
    }
}
