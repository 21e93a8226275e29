//! The chain, pair by pair: for each two sources, which wins (as tccli decides, then as
//! the SDKs go on). Each test builds a HOME of its own; nothing reads the real one.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::chain::{How, Lookup, Resolved, resolve};
use super::{CredentialError, CredentialSource, LoginKind, Secret, mask_secret_id};
use crate::credentials::Credential;

const NOW: i64 = 1_800_000_000;

struct Home {
    dir: tempfile::TempDir,
    system: std::path::PathBuf,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().expect("tmp");
        let system = dir.path().join("etc-tencentcloud-credentials");
        Home { dir, system }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) {
        write(&self.path().join(rel), text, 0o600);
    }

    fn profile(&self, name: &str, json: &serde_json::Value) {
        self.write(&format!(".tccli/{name}.credential"), &json.to_string());
    }

    fn run(
        &self,
        flag: Option<&str>,
        config: Option<&str>,
        vars: &[(&str, &str)],
    ) -> Result<Resolved, CredentialError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        let env = move |k: &str| map.get(k).cloned();
        resolve(&Lookup {
            profile: flag,
            config_profile: config,
            home: Some(self.path()),
            system_file: Some(&self.system),
            env: &env,
            now: NOW,
        })
    }
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn keys(id: &str) -> serde_json::Value {
    serde_json::json!({"secretId": id, "secretKey": format!("key-of-{id}")})
}

fn id_of(r: &Resolved) -> &str {
    match &r.how {
        How::Keys(c) => &c.secret_id,
        How::AssumeRole { keys, .. } => &keys.secret_id,
        How::Login { credential, .. } => &credential.secret_id,
        other => panic!("no keys: {other:?}"),
    }
}

const ENV_KEYS: [(&str, &str); 3] = [
    ("TENCENTCLOUD_SECRET_ID", "AKIDenv000000"),
    ("TENCENTCLOUD_SECRET_KEY", "kenv"),
    ("TENCENTCLOUD_TOKEN", "envtoken"),
];

#[test]
fn masks_and_redacts() {
    assert_eq!(
        mask_secret_id("AKIDm0JEWnWHkHfjD7P2Go8H2Z0PURRStUWq"),
        "AKID****tUWq"
    );
    assert_eq!(mask_secret_id("short"), "****");
    let c = Credential::new(
        "AKIDm0JEWnWHkHfjD7P2Go8H2Z0PURRStUWq",
        "topsecretkey",
        Some("tok"),
    )
    .expect("valid");
    let dbg = format!("{c:?}");
    assert!(
        !dbg.contains("topsecretkey") && !dbg.contains("tok\""),
        "{dbg}"
    );
    assert!(dbg.contains("AKID****tUWq"));
    assert!(Credential::new(" id", "k", None).is_err());
    assert!(Credential::new("id", "", None).is_err());
    // A resolved chain's Debug never shows the key either.
    let h = Home::new();
    h.profile("default", &keys("AKIDdefault0000"));
    let r = h.run(None, None, &[]).expect("default");
    let dbg = format!("{r:?}");
    assert!(!dbg.contains("key-of-AKIDdefault0000"), "{dbg}");
}

#[test]
fn flag_profile_beats_the_environment_entirely() {
    let h = Home::new();
    h.profile("prod", &keys("AKIDprod000000"));
    h.write(
        ".tccli/prod.configure",
        r#"{"_sys_param":{"region":"ap-seoul"},"sts":{"endpoint":"sts.internal.tencentcloudapi.com"}}"#,
    );
    let mut vars = ENV_KEYS.to_vec();
    vars.push(("TENCENTCLOUD_REGION", "ap-tokyo"));
    vars.push(("TENCENTCLOUD_ROLE_ARN", "qcs::cam::uin/1:roleName/x"));
    vars.push(("TENCENTCLOUD_ROLE_SESSION_NAME", "s"));
    let r = h.run(Some("prod"), None, &vars).expect("profile");
    assert!(matches!(r.how, How::Keys(_)), "{:?}", r.how);
    assert_eq!(id_of(&r), "AKIDprod000000");
    // tccli applies TENCENTCLOUD_REGION only without --profile.
    assert_eq!(r.region.as_deref(), Some("ap-seoul"));
    assert_eq!(
        r.sts_endpoint.as_deref(),
        Some("sts.internal.tencentcloudapi.com")
    );
    assert_eq!(r.profile.as_deref(), Some("prod"));
    // A half pair in the environment does not matter either: tccli ignores it.
    let r = h
        .run(Some("prod"), None, &[("TENCENTCLOUD_SECRET_ID", "x")])
        .expect("ignored");
    assert_eq!(id_of(&r), "AKIDprod000000");
}

