use super::*;
use crate::api::Action;
use crate::domain::{Finding, TaskStatus};
use crate::store::journal::{CheckSeen, RequestInfo, TaskSeen};

const CHANGE: &str = "3f2b9c1e-8d4a-4b6e-9f00-12ab34cd56ef";
const RUN: &str = "20261203T042444Z-1a2b3c4d";

fn host(s: &str) -> Host {
    s.parse().expect("host")
}

/// A change to `instance` that left SSL `enabled` (protecting `address`), from `before`.
fn entry(id: &str, instance: &str, enabled: bool, address: Option<&str>) -> Entry {
    Entry {
        request: RequestInfo {
            id: id.into(),
            time: "2026-12-01T00:00:00Z".into(),
            source: "env".into(),
            profile: None,
            account: None,
            SecretId: "AKID****abcd".into(),
            endpoint: "http://127.0.0.1:1".into(),
            region: "ap-guangzhou".into(),
            action: Action::ModifyDBInstanceSSLConfig,
            DBInstanceId: instance.into(),
            SSLEnabled: enabled,
            ConnectAddress: address.map(host),
            run: None,
            before: Some(SslBefore {
                SSLEnabled: !enabled,
                ConnectAddress: (!enabled).then(|| host("10.0.0.9")),
            }),
        },
        outcome: Some(Outcome::Ok {
            RequestId: "r".into(),
            TaskId: Some(7),
        }),
        task: Some(task(TaskStatus::Success)),
        check: None,
        verify: None,
        census: None,
    }
}

fn task(status: TaskStatus) -> TaskSeen {
    TaskSeen {
        task_id: 7,
        status,
        progress: None,
        time: "2026-12-01T00:01:00Z".into(),
        step: None,
        message: None,
    }
}

fn state(enabled: bool, address: Option<&str>) -> SslState {
    SslState {
        enabled,
        protected: address.map(host),
        ca_url: None,
        inline_ca: None,
    }
}

#[test]
fn ids_are_a_change_or_a_run_and_nothing_else() {
    assert_eq!(UndoId::parse(CHANGE), Ok(UndoId::Change(CHANGE.into())));
    assert_eq!(UndoId::parse(RUN), Ok(UndoId::Run(RUN.into())));
    for bad in [
        "",
        "postgres-6bwgamo3",
        "3F2B9C1E-8D4A-4B6E-9F00-12AB34CD56EF",
        "20261203T042444Z-1a2b3c4",
        "2026120xT042444Z-1a2b3c4d",
        "3f2b9c1e-8d4a-4b6e-9f00-12ab34cd56e\u{1b}",
    ] {
        let e = UndoId::parse(bad).expect_err(bad);
        assert!(!e.contains('\u{1b}'), "{e}");
    }
}

#[test]
fn the_inverse_restores_ssl_as_it_was_before() {
    // An enable from off: disable.
    let on = entry(CHANGE, "postgres-6bwgamo3", true, Some("10.0.0.8"));
    let inv = inverse(&on).expect("inverse");
    assert_eq!(inv.want, Want::Disable);
    assert_eq!(inv.left, (true, Some(host("10.0.0.8"))));
    // A disable from on, protecting 10.0.0.9: enable, protecting 10.0.0.9.
    let off = entry(CHANGE, "postgres-6bwgamo3", false, None);
    let inv = inverse(&off).expect("inverse");
    assert_eq!(inv.want, Want::Enable(AddressSpec::Host(host("10.0.0.9"))));
    // An enable that moved the protection: back to the address protected before.
    let mut moved = entry(CHANGE, "postgres-6bwgamo3", true, Some("10.0.0.8"));
    moved.request.before = Some(SslBefore {
        SSLEnabled: true,
        ConnectAddress: Some(host("db.example.com")),
    });
    assert_eq!(
        inverse(&moved).expect("inverse").want,
        Want::Enable(AddressSpec::Host(host("db.example.com")))
    );
    // A line naming no instance pgssl would send to is not undone.
    let mut foreign = on.clone();
    foreign.request.DBInstanceId = "postgres-6bwgamo3; rm -rf /".into();
    assert!(matches!(
        inverse(&foreign),
        Err(UndoRefusal::Unusable { .. })
    ));
    // An older journal kept nothing of before; an "on" without its address says nothing.
    let mut old = on.clone();
    old.request.before = None;
    assert!(matches!(inverse(&old), Err(UndoRefusal::NoBefore { .. })));
    moved.request.before = Some(SslBefore {
        SSLEnabled: true,
        ConnectAddress: None,
    });
    assert!(matches!(
        inverse(&moved),
        Err(UndoRefusal::NoAddressBefore { .. })
    ));
}

