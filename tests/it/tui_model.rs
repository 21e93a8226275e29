//! The TUI without a terminal: keys in, state and commands out; and every screen drawn on
//! ratatui's TestBackend (snapshots at 80x24 and 120x40, NO_COLOR, too small, hostile text).

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pgssl::addresses::{Address, AddressKind};
use pgssl::credentials::CredentialEvent;
use pgssl::credentials::choices::Choice;
use pgssl::domain::{Instance, InstanceKind, InstanceStatus, SslSeen, SslState, Task, TaskStatus};
use pgssl::ops::{FollowEnd, Intent, Plan, Sent, plan};
use pgssl::store::SavedInstance;
use pgssl::tui::app::{App, ChangeEvent, Cmd, Msg, Overlay, Shown, Switched, Who};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};

fn addr(kind: AddressKind, ip: &str, group: Option<&str>) -> Address {
    Address {
        kind,
        host: ip.parse().expect("ip"),
        ip: Some(ip.parse().expect("ip")),
        port: Some(5432),
        dns: None,
        status: Some("opened".into()),
        group_id: group.map(|_| "pgrogrp-4t9mxl3a".into()),
        group_name: group.map(str::to_string),
    }
}

const READ: &str = "2026-11-28T04:00:00Z";

fn ssl(enabled: bool, protected: Option<&str>) -> SslSeen {
    SslSeen {
        state: SslState {
            enabled,
            protected: protected.map(|p| p.parse().expect("ip")),
            ca_url: Some("http://127.0.0.1:9/ssl/ca.pem".into()),
            inline_ca: None,
        },
        read_at: READ.into(),
    }
}

fn instance(id: &str, region: &str, name: &str, kind: InstanceKind, status: &str) -> Instance {
    Instance {
        id: id.into(),
        region: region.into(),
        name: name.into(),
        kind,
        status: InstanceStatus::from_api(status),
        master: None,
        version: None,
        addresses: vec![],
        unusable: vec![],
        ssl: None,
        read_at: READ.into(),
        ca: None,
        tls: None,
    }
}

fn fleet() -> Vec<Instance> {
    let mut primary = instance(
        "postgres-6bwgamo3",
        "ap-guangzhou",
        "orders-db",
        InstanceKind::Primary,
        "running",
    );
    primary.addresses = vec![
        addr(AddressKind::Private, "10.6.0.4", None),
        addr(AddressKind::Public, "203.0.113.17", None),
    ];
    primary.ssl = Some(ssl(false, None));
    let mut ro = instance(
        "pgro-ro9x2k1q",
        "ap-guangzhou",
        "orders-db-ro-1",
        InstanceKind::ReadOnly,
        "running",
    );
    ro.master = Some("postgres-6bwgamo3".into());
    ro.addresses = vec![
        addr(AddressKind::Private, "10.6.0.9", None),
        addr(AddressKind::Group, "10.6.0.20", Some("orders-readers")),
    ];
    let mut billing = instance(
        "postgres-5gevh7gr",
        "ap-guangzhou",
        "billing",
        InstanceKind::Primary,
        "running",
    );
    billing.addresses = vec![addr(AddressKind::Private, "10.6.1.21", None)];
    billing.ssl = Some(ssl(true, Some("10.6.1.21")));
    let mut users = instance(
        "postgres-w2c6r9tm",
        "ap-shanghai",
        "users",
        InstanceKind::Primary,
        "restarting",
    );
    users.addresses = vec![addr(AddressKind::Private, "172.16.9.3", None)];
    vec![primary, ro, billing, users]
}

pub(crate) fn app_of(fleet: Vec<Instance>, readonly: bool) -> App {
    let saved = fleet
        .iter()
        .map(|i| SavedInstance {
            id: i.id.clone(),
            region: i.region.clone(),
            name: None,
        })
        .collect();
    let learned: HashMap<String, Box<Instance>> = fleet
        .into_iter()
        .map(|i| (i.id.clone(), Box::new(i)))
        .collect();
    App::new(saved, learned, vec![], readonly)
}

fn app() -> App {
    let mut app = app_of(fleet(), false);
    app.size = (80, 24);
    app
}

/// A task as DescribeTasks reports it, the fields the TUI shows.
fn a_task(task_id: i64, instance: &str, status: TaskStatus, progress: i64) -> Task {
    Task {
        task_id,
        status,
        progress: Some(progress),
        instance_id: Some(instance.into()),
        task_type: None,
        start_time: None,
        end_time: None,
        started_unix: None,
        message: None,
        current_step: None,
    }
}

