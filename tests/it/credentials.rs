//! Temporary credentials against the emulator's metadata service and STS, with a fast
//! clock: fetched when first needed, renewed before they expire, a failed renewal said and
//! survived while the old key lasts, and no request ever signed with an expired key.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::{Emu, OIDC_TOKEN};
use pgssl::api::models::DescribeRegionsRequest;
use pgssl::api::{ApiError, Client, ClientOptions, Endpoint};
use pgssl::credentials::chain::{How, Resolved};
use pgssl::credentials::{
    self, Credential, CredentialEvent, CredentialSource, LoginKind, Places, Provider,
};
use pgssl_emulator::FaultArgs;
use pgssl_wire::sts::GetCallerIdentityRequest;

/// A clock both ends share: the client's and the emulator's move on together.
struct Fast {
    offset: Arc<AtomicI64>,
}

impl Fast {
    fn new() -> Fast {
        Fast {
            offset: Arc::default(),
        }
    }
    fn clock(&self) -> pgssl::credentials::provider::Clock {
        let offset = self.offset.clone();
        Arc::new(move || pgssl_wire::clock::unix_now() + offset.load(Ordering::SeqCst))
    }
    fn advance(&self, emu: &Emu, secs: i64) {
        self.offset.fetch_add(secs, Ordering::SeqCst);
        emu.running.shared.advance_clock(secs);
    }
}

fn places(emu: &Emu) -> Places {
    let ep = Endpoint::parse(&emu.endpoint()).expect("endpoint");
    Places {
        sts: ep.clone(),
        metadata: emu.endpoint(),
        options: options(&emu.endpoint()),
        clock: None,
    }
}

fn options(endpoint: &str) -> ClientOptions {
    let ep = Endpoint::parse(endpoint).expect("endpoint");
    ClientOptions {
        endpoint: ep.clone(),
        sts_endpoint: ep,
        read_attempts: 1,
        ..ClientOptions::default()
    }
}

fn resolved(how: How) -> Resolved {
    Resolved {
        how,
        source: CredentialSource::Demo,
        profile: None,
        region: None,
        endpoint: None,
        sts_endpoint: None,
        tried: vec!["everything else".into()],
        warnings: vec![],
    }
}

/// A client whose provider is built as pgssl builds it, on the fast clock, with its
/// events collected.
fn client_for(emu: &Emu, how: How, fast: &Fast) -> (Client, Arc<Mutex<Vec<CredentialEvent>>>) {
    let mut places = places(emu);
    places.clock = Some(fast.clock());
    let provider = emu
        .block_on(credentials::provider(&resolved(how), &places))
        .expect("provider")
        .with_clock(fast.clock());
    let events: Arc<Mutex<Vec<CredentialEvent>>> = Arc::default();
    let sink = events.clone();
    provider.on_event(Arc::new(move |e| {
        sink.lock().expect("events").push(e.clone());
    }));
    let client = Client::new(provider, options(&emu.endpoint()))
        .expect("client")
        .with_clock(fast.clock());
    (client, events)
}

fn regions(emu: &Emu, client: &Client) -> Result<(), ApiError> {
    emu.block_on(client.call(None, &DescribeRegionsRequest {}))
        .map(|_| ())
}

fn key_id(client: &Client) -> String {
    client.provider().cached().expect("a key is held").secret_id
}

const ROLE_SECS: i64 = 43_200;

#[test]
fn a_cvm_role_key_is_renewed_before_it_expires_and_the_old_one_then_dies() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let fast = Fast::new();
    let (client, events) = client_for(&emu, How::CvmRole { named: true }, &fast);
    assert!(
        client.provider().cached().is_none(),
        "fetched only when needed"
    );
    regions(&emu, &client).expect("signed with the role's key");
    let first = key_id(&client);
    let first_key = client.provider().cached().expect("held");
    assert!(
        first_key.token.is_some(),
        "a temporary key carries its token"
    );
    // Nothing new is fetched while the key has more than 5 minutes left.
    fast.advance(&emu, ROLE_SECS - 400);
    regions(&emu, &client).expect("same key");
    assert_eq!(key_id(&client), first);
    // Inside the last 5 minutes it is renewed, without the caller noticing.
    fast.advance(&emu, 150);
    regions(&emu, &client).expect("renewed");
    let second = key_id(&client);
    assert_ne!(second, first);
    let renewed = events
        .lock()
        .expect("events")
        .iter()
        .filter(|e| matches!(e, CredentialEvent::Renewed { .. }))
        .count();
    assert_eq!(renewed, 2, "{:?}", events.lock().expect("events"));
    // The emulator takes the old key while it lasts, and refuses it after.
    emu.block_on(client.call_with(&first_key, None, &DescribeRegionsRequest {}))
        .expect("still valid");
    fast.advance(&emu, 300);
    let e = emu
        .block_on(client.call_with(&first_key, None, &DescribeRegionsRequest {}))
        .expect_err("expired");
    assert_eq!(e.code(), Some("AuthFailure.TokenFailure"), "{e}");
    // Without its token the new key is refused too.
    let held = client.provider().cached().expect("held");
    let tokenless = Credential::new(&held.secret_id, held.secret_key.expose(), None).expect("cred");
    let e = emu
        .block_on(client.call_with(&tokenless, None, &DescribeRegionsRequest {}))
        .expect_err("no token");
    assert_eq!(e.code(), Some("AuthFailure.TokenFailure"), "{e}");
}