#[test]
fn only_a_change_known_to_have_succeeded_is_undone() {
    let ok = entry(CHANGE, "postgres-6bwgamo3", true, Some("10.0.0.8"));
    assert_eq!(succeeded(&ok), Ok(()));
    let with = |f: &dyn Fn(&mut Entry)| {
        let mut e = ok.clone();
        f(&mut e);
        e
    };
    let refused = with(&|e| {
        e.outcome = Some(Outcome::Error {
            Code: "InvalidParameter".into(),
            Message: "no".into(),
            RequestId: None,
        });
        e.task = None;
    });
    let failed = with(&|e| e.task = Some(task(TaskStatus::Fail)));
    let running = with(&|e| e.task = Some(task(TaskStatus::Running)));
    let unseen = with(&|e| e.task = None);
    let unknown = with(&|e| {
        e.outcome = Some(Outcome::Unknown {
            detail: "timeout".into(),
        });
        e.task = None;
    });
    for (e, words) in [
        (&refused, "refused it: InvalidParameter"),
        (&failed, "ended Fail"),
        (&running, "still Running"),
        (&unseen, "never seen to end"),
        (&unknown, "outcome is unknown"),
    ] {
        let why = succeeded(e).expect_err(words);
        assert!(why.contains(words), "{why}");
        assert!(matches!(inverse(e), Err(UndoRefusal::NotSucceeded { .. })));
    }
    // An unknown outcome a later check found applied did take effect.
    let applied = with(&|e| {
        e.outcome = None;
        e.task = None;
        e.check = Some(CheckSeen {
            result: Finding::Applied,
            detail: "as asked".into(),
            time: "t".into(),
        });
    });
    assert_eq!(succeeded(&applied), Ok(()));
}

#[test]
fn a_change_made_since_refuses_unless_forced() {
    let e = entry(CHANGE, "postgres-6bwgamo3", true, Some("10.0.0.8"));
    let inv = inverse(&e).expect("inverse");
    let left = state(true, Some("10.0.0.8"));
    assert_eq!(judge(&inv, Some(&left), None, false), Ok(Judged::Undo));
    // Already as before: nothing to undo, forced or not.
    let off = state(false, None);
    assert_eq!(judge(&inv, Some(&off), None, false), Ok(Judged::AsBefore));
    assert_eq!(judge(&inv, Some(&off), None, true), Ok(Judged::AsBefore));
    // Moved elsewhere since: the inverse would not restore what was.
    let moved = state(true, Some("10.0.0.7"));
    let why = judge(&inv, Some(&moved), None, false).expect_err("changed");
    assert!(matches!(why, UndoRefusal::ChangedSince { .. }), "{why}");
    let text = why.to_string();
    assert!(text.contains("on, protecting 10.0.0.7"), "{text}");
    assert!(text.contains("--force"), "{text}");
    assert_eq!(judge(&inv, Some(&moved), None, true), Ok(Judged::Undo));
    // Not readable: not told, unless forced.
    assert!(matches!(
        judge(&inv, None, None, false),
        Err(UndoRefusal::StateUnknown { .. })
    ));
    // A later change in the journal, even one that left it as this one did.
    let again = entry(
        "11111111-2222-4333-8444-555555555555",
        "postgres-6bwgamo3",
        true,
        Some("10.0.0.8"),
    );
    let entries = vec![e.clone(), again];
    let later = later_change(&entries, &e);
    assert!(later.is_some());
    assert!(matches!(
        judge(&inv, Some(&left), later, false),
        Err(UndoRefusal::ChangedLater { .. })
    ));
    assert_eq!(judge(&inv, Some(&left), later, true), Ok(Judged::Undo));
}

#[test]
fn a_run_is_found_by_its_members_latest_change() {
    let member = |id: &str, instance: &str| {
        let mut e = entry(id, instance, true, Some("10.0.0.8"));
        e.request.run = Some(RUN.into());
        e
    };
    let a1 = member(CHANGE, "postgres-aaaa0001");
    let a2 = member("11111111-2222-4333-8444-555555555555", "postgres-aaaa0001");
    let b = member("22222222-2222-4333-8444-555555555555", "postgres-aaaa0002");
    let other = entry(
        "33333333-2222-4333-8444-555555555555",
        "postgres-aaaa0003",
        true,
        Some("10.0.0.8"),
    );
    let entries = vec![a1, b, a2, other];
    let Ok(Found::Run { members, .. }) = find(&entries, &UndoId::Run(RUN.into())) else {
        panic!("the run is found");
    };
    let ids: Vec<&str> = members.iter().map(|e| e.request.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "22222222-2222-4333-8444-555555555555",
            "11111111-2222-4333-8444-555555555555"
        ]
    );
    assert!(matches!(
        find(&entries, &UndoId::Change(CHANGE.into())),
        Ok(Found::Change(_))
    ));
    let none = find(&entries, &UndoId::Run("20260101T000000Z-00000000".into()));
    assert!(matches!(none, Err(UndoRefusal::NoSuchId { .. })));
}