fn key(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn chars(app: &mut App, s: &str) -> Vec<Cmd> {
    s.chars()
        .flat_map(|c| app.update(key(KeyCode::Char(c))))
        .collect()
}

/// Select an instance by id through the keyboard (filter, then keep it).
fn select(app: &mut App, id: &str) {
    app.update(key(KeyCode::Char('/')));
    chars(app, id);
    app.update(key(KeyCode::Enter));
    assert_eq!(app.selected_row().map(pgssl::tui::app::Row::id), Some(id));
}

/// What the core's `prepare` answers, planned from `fresh` (the read it made).
fn prepared(intent: &Intent, fresh: &Instance) -> Msg {
    Msg::Prepared {
        intent: intent.clone(),
        result: plan::plan(fresh, &intent.want)
            .map(Box::new)
            .map_err(pgssl::ops::OpsError::refused),
    }
}

/// Enter on the form: it asks the core to prepare; the core answers from `fresh`; the
/// dialog is drawn. Returns the intent.
fn submit_with(a: &mut App, fresh: &Instance) -> Intent {
    let cmds = a.update(key(KeyCode::Enter));
    let [Cmd::Prepare(intent)] = cmds.as_slice() else {
        panic!("the form asks for a fresh plan: {cmds:?}")
    };
    let intent = intent.clone();
    a.update(prepared(&intent, fresh));
    a.drawn();
    intent
}

fn learned(a: &App, id: &str) -> Instance {
    *a.row(id).and_then(|r| r.learned.clone()).expect("learned")
}

fn submit(a: &mut App) -> Intent {
    let id = match &a.overlay {
        Overlay::Form(f) => f.instance_id.clone(),
        other => panic!("not the form: {other:?}"),
    };
    let fresh = learned(a, &id);
    submit_with(a, &fresh)
}

fn sent_plan(cmds: &[Cmd]) -> &Plan {
    match cmds {
        [Cmd::Execute(plan)] => plan,
        other => panic!("expected one Execute: {other:?}"),
    }
}

#[test]
fn y_sends_exactly_one_change_with_the_chosen_address() {
    let mut a = app();
    select(&mut a, "postgres-6bwgamo3");
    let cmds = a.update(key(KeyCode::Enter));
    assert!(matches!(cmds.as_slice(), [Cmd::Describe { id, .. }] if id == "postgres-6bwgamo3"));
    // Move to the address list and pick the public IP.
    a.update(key(KeyCode::Tab));
    a.update(key(KeyCode::Down));
    submit(&mut a);
    assert!(matches!(a.overlay, Overlay::Confirm(..)));
    let cmds = a.update(key(KeyCode::Char('y')));
    let req = sent_plan(&cmds).request();
    assert_eq!(req.DBInstanceId, "postgres-6bwgamo3");
    assert!(req.SSLEnabled);
    assert_eq!(req.ConnectAddress.as_deref(), Some("203.0.113.17"));
    assert!(a.inflight.contains("postgres-6bwgamo3"));
    assert!(matches!(a.overlay, Overlay::None));
    // A second Enter on the same instance while in flight opens nothing.
    assert!(a.update(key(KeyCode::Enter)).is_empty());
}

#[test]
fn the_confirm_never_sends_a_plan_it_did_not_show() {
    let mut a = app();
    select(&mut a, "postgres-6bwgamo3");
    a.update(key(KeyCode::Enter));
    a.update(key(KeyCode::Tab)); // the private IP is chosen
    let cmds = a.update(key(KeyCode::Enter));
    let [Cmd::Prepare(intent)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let intent = intent.clone();
    // Until the fresh read is back there is nothing to send.
    assert!(a.update(key(KeyCode::Char('y'))).is_empty());
    let old = learned(&a, "postgres-6bwgamo3");
    a.update(prepared(&intent, &old));
    // The plan has not been drawn yet: y waits for it.
    assert!(a.update(key(KeyCode::Char('y'))).is_empty());
    a.drawn();
    let Overlay::Confirm(c) = &a.overlay else {
        panic!()
    };
    let Shown::Change(shown) = &c.shown else {
        panic!("{:?}", c.shown)
    };
    assert_eq!(
        shown.current().map(SslState::describe).as_deref(),
        Some("off")
    );

    // Meanwhile someone turned SSL on for the public IP: a fresher read lands.
    let mut fresh = old.clone();
    fresh.ssl = Some(SslSeen {
        state: SslState {
            enabled: true,
            protected: Some("203.0.113.17".parse().expect("ip")),
            ca_url: None,
            inline_ca: None,
        },
        read_at: "2026-11-28T04:05:00Z".into(),
    });
    fresh.read_at = "2026-11-28T04:05:00Z".into();
    a.update(Msg::Refreshed {
        id: fresh.id.clone(),
        result: Ok(fresh.clone()),
    });
    let Overlay::Confirm(c) = &a.overlay else {
        panic!()
    };
    assert!(c.revised, "the dialog says it changed");
    let Shown::Change(revised) = &c.shown else {
        panic!("{:?}", c.shown)
    };
    assert_eq!(
        revised.current().map(SslState::describe).as_deref(),
        Some("on, protecting 203.0.113.17")
    );
    let screen = render(&a, 80, 24);
    assert!(screen.contains("this is the new plan"), "{screen}");
    // The new plan is not yet on screen: y does nothing.
    assert!(a.update(key(KeyCode::Char('y'))).is_empty());
    assert!(a.notice.as_deref().unwrap_or("").contains("just changed"));
    a.drawn();
    // A y typed for the old plan must never send the new one: the first y after a
    // revision only says it was seen, the next one sends.
    assert!(a.update(key(KeyCode::Char('y'))).is_empty());
    assert!(a.notice.as_deref().unwrap_or("").contains("press y again"));
    let cmds = a.update(key(KeyCode::Char('y')));
    assert_eq!(
        sent_plan(&cmds).current(),
        fresh.ssl_state(),
        "y sends what was shown"
    );

    // A terminal too small to show the dialog confirms nothing, however many frames pass.
    let mut a = app();
    select(&mut a, "postgres-6bwgamo3");
    a.update(key(KeyCode::Enter));
    submit(&mut a);
    a.update(Msg::Resize(50, 12));
    a.drawn();
    a.drawn();
    assert!(a.update(key(KeyCode::Char('y'))).is_empty());
    assert!(a.notice.as_deref().unwrap_or("").contains("too small"));
    a.update(Msg::Resize(80, 24));
    a.drawn();
    assert_eq!(a.update(key(KeyCode::Char('y'))).len(), 1);

    // An older read landing late changes nothing.
    let mut a = app();
    select(&mut a, "postgres-6bwgamo3");
    a.update(key(KeyCode::Enter));
    let mut newer = learned(&a, "postgres-6bwgamo3");
    newer.read_at = "2026-11-28T05:00:00Z".into();
    submit_with(&mut a, &newer);
    let mut stale = learned(&a, "postgres-6bwgamo3");
    stale.read_at = "2026-11-28T03:00:00Z".into();
    stale.status = InstanceStatus::from_api("restarting");
    a.update(Msg::Described {
        id: stale.id.clone(),
        result: Ok(stale),
    });
    let Overlay::Confirm(c) = &a.overlay else {
        panic!()
    };
    assert!(!c.revised);

    // A fresher read that makes the change impossible leaves nothing to send.
    let mut busy = learned(&a, "postgres-6bwgamo3");
    busy.read_at = "2026-11-28T06:00:00Z".into();
    busy.status = InstanceStatus::from_api("restarting");
    a.update(Msg::Refreshed {
        id: busy.id.clone(),
        result: Ok(busy),
    });
    a.drawn();
    let Overlay::Confirm(c) = &a.overlay else {
        panic!()
    };
    assert!(
        matches!(&c.shown, Shown::Refused(e) if e.contains("not running")),
        "{:?}",
        c.shown
    );
    assert!(a.update(key(KeyCode::Char('y'))).is_empty());
}

#[test]
fn esc_n_and_enter_in_confirm_never_send() {
    for back in [
        KeyCode::Esc,
        KeyCode::Char('n'),
        KeyCode::Enter,
        KeyCode::Char(' '),
    ] {
        let mut a = app();
        select(&mut a, "postgres-6bwgamo3");
        a.update(key(KeyCode::Enter));
        submit(&mut a);
        assert!(matches!(a.overlay, Overlay::Confirm(..)));
        let cmds = a.update(key(back));
        assert!(
            cmds.iter().all(|c| !matches!(c, Cmd::Execute(_))),
            "{back:?}: {cmds:?}"
        );
        if back != KeyCode::Enter && back != KeyCode::Char(' ') {
            assert!(
                matches!(a.overlay, Overlay::Form(_)),
                "{back:?} goes back to the form"
            );
        }
    }
}

#[test]
fn an_invalid_form_cannot_be_sent() {
    let mut a = app();
    select(&mut a, "postgres-6bwgamo3");
    a.update(key(KeyCode::Enter));
    a.update(key(KeyCode::Tab));
    a.update(key(KeyCode::Down));
    a.update(key(KeyCode::Down)); // "other IP"
    chars(&mut a, "10.9.9.9");
    a.update(key(KeyCode::Enter));
    let Overlay::Form(form) = &a.overlay else {
        panic!("still the form: {:?}", a.overlay)
    };
    let row = a.selected_row().expect("row");
    let problem = form.problem(row).expect("foreign IP");
    assert!(
        problem.contains("not one of postgres-6bwgamo3's addresses"),
        "{problem}"
    );
    // Typing junk: kept as typed, and the form says what is wrong with it.
    chars(&mut a, "x");
    let Overlay::Form(form) = &a.overlay else {
        panic!()
    };
    assert_eq!(form.other_ip, "10.9.9.9x");
    let problem = form.problem(a.selected_row().expect("row")).expect("junk");
    assert!(problem.contains("is not an address"), "{problem}");
    // A busy instance cannot be changed either.
    let mut a = app();
    select(&mut a, "postgres-w2c6r9tm");
    a.update(key(KeyCode::Enter));
    assert!(a.update(key(KeyCode::Enter)).is_empty());
    assert!(matches!(a.overlay, Overlay::Form(_)));
}

#[test]
fn disabling_greys_out_the_address_and_sends_none() {
    let mut a = app();
    select(&mut a, "postgres-5gevh7gr");
    a.update(key(KeyCode::Enter));
    a.update(key(KeyCode::Char(' '))); // SSL off
    let Overlay::Form(form) = &a.overlay else {
        panic!()
    };
    assert!(!form.enable);
    // Tab cannot reach the address fields while disabling.
    a.update(key(KeyCode::Tab));
    let Overlay::Form(form) = &a.overlay else {
        panic!()
    };
    assert_eq!(form.field, pgssl::tui::app::form::Field::Ssl);
    submit(&mut a);
    let cmds = a.update(key(KeyCode::Char('y')));
    let req = sent_plan(&cmds).request();
    assert!(!req.SSLEnabled);
    assert_eq!(req.ConnectAddress, None);
}

#[test]
fn read_only_instances_offer_their_group_address() {
    let mut a = app();
    select(&mut a, "pgro-ro9x2k1q");
    a.update(key(KeyCode::Enter));
    a.update(key(KeyCode::Tab));
    a.update(key(KeyCode::Down));
    submit(&mut a);
    let cmds = a.update(key(KeyCode::Char('y')));
    assert_eq!(
        sent_plan(&cmds).request().ConnectAddress.as_deref(),
        Some("10.6.0.20")
    );
}

#[test]
fn readonly_mode_never_sends() {
    let mut a = app_of(fleet(), true);
    assert!(a.update(key(KeyCode::Enter)).is_empty());
    assert!(matches!(a.overlay, Overlay::None));
    assert!(a.notice.as_deref().unwrap_or("").contains("read-only"));
}

#[test]
fn filter_narrows_and_esc_clears() {
    let mut a = app();
    a.update(key(KeyCode::Char('/')));
    chars(&mut a, "orders");
    assert_eq!(a.visible.len(), 2);
    chars(&mut a, " ro");
    assert_eq!(a.visible.len(), 1);
    // q is text while filtering, not quit.
    chars(&mut a, "q");
    assert!(!a.quit);
    assert_eq!(a.visible.len(), 0);
    a.update(key(KeyCode::Esc));
    assert_eq!(a.filter, "");
    assert_eq!(a.visible.len(), 4);
    // By address and by group name too.
    a.update(key(KeyCode::Char('/')));
    chars(&mut a, "10.6.0.20");
    assert_eq!(a.visible.len(), 1);
}

#[test]
fn navigation_keys_follow_conventions() {
    let mut a = app();
    a.update(key(KeyCode::Char('G')));
    assert_eq!(a.selected, 3);
    a.update(key(KeyCode::Char('g')));
    assert_eq!(a.selected, 0);
    a.update(key(KeyCode::Char('j')));
    a.update(key(KeyCode::Down));
    assert_eq!(a.selected, 2);
    a.update(key(KeyCode::Char('k')));
    assert_eq!(a.selected, 1);
    // Ctrl-C quits from anywhere, even a dialog.
    a.update(key(KeyCode::Char('?')));
    assert!(matches!(a.overlay, Overlay::Help(0)));
    a.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(a.quit);
    let mut a = app();
    a.update(key(KeyCode::Char('q')));
    assert!(a.quit);
}

#[test]
fn tab_moves_to_the_log_and_r_i_ask_the_api() {
    let mut a = with_log(app());
    a.update(key(KeyCode::Tab));
    assert_eq!(a.focus, pgssl::tui::app::Pane::Log);
    a.update(key(KeyCode::Char('j')));
    assert_eq!(
        (a.log_selected, a.selected),
        (1, 0),
        "j moves in the focused pane"
    );
    // c on a log line copies its TaskId (or RequestId when it has none).
    assert_eq!(
        a.update(key(KeyCode::Char('c'))),
        vec![Cmd::Copy("5878440a-028f-4fe4-8786-240665d0105e".into())]
    );
    a.update(key(KeyCode::Char('k')));
    assert_eq!(
        a.update(key(KeyCode::Char('c'))),
        vec![Cmd::Copy("100017".into())]
    );
    a.update(Msg::Key(KeyEvent::new(
        KeyCode::BackTab,
        KeyModifiers::SHIFT,
    )));
    assert_eq!(a.focus, pgssl::tui::app::Pane::Instances);
    // r refreshes exactly the instances on screen; i imports the chosen regions.
    let cmds = a.update(key(KeyCode::Char('r')));
    let [Cmd::Refresh(targets)] = cmds.as_slice() else {
        panic!("r refreshes: {cmds:?}")
    };
    assert_eq!(targets.len(), 4);
    assert!(targets.contains(&("ap-shanghai".into(), "postgres-w2c6r9tm".into())));
    assert_eq!(
        a.update(key(KeyCode::Char('i'))),
        vec![Cmd::Import(vec!["ap-guangzhou".into()])]
    );
    a.regions = vec!["ap-shanghai".into()];
    a.recompute();
    assert_eq!(
        a.update(key(KeyCode::Char('i'))),
        vec![Cmd::Import(vec!["ap-shanghai".into()])]
    );
}

#[test]
fn copy_regions_remove_and_add_produce_their_commands() {
    let mut a = app();
    assert_eq!(
        a.update(key(KeyCode::Char('c'))),
        vec![Cmd::Copy(
            a.visible
                .first()
                .map(|&i| a.rows[i].id().to_string())
                .expect("id")
        )]
    );
    let Cmd::Verify { id, .. } = &a.update(key(KeyCode::Char('v')))[0] else {
        panic!("v verifies")
    };
    assert_eq!(id, "postgres-6bwgamo3");
    assert!(matches!(
        a.update(key(KeyCode::Char('C'))).as_slice(),
        [Cmd::FetchCa { .. }]
    ));
    a.update(key(KeyCode::Char('R')));
    a.update(key(KeyCode::Down)); // ap-beijing
    a.update(key(KeyCode::Char(' ')));
    assert_eq!(
        a.update(key(KeyCode::Enter)),
        vec![Cmd::SaveRegions(vec!["ap-beijing".into()])]
    );
    a.update(key(KeyCode::Char('d')));
    assert!(matches!(a.overlay, Overlay::Remove(_)));
    assert!(
        a.update(key(KeyCode::Esc)).is_empty(),
        "Esc never confirms a removal"
    );
    a.update(key(KeyCode::Char('d')));
    assert!(matches!(
        a.update(key(KeyCode::Char('y'))).as_slice(),
        [Cmd::Remove(_)]
    ));
    a.update(key(KeyCode::Char('a')));
    chars(&mut a, "nope");
    assert!(a.update(key(KeyCode::Enter)).is_empty());
    let Overlay::Add(form) = &a.overlay else {
        panic!()
    };
    assert!(
        form.error
            .as_deref()
            .unwrap_or("")
            .contains("not an instance id")
    );
    for _ in 0..4 {
        a.update(key(KeyCode::Backspace));
    }
    chars(&mut a, "postgres-abcdefgh");
    let cmds = a.update(key(KeyCode::Enter));
    assert!(
        matches!(cmds.as_slice(), [Cmd::Add { id, .. }] if id == "postgres-abcdefgh"),
        "{cmds:?}"
    );
}

#[test]
fn a_change_is_followed_and_its_end_shown() {
    let mut a = app();
    a.inflight.insert("postgres-6bwgamo3".into());
    let cmds = a.update(Msg::Change(ChangeEvent::Sent(Sent {
        journal_id: "j1".into(),
        instance_id: "postgres-6bwgamo3".into(),
        region: "ap-guangzhou".into(),
        task_id: Some(100017),
        request_id: "r1".into(),
    })));
    assert_eq!(cmds, vec![Cmd::ReloadJournal]);
    assert!(a.notice.as_deref().unwrap_or("").contains("TaskId 100017"));
    let task = |status, progress| a_task(100017, "postgres-6bwgamo3", status, progress);
    a.update(Msg::Change(ChangeEvent::Task {
        instance_id: "postgres-6bwgamo3".into(),
        task: task(TaskStatus::Running, 40),
    }));
    assert_eq!(a.progress[&100017].progress, Some(40));
    a.update(Msg::Change(ChangeEvent::Settled {
        instance_id: "postgres-6bwgamo3".into(),
        end: FollowEnd::Finished(task(TaskStatus::Success, 100)),
    }));
    assert!(a.notice.as_deref().unwrap_or("").contains("ended Success"));
    let mut now = learned(&a, "postgres-6bwgamo3");
    now.ssl = Some(ssl(true, Some("10.6.0.4")));
    a.update(Msg::Change(ChangeEvent::Refreshed(Box::new(now))));
    assert_eq!(
        a.row("postgres-6bwgamo3")
            .and_then(|r| r.ssl())
            .map(SslState::describe)
            .as_deref(),
        Some("on, protecting 10.6.0.4")
    );
    assert!(
        a.inflight.contains("postgres-6bwgamo3"),
        "in flight until execute returns"
    );
    a.update(Msg::Executed {
        id: "postgres-6bwgamo3".into(),
        result: Ok(()),
    });
    assert!(!a.inflight.contains("postgres-6bwgamo3"));

    // An unknown outcome is reported, never re-sent.
    a.inflight.insert("postgres-6bwgamo3".into());
    let cmds = a.update(Msg::Executed {
        id: "postgres-6bwgamo3".into(),
        result: Err(pgssl::ops::OpsError::Usage(
            "ModifyDBInstanceSSLConfig: outcome unknown".into(),
        )),
    });
    assert_eq!(
        cmds,
        vec![Cmd::ReloadJournal],
        "an unknown outcome is never re-sent"
    );
    assert!(
        a.notice
            .as_deref()
            .unwrap_or("")
            .contains("outcome unknown")
    );
}

#[test]
fn hostile_text_is_cleaned_as_it_enters_the_model() {
    // What reaches the model was cleaned where it entered pgssl (the API reader, the
    // inventory loader); here the inventory file is the way in.
    let mut evil = fleet();
    evil[0].name = "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{202e}gnp.exe".into();
    evil[1].name = "x".repeat(300);
    evil[2].name = String::new();
    evil[2].addresses[0].group_name = Some("\u{9b}31m".into());
    let dir = tempfile::tempdir().expect("tmp");
    let file = pgssl::store::InventoryFile::new(dir.path().join("inventory.json"));
    file.update(|inv| {
        for i in evil.clone() {
            inv.learn(i);
        }
    })
    .expect("write");
    let learned = file.load().expect("load").into_map();
    let saved = evil
        .iter()
        .map(|i| SavedInstance {
            id: i.id.clone(),
            region: i.region.clone(),
            name: None,
        })
        .collect();
    let a = App::new(saved, learned, vec![], false);
    for row in &a.rows {
        assert!(
            !row.name().chars().any(pgssl::text::is_unsafe),
            "{:?}",
            row.name()
        );
    }
    for (w, h) in [(80, 24), (120, 40)] {
        let text = render(&a, w, h);
        assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}') && !text.contains('\u{9b}'));
        assert!(text.contains("\\x1b[2J"));
    }
}

// ------------------------------------------------------------------ rendering

fn render(app: &App, w: u16, h: u16) -> String {
    terminal_for(app, w, h).backend().to_string()
}

fn terminal_for(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    terminal
        .draw(|f| pgssl::tui::view::draw(f, app))
        .expect("draw");
    terminal
}

fn with_log(mut a: App) -> App {
    use pgssl::store::journal::{Outcome, Record, RequestInfo, fold};
    let request = |id: &str, time: &str, instance: &str, address: Option<&str>| {
        Record::Request(RequestInfo {
            profile: None,
            account: None,
            id: id.into(),
            time: time.into(),
            source: "env".into(),
            SecretId: "AKID****abcd".into(),
            endpoint: "http://127.0.0.1:1".into(),
            region: "ap-guangzhou".into(),
            action: pgssl::api::Action::ModifyDBInstanceSSLConfig,
            DBInstanceId: instance.into(),
            SSLEnabled: address.is_some(),
            ConnectAddress: address.map(|a| a.parse().expect("ip")),
            run: None,
            before: None,
        })
    };
    let entries = fold(vec![
        request("b", "2026-11-28T04:40:02Z", "postgres-5gevh7gr", None),
        Record::Outcome {
            id: "b".into(),
            time: "2026-11-28T04:40:03Z".into(),
            outcome: Outcome::Error {
                Code: "OperationDenied.InstanceStatusLimitError".into(),
                Message: "The instance is busy or not running: wait for its current task to end, then try again.".into(),
                RequestId: Some("5878440a-028f-4fe4-8786-240665d0105e".into()),
            },
        },
        request("a", "2026-11-28T04:51:23Z", "postgres-6bwgamo3", Some("203.0.113.17")),
        Record::Outcome {
            id: "a".into(),
            time: "2026-11-28T04:51:24Z".into(),
            outcome: Outcome::Ok {
                RequestId: "e39921c1-2d50-4c55-8bca-8bdff0a387e8".into(),
                TaskId: Some(100017),
            },
        },
        Record::Task {
            id: "a".into(),
            time: "2026-11-28T04:51:30Z".into(),
            TaskId: 100017,
            Status: TaskStatus::Running,
            Progress: Some(40),
            CurrentStep: None,
            Message: None,
        },
    ]);
    a.update(Msg::Journal(entries));
    a
}

fn sized(w: u16, h: u16) -> App {
    let mut a = with_log(app());
    a.update(Msg::Who(Who {
        credential: "env keys · AKID****abcd".into(),
        account: Some("account 100000000001 (CAM user 100000000002)".into()),
        ..Who::default()
    }));
    a.update(Msg::Resize(w, h));
    a
}

#[test]
fn snapshots_of_every_screen() {
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let mut a = sized(w, h);
        insta::assert_snapshot!(format!("list_{w}x{h}"), render(&a, w, h));
        select(&mut a, "pgro-ro9x2k1q");
        a.update(key(KeyCode::Enter));
        insta::assert_snapshot!(format!("form_{w}x{h}"), render(&a, w, h));
        a.update(key(KeyCode::Tab));
        a.update(key(KeyCode::Down));
        submit(&mut a);
        insta::assert_snapshot!(format!("confirm_{w}x{h}"), render(&a, w, h));
        a.update(key(KeyCode::Esc));
        a.update(key(KeyCode::Esc));
        a.update(key(KeyCode::Char('?')));
        insta::assert_snapshot!(format!("help_{w}x{h}"), render(&a, w, h));
        a.update(key(KeyCode::Esc));
        a.update(Msg::Notice("refresh postgres-6bwgamo3: DescribeDBInstanceSSLConfig failed: AuthFailure.SignatureFailure".into()));
        a.update(key(KeyCode::Tab));
        insta::assert_snapshot!(format!("error_{w}x{h}"), render(&a, w, h));
    }
    let a = sized(50, 12);
    insta::assert_snapshot!("too_small_50x12", render(&a, 50, 12));
}