#[test]
fn environment_keys_beat_the_tccli_profile_env_names_and_take_no_file_token() {
    let h = Home::new();
    h.profile(
        "staging",
        &serde_json::json!({"secretId": "AKIDstaging0000", "secretKey": "k", "token": "filetoken"}),
    );
    h.write(
        ".tccli/staging.configure",
        r#"{"_sys_param":{"region":"ap-seoul"}}"#,
    );
    let mut vars = ENV_KEYS[..2].to_vec();
    vars.push(("TCCLI_PROFILE", "staging"));
    let r = h.run(None, None, &vars).expect("env");
    assert_eq!(r.source, CredentialSource::Env);
    assert_eq!(id_of(&r), "AKIDenv000000");
    // The token is TENCENTCLOUD_TOKEN or none, never the file's.
    match &r.how {
        How::Keys(c) => assert!(c.token.is_none()),
        other => panic!("{other:?}"),
    }
    // The profile still names the region, and its guards apply.
    assert_eq!(r.region.as_deref(), Some("ap-seoul"));
    assert_eq!(r.profile.as_deref(), Some("staging"));
    // And TENCENTCLOUD_REGION beats the profile's region without --profile.
    vars.push(("TENCENTCLOUD_REGION", "ap-tokyo"));
    assert_eq!(
        h.run(None, None, &vars).expect("env").region.as_deref(),
        Some("ap-tokyo")
    );
    // With the token.
    let r = h.run(None, None, &ENV_KEYS).expect("env");
    match &r.how {
        How::Keys(c) => assert_eq!(c.token.as_ref().map(Secret::expose), Some("envtoken")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn tccli_profile_env_beats_config_profile_which_beats_default() {
    let h = Home::new();
    h.profile("default", &keys("AKIDdefault0000"));
    h.profile("fromconfig", &keys("AKIDconfig00000"));
    h.profile("fromenv", &keys("AKIDfromenv0000"));
    let r = h
        .run(None, Some("fromconfig"), &[("TCCLI_PROFILE", "fromenv")])
        .expect("env");
    assert_eq!(id_of(&r), "AKIDfromenv0000");
    let r = h.run(None, Some("fromconfig"), &[]).expect("config");
    assert_eq!(id_of(&r), "AKIDconfig00000");
    let r = h.run(None, None, &[]).expect("default");
    assert_eq!(id_of(&r), "AKIDdefault0000");
    // A named profile that does not exist is an error, never a fall back.
    for (flag, config, vars) in [
        (Some("nope"), None, vec![]),
        (None, None, vec![("TCCLI_PROFILE", "nope")]),
        (None, Some("nope"), vec![]),
    ] {
        let e = h.run(flag, config, &vars).expect_err("missing");
        assert!(e.to_string().contains("does not exist"), "{e}");
        assert_eq!(e.exit_code(), 2);
    }
    assert!(h.run(Some("../etc"), None, &[]).is_err());
}

#[test]
fn default_profile_beats_the_sdk_file_which_beats_etc_which_beats_the_cvm_role() {
    let h = Home::new();
    // Nothing at all: the CVM role is the last resort, with everything tried listed.
    let r = h.run(None, None, &[]).expect("last resort");
    assert!(matches!(r.how, How::CvmRole { named: false }));
    assert!(r.tried.iter().any(|t| t.contains("TENCENTCLOUD_SECRET_ID")));
    assert!(
        r.tried
            .iter()
            .any(|t| t.contains(".tencentcloud/credentials"))
    );
    assert!(
        r.tried
            .iter()
            .any(|t| t.contains("etc-tencentcloud-credentials"))
    );

    write(
        &h.system,
        "[default]\nsecret_id = AKIDetc00000000\nsecret_key = ketc\n",
        0o600,
    );
    let r = h.run(None, None, &[]).expect("etc");
    assert_eq!(id_of(&r), "AKIDetc00000000");

    h.write(
        ".tencentcloud/credentials",
        "[other]\nsecret_id=x\n[default]\nsecret_id = AKIDfile0000000\nsecret_key = kfile\n",
    );
    std::fs::set_permissions(
        h.path().join(".tencentcloud/credentials"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let r = h.run(None, None, &[]).expect("file");
    assert_eq!(id_of(&r), "AKIDfile0000000");
    assert!(matches!(r.source, CredentialSource::CredentialsFile { .. }));
    assert!(
        r.warnings.iter().any(|w| w.contains("chmod 600")),
        "{:?}",
        r.warnings
    );

    // TENCENTCLOUD_CREDENTIALS_FILE names the file (Go SDK); missing, it is an error.
    let other = h.path().join("elsewhere");
    write(
        &other,
        "[default]\nsecret_id = AKIDelse0000000\nsecret_key = k\n",
        0o600,
    );
    let r = h
        .run(
            None,
            None,
            &[(
                "TENCENTCLOUD_CREDENTIALS_FILE",
                other.to_str().expect("utf8"),
            )],
        )
        .expect("explicit file");
    assert_eq!(id_of(&r), "AKIDelse0000000");
    let e = h
        .run(
            None,
            None,
            &[("TENCENTCLOUD_CREDENTIALS_FILE", "/nonexistent/creds")],
        )
        .expect_err("missing file");
    assert!(e.to_string().contains("/nonexistent/creds"), "{e}");

    h.profile("default", &keys("AKIDdefault0000"));
    let r = h.run(None, None, &[]).expect("default profile");
    assert_eq!(id_of(&r), "AKIDdefault0000");
    assert!(matches!(r.source, CredentialSource::Profile { ref name, .. } if name == "default"));
}

#[test]
fn within_a_profile_cvm_role_then_role_arn_then_oidc_then_keys() {
    let h = Home::new();
    let tke = [
        ("TKE_REGION", "ap-guangzhou"),
        ("TKE_PROVIDER_ID", "oidc-1"),
        ("TKE_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
        ("TKE_ROLE_ARN", "qcs::cam::uin/1:roleName/tke"),
    ];
    let mut all = serde_json::json!({
        "type": "cvm-role",
        "secretId": "AKIDbase0000000",
        "secretKey": "kbase",
        "token": "basetoken",
        "role-arn": "qcs::cam::uin/1:roleName/dba",
        "role-session-name": "ops",
    });
    h.profile("p", &all);
    let r = h.run(Some("p"), None, &tke).expect("cvm");
    assert!(matches!(r.how, How::CvmRole { named: true }), "{:?}", r.how);

    all["type"] = "default".into();
    h.profile("p", &all);
    let r = h.run(Some("p"), None, &tke).expect("role");
    match &r.how {
        How::AssumeRole {
            keys,
            role_arn,
            session_name,
        } => {
            assert_eq!(keys.secret_id, "AKIDbase0000000");
            // tccli signs AssumeRole with the long-term keys only.
            assert!(keys.token.is_none());
            assert_eq!(role_arn, "qcs::cam::uin/1:roleName/dba");
            assert_eq!(session_name, "ops");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        r.source
            .tag()
            .starts_with("role:qcs::cam::uin/1:roleName/dba via profile:p")
    );

    // A role ARN without a session name is no role (tccli needs both).
    all.as_object_mut()
        .expect("obj")
        .remove("role-session-name");
    h.profile("p", &all);
    let r = h.run(Some("p"), None, &tke).expect("oidc");
    assert!(matches!(r.how, How::Oidc { ref region, .. } if region == "ap-guangzhou"));
    // Three of the four TKE variables are not OIDC.
    let r = h.run(Some("p"), None, &tke[..3]).expect("keys");
    assert!(matches!(r.how, How::Keys(_)));
}

#[test]
fn environment_keys_or_role_switch_off_a_profiles_cvm_role() {
    let h = Home::new();
    h.profile("default", &serde_json::json!({"type": "cvm-role"}));
    let r = h.run(None, None, &[]).expect("cvm");
    assert!(matches!(r.how, How::CvmRole { named: true }));
    let r = h.run(None, None, &ENV_KEYS).expect("env keys");
    assert!(matches!(r.how, How::Keys(_)));
    // The environment's role, assumed with the environment's keys.
    let mut vars = ENV_KEYS.to_vec();
    vars.push(("TENCENTCLOUD_ROLE_ARN", "qcs::cam::uin/1:roleName/dba"));
    vars.push(("TENCENTCLOUD_ROLE_SESSION_NAME", "night-shift"));
    let r = h.run(None, None, &vars).expect("env role");
    assert!(
        matches!(&r.how, How::AssumeRole { keys, session_name, .. } if keys.secret_id == "AKIDenv000000" && session_name == "night-shift")
    );
    // The environment's role alone switches the cvm-role off, and has no keys to use.
    let e = h
        .run(
            None,
            None,
            &[
                ("TENCENTCLOUD_ROLE_ARN", "qcs::cam::uin/1:roleName/dba"),
                ("TENCENTCLOUD_ROLE_SESSION_NAME", "x"),
            ],
        )
        .expect_err("no keys");
    assert!(e.to_string().contains("no secretId"), "{e}");
    // Half a pair is an error, not a silent other identity.
    for half in [
        ("TENCENTCLOUD_SECRET_ID", "x"),
        ("TENCENTCLOUD_SECRET_KEY", "x"),
        ("TENCENTCLOUD_ROLE_ARN", "x"),
        ("TENCENTCLOUD_ROLE_SESSION_NAME", "x"),
    ] {
        let e = h.run(None, None, &[half]).expect_err("half");
        assert!(e.to_string().contains("set both or neither"), "{e}");
    }
}

#[test]
fn sso_and_oauth_profiles_are_used_while_they_last() {
    let h = Home::new();
    let login = |kind: &str, expires: i64| {
        serde_json::json!({
            "type": kind, "secretId": "AKIDtmp00000000", "secretKey": "ktmp", "token": "tmptoken",
            "expiresAt": expires, "sso": {"token": "secret-sso-token", "uin": "1"}
        })
    };
    h.profile("corp", &login("sso", NOW + 3600));
    let r = h.run(Some("corp"), None, &[]).expect("valid sso");
    match &r.how {
        How::Login {
            kind,
            expires_at,
            credential,
            ..
        } => {
            assert_eq!(*kind, LoginKind::Sso);
            assert_eq!(*expires_at, NOW + 3600);
            assert_eq!(
                credential.token.as_ref().map(Secret::expose),
                Some("tmptoken")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.source.tag(), "sso:corp");

    // Expired (or within 5 minutes of it): one line with tccli's own login command.
    h.profile("corp", &login("sso", NOW + 200));
    let e = h.run(Some("corp"), None, &[]).expect_err("expired");
    assert_eq!(e.exit_code(), 2);
    assert!(
        e.to_string()
            .contains("run `tccli sso login --profile corp`"),
        "{e}"
    );
    h.profile("default", &login("oauth", NOW - 10));
    let e = h.run(None, None, &[]).expect_err("expired oauth");
    assert!(e.to_string().contains("run `tccli auth login`"), "{e}");
    // Before the first login (`tccli sso configure` only): same advice.
    h.profile(
        "fresh",
        &serde_json::json!({"type": "sso", "sso": {"authUrl": "https://x"}}),
    );
    let e = h
        .run(Some("fresh"), None, &[])
        .expect_err("never logged in");
    assert!(
        e.to_string().contains("tccli sso login --profile fresh"),
        "{e}"
    );
    // Environment keys override an expired login, as in tccli.
    let r = h.run(None, None, &ENV_KEYS).expect("env");
    assert_eq!(r.source, CredentialSource::Env);
}

#[test]
fn broken_profiles_say_what_is_wrong() {
    let h = Home::new();
    h.write(".tccli/bad.credential", "{not json");
    let e = h.run(Some("bad"), None, &[]).expect_err("json");
    assert!(e.to_string().contains("not valid JSON"), "{e}");
    h.profile(
        "odd",
        &serde_json::json!({"type": "saml", "secretId": "a", "secretKey": "b"}),
    );
    let e = h.run(Some("odd"), None, &[]).expect_err("type");
    assert!(e.to_string().contains("not one tccli writes"), "{e}");
    h.profile("empty", &serde_json::json!({"secretId": ""}));
    let e = h.run(Some("empty"), None, &[]).expect_err("no keys");
    assert!(e.to_string().contains("tccli configure"), "{e}");
    h.profile(
        "rolenokeys",
        &serde_json::json!({"role-arn": "a", "role-session-name": "b"}),
    );
    let e = h
        .run(Some("rolenokeys"), None, &[])
        .expect_err("role without keys");
    assert!(
        e.to_string().contains("no secretId to assume it with"),
        "{e}"
    );
}