#[test]
fn a_failed_renewal_is_said_the_old_key_serves_while_it_lasts_then_nothing_is_sent() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let fast = Fast::new();
    let (client, events) = client_for(&emu, How::CvmRole { named: true }, &fast);
    regions(&emu, &client).expect("first key");
    let first = key_id(&client);
    emu.running.shared.identities.set_metadata_down(true);
    fast.advance(&emu, ROLE_SECS - 250);
    regions(&emu, &client).expect("the old key still has 250 s");
    assert_eq!(key_id(&client), first);
    let status = client.provider().status().expect("temporary");
    let problem = status.problem.expect("the failure is kept for the header");
    assert!(problem.contains("HTTP 503"), "{problem}");
    assert!(
        events
            .lock()
            .expect("events")
            .iter()
            .any(|e| matches!(e, CredentialEvent::RenewFailed { .. }))
    );
    // With under a minute left the old key is not used: nothing reaches the API.
    fast.advance(&emu, 200);
    let sent_before = emu.count("DescribeRegions");
    let e = regions(&emu, &client).expect_err("no key to sign with");
    assert!(matches!(e, ApiError::Credential { .. }), "{e}");
    assert!(e.to_string().contains("was not sent"), "{e}");
    assert_eq!(emu.count("DescribeRegions"), sent_before);
    // The service is back: the next request renews and goes.
    emu.running.shared.identities.set_metadata_down(false);
    regions(&emu, &client).expect("renewed");
    assert_ne!(key_id(&client), first);
    assert!(
        client
            .provider()
            .status()
            .expect("temporary")
            .problem
            .is_none()
    );
}

#[test]
fn assume_role_signs_with_the_long_term_key_and_the_role_is_who_calls() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let fast = Fast::new();
    let base =
        Credential::new(&emu.key().secret_id, emu.key().secret_key.expose(), None).expect("base");
    let how = |role: &str| How::AssumeRole {
        keys: base.clone(),
        role_arn: format!("qcs::cam::uin/100000000001:roleName/{role}"),
        session_name: "night-shift".into(),
    };
    let (client, _) = client_for(&emu, how("pgssl-dba"), &fast);
    let who = emu
        .block_on(client.call(None, &GetCallerIdentityRequest {}))
        .expect("identity");
    assert_eq!(who.Type.as_deref(), Some("CAMRole"));
    assert_eq!(who.AccountId.as_deref(), Some("100000000001"));
    assert!(
        who.UserId
            .as_deref()
            .is_some_and(|u| u.ends_with(":night-shift"))
    );
    // PrincipalId is the uin that asked for the role's key, the CAM user here (tccli
    // `examples/sts/v20180813/GetCallerIdentity.md`, example 2), not the account.
    assert_eq!(who.PrincipalId.as_deref(), Some("100000000002"));
    assert_ne!(key_id(&client), base.secret_id);
    assert_eq!(emu.count("AssumeRole"), 1);
    // Renewed near expiry (7200 s, as tccli asks).
    fast.advance(&emu, 7200 - 200);
    regions(&emu, &client).expect("renewed");
    assert_eq!(emu.count("AssumeRole"), 2);

    // A role that does not exist: STS's refusal, one line, nothing else sent.
    let (client, _) = client_for(&emu, how("nope"), &fast);
    let e = regions(&emu, &client).expect_err("no such role");
    assert!(
        e.to_string().contains("ResourceNotFound.RoleNotFound"),
        "{e}"
    );
    assert_eq!(e.exit_code(), 1);
}