#[test]
fn no_color_keeps_the_selection_visible() {
    let mut a = sized(80, 24);
    a.no_color = true;
    let t = terminal_for(&a, 80, 24);
    let buf = t.backend().buffer();
    let mut reversed_rows = std::collections::BTreeSet::new();
    for y in 0..24 {
        for x in 0..80 {
            let cell = &buf[(x, y)];
            assert!(
                matches!(cell.fg, Color::Reset),
                "colour at {x},{y}: {:?}",
                cell.fg
            );
            assert!(matches!(cell.bg, Color::Reset), "background at {x},{y}");
            if cell.modifier.contains(Modifier::REVERSED) {
                reversed_rows.insert(y);
            }
        }
    }
    assert_eq!(
        reversed_rows.len(),
        1,
        "exactly the selected row is in reverse video"
    );
    let y = *reversed_rows.iter().next().expect("row");
    let line: String = (0..80).map(|x| buf[(x, y)].symbol().to_string()).collect();
    assert!(line.starts_with("> "), "and it carries a marker: {line}");
}

#[test]
fn the_view_fits_every_size_without_panicking() {
    let mut a = sized(80, 24);
    a.update(key(KeyCode::Enter));
    for w in [1u16, 10, 40, 63, 64, 80, 100, 200] {
        for h in [1u16, 5, 17, 18, 24, 60] {
            a.update(Msg::Resize(w, h));
            let _ = render(&a, w, h);
        }
    }
}

// ------------------------------------------------------------ credentials (issue 12)

fn profile(name: &str, kind: &str, region: &str) -> Choice {
    Choice::Profile {
        name: name.into(),
        kind: kind.into(),
        region: Some(region.into()),
    }
}

fn who(profile: &str, protected: bool, readonly: bool) -> Who {
    Who {
        credential: format!("profile {profile} · AKID****wxyz"),
        account: None,
        problem: None,
        profile: Some(profile.into()),
        protected,
        readonly,
    }
}

/// Choices without a guard in config.toml.
fn unguarded(items: Vec<Choice>) -> Vec<(Choice, pgssl::tui::app::Guarded)> {
    items
        .into_iter()
        .map(|c| (c, pgssl::tui::app::Guarded::default()))
        .collect()
}

/// `P`, wait for the list, move `down` rows, Enter: the command it gives.
fn pick(a: &mut App, items: Vec<Choice>, down: usize) -> Vec<Cmd> {
    let cmds = a.update(key(KeyCode::Char('P')));
    assert!(matches!(cmds.as_slice(), [Cmd::ListChoices]), "{cmds:?}");
    assert!(matches!(a.overlay, Overlay::Profiles(_)));
    a.update(Msg::Choices(unguarded(items)));
    for _ in 0..down {
        a.update(key(KeyCode::Down));
    }
    a.update(key(KeyCode::Enter))
}

