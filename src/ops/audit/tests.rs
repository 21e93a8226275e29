use super::*;
use crate::addresses::{Address, AddressKind};
use crate::domain::{InstanceKind, InstanceStatus, SslSeen, SslState};

fn ca_row(sha: &str, days_left: i64) -> CaRow {
    CaRow {
        subject: "CN=pgssl emulator CA".into(),
        issuer: "CN=pgssl emulator CA".into(),
        sha256: sha.into(),
        not_after: "2036-01-01 00:00:00 UTC".into(),
        days_left,
        certificates: 1,
        pinned_sha256: sha.into(),
        pinned_since: "2026-11-01T00:00:00Z".into(),
    }
}

fn instance(id: &str, ssl: Option<(bool, Option<&str>)>, group: Option<&str>) -> Instance {
    let mut i = Instance {
        id: id.into(),
        region: "ap-guangzhou".into(),
        name: id.into(),
        kind: if group.is_some() {
            InstanceKind::ReadOnly
        } else {
            InstanceKind::Primary
        },
        status: InstanceStatus::from_api("running"),
        master: None,
        version: None,
        addresses: Vec::new(),
        unusable: Vec::new(),
        ssl: None,
        read_at: "2026-12-02T00:00:00Z".into(),
        ca: None,
        tls: None,
    };
    if let Some(g) = group {
        i.addresses.push(Address {
            kind: AddressKind::Group,
            ..Address::unverified(g.parse().expect("ip"))
        });
    }
    i.ssl = ssl.map(|(enabled, protected)| SslSeen {
        state: SslState {
            enabled,
            protected: protected.map(|p| p.parse().expect("ip")),
            ca_url: None,
            inline_ca: None,
        },
        read_at: "2026-12-02T00:00:00Z".into(),
    });
    i
}

#[test]
fn findings_are_judged_and_sorted_most_severe_first() {
    let fleet = vec![
        instance("postgres-on", Some((true, Some("10.0.0.1"))), None),
        instance("postgres-off", Some((false, None)), None),
        instance("pgro-a", Some((true, Some("10.0.0.20"))), Some("10.0.0.20")),
        instance("pgro-b", Some((false, None)), Some("10.0.0.20")),
        instance("postgres-isolated", None, None),
    ];
    let mut ca = CaSeen::new();
    ca.insert("postgres-on".into(), Ok(ca_row("AA", 10)));
    ca.insert("pgro-a".into(), Err("timed out".into()));
    let unread = vec![("postgres-gone".to_string(), "AuthFailure".to_string())];
    let f = findings(&fleet, &unread, &ca);
    let kinds: Vec<(&str, &str)> = f
        .iter()
        .map(|f| (f.kind.as_str(), f.DBInstanceId.as_str()))
        .collect();
    assert!(kinds.contains(&("ssl_off", "postgres-off")));
    assert!(kinds.contains(&("ssl_off", "pgro-b")));
    assert!(kinds.contains(&("group_disagrees", "pgro-b")), "{kinds:?}");
    assert!(kinds.contains(&("ca_expiring", "postgres-on")));
    assert!(kinds.contains(&("unchecked", "pgro-a")));
    assert!(kinds.contains(&("unchecked", "postgres-gone")));
    assert!(
        !kinds.iter().any(|k| k.1 == "postgres-isolated"),
        "unknown is not off"
    );
    let sev: Vec<Severity> = f.iter().map(|f| f.severity).collect();
    let mut sorted = sev.clone();
    sorted.sort();
    assert_eq!(sev, sorted, "most severe first");
    assert_eq!(exit_code(&f), 1);
    // A group whose address nobody protects: members with SSL off are findings for
    // being off, not for disagreeing.
    let quiet = findings(
        &[
            instance("pgro-a", Some((false, None)), Some("10.0.0.20")),
            instance("pgro-b", Some((true, Some("10.0.0.9"))), Some("10.0.0.20")),
        ],
        &[],
        &CaSeen::new(),
    );
    assert!(!quiet.iter().any(|f| f.kind == FindingKind::GroupDisagrees));
    let mut expired = CaSeen::new();
    expired.insert("postgres-on".into(), Ok(ca_row("AA", -3)));
    let f = findings(
        &[instance(
            "postgres-on",
            Some((true, Some("10.0.0.1"))),
            None,
        )],
        &[],
        &expired,
    );
    assert_eq!(
        (f[0].kind, f[0].severity),
        (FindingKind::CaExpired, Severity::High)
    );
}

#[test]
fn exit_codes_for_cron() {
    assert_eq!(exit_code(&[]), 0);
    let unchecked = findings(&[], &[("x".into(), "e".into())], &CaSeen::new());
    assert_eq!(exit_code(&unchecked), 3);
}

use crate::probe::Verdict;