#[test]
fn a_role_named_by_its_id_is_the_same_role() {
    // sts `models.go` RoleArn: `qcs::cam::uin/12345678:role/4611686018427397919` as well
    // as `...:roleName/NAME`.
    let emu = Emu::start(FaultArgs::default(), 1);
    let fast = Fast::new();
    let base =
        Credential::new(&emu.key().secret_id, emu.key().secret_key.expose(), None).expect("base");
    let role_id = pgssl_emulator::identity::role_id("pgssl-dba");
    let how = |id: &str| How::AssumeRole {
        keys: base.clone(),
        role_arn: format!("qcs::cam::uin/100000000001:role/{id}"),
        session_name: "night-shift".into(),
    };
    let (client, _) = client_for(&emu, how(&role_id), &fast);
    let who = emu
        .block_on(client.call(None, &GetCallerIdentityRequest {}))
        .expect("identity");
    assert_eq!(
        who.Arn,
        Some(format!("qcs::sts:100000000001:assumed-role/{role_id}"))
    );
    assert_eq!(
        pgssl::credentials::role_name(&format!("qcs::cam::uin/1:role/{role_id}")),
        role_id
    );
    // An id no role has, or another account's: not found.
    for arn_id in ["4611686000000000000", "pgssl-dba"] {
        let (client, _) = client_for(&emu, how(arn_id), &fast);
        let e = regions(&emu, &client).expect_err("no such role");
        assert!(
            e.to_string().contains("ResourceNotFound.RoleNotFound"),
            "{e}"
        );
    }
}

#[test]
fn tke_oidc_exchanges_the_pods_token_unsigned() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let fast = Fast::new();
    let dir = tempfile::tempdir().expect("tmp");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{OIDC_TOKEN}\n")).expect("write");
    let how = How::Oidc {
        region: "ap-guangzhou".into(),
        provider_id: "pgssl-demo-oidc".into(),
        token_file: token_file.clone(),
        role_arn: "qcs::cam::uin/100000000001:roleName/pgssl-dba".into(),
    };
    let (client, _) = client_for(&emu, how.clone(), &fast);
    regions(&emu, &client).expect("the role's key");
    assert_eq!(emu.count("AssumeRoleWithWebIdentity"), 1);
    // The token file is read each time: a rotated, wrong token is refused by STS.
    std::fs::write(&token_file, "not-the-token").expect("write");
    let (client, _) = client_for(&emu, how, &fast);
    let e = regions(&emu, &client).expect_err("bad token");
    assert!(e.to_string().contains("WebIdentityTokenError"), "{e}");
}

#[test]
fn an_sso_login_renewed_in_another_shell_is_picked_up() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let fast = Fast::new();
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("corp.credential");
    let login = |expires: i64| {
        let json = serde_json::json!({
            "type": "sso",
            "secretId": emu.key().secret_id,
            "secretKey": emu.key().secret_key.expose(),
            "token": "sso-token",
            "expiresAt": expires,
        });
        std::fs::write(&path, json.to_string()).expect("write");
    };
    let now = pgssl_wire::clock::unix_now();
    login(now + 1000);
    let credential = Credential::new(&emu.key().secret_id, "unused", None).expect("cred");
    let how = How::Login {
        kind: LoginKind::Sso,
        profile: "corp".into(),
        path: path.clone(),
        credential,
        expires_at: now + 1000,
    };
    let (client, events) = client_for(&emu, how, &fast);
    regions(&emu, &client).expect("the login's key");
    // 200 s left: the file still says so; the key is used, and the person is told.
    fast.advance(&emu, 800);
    regions(&emu, &client).expect("still usable");
    let told = events.lock().expect("events").iter().any(|e| {
        matches!(e, CredentialEvent::RenewFailed { message } if message.contains("tccli sso login --profile corp"))
    });
    assert!(told, "{:?}", events.lock().expect("events"));
    // 10 s left: not used.
    fast.advance(&emu, 190);
    let e = regions(&emu, &client).expect_err("expired");
    assert_eq!(e.exit_code(), 2, "{e}");
    // `tccli sso login` in another shell writes a new expiry: picked up at once.
    login(now + 5000);
    regions(&emu, &client).expect("new login");
}

#[test]
fn the_last_resort_cvm_role_is_asked_at_start_and_its_absence_lists_everything_tried() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let provider = emu.block_on(credentials::provider(
        &resolved(How::CvmRole { named: false }),
        &places(&emu),
    ));
    assert!(provider.is_ok(), "the emulator's CVM has a role");
    // A machine that is not a CVM: nothing listens.
    let mut far = places(&emu);
    far.metadata = "http://127.0.0.1:9".into();
    let e = emu
        .block_on(credentials::provider(
            &resolved(How::CvmRole { named: false }),
            &far,
        ))
        .map(|_: Provider| ())
        .expect_err("no role");
    let text = e.to_string();
    assert!(
        text.contains("no credentials found; tried: everything else; CVM role ("),
        "{text}"
    );
    assert!(text.contains("pgssl --demo"), "{text}");
    assert_eq!(e.exit_code(), 2);
}