#[test]
fn p_switches_credentials_guards_and_default_region_without_restarting() {
    let mut a = sized(80, 24);
    assert_eq!(a.default_region, "ap-guangzhou");
    let items = vec![
        Choice::Environment,
        profile("ops", "keys", "ap-singapore"),
        profile("prod", "assumes role dba", "eu-frankfurt"),
    ];
    // The list shows every choice with its source and region.
    a.update(key(KeyCode::Char('P')));
    a.update(Msg::Choices(unguarded(items.clone())));
    let text = render(&a, 80, 24);
    assert!(
        text.contains("ops") && text.contains("region ap-singapore"),
        "{text}"
    );
    assert!(text.contains("assumes role dba"), "{text}");
    // Esc leaves it: nothing switched.
    assert!(a.update(key(KeyCode::Esc)).is_empty());
    assert!(matches!(a.overlay, Overlay::None));

    let cmds = pick(&mut a, items.clone(), 1);
    assert!(
        matches!(cmds.as_slice(), [Cmd::Switch(Choice::Profile { name, .. })] if name == "ops"),
        "{cmds:?}"
    );
    // The core answers: a read-only profile whose region is ap-singapore.
    let cmds = a.update(Msg::Switched(Ok(Switched {
        who: who("ops", false, true),
        region: Some("ap-singapore".into()),
        warnings: vec![],
    })));
    assert_eq!(a.default_region, "ap-singapore");
    assert!(
        a.readonly,
        "a read-only profile's guard is in force at once"
    );
    assert!(
        cmds.iter().any(|c| matches!(c, Cmd::Refresh(_))),
        "what is on screen is read again with the new credential: {cmds:?}"
    );
    assert!(
        a.update(key(KeyCode::Enter)).is_empty(),
        "no form while read-only"
    );
    assert!(render(&a, 80, 24).contains("read-only"));

    // Switching on to a protected profile lifts read-only and marks the header.
    pick(&mut a, items, 2);
    a.update(Msg::Switched(Ok(Switched {
        who: who("prod", true, false),
        region: Some("eu-frankfurt".into()),
        warnings: vec![],
    })));
    assert!(!a.readonly);
    assert_eq!(a.default_region, "eu-frankfurt");
    a.update(Msg::Account(
        "account 100000000001 (role session pgssl-1)".into(),
    ));
    let header: String = render(&a, 80, 24).lines().take(2).collect();
    assert!(header.contains("[PROTECTED] prod"), "{header}");
    assert!(header.contains("account 100000000001"), "{header}");

    // A failed switch keeps the old credential and says so.
    pick(&mut a, vec![Choice::Environment], 0);
    a.update(Msg::Switched(Err(pgssl::ops::OpsError::Usage(
        "the environment has TENCENTCLOUD_SECRET_ID without TENCENTCLOUD_SECRET_KEY".into(),
    ))));
    assert!(a.who.protected && a.who.profile.as_deref() == Some("prod"));
    assert!(a.notice.as_deref().unwrap_or("").contains("not switched"));
}

#[test]
fn the_readonly_flag_outlives_a_profile_switch() {
    let mut a = app_of(fleet(), true);
    a.update(Msg::Switched(Ok(Switched {
        who: who("ops", false, false),
        region: None,
        warnings: vec![],
    })));
    assert!(
        a.readonly,
        "--readonly is the person's word, not the profile's"
    );
}

#[test]
fn no_switch_while_a_change_is_being_sent() {
    let mut a = app();
    select(&mut a, "postgres-6bwgamo3");
    a.update(key(KeyCode::Enter));
    submit(&mut a);
    assert!(
        !sent_plan(&a.update(key(KeyCode::Char('y'))))
            .request()
            .DBInstanceId
            .is_empty()
    );
    let cmds = pick(&mut a, vec![Choice::Environment], 0);
    assert!(cmds.is_empty(), "{cmds:?}");
    assert!(a.notice.as_deref().unwrap_or("").contains("in flight"));
}

#[test]
fn a_protected_profile_confirms_only_by_typing_the_instance_id() {
    let mut a = sized(120, 40);
    a.update(Msg::Who(who("prod", true, false)));
    select(&mut a, "postgres-6bwgamo3");
    a.update(key(KeyCode::Enter));
    a.update(key(KeyCode::Tab));
    a.update(key(KeyCode::Down));
    submit(&mut a);
    assert!(render(&a, 120, 40).contains("type the instance id"));
    // `y`, `q` and a wrong id are text, not answers.
    for c in ["y", "q", "postgres-6bwgamo"] {
        assert!(chars(&mut a, c).is_empty());
    }
    assert!(matches!(a.overlay, Overlay::Confirm(..)));
    assert!(
        a.update(key(KeyCode::Enter)).is_empty(),
        "a wrong id sends nothing"
    );
    assert!(a.notice.as_deref().unwrap_or("").contains("exactly"));
    // Clear what was typed, then type the id.
    for _ in 0..40 {
        a.update(key(KeyCode::Backspace));
    }
    assert!(
        chars(&mut a, "postgres-6bwgamo3").is_empty(),
        "typing never sends"
    );
    let cmds = a.update(key(KeyCode::Enter));
    let req = sent_plan(&cmds).request();
    assert_eq!(req.DBInstanceId, "postgres-6bwgamo3");
    assert_eq!(req.ConnectAddress.as_deref(), Some("203.0.113.17"));
}

#[test]
fn esc_leaves_a_protected_confirm_with_nothing_sent() {
    let mut a = app();
    a.update(Msg::Who(who("prod", true, false)));
    select(&mut a, "postgres-6bwgamo3");
    a.update(key(KeyCode::Enter));
    submit(&mut a);
    chars(&mut a, "postgres-6bwgamo3");
    assert!(a.update(key(KeyCode::Esc)).is_empty());
    assert!(!matches!(a.overlay, Overlay::Confirm(..)));
    assert!(a.inflight.is_empty());
}

#[test]
fn a_failed_renewal_is_said_in_the_header_and_the_log_and_cleared_by_the_next() {
    let mut a = sized(120, 40);
    a.update(Msg::Credential(CredentialEvent::RenewFailed {
        message: "metadata service: connection refused\u{1b}[2J".into(),
    }));
    let text = render(&a, 120, 40);
    let header: String = text.lines().take(2).collect();
    assert!(
        header.contains("key not renewed: metadata service"),
        "{header}"
    );
    assert!(!text.contains('\u{1b}'), "the message is cleaned");
    assert!(
        text.contains("renewal failed"),
        "and it is in the log: {text}"
    );
    a.update(Msg::Credential(CredentialEvent::Renewed {
        what: "CVM role pgssl-bastion".into(),
        expires_at: 1_800_000_000,
    }));
    let text = render(&a, 120, 40);
    let header: String = text.lines().take(2).collect();
    assert!(!header.contains("not renewed"), "{header}");
    assert!(text.contains("renewed CVM role pgssl-bastion"), "{text}");
}

#[test]
fn the_protected_mark_survives_no_color() {
    let mut a = sized(80, 24);
    a.no_color = true;
    a.update(Msg::Who(who("prod", true, false)));
    let text = render(&a, 80, 24);
    assert!(
        text.lines()
            .nth(1)
            .unwrap_or("")
            .contains("[PROTECTED] prod"),
        "{text}"
    );
}

// ------------------------------------------------- unfinished changes (issue 13, item 1)

/// A change in a made-up journal: id, instance, its task as last seen, whether its
/// outcome is known.
type Change<'a> = (&'a str, &'a str, Option<(i64, TaskStatus)>, bool);

/// postgres-6bwgamo3's change, its task 100017 last seen running.
const RUNNING: Change<'static> = (
    "a",
    "postgres-6bwgamo3",
    Some((100017, TaskStatus::Running)),
    true,
);

