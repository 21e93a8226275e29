use super::*;

fn net(ip: &str, kind: &str) -> DBInstanceNetInfo {
    DBInstanceNetInfo {
        Ip: Some(ip.into()),
        Port: Some(5432),
        NetType: Some(kind.into()),
        Status: Some("opened".into()),
        ..Default::default()
    }
}

fn primary() -> DBInstance {
    DBInstance {
        DBInstanceId: Some("postgres-6bwgamo3".into()),
        DBInstanceType: Some("primary".into()),
        DBInstanceNetInfo: Some(vec![
            net("10.6.0.4", "private"),
            net("203.0.113.3", "public"),
        ]),
        ..Default::default()
    }
}

fn replica() -> (DBInstance, Vec<ReadOnlyGroup>) {
    let ro = DBInstance {
        DBInstanceId: Some("pgro-ro9x2k1q".into()),
        DBInstanceType: Some("readonly".into()),
        MasterDBInstanceId: Some("postgres-6bwgamo3".into()),
        DBInstanceNetInfo: Some(vec![net("10.6.0.9", "private")]),
        ..Default::default()
    };
    let member = DBInstance {
        DBInstanceId: Some("pgro-ro9x2k1q".into()),
        ..Default::default()
    };
    let other = DBInstance {
        DBInstanceId: Some("pgro-otherone".into()),
        ..Default::default()
    };
    let groups = vec![
        ReadOnlyGroup {
            ReadOnlyGroupId: Some("pgrogrp-4t9mxl3a".into()),
            ReadOnlyGroupName: Some("ro-group-1".into()),
            ReadOnlyDBInstanceList: Some(vec![member]),
            DBInstanceNetInfo: Some(vec![net("10.6.0.20", "private")]),
            ..Default::default()
        },
        ReadOnlyGroup {
            ReadOnlyGroupId: Some("pgrogrp-zzzzzzzz".into()),
            ReadOnlyDBInstanceList: Some(vec![other]),
            DBInstanceNetInfo: Some(vec![net("10.6.0.30", "private")]),
            ..Default::default()
        },
    ];
    (ro, groups)
}