#[test]
fn a_live_check_becomes_a_finding_unless_verify_full() {
    let i = Instance {
        id: "postgres-on".into(),
        region: "ap-guangzhou".into(),
        name: String::new(),
        kind: crate::domain::InstanceKind::Primary,
        status: crate::domain::InstanceStatus::from_api("running"),
        master: None,
        version: None,
        addresses: Vec::new(),
        unusable: Vec::new(),
        ssl: None,
        read_at: String::new(),
        ca: None,
        tls: None,
    };
    assert_eq!(tls_finding(&i, &Ok(Verdict::VerifyFull)), None);
    let kind = |v| tls_finding(&i, &v).map(|f| (f.kind.as_str(), f.severity));
    assert_eq!(
        kind(Ok(Verdict::VerifyCa("names 10.0.0.2".into()))),
        Some(("tls_verify_ca", Severity::Medium))
    );
    assert_eq!(
        kind(Ok(Verdict::Failed("expired".into()))),
        Some(("tls_failed", Severity::High))
    );
    assert_eq!(
        kind(Ok(Verdict::NoSsl)),
        Some(("tls_absent", Severity::High))
    );
    assert_eq!(
        kind(Ok(Verdict::Unreachable("refused".into()))),
        Some(("unchecked", Severity::Low))
    );
    assert_eq!(
        kind(Err("timed out".into())),
        Some(("unchecked", Severity::Low))
    );
}

fn audited(instances: &[Instance], ca: CaSeen) -> Audit {
    let found = findings(instances, &[], &ca);
    let evidence = Evidence {
        ca,
        ..Evidence::default()
    };
    Audit {
        rows: rows::rows(instances, &evidence, &found),
        findings: found,
        ..Audit::default()
    }
}

#[test]
fn rows_cover_every_instance_with_its_group_and_findings() {
    let fleet = vec![
        instance("pgro-a", Some((true, Some("10.0.0.20"))), Some("10.0.0.20")),
        instance("pgro-b", Some((false, None)), Some("10.0.0.20")),
        instance("postgres-isolated", None, None),
    ];
    let a = audited(&fleet, CaSeen::new());
    assert_eq!(a.rows.len(), 3);
    let b = &a.rows[1];
    assert_eq!(b.ssl, Ssl::Off);
    assert_eq!(
        b.read_only_group.as_ref().map(|g| g.members_agree),
        Some(false)
    );
    let kinds: Vec<FindingKind> = b.findings.iter().map(|f| f.kind).collect();
    assert!(kinds.contains(&FindingKind::GroupDisagrees), "{kinds:?}");
    assert_eq!(a.rows[0].findings, Vec::new());
    assert_eq!(a.rows[0].protected_address.as_deref(), Some("10.0.0.20"));
    assert_eq!(a.rows[0].address_kind, Some(AddressKind::Group));
    let isolated = &a.rows[2];
    assert_eq!(isolated.ssl, Ssl::Unknown);
    assert!(
        isolated
            .unread
            .as_deref()
            .is_some_and(|w| w.contains("running"))
    );
    assert_eq!(a.rows[0].csv().len(), rows::CSV_HEADER.len());
}

#[test]
fn a_ca_other_than_the_pinned_one_is_a_high_finding() {
    let fleet = vec![instance(
        "postgres-on",
        Some((true, Some("10.0.0.1"))),
        None,
    )];
    let mut ca = CaSeen::new();
    let mut row = ca_row("BB", 400);
    row.pinned_sha256 = "AA".into();
    ca.insert("postgres-on".into(), Ok(row));
    let f = findings(&fleet, &[], &ca);
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].kind, f[0].severity),
        (FindingKind::CaChanged, Severity::High)
    );
    assert!(
        f[0].detail
            .starts_with("CA changed since 2026-11-01: AA -> BB"),
        "{}",
        f[0].detail
    );
}