fn journal_of(entries: &[Change<'_>]) -> Msg {
    use pgssl::store::journal::{Outcome, Record, RequestInfo, fold};
    let mut records = Vec::new();
    for (id, instance, task, known) in entries {
        records.push(Record::Request(RequestInfo {
            profile: None,
            account: None,
            id: (*id).into(),
            time: "2026-11-28T04:51:23Z".into(),
            source: "env".into(),
            SecretId: "AKID****abcd".into(),
            endpoint: "http://127.0.0.1:1".into(),
            region: "ap-guangzhou".into(),
            action: pgssl::api::Action::ModifyDBInstanceSSLConfig,
            DBInstanceId: (*instance).into(),
            SSLEnabled: true,
            ConnectAddress: Some("203.0.113.17".parse().expect("ip")),
            run: None,
            before: None,
        }));
        if !known {
            continue;
        }
        records.push(Record::Outcome {
            id: (*id).into(),
            time: "2026-11-28T04:51:24Z".into(),
            outcome: Outcome::Ok {
                RequestId: "e39921c1-2d50-4c55-8bca-8bdff0a387e8".into(),
                TaskId: task.map(|t| t.0),
            },
        });
        if let Some((task_id, status)) = task {
            records.push(Record::Task {
                id: (*id).into(),
                time: "2026-11-28T04:51:30Z".into(),
                TaskId: *task_id,
                Status: *status,
                Progress: Some(0),
                CurrentStep: None,
                Message: None,
            });
        }
    }
    Msg::Journal(fold(records))
}

fn resumed(cmds: &[Cmd]) -> Vec<(String, Option<i64>)> {
    cmds.iter()
        .filter_map(|c| match c {
            Cmd::Resume(u) => Some((u.instance_id.clone(), u.task_id)),
            _ => None,
        })
        .collect()
}

#[test]
fn unfinished_changes_in_the_journal_are_followed_once_each() {
    let mut a = app();
    let cmds = a.update(journal_of(&[
        RUNNING,
        (
            "b",
            "postgres-5gevh7gr",
            Some((100018, TaskStatus::Success)),
            true,
        ),
        ("c", "pgro-ro9x2k1q", None, false), // sent, no outcome: unknown
        (
            "d",
            "postgres-w2c6r9tm",
            Some((100019, TaskStatus::WaitSwitch)),
            true,
        ),
    ]));
    assert_eq!(
        resumed(&cmds),
        vec![
            ("postgres-6bwgamo3".into(), Some(100017)),
            ("pgro-ro9x2k1q".into(), None),
            ("postgres-w2c6r9tm".into(), Some(100019)),
        ],
        "running and waiting tasks are followed, an unknown outcome checked, a finished one left"
    );
    assert!(
        a.notice
            .as_deref()
            .unwrap_or("")
            .contains("following 3 unfinished changes")
    );
    // The journal read again (the watcher, another process's line) starts nothing twice.
    let again = a.update(journal_of(&[
        RUNNING,
        (
            "e",
            "postgres-5gevh7gr",
            Some((100020, TaskStatus::Running)),
            true,
        ),
    ]));
    assert_eq!(
        resumed(&again),
        vec![("postgres-5gevh7gr".into(), Some(100020))]
    );
}

#[test]
fn a_change_this_session_sends_is_not_picked_up_twice() {
    let mut a = app();
    select(&mut a, "postgres-6bwgamo3");
    a.update(key(KeyCode::Enter));
    submit(&mut a);
    a.update(key(KeyCode::Char('y')));
    // The journal watcher may see the line before the Sent event arrives.
    let cmds = a.update(journal_of(&[RUNNING]));
    assert!(resumed(&cmds).is_empty(), "{cmds:?}");
}

fn sent_event(journal_id: &str, instance: &str, task: i64) -> Msg {
    Msg::Change(ChangeEvent::Sent(Sent {
        journal_id: journal_id.into(),
        instance_id: instance.into(),
        region: "ap-guangzhou".into(),
        task_id: Some(task),
        request_id: "e39921c1-2d50-4c55-8bca-8bdff0a387e8".into(),
    }))
}

#[test]
fn quitting_while_a_change_runs_asks_once_then_leaves_the_command_to_follow_it() {
    let mut a = app();
    select(&mut a, "postgres-6bwgamo3");
    a.update(key(KeyCode::Enter));
    submit(&mut a);
    a.update(key(KeyCode::Char('y')));
    a.update(sent_event("a", "postgres-6bwgamo3", 100017));
    a.update(key(KeyCode::Char('q')));
    assert!(!a.quit, "the first q only warns");
    let notice = a.notice.clone().unwrap_or_default();
    assert!(
        notice.contains("task 100017 on postgres-6bwgamo3 is still running")
            && notice.contains("q again to quit"),
        "{notice}"
    );
    a.update(key(KeyCode::Char('q')));
    assert!(a.quit);
    assert_eq!(a.exit_code, None);
    let farewell = a.farewell().join("\n");
    assert!(
        farewell.contains("pgssl task show 100017 --wait"),
        "{farewell}"
    );

    // Once the change is done, q quits at once and leaves nothing to say.
    let mut a = app();
    select(&mut a, "postgres-6bwgamo3");
    a.update(key(KeyCode::Enter));
    submit(&mut a);
    a.update(key(KeyCode::Char('y')));
    a.update(sent_event("a", "postgres-6bwgamo3", 100017));
    a.update(Msg::Executed {
        id: "postgres-6bwgamo3".into(),
        result: Ok(()),
    });
    a.update(key(KeyCode::Char('q')));
    assert!(a.quit);
    assert!(a.farewell().is_empty());
}

#[test]
fn ctrl_c_quits_with_130() {
    let mut a = app();
    a.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(a.quit);
    assert_eq!(a.exit_code, Some(130));
}

/// The "other IP" field of the form, emptied, with `text` typed into it.
fn typed_other_ip(text: &str) -> (App, String, Option<String>) {
    let mut a = app();
    select(&mut a, "postgres-6bwgamo3");
    a.update(key(KeyCode::Enter));
    a.update(key(KeyCode::Tab));
    a.update(key(KeyCode::Down));
    a.update(key(KeyCode::Down));
    let cmds = chars(&mut a, text);
    assert!(cmds.is_empty(), "typing starts nothing: {cmds:?}");
    let Overlay::Form(form) = &a.overlay else {
        panic!("typing left the form: {:?}", a.overlay)
    };
    let (typed, problem) = (
        form.other_ip.clone(),
        form.problem(a.selected_row().expect("row")),
    );
    (a, typed, problem)
}

#[test]
fn text_fields_take_every_printable_character() {
    // Letters that are also keys (e, a, c, q, j, ?, /) and a leading space are text.
    let (a, typed, problem) = typed_other_ip(" db.example.com");
    assert_eq!(typed, " db.example.com");
    assert!(!a.quit);
    // A DNS name is an address the API may protect, but only the instance's own.
    let problem = problem.expect("not one of its names");
    assert!(
        problem.contains("db.example.com is not one of") && problem.contains("own"),
        "{problem}"
    );
    let (_, typed, problem) = typed_other_ip("q?/jk 10.100.0.5");
    assert_eq!(typed, "q?/jk 10.100.0.5");
    assert!(problem.is_some());
    // An address with its port says to leave the port out.
    let (_, _, problem) = typed_other_ip("10.100.0.5:5432");
    let problem = problem.expect("port");
    assert!(
        problem.contains("without the port (10.100.0.5)"),
        "{problem}"
    );
    let (_, _, problem) = typed_other_ip("[2001:db8::1]:5432");
    assert!(
        problem
            .expect("port")
            .contains("without the port (2001:db8::1)")
    );
    // The instance's own IP, with spaces around it, is fine.
    let (_, _, problem) = typed_other_ip(" 203.0.113.17 ");
    assert_eq!(problem, None);
}

#[test]
fn only_a_lowercase_y_sends_and_going_back_says_nothing_was_sent() {
    let mut a = app();
    select(&mut a, "postgres-6bwgamo3");
    a.update(key(KeyCode::Enter));
    submit(&mut a);
    let shifted = a.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('Y'),
        KeyModifiers::SHIFT,
    )));
    assert!(shifted.is_empty(), "Y is not y: {shifted:?}");
    assert!(matches!(a.overlay, Overlay::Confirm(..)));
    for back in [KeyCode::Char('n'), KeyCode::Esc] {
        a.update(key(back));
        assert_eq!(a.notice.as_deref(), Some("nothing was sent"));
        assert!(matches!(a.overlay, Overlay::Form(_)));
        submit(&mut a);
    }
    assert!(a.inflight.is_empty());
}

#[test]
fn the_form_shows_a_group_address_with_its_port_before_the_name() {
    let mut a = sized(120, 40);
    select(&mut a, "pgro-ro9x2k1q");
    a.update(key(KeyCode::Enter));
    let text = render(&a, 120, 40);
    assert!(
        text.contains("group 10.6.0.20:5432 (orders-readers)"),
        "{text}"
    );
}

// ------------------------------------------ messages readable in full (issue 13, 3, 4, 7)

fn read_call(error: Option<&str>) -> Msg {
    use pgssl::api::ApiError;
    use pgssl::api::client::CallRecord;
    Msg::Call(CallRecord {
        action: pgssl::api::Action::DescribeDBInstanceSSLConfig,
        region: Some("ap-guangzhou".into()),
        request_id: Some("5878440a-028f-4fe4-8786-240665d0105e".into()),
        error: error.map(|m| ApiError::Api {
            action: pgssl::api::Action::DescribeDBInstanceSSLConfig,
            code: "UnauthorizedOperation".into(),
            message: m.into(),
            request_id: "5878440a-028f-4fe4-8786-240665d0105e".into(),
            clock_skew: None,
        }),
        elapsed: std::time::Duration::from_millis(30),
    })
}

#[test]
fn reads_fold_into_one_line_failures_stay_and_l_shows_each() {
    let mut a = sized(120, 40);
    let cmds = a.update(key(KeyCode::Char('r')));
    assert!(
        matches!(cmds.as_slice(), [Cmd::Refresh(t)] if t.len() == 4),
        "{cmds:?}"
    );
    for _ in 0..150 {
        a.update(read_call(None));
    }
    a.update(read_call(Some(
        "CAM denies it: grant QcloudPostgreSQLReadOnlyAccess",
    )));
    a.update(Msg::Refreshed {
        id: "postgres-6bwgamo3".into(),
        result: Ok(learned(&a, "postgres-6bwgamo3")),
    });
    let items = a.log_items();
    assert_eq!(
        items[0].status,
        "refreshed 1/4 · 150 reads ok (L shows each)"
    );
    let reads = items
        .iter()
        .filter(|i| i.action == "DescribeDBInstanceSSLConfig")
        .count();
    assert_eq!(reads, 1, "only the failed read is a line of its own");
    assert!(
        items.iter().any(|i| i.task_id == Some(100017)),
        "changes stay in view"
    );
    let text = render(&a, 120, 40);
    assert!(text.contains("refreshed 1/4"), "{text}");
    a.update(key(KeyCode::Char('L')));
    assert_eq!(
        a.log_items()
            .iter()
            .filter(|i| i.action == "DescribeDBInstanceSSLConfig")
            .count(),
        151
    );
}