#[test]
fn primary_offers_private_and_public() {
    let a = addresses_of(&primary(), &[]).usable;
    assert_eq!(a.len(), 2);
    let pick = |s: &str| {
        choose(
            "postgres-6bwgamo3",
            false,
            &a,
            &AddressSpec::parse(s).expect("spec"),
        )
    };
    assert_eq!(
        pick("private").expect("private").host.to_string(),
        "10.6.0.4"
    );
    assert_eq!(
        pick("public").expect("public").host.to_string(),
        "203.0.113.3"
    );
    assert_eq!(pick("203.0.113.3").expect("ip").kind, AddressKind::Public);
    assert!(matches!(
        pick("group"),
        Err(AddressRefusal::GroupOnPrimary { .. })
    ));
    match pick("10.9.9.9") {
        Err(AddressRefusal::NotItsAddress { choices, .. }) => assert!(
            choices.contains("private 10.6.0.4") && choices.contains("public 203.0.113.3"),
            "{choices}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn replica_offers_own_ip_and_its_groups_only() {
    let (ro, groups) = replica();
    let a = addresses_of(&ro, &groups).usable;
    assert_eq!(
        a.iter().map(|a| a.host.to_string()).collect::<Vec<_>>(),
        ["10.6.0.9", "10.6.0.20"]
    );
    let g = choose(
        "pgro-ro9x2k1q",
        true,
        &a,
        &AddressSpec::Kind(AddressKind::Group),
    )
    .expect("group");
    assert_eq!(g.label(), "group 10.6.0.20 (ro-group-1)");
    let e = choose(
        "pgro-ro9x2k1q",
        true,
        &a,
        &AddressSpec::Kind(AddressKind::Public),
    )
    .expect_err("no public");
    assert!(
        matches!(
            e,
            AddressRefusal::NoneOfKind {
                kind: AddressKind::Public,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        choose(
            "pgro-ro9x2k1q",
            true,
            &a,
            &AddressSpec::parse("10.6.0.30").expect("ip")
        )
        .is_err()
    );
}

#[test]
fn an_entry_that_is_not_an_ip_is_kept_apart_and_never_offered() {
    let mut p = primary();
    p.DBInstanceNetInfo = Some(vec![
        net("10.66.0.1\u{1b}[2J\u{202e}", "private"),
        net("10.6.0.4", "private"),
    ]);
    let a = addresses_of(&p, &[]);
    assert_eq!(a.usable.len(), 1);
    assert_eq!(a.usable[0].host.to_string(), "10.6.0.4");
    assert_eq!(a.unusable.len(), 1);
    assert!(
        a.unusable[0].contains("not an IP") && !a.unusable[0].contains('\u{1b}'),
        "{:?}",
        a.unusable
    );
}

#[test]
fn networks_not_opened_are_said_and_never_offered() {
    let mut p = primary();
    p.DBInstanceNetInfo = Some(vec![
        DBInstanceNetInfo {
            Status: Some("2".into()),
            ..net("10.6.0.4", "private")
        },
        // No public access: the API still lists the network, without an IP.
        DBInstanceNetInfo {
            Ip: Some(String::new()),
            Port: Some(0),
            NetType: Some("public".into()),
            Status: Some("initing".into()),
            ..DBInstanceNetInfo::default()
        },
    ]);
    let a = addresses_of(&p, &[]);
    assert_eq!(a.usable.len(), 1);
    assert_eq!(
        a.usable[0].status.as_deref(),
        Some("opened"),
        "a numbered '2' is opened"
    );
    assert_eq!(a.unusable, ["public: no IP yet, the network is 'initing'"]);
    let e = choose(
        "postgres-6bwgamo3",
        false,
        &a.usable,
        &AddressSpec::Kind(AddressKind::Public),
    )
    .expect_err("no public");
    assert!(
        matches!(
            e,
            AddressRefusal::NoneOfKind {
                kind: AddressKind::Public,
                ..
            }
        ),
        "{e}"
    );
    let mut closed = a.usable.clone();
    closed[0].status = Some("closed".into());
    for spec in [
        AddressSpec::Kind(AddressKind::Private),
        AddressSpec::Host(Host::Ip("10.6.0.4".parse().expect("ip"))),
    ] {
        let e = choose("postgres-6bwgamo3", false, &closed, &spec).expect_err("closed");
        assert!(
            matches!(&e, AddressRefusal::NotOpened { status, .. } if status == "closed"),
            "{e}"
        );
        assert!(e.to_string().contains("is 'closed', not opened"), "{e}");
    }
}

#[test]
fn a_public_entry_with_a_dns_name_is_protected_by_its_name() {
    let mut p = primary();
    p.DBInstanceNetInfo = Some(vec![
        net("10.6.0.4", "private"),
        DBInstanceNetInfo {
            Address: Some("GZ-Postgres-6bwgamo3.sql.tencentcdb.com.".into()),
            ..net("203.0.113.3", "public")
        },
        // A name and no IP, as some accounts list the public entry.
        DBInstanceNetInfo {
            Address: Some("ro-only.sql.tencentcdb.com".into()),
            Ip: Some(String::new()),
            ..net("", "public")
        },
    ]);
    let a = addresses_of(&p, &[]).usable;
    let name = Host::Name("gz-postgres-6bwgamo3.sql.tencentcdb.com".into());
    assert_eq!(a[1].host, name, "the name is what is sent");
    assert_eq!(
        a[1].host.to_string(),
        "GZ-Postgres-6bwgamo3.sql.tencentcdb.com.",
        "as the API spells it"
    );
    assert_eq!(a[1].ip, Some("203.0.113.3".parse().expect("ip")));
    assert_eq!(a[2].host.to_string(), "ro-only.sql.tencentcdb.com");
    assert_eq!(a[2].ip, None);
    let pick = |s: &str| {
        choose(
            "postgres-6bwgamo3",
            false,
            &a[..2],
            &AddressSpec::parse(s).expect("spec"),
        )
    };
    assert_eq!(pick("public").expect("public").host, name);
    // The IP of the same entry may be asked for explicitly: that is what is sent.
    let by_ip = pick("203.0.113.3").expect("ip");
    assert_eq!(
        (by_ip.kind, by_ip.host.to_string()),
        (AddressKind::Public, "203.0.113.3".to_string())
    );
    let by_name = pick("gz-postgres-6bwgamo3.sql.tencentcdb.com").expect("name");
    assert_eq!(
        by_name.host.to_string(),
        "GZ-Postgres-6bwgamo3.sql.tencentcdb.com.",
        "a name typed is sent as the API spells it"
    );
    assert!(matches!(
        pick("other.sql.tencentcdb.com"),
        Err(AddressRefusal::NotItsAddress { .. })
    ));
    // The private entry is known by its IP even with a DNS name beside it.
    let mut q = primary();
    q.DBInstanceNetInfo = Some(vec![DBInstanceNetInfo {
        Address: Some("inner.example.internal".into()),
        ..net("10.6.0.4", "private")
    }]);
    let b = addresses_of(&q, &[]).usable;
    assert_eq!(b[0].host.to_string(), "10.6.0.4");
    assert!(b[0].is(&Host::parse("inner.example.internal").expect("name")));
}

#[test]
fn hosts_parse_as_an_ip_or_a_dns_name_and_nothing_else() {
    assert_eq!(
        Host::parse(" 10.0.0.8 "),
        Ok(Host::Ip("10.0.0.8".parse().expect("ip")))
    );
    assert!(matches!(Host::parse("::1"), Ok(Host::Ip(_))));
    // Kept as spelled; compared as DNS compares names.
    let upper = Host::parse("A.Example.COM.").expect("name");
    assert_eq!(upper.to_string(), "A.Example.COM.");
    assert_eq!(upper, Host::Name("a.example.com".into()));
    for bad in [
        "",
        "localhost",
        "10.0.0.999",
        "a..b",
        "-a.example.com",
        "a-.example.com",
        "a_b.example.com",
        "x.example.com\u{1b}[2J",
        "x\u{202e}.example.com",
        "1.2.3.4.5",
        "10.0.0.9x",
        &format!("{}.com", "a".repeat(64)),
        &format!("{}com", "abcdefgh.".repeat(29)),
    ] {
        let e = Host::parse(bad).expect_err(bad);
        assert!(!e.contains('\u{1b}') && !e.contains('\u{202e}'), "{e}");
    }
    // Kept as the API's string: an old journal's IP reads back as a Host.
    let h: Host = serde_json::from_str("\"10.6.0.4\"").expect("json");
    assert_eq!(h, Host::Ip("10.6.0.4".parse().expect("ip")));
    assert!(serde_json::from_str::<Host>("\"not a host!\"").is_err());
}

#[test]
fn an_inventory_address_written_before_names_still_reads() {
    let old: Address = serde_json::from_str(
        r#"{"kind":"public","ip":"203.0.113.3","port":5432,"dns":"x.sql.tencentcdb.com"}"#,
    )
    .expect("old shape");
    assert_eq!(old.host.to_string(), "203.0.113.3");
    let round: Address =
        serde_json::from_str(&serde_json::to_string(&old).expect("json")).expect("new");
    assert_eq!(round, old);
    assert!(serde_json::from_str::<Address>(r#"{"kind":"public"}"#).is_err());
}

#[test]
fn numbered_network_statuses_read_as_the_sdk_numbers_them() {
    let status = |raw: &str| {
        let mut p = primary();
        p.DBInstanceNetInfo = Some(vec![DBInstanceNetInfo {
            Status: Some(raw.into()),
            ..net("10.6.0.4", "private")
        }]);
        addresses_of(&p, &[]).usable[0].clone()
    };
    for (raw, word, open) in [
        ("1", "initing", false),
        ("2", "opened", true),
        ("3", "closed", false),
        ("4", "opening", false),
        ("5", "closing", false),
        ("0", "closed", false),
        ("opened", "opened", true),
    ] {
        let a = status(raw);
        assert_eq!(
            (a.status.as_deref(), a.is_open()),
            (Some(word), open),
            "{raw}"
        );
    }
}

#[test]
fn spec_parsing() {
    assert_eq!(
        AddressSpec::parse("group"),
        Ok(AddressSpec::Kind(AddressKind::Group))
    );
    assert!(matches!(
        AddressSpec::parse("::1"),
        Ok(AddressSpec::Host(_))
    ));
    // A typo of a kind is not a DNS name (one label).
    let e = AddressSpec::parse("privat").expect_err("typo");
    assert!(e.contains("private, public, group"));
    assert!(matches!(
        AddressSpec::parse("pg.example.com"),
        Ok(AddressSpec::Host(Host::Name(_)))
    ));
    let e = AddressSpec::parse("pg.example.com:5432").expect_err("port");
    assert!(e.contains("without the port"), "{e}");
}