#[test]
fn since_finds_each_kind_of_difference_and_which_are_worse() {
    let before = audited(
        &[
            instance("postgres-gone", Some((true, Some("10.0.0.9"))), None),
            instance("postgres-off", Some((true, Some("10.0.0.1"))), None),
            instance("postgres-on", Some((false, None)), None),
            instance("postgres-moved", Some((true, Some("10.0.0.3"))), None),
            instance("postgres-ca", Some((true, Some("10.0.0.4"))), None),
        ],
        [("postgres-ca".to_string(), Ok(ca_row("AA", 400)))].into(),
    );
    let mut changed_ca = ca_row("BB", 400);
    changed_ca.pinned_sha256 = "BB".into();
    let now = audited(
        &[
            instance("postgres-new", Some((true, Some("10.0.0.8"))), None),
            instance("postgres-off", Some((false, None)), None),
            instance("postgres-on", Some((true, Some("10.0.0.2"))), None),
            instance("postgres-moved", Some((true, Some("10.0.0.33"))), None),
            instance("postgres-ca", Some((true, Some("10.0.0.4"))), None),
        ],
        [("postgres-ca".to_string(), Ok(changed_ca))].into(),
    );
    let s = since::compare(&since::as_earlier(&before), &now, "before.json");
    let got: Vec<(String, bool)> = s
        .changes
        .iter()
        .map(|c| {
            let v = serde_json::to_value(c).expect("json");
            (
                format!("{} {}", v["change"].as_str().unwrap_or("?"), c.instance()),
                c.worse(),
            )
        })
        .collect();
    for (want, worse) in [
        ("new postgres-new", false),
        ("gone postgres-gone", false),
        ("ssl_off postgres-off", true),
        ("ssl_on postgres-on", false),
        ("address_changed postgres-moved", false),
        ("ca_changed postgres-ca", true),
        ("finding_new postgres-off", true),
        ("finding_resolved postgres-on", false),
    ] {
        assert!(got.contains(&(want.to_string(), worse)), "{want}: {got:?}");
    }
    assert!(
        got.iter().take(s.worse).all(|(_, w)| *w),
        "worse first: {got:?}"
    );
    let mut with = now.clone();
    with.since = Some(s);
    assert_eq!(with.exit_code(), 1);
    // Compared with itself: nothing, exit 0 though its findings stand.
    let same = since::compare(&since::as_earlier(&now), &now, "now.json");
    assert!(same.changes.is_empty());
    with.since = Some(same);
    assert_eq!(with.exit_code(), 0);
    assert_eq!(now.exit_code(), 1);
}

#[test]
fn the_tui_compares_with_the_last_audit_it_saw_and_keeps_this_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = crate::store::Store::new(crate::store::Paths {
        config_dir: dir.path().join("config"),
        data_dir: dir.path().join("data"),
    });
    std::fs::create_dir_all(&store.paths.data_dir).expect("data dir");
    let first = audited(
        &[instance(
            "postgres-on000001",
            Some((true, Some("10.0.0.1"))),
            None,
        )],
        CaSeen::new(),
    );
    assert_eq!(against_last(&store, &first), None, "nothing seen before");
    let second = audited(
        &[instance("postgres-on000001", Some((false, None)), None)],
        CaSeen::new(),
    );
    let since = against_last(&store, &second).expect("compared with the first");
    assert_eq!(since.worse, 2, "{since:?}");
    let kept = store.paths.data_dir.join("last-audit.json");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&kept).expect("kept").permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    // The second is now the last: compared with itself, nothing changed.
    assert!(against_last(&store, &second).is_some_and(|s| s.changes.is_empty()));
}

#[test]
fn since_resolves_only_what_this_audit_could_find_again_in_the_regions_both_covered() {
    let mut before = audited(
        &[
            instance("postgres-off00001", Some((false, None)), None),
            instance("postgres-tls00001", Some((true, Some("10.0.0.2"))), None),
        ],
        CaSeen::new(),
    );
    before.about.verify = true;
    before.about.regions = vec!["ap-guangzhou".into()];
    before.findings.push(Finding {
        severity: Severity::High,
        kind: FindingKind::TlsFailed,
        DBInstanceId: "postgres-tls00001".into(),
        Region: "ap-guangzhou".into(),
        detail: "expired".into(),
    });
    // Now: the first not read (SSL unknown), and no live checks made.
    let mut now = audited(
        &[
            instance("postgres-off00001", None, None),
            instance("postgres-tls00001", Some((true, Some("10.0.0.2"))), None),
        ],
        CaSeen::new(),
    );
    now.about.regions = vec!["ap-guangzhou".into()];
    let s = since::compare(&since::as_earlier(&before), &now, "b.json");
    assert!(
        !s.changes
            .iter()
            .any(|c| matches!(c, Change::FindingResolved { .. })),
        "{s:?}"
    );
    assert_eq!(s.note, None);
    // Another region set: only the regions both covered are compared, and it is said.
    now.about.regions = vec!["ap-guangzhou".into(), "eu-frankfurt".into()];
    let mut far = instance("postgres-far00001", Some((false, None)), None);
    far.region = "eu-frankfurt".into();
    now.rows.push(rows::Row {
        Region: "eu-frankfurt".into(),
        ..rows::Row::named(&far.id)
    });
    let s = since::compare(&since::as_earlier(&before), &now, "b.json");
    assert!(
        s.note
            .as_deref()
            .is_some_and(|n| n.starts_with("compared only ap-guangzhou")),
        "{s:?}"
    );
    assert!(
        !s.changes
            .iter()
            .any(|c| c.instance() == "postgres-far00001"),
        "{s:?}"
    );
}