#[test]
fn enter_on_a_log_line_shows_every_field_scrolls_and_copies() {
    let mut a = sized(80, 24);
    a.update(read_call(Some(
        "You are not authorized to perform operation (postgres:DescribeDBInstanceSSLConfig). Please check your CAM policies, and ensure that you are using the correct secretId and secretKey",
    )));
    a.update(key(KeyCode::Tab));
    assert!(a.focus == pgssl::tui::app::Pane::Log);
    // Down to the change with the error (newest first: the failed read, then changes).
    let target = a
        .log_items()
        .iter()
        .position(|i| i.status.starts_with("error OperationDenied"))
        .expect("the failed change");
    for _ in 0..target {
        a.update(key(KeyCode::Down));
    }
    let cmds = a.update(key(KeyCode::Enter));
    assert!(
        cmds.is_empty(),
        "Enter in the log opens no SSL form: {cmds:?}"
    );
    assert!(
        matches!(a.overlay, Overlay::LogDetail(..)),
        "{:?}",
        a.overlay
    );
    let text = render(&a, 80, 24);
    for field in [
        "Outcome: error OperationDenied.InstanceStatusLimitError",
        "RequestId: 5878440a-028f-4fe4-8786-240665d0105e",
        "wait for its current task to",
        "Endpoint: http://127.0.0.1:1",
    ] {
        assert!(text.contains(field), "{field}\n{text}");
    }
    let cmds = a.update(key(KeyCode::Char('c')));
    let [Cmd::Copy(copied)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert!(copied.contains("Message: The instance is busy or not running"));
    assert!(
        a.notice
            .as_deref()
            .unwrap_or("")
            .contains("select the text by hand")
    );
    a.update(key(KeyCode::Down));
    assert!(matches!(a.overlay, Overlay::LogDetail(_, 1)));
    a.update(key(KeyCode::Esc));
    assert!(matches!(a.overlay, Overlay::None));
    // The failed read's full CAM message is one Enter away too.
    a.update(key(KeyCode::Char('g')));
    a.update(key(KeyCode::Enter));
    let text = render(&a, 80, 24);
    assert!(text.contains("correct secretId and secretKey"), "{text}");
}

#[test]
fn the_confirm_never_splits_a_value_of_the_request() {
    for (w, h) in [(80u16, 24u16), (120, 40), (64, 30)] {
        let mut a = sized(w, h);
        select(&mut a, "postgres-6bwgamo3");
        a.update(key(KeyCode::Enter));
        a.update(key(KeyCode::Tab));
        a.update(key(KeyCode::Down));
        submit(&mut a);
        let text = render(&a, w, h);
        assert!(
            text.contains("\"ConnectAddress\":\"203.0.113.17\"}"),
            "{w}x{h}:\n{text}"
        );
        assert!(
            text.contains("\"DBInstanceId\":\"postgres-6bwgamo3\""),
            "{w}x{h}:\n{text}"
        );
    }
}

#[test]
fn t_lists_changes_in_flight_with_status_step_and_age_and_enter_opens_one() {
    let mut a = sized(120, 40);
    a.update(journal_of(&[
        RUNNING,
        ("c", "pgro-ro9x2k1q", None, false),
        (
            "b",
            "postgres-5gevh7gr",
            Some((100018, TaskStatus::Success)),
            true,
        ),
    ]));
    let task = Task {
        current_step: Some("Restarting".into()),
        ..a_task(100017, "postgres-6bwgamo3", TaskStatus::Running, 40)
    };
    a.update(Msg::Change(ChangeEvent::Task {
        instance_id: "postgres-6bwgamo3".into(),
        task,
    }));
    a.update(key(KeyCode::Char('t')));
    assert!(matches!(a.overlay, Overlay::Tasks(0)));
    let text = render(&a, 120, 40);
    assert!(text.contains("100017"), "{text}");
    assert!(
        text.contains("Running 40%") && text.contains("Restarting"),
        "{text}"
    );
    assert!(text.contains("outcome unknown"), "{text}");
    let listed: Vec<Option<i64>> = a.task_rows().iter().map(|r| r.task_id).collect();
    assert_eq!(
        listed,
        vec![Some(100017), None],
        "an ended task is not in flight"
    );
    // Enter: the change in full.
    a.update(key(KeyCode::Enter));
    let Overlay::LogDetail(item, _) = &a.overlay else {
        panic!("{:?}", a.overlay)
    };
    assert_eq!(item.task_id, Some(100017));
    a.update(key(KeyCode::Esc));
    // A task that ends leaves the view once the journal says so.
    a.update(journal_of(&[(
        "a",
        "postgres-6bwgamo3",
        Some((100017, TaskStatus::Success)),
        true,
    )]));
    a.update(key(KeyCode::Char('t')));
    assert!(render(&a, 120, 40).contains("No change in flight"));
    // `?` lists the key.
    a.update(key(KeyCode::Esc));
    a.update(key(KeyCode::Char('?')));
    assert!(render(&a, 120, 40).contains("t tasks:"));
}

#[test]
fn a_tls_report_and_the_ca_both_stay_and_v_shows_them_in_full() {
    use pgssl::probe::VerifyResult;
    use pgssl::tui::app::CheckShown;
    let mut a = sized(120, 40);
    select(&mut a, "postgres-5gevh7gr");
    let report = vec![
        "verify-full: 10.6.1.21:5432 presents a certificate for 10.6.1.21, signed by the instance's CA".to_string(),
        "Subject: CN=10.6.1.21; SANs: IP 10.6.1.21".to_string(),
        "Expires: 2027-11-28 (361 days)".to_string(),
        "SHA-256: 3F:9A:...".to_string(),
        "psql \"host=10.6.1.21 sslmode=verify-full sslrootcert=/tmp/ca.pem\"".to_string(),
    ];
    a.update(Msg::Verified {
        id: "postgres-5gevh7gr".into(),
        result: Ok(CheckShown {
            result: VerifyResult::VerifyFull,
            lines: report.clone(),
        }),
    });
    a.update(Msg::CaFetched {
        id: "postgres-5gevh7gr".into(),
        result: Ok(vec![
            "CA kept at /tmp/ca.pem: CN=TencentDB CA, valid until 2030-01-01".into(),
            "SHA-256 fingerprint 11:22:...".into(),
        ]),
    });
    let text = render(&a, 120, 40);
    assert!(
        text.contains("TLS: verify-full"),
        "the CA did not replace the report: {text}"
    );
    assert!(text.contains("CA: CA kept at /tmp/ca.pem"), "{text}");
    a.update(key(KeyCode::Char('V')));
    let Overlay::Text(item, _) = &a.overlay else {
        panic!("{:?}", a.overlay)
    };
    for l in &report {
        assert!(item.detail.contains(l), "{l}");
    }
    assert!(
        item.detail
            .iter()
            .any(|l| l.contains("SHA-256 fingerprint 11:22"))
    );
    // C copies every line; c the highlighted one, whole.
    let cmds = a.update(key(KeyCode::Char('C')));
    assert!(matches!(cmds.as_slice(), [Cmd::Copy(t)] if t.contains("sslmode=verify-full")));
    // Nothing checked yet on another instance: V says how to get one.
    a.update(key(KeyCode::Esc));
    // Esc in the list clears the kept filter.
    a.update(key(KeyCode::Esc));
    assert!(a.filter.is_empty());
    assert_eq!(a.visible.len(), 4);
    select(&mut a, "postgres-6bwgamo3");
    a.update(key(KeyCode::Char('V')));
    assert!(matches!(a.overlay, Overlay::None));
    assert!(a.notice.as_deref().unwrap_or("").contains("v checks TLS"));
}

#[test]
fn the_add_dialog_finds_a_region_by_typing_and_a_failed_add_keeps_what_was_typed() {
    let mut a = sized(120, 40);
    a.update(key(KeyCode::Char('a')));
    chars(&mut a, "postgres-newone01");
    a.update(key(KeyCode::Tab));
    // eu-frankfurt in three keys, not nine presses of Right.
    chars(&mut a, "fra");
    let text = render(&a, 120, 40);
    assert!(text.contains("> eu-frankfurt"), "{text}");
    // A letter on the region field narrows it; it does not go into the id.
    let Overlay::Add(form) = &a.overlay else {
        panic!("{:?}", a.overlay)
    };
    assert_eq!(form.id, "postgres-newone01");
    let cmds = a.update(key(KeyCode::Enter));
    assert!(
        matches!(cmds.as_slice(), [Cmd::Add { region, id }] if region == "eu-frankfurt" && id == "postgres-newone01"),
        "{cmds:?}"
    );
    // The API says no: the dialog comes back with what was typed and why.
    a.update(Msg::Added(Err(pgssl::ops::OpsError::Usage(
        "no instance postgres-newone01 in eu-frankfurt".into(),
    ))));
    let Overlay::Add(form) = &a.overlay else {
        panic!("the dialog is back: {:?}", a.overlay)
    };
    assert_eq!(form.id, "postgres-newone01");
    assert_eq!(pgssl::api::SSL_REGIONS[form.region], "eu-frankfurt");
    assert!(form.error.as_deref().unwrap_or("").contains("no instance"));
    // A filter that matches nothing says so and sends nothing.
    a.update(key(KeyCode::Tab));
    chars(&mut a, "zz");
    assert!(a.update(key(KeyCode::Enter)).is_empty());
    assert!(render(&a, 120, 40).contains("no SSL region matches"));
}

#[test]
fn saving_in_a_region_not_shown_and_saving_regions_are_said() {
    let mut a = sized(120, 40);
    a.regions = vec!["ap-guangzhou".into()];
    a.recompute();
    let mut other = learned(&a, "postgres-6bwgamo3");
    other.id = "postgres-fra00001".into();
    other.region = "eu-frankfurt".into();
    a.update(Msg::Added(Ok(other)));
    let notice = a.notice.clone().unwrap_or_default();
    assert!(
        notice.contains("a region not shown") && notice.contains("R and Space"),
        "{notice}"
    );
    a.update(Msg::RegionsSaved(Ok(vec![
        "ap-guangzhou".into(),
        "eu-frankfurt".into(),
    ])));
    assert_eq!(
        a.notice.as_deref(),
        Some("regions saved: showing ap-guangzhou, eu-frankfurt")
    );
}

#[test]
fn a_group_address_names_the_other_members_and_their_ssl_in_form_and_confirm() {
    let mut f = fleet();
    let mut peer = instance(
        "pgro-ro4m7c2z",
        "ap-guangzhou",
        "orders-db-ro-2",
        InstanceKind::ReadOnly,
        "running",
    );
    peer.master = Some("postgres-6bwgamo3".into());
    peer.addresses = vec![
        addr(AddressKind::Private, "10.6.0.11", None),
        addr(AddressKind::Group, "10.6.0.20", Some("orders-readers")),
    ];
    peer.ssl = Some(ssl(false, None));
    f.push(peer);
    let mut a = app_of(f.clone(), false);
    a.update(Msg::Resize(120, 40));
    select(&mut a, "pgro-ro9x2k1q");
    a.update(key(KeyCode::Enter));
    a.update(key(KeyCode::Tab));
    a.update(key(KeyCode::Down)); // the group address
    let text = render(&a, 120, 40);
    assert!(
        text.contains("Tencent asks for") && text.contains("pgro-ro4m7c2z (SSL off)"),
        "{text}"
    );
    // The rest of the group is offered, ticked: the group does not drift apart by default.
    assert!(
        text.contains("[x] the whole group: also pgro-ro4m7c2z"),
        "{text}"
    );
    let cmds = a.update(key(KeyCode::Enter));
    assert_eq!(
        cmds,
        vec![Cmd::PrepareBulk {
            ids: vec![("ap-guangzhou".into(), "pgro-ro9x2k1q".into())],
            want: pgssl::ops::Want::Enable(pgssl::addresses::AddressSpec::Kind(AddressKind::Group)),
            with_group: true,
        }],
        "one plan for the group, read fresh by ops"
    );
    // Unticked: this member alone, and the confirm says what that leaves.
    let mut a = app_of(f.clone(), false);
    a.update(Msg::Resize(120, 40));
    select(&mut a, "pgro-ro9x2k1q");
    a.update(key(KeyCode::Enter));
    a.update(key(KeyCode::Tab));
    a.update(key(KeyCode::Down)); // the group address
    a.update(key(KeyCode::Tab)); // the whole group
    a.update(key(KeyCode::Char(' ')));
    assert!(render(&a, 120, 40).contains("[ ] the whole group"));
    submit(&mut a);
    let text = render(&a, 120, 40);
    assert!(
        text.contains("pgro-ro4m7c2z (SSL off) would not protect it"),
        "the confirm says it too: {text}"
    );

    // Another member protects the group's address: the form starts from it, and choosing
    // the member's own address instead is said in the confirm.
    if let Some(p) = f.iter_mut().find(|i| i.id == "pgro-ro4m7c2z") {
        p.ssl = Some(ssl(true, Some("10.6.0.20")));
    }
    let mut a = app_of(f, false);
    a.update(Msg::Resize(120, 40));
    select(&mut a, "pgro-ro9x2k1q");
    a.update(key(KeyCode::Enter));
    let Overlay::Form(form) = &a.overlay else {
        panic!("the form")
    };
    assert_eq!(
        form.choices.get(form.choice).map(|c| c.host.to_string()),
        Some("10.6.0.20".into()),
        "preselected: the group's address"
    );
    a.update(key(KeyCode::Tab));
    a.update(key(KeyCode::Up)); // its own private address
    submit(&mut a);
    let text = render(&a, 120, 40);
    assert!(
        text.contains("pgro-ro4m7c2z (SSL on, protecting 10.6.0.20) protect the")
            && text.contains("leaves the group inconsistent"),
        "{text}"
    );
}

#[test]
fn a_long_message_is_cut_in_the_header_with_a_hint_and_bang_shows_it_all() {
    let mut a = sized(80, 24);
    let long = "an earlier change to postgres-6bwgamo3 (sent 2026-12-01T06:03:11Z) had an unknown outcome and task 100017 is Running (40%): do not send it again";
    a.update(Msg::Notice(long.into()));
    let text = render(&a, 80, 24);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains(" · ↓ "), "{text}");
    // The line above the keys has it, as much as fits, and says where the rest is.
    assert!(
        lines[22].contains("an earlier change to postgres-6bwgamo3")
            && lines[22].contains("… (! all)"),
        "{text}"
    );
    assert!(lines[23].contains("q quit"), "the keys stay: {text}");
    a.update(key(KeyCode::Char('!')));
    let Overlay::Text(item, _) = &a.overlay else {
        panic!("{:?}", a.overlay)
    };
    assert_eq!(item.detail, vec![long.to_string()]);
    let text = render(&a, 80, 24);
    assert!(text.contains("do not send it again"), "{text}");
}

#[test]
fn an_isolated_instance_refusing_its_ssl_state_is_not_a_failure_line() {
    let mut a = sized(120, 40);
    a.update(Msg::Call(pgssl::api::client::CallRecord {
        action: pgssl::api::Action::DescribeDBInstanceSSLConfig,
        region: Some("ap-guangzhou".into()),
        request_id: Some("5878440a-028f-4fe4-8786-240665d0105e".into()),
        error: Some(pgssl::api::ApiError::Api {
            action: pgssl::api::Action::DescribeDBInstanceSSLConfig,
            code: "OperationDenied.InstanceStatusLimitError".into(),
            message: "The instance is isolated.".into(),
            request_id: "5878440a-028f-4fe4-8786-240665d0105e".into(),
            clock_skew: None,
        }),
        elapsed: std::time::Duration::from_millis(3),
    }));
    assert!(
        !a.log_items()
            .iter()
            .any(|i| i.action == "DescribeDBInstanceSSLConfig"),
        "{:?}",
        a.log_items()
    );
    assert_eq!(a.folded.reads, 1);
}

#[test]
fn import_keeps_known_ssl_states_and_says_new_updated_unchanged() {
    let mut a = sized(120, 40);
    let mut billing = learned(&a, "postgres-5gevh7gr");
    billing.ssl = None; // DescribeDBInstances says nothing of SSL
    a.update(Msg::Imported(Ok(pgssl::ops::inventory::Imported {
        regions: vec!["ap-guangzhou".into()],
        added: 0,
        updated: 0,
        unchanged: 3,
        instances: vec![billing],
    })));
    assert_eq!(
        a.notice.as_deref(),
        Some("imported from ap-guangzhou: 0 new, 0 updated, 3 unchanged")
    );
    let row = a.row("postgres-5gevh7gr").expect("row");
    assert!(
        row.ssl().is_some_and(|s| s.enabled),
        "the SSL state read before is kept, not reset to ?"
    );
}

#[test]
fn the_form_on_an_instance_already_on_opens_as_it_is_without_an_error() {
    let mut a = sized(120, 40);
    select(&mut a, "postgres-5gevh7gr");
    a.update(key(KeyCode::Enter));
    let text = render(&a, 120, 40);
    assert!(text.contains("[x] on"), "{text}");
    assert!(
        text.contains("(•) private 10.6.1.21:5432"),
        "the protected address is chosen: {text}"
    );
    assert!(
        text.contains("as it is: postgres-5gevh7gr has SSL on"),
        "{text}"
    );
    assert!(!text.contains('✗'), "not an error: {text}");
}

// ------------------------------------------------------ the fleet (issue 14, item 1)

fn shown_ids(a: &App) -> Vec<String> {
    a.visible
        .iter()
        .map(|&i| a.rows[i].id().to_string())
        .collect()
}

#[test]
fn the_filter_takes_fields_as_well_as_words() {
    let mut a = app();
    let filter = |a: &mut App, text: &str| {
        a.update(key(KeyCode::Esc));
        a.update(key(KeyCode::Char('/')));
        chars(a, text);
        a.update(key(KeyCode::Enter));
        shown_ids(a)
    };
    assert_eq!(filter(&mut a, "ssl:on"), ["postgres-5gevh7gr"]);
    assert_eq!(filter(&mut a, "ssl:off"), ["postgres-6bwgamo3"]);
    assert_eq!(filter(&mut a, "ssl:?").len(), 2);
    assert_eq!(filter(&mut a, "type:ro"), ["pgro-ro9x2k1q"]);
    assert_eq!(filter(&mut a, "status:restart"), ["postgres-w2c6r9tm"]);
    assert_eq!(filter(&mut a, "region:shanghai"), ["postgres-w2c6r9tm"]);
    assert_eq!(filter(&mut a, "protected:private"), ["postgres-5gevh7gr"]);
    assert_eq!(filter(&mut a, "protected:none").len(), 3);
    // Fields and words together: all must match.
    assert_eq!(filter(&mut a, "ssl:off orders"), ["postgres-6bwgamo3"]);
    // An address with a port is a word, not a field.
    assert!(filter(&mut a, "10.6.0.4:5432").is_empty());
}

#[test]
fn the_header_counts_ssl_on_off_unknown_and_start_reads_the_unknown_first() {
    let mut a = sized(120, 40);
    let header = render(&a, 120, 40).lines().next().unwrap_or("").to_string();
    assert!(header.contains("SSL on 1 off 1 ? 2"), "{header}");
    let cmds = a.refresh_all();
    let [Cmd::Refresh(targets)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(
        targets.len(),
        4,
        "every saved instance, not only those on screen"
    );
    let first_two: Vec<&str> = targets[..2].iter().map(|t| t.1.as_str()).collect();
    assert!(
        first_two.contains(&"pgro-ro9x2k1q") && first_two.contains(&"postgres-w2c6r9tm"),
        "the unknown first: {targets:?}"
    );
}

#[test]
fn every_q_warns_again_after_another_key() {
    let mut a = app();
    select(&mut a, "postgres-6bwgamo3");
    a.update(key(KeyCode::Enter));
    submit(&mut a);
    a.update(key(KeyCode::Char('y')));
    a.update(sent_event("a", "postgres-6bwgamo3", 100017));
    a.update(key(KeyCode::Char('q')));
    assert!(!a.quit);
    // Something else in between (a move, another change): the next q warns again.
    a.update(key(KeyCode::Down));
    a.update(key(KeyCode::Char('q')));
    assert!(!a.quit, "warned again");
    a.update(key(KeyCode::Char('q')));
    assert!(a.quit);
}

#[test]
fn a_disable_that_ended_does_not_suggest_a_tls_check() {
    let mut a = app();
    // The journal knows task 100019 as a disable.
    a.update(with_log_disable());
    a.update(Msg::Change(ChangeEvent::Settled {
        instance_id: "postgres-5gevh7gr".into(),
        end: FollowEnd::Finished(a_task(
            100019,
            "postgres-5gevh7gr",
            TaskStatus::Success,
            100,
        )),
    }));
    let notice = a.notice.clone().unwrap_or_default();
    assert!(
        notice.contains("ended Success") && !notice.contains("TLS"),
        "{notice}"
    );
}

fn with_log_disable() -> Msg {
    use pgssl::store::journal::{Outcome, Record, RequestInfo, fold};
    Msg::Journal(fold(vec![
        Record::Request(RequestInfo {
            profile: None,
            account: None,
            id: "d".into(),
            time: "2026-11-28T04:40:02Z".into(),
            source: "env".into(),
            SecretId: "AKID****abcd".into(),
            endpoint: "http://127.0.0.1:1".into(),
            region: "ap-guangzhou".into(),
            action: pgssl::api::Action::ModifyDBInstanceSSLConfig,
            DBInstanceId: "postgres-5gevh7gr".into(),
            SSLEnabled: false,
            ConnectAddress: None,
            run: None,
            before: None,
        }),
        Record::Outcome {
            id: "d".into(),
            time: "2026-11-28T04:40:03Z".into(),
            outcome: Outcome::Ok {
                RequestId: "e39921c1-2d50-4c55-8bca-8bdff0a387e8".into(),
                TaskId: Some(100019),
            },
        },
    ]))
}

#[test]
fn the_empty_list_says_what_to_do_in_full_at_80_columns() {
    let mut a = sized(80, 24);
    a.update(key(KeyCode::Char('/')));
    chars(&mut a, "zzz");
    a.update(key(KeyCode::Enter));
    let text = render(&a, 80, 24);
    assert!(
        text.contains("nothing matches: Esc clears the filter, R chooses regions"),
        "{text}"
    );
}

#[test]
fn the_help_stops_scrolling_at_its_end() {
    let mut a = sized(120, 40);
    a.update(key(KeyCode::Char('?')));
    for _ in 0..100 {
        a.update(key(KeyCode::Char('j')));
    }
    let Overlay::Help(scroll) = a.overlay else {
        panic!("{:?}", a.overlay)
    };
    assert!(scroll < pgssl::tui::keys::MODE_COUNT, "{scroll}");
    a.update(key(KeyCode::Char('k')));
    assert!(matches!(a.overlay, Overlay::Help(s) if s + 1 == scroll));
}

#[test]
fn o_orders_the_list_by_ssl_status_region_type_and_back() {
    let mut a = app();
    a.update(key(KeyCode::Char('o')));
    assert_eq!(a.sort, pgssl::tui::app::SortBy::Ssl);
    // Off first, unknown next, on last.
    assert_eq!(
        shown_ids(&a).first().map(String::as_str),
        Some("postgres-6bwgamo3")
    );
    assert_eq!(
        shown_ids(&a).last().map(String::as_str),
        Some("postgres-5gevh7gr")
    );
    assert!(render(&a, 120, 40).contains("by SSL (off first)"));
    a.update(key(KeyCode::Char('o')));
    assert_eq!(
        shown_ids(&a).first().map(String::as_str),
        Some("postgres-w2c6r9tm"),
        "not running first"
    );
    for _ in 0..4 {
        a.update(key(KeyCode::Char('o')));
    }
    assert_eq!(a.sort, pgssl::tui::app::SortBy::Saved, "and round again");
    // The selection stays on its instance when the order changes.
    select(&mut a, "pgro-ro9x2k1q");
    a.update(key(KeyCode::Esc));
    a.update(key(KeyCode::Char('o')));
    assert_eq!(
        a.selected_row().map(pgssl::tui::app::Row::id),
        Some("pgro-ro9x2k1q")
    );
}

#[test]
fn a_audits_the_regions_and_enter_goes_to_a_finding() {
    use pgssl::ops::audit::{Audit, Finding, FindingKind, Severity};
    let mut a = sized(120, 40);
    let cmds = a.update(key(KeyCode::Char('A')));
    let [Cmd::Audit(regions)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(regions, &["ap-guangzhou", "ap-shanghai"]);
    assert!(render(&a, 120, 40).contains("Reading every instance"));
    a.update(Msg::Audited(Ok(Audit {
        instances: 4,
        ssl_on: 1,
        ssl_off: 1,
        ssl_unknown: 2,
        findings: vec![Finding {
            severity: Severity::High,
            kind: FindingKind::SslOff,
            DBInstanceId: "postgres-6bwgamo3".into(),
            Region: "ap-guangzhou".into(),
            detail: "postgres-6bwgamo3 (running) has SSL off".into(),
        }],
        ..Audit::default()
    })));
    let text = render(&a, 120, 40);
    assert!(
        text.contains("1 finding(s)") && text.contains("high   postgres-6bwgamo3"),
        "{text}"
    );
    a.update(key(KeyCode::Esc));
    assert!(matches!(a.overlay, Overlay::None));
    select(&mut a, "postgres-5gevh7gr");
    a.update(key(KeyCode::Char('A')));
    a.update(Msg::Audited(Ok(Audit {
        instances: 4,
        ssl_on: 1,
        ssl_off: 1,
        ssl_unknown: 2,
        findings: vec![Finding {
            severity: Severity::High,
            kind: FindingKind::SslOff,
            DBInstanceId: "postgres-6bwgamo3".into(),
            Region: "ap-guangzhou".into(),
            detail: "off".into(),
        }],
        ..Audit::default()
    })));
    a.update(key(KeyCode::Enter));
    assert!(matches!(a.overlay, Overlay::None));
    assert_eq!(
        a.selected_row().map(pgssl::tui::app::Row::id),
        Some("postgres-6bwgamo3")
    );
}

#[test]
fn the_audit_view_marks_what_changed_since_the_last_audit_and_details_a_changed_ca() {
    use pgssl::ops::audit::{
        Audit, CaRow, Change, Finding, FindingKind, Row, Severity, Since, Ssl,
    };
    let mut a = sized(120, 40);
    a.update(key(KeyCode::Char('A')));
    let finding = |id: &str, kind| Finding {
        severity: Severity::High,
        kind,
        DBInstanceId: id.into(),
        Region: "ap-guangzhou".into(),
        detail: format!("{id}: {kind}"),
    };
    let mut row = Row {
        Region: "ap-guangzhou".into(),
        ssl: Ssl::On,
        ..Row::named("postgres-5gevh7gr")
    };
    let isolated = Row {
        unread: Some("isolated".into()),
        ..Row::named("postgres-k3j9w2qa")
    };
    row.ca = Some(CaRow {
        subject: "CN=new".into(),
        issuer: "CN=new".into(),
        sha256: "BB:BB".into(),
        not_after: "2036".into(),
        days_left: 3000,
        certificates: 1,
        pinned_sha256: "AA:AA".into(),
        pinned_since: "2026-11-30T00:00:00Z".into(),
    });
    a.update(Msg::Audited(Ok(Audit {
        instances: 2,
        findings: vec![
            finding("postgres-5gevh7gr", FindingKind::CaChanged),
            finding("postgres-6bwgamo3", FindingKind::SslOff),
        ],
        rows: vec![row, isolated],
        since: Some(Since {
            file: "the last audit seen here".into(),
            taken_at: Some("2026-12-01T00:00:00Z".into()),
            changes: vec![
                Change::SslOff {
                    DBInstanceId: "postgres-6bwgamo3".into(),
                },
                Change::FindingNew {
                    DBInstanceId: "postgres-5gevh7gr".into(),
                    kind: "ca_changed".into(),
                    detail: "CA changed".into(),
                },
            ],
            worse: 2,
            regions: vec!["ap-guangzhou".into()],
            note: Some("compared only ap-guangzhou: the last audit covered ap-guangzhou".into()),
        }),
        ..Audit::default()
    })));
    let text = render(&a, 120, 40);
    assert!(
        text.contains("Since the last audit (2026-12-01T00:00:00Z): 2 change(s), 2 for the worse"),
        "{text}"
    );
    assert!(text.contains("SSL turned off"), "{text}");
    assert!(text.contains("compared only ap-guangzhou:"), "{text}");
    assert!(
        text.contains("SSL not known: postgres-k3j9w2qa (isolated)"),
        "{text}"
    );
    let line = text
        .lines()
        .find(|l| l.contains("postgres-5gevh7gr: ca_changed"))
        .unwrap_or_default();
    assert!(line.contains("new high"), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("postgres-6bwgamo3: ssl_off"))
        .unwrap_or_default();
    assert!(!line.contains("new"), "{text}");
    // The details of that instance say its CA is not the one pinned.
    a.update(key(KeyCode::Esc));
    select(&mut a, "postgres-5gevh7gr");
    let text = render(&a, 120, 40);
    assert!(
        text.contains("CA changed since 2026-11-30: AA:AA -> BB:BB"),
        "{text}"
    );
}

#[test]
fn the_form_says_postgresql_10_cannot_have_ssl_and_the_details_show_the_version() {
    let mut old = instance(
        "postgres-m9t4e2xd",
        "ap-guangzhou",
        "ledger-archive-pg10",
        InstanceKind::Primary,
        "running",
    );
    old.addresses = vec![addr(AddressKind::Private, "10.6.3.15", None)];
    old.ssl = Some(ssl(false, None));
    old.version = pgssl::domain::PgVersion::from_api(Some("10"), Some("10.23"));
    let mut a = app_of(vec![old], false);
    a.size = (100, 30);
    select(&mut a, "postgres-m9t4e2xd");
    a.update(key(KeyCode::Enter));
    let Overlay::Form(form) = &a.overlay else {
        panic!("the form: {:?}", a.overlay)
    };
    let problem = form
        .problem(a.selected_row().expect("row"))
        .expect("refused on entry");
    assert!(
        problem.contains("runs PostgreSQL 10.23: SSL needs PostgreSQL 11 or later"),
        "{problem}"
    );
    // Enter on such a form sends nothing.
    assert!(a.update(key(KeyCode::Enter)).is_empty());
    a.update(key(KeyCode::Esc));
    let screen = render(&a, 100, 30);
    assert!(screen.contains("PostgreSQL 10.23"), "{screen}");
}

#[test]
fn a_form_opened_before_ssl_was_read_moves_to_the_protected_address_when_it_comes() {
    let mut unread = instance(
        "postgres-6bwgamo3",
        "ap-guangzhou",
        "orders-db",
        InstanceKind::Primary,
        "running",
    );
    unread.addresses = vec![
        addr(AddressKind::Private, "10.6.0.4", None),
        addr(AddressKind::Public, "203.0.113.17", None),
    ];
    let mut read = unread.clone();
    read.ssl = Some(ssl(true, Some("203.0.113.17")));
    let mut a = app_of(vec![unread], false);
    a.size = (100, 30);
    select(&mut a, "postgres-6bwgamo3");
    a.update(key(KeyCode::Enter));
    let chosen = |a: &App| match &a.overlay {
        Overlay::Form(f) => f.choices.get(f.choice).map(|c| c.host.to_string()),
        other => panic!("the form: {other:?}"),
    };
    assert_eq!(chosen(&a).as_deref(), Some("10.6.0.4"), "nothing known yet");
    a.update(Msg::Described {
        id: "postgres-6bwgamo3".into(),
        result: Ok(read.clone()),
    });
    assert_eq!(
        chosen(&a).as_deref(),
        Some("203.0.113.17"),
        "the address SSL protects, once read"
    );
    // Once read (or chosen by the person), a later read does not move the choice.
    a.update(key(KeyCode::Tab));
    a.update(key(KeyCode::Up));
    assert_eq!(chosen(&a).as_deref(), Some("10.6.0.4"));
    a.update(Msg::Described {
        id: "postgres-6bwgamo3".into(),
        result: Ok(read),
    });
    assert_eq!(chosen(&a).as_deref(), Some("10.6.0.4"));
}

#[test]
fn the_confirm_shows_who_is_connected_once_counted() {
    let mut a = app();
    a.size = (120, 40);
    select(&mut a, "postgres-6bwgamo3");
    a.update(key(KeyCode::Enter));
    let intent = submit(&mut a);
    a.update(Msg::PlanCensus {
        intent: intent.clone(),
        lines: vec![
            "Clients:  5 client connections: 2 over TLS (TLSv1.3 2), 3 plaintext from 1 address"
                .into(),
        ],
    });
    let screen = render(&a, 120, 40);
    assert!(
        screen.contains("Clients:  5 client connections: 2 over TLS"),
        "{screen}"
    );
    // Lines for another plan are not shown here.
    let mut other = intent;
    other.instance_id = "postgres-5gevh7gr".into();
    a.update(Msg::PlanCensus {
        intent: other,
        lines: vec!["Clients:  99 elsewhere".into()],
    });
    assert!(!render(&a, 120, 40).contains("99 elsewhere"));
    // `y` still sends the plan (the census never holds it up).
    assert!(matches!(
        a.update(key(KeyCode::Char('y'))).as_slice(),
        [Cmd::Execute(_)]
    ));
}

#[test]
fn w_counts_who_is_connected_and_the_details_keep_it() {
    let mut a = app();
    a.size = (120, 40);
    select(&mut a, "postgres-6bwgamo3");
    let cmds = a.update(key(KeyCode::Char('w')));
    assert!(
        matches!(cmds.as_slice(), [Cmd::Census { id, .. }] if id == "postgres-6bwgamo3"),
        "{cmds:?}"
    );
    a.update(Msg::Counted {
        id: "postgres-6bwgamo3".into(),
        result: Ok(vec![
            "5 client connections: 2 over TLS (TLSv1.3 2), 3 plaintext from 1 address".into(),
            "PLAINTEXT -       10.0.3.7        billing-worker     app          x3".into(),
        ]),
        asked: true,
    });
    let screen = render(&a, 120, 40);
    assert!(
        screen.contains("Clients: 5 client connections: 2 over TLS"),
        "{screen}"
    );
    a.update(key(KeyCode::Char('V')));
    let screen = render(&a, 120, 40);
    assert!(
        screen.contains("Who is connected (") && screen.contains("billing-worker"),
        "{screen}"
    );
    // After a change, the verdict replaces it (the core's census, not asked with `w`).
    a.update(key(KeyCode::Esc));
    let busy = a.busy;
    a.update(Msg::Counted {
        id: "postgres-6bwgamo3".into(),
        result: Ok(vec![
            "after the change: enforced in practice: every connection over TLS".into(),
        ]),
        asked: false,
    });
    assert_eq!(a.busy, busy, "nothing asked, nothing done");
    let screen = render(&a, 120, 40);
    assert!(
        screen.contains("Clients: after the change: enforced in practice"),
        "{screen}"
    );
}
