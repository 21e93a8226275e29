//! Issue 22, item 5, the TUI's part: `u` on a change in the log opens the same confirm
//! dialog as a change, with the inverse plan; `U` the bulk confirm for the change's run;
//! what cannot be undone is said in the status line and nothing is asked for. Keys in,
//! state and commands out, without a terminal.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pgssl::addresses::{Address, AddressKind};
use pgssl::domain::{Instance, InstanceKind, InstanceStatus, SslSeen, SslState, TaskStatus};
use pgssl::ops::bulk::BulkPlan;
use pgssl::ops::plan::{Prepared, Want, plan};
use pgssl::ops::undo::UndoRefusal;
use pgssl::ops::{Intent, OpsError};
use pgssl::store::journal::{Outcome, Record, RequestInfo, SslBefore, fold};
use pgssl::tui::app::{App, Cmd, Msg, Overlay, Pane, Shown};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const ENABLED: &str = "3f2b9c1e-8d4a-4b6e-9f00-12ab34cd56ef";
const FAILED: &str = "5a6b7c8d-1e2f-4a3b-8c4d-5e6f7a8b9c0d";
const RUN: &str = "20261203T042444Z-1a2b3c4d";

/// A running primary with a private address, SSL on protecting it.
fn instance(id: &str, ip: &str) -> Instance {
    Instance {
        id: id.into(),
        region: "ap-guangzhou".into(),
        name: String::new(),
        kind: InstanceKind::Primary,
        status: InstanceStatus::from_api("running"),
        master: None,
        version: None,
        addresses: vec![Address {
            kind: AddressKind::Private,
            ..Address::unverified(ip.parse().expect("ip"))
        }],
        unusable: vec![],
        ssl: Some(SslSeen {
            state: SslState {
                enabled: true,
                protected: Some(ip.parse().expect("ip")),
                ca_url: None,
                inline_ca: None,
            },
            read_at: "2026-12-01T00:10:00Z".into(),
        }),
        read_at: "2026-12-01T00:10:00Z".into(),
        ca: None,
        tls: None,
    }
}

fn app(fleet: &[Instance]) -> App {
    let mut a = crate::tui_model::app_of(fleet.to_vec(), false);
    a.size = (120, 40);
    a
}

/// An enable from off to `ip`, sent at `time`, that ended as `ok` says.
fn enable(
    id: &str,
    time: &str,
    instance: &str,
    ip: &str,
    run: Option<&str>,
    ok: bool,
) -> Vec<Record> {
    vec![
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
            SSLEnabled: true,
            ConnectAddress: Some(ip.parse().expect("ip")),
            run: run.map(str::to_string),
            before: Some(SslBefore {
                SSLEnabled: false,
                ConnectAddress: None,
            }),
        }),
        Record::Outcome {
            id: id.into(),
            time: time.into(),
            outcome: Outcome::Ok {
                RequestId: "r".into(),
                TaskId: Some(100_017),
            },
        },
        Record::Task {
            id: id.into(),
            time: time.into(),
            TaskId: 100_017,
            Status: if ok {
                TaskStatus::Success
            } else {
                TaskStatus::Fail
            },
            Progress: Some(100),
            CurrentStep: None,
            Message: None,
        },
    ]
}

fn key(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn screen(a: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    t.draw(|f| pgssl::tui::view::draw(f, a)).expect("draw");
    t.backend().to_string()
}

#[test]
fn u_on_a_log_line_opens_the_change_dialog_with_the_inverse_plan() {
    let orders = instance("postgres-6bwgamo3", "10.6.0.4");
    let mut a = app(&[orders.clone(), instance("postgres-5gevh7gr", "10.6.1.21")]);
    let mut records = enable(
        ENABLED,
        "2026-12-01T00:00:00Z",
        &orders.id,
        "10.6.0.4",
        None,
        true,
    );
    records.extend(enable(
        FAILED,
        "2026-12-01T00:05:00Z",
        "postgres-5gevh7gr",
        "10.6.1.21",
        None,
        false,
    ));
    a.update(Msg::Journal(fold(records)));
    // On the instance list, u says where it works.
    assert!(a.update(key(KeyCode::Char('u'))).is_empty());
    assert!(
        a.notice
            .as_deref()
            .unwrap_or("")
            .contains("choose a change's line")
    );
    a.update(key(KeyCode::Tab));
    assert_eq!(a.focus, Pane::Log);
    // Newest first: the failed change. It cannot be undone: said, nothing asked.
    assert!(a.update(key(KeyCode::Char('u'))).is_empty());
    let notice = a.notice.clone().unwrap_or_default();
    assert!(notice.contains("cannot undo"), "{notice}");
    assert!(notice.contains("ended Fail"), "{notice}");
    assert_eq!(a.overlay, Overlay::None);
    // Not part of a run: U says so.
    a.update(key(KeyCode::Char('j')));
    assert!(a.update(key(KeyCode::Char('U'))).is_empty());
    assert!(
        a.notice
            .as_deref()
            .unwrap_or("")
            .contains("not part of a bulk run")
    );
    // The enable: its undo is a disable of that instance, read fresh by ops.
    let cmds = a.update(key(KeyCode::Char('u')));
    let intent = Intent {
        region: "ap-guangzhou".into(),
        instance_id: orders.id.clone(),
        want: Want::Disable,
    };
    assert_eq!(
        cmds,
        vec![Cmd::PrepareUndo {
            change: ENABLED.into(),
            intent: intent.clone()
        }]
    );
    let Overlay::Confirm(c) = &a.overlay else {
        panic!("{:?}", a.overlay)
    };
    assert_eq!(c.undo.as_deref(), Some(ENABLED));
    let Ok(Prepared::Change(inverse)) = plan(&orders, &Want::Disable) else {
        panic!("a disable plans")
    };
    let inverse_plan = inverse.clone();
    a.update(Msg::Prepared {
        intent: intent.clone(),
        result: Ok(Box::new(Prepared::Change(inverse.clone()))),
    });
    a.drawn();
    let shown = screen(&a);
    assert!(
        shown.contains(&format!("Undo of change {ENABLED}")),
        "{shown}"
    );
    assert!(shown.contains("SSL new:  off"), "{shown}");
    // The same y as any change sends exactly the plan shown.
    assert_eq!(
        a.update(key(KeyCode::Char('y'))),
        vec![Cmd::Execute(Box::new(inverse))]
    );

    // A fresher read while the dialog is open that changes what it says: the undo is
    // not sent on the strength of the old judgement; u judges it again.
    a.update(key(KeyCode::Char('u')));
    a.update(Msg::Prepared {
        intent: intent.clone(),
        result: Ok(Box::new(Prepared::Change(inverse_plan.clone()))),
    });
    let mut moved = instance(&orders.id, "10.6.0.9");
    moved.read_at = "2026-12-01T00:20:00Z".into();
    if let Some(s) = moved.ssl.as_mut() {
        s.read_at = moved.read_at.clone();
    }
    a.update(Msg::Refreshed {
        id: orders.id.clone(),
        result: Ok(moved),
    });
    let Overlay::Confirm(c) = &a.overlay else {
        panic!("{:?}", a.overlay)
    };
    assert!(
        matches!(&c.shown, Shown::Refused(e) if e.contains("changed while this was open")),
        "{:?}",
        c.shown
    );
    a.drawn();
    assert!(a.update(key(KeyCode::Char('y'))).is_empty(), "nothing sent");
    a.update(key(KeyCode::Esc));

    // Changed since: the dialog and the status line say why; Esc goes back to the log.
    a.update(key(KeyCode::Char('u')));
    let why = OpsError::refused(UndoRefusal::ChangedSince {
        id: ENABLED.into(),
        instance: orders.id.clone(),
        left: "on, protecting 10.6.0.4".into(),
        now: "on, protecting 10.6.0.9".into(),
        before: "off".into(),
    });
    a.update(Msg::Prepared {
        intent,
        result: Err(why),
    });
    let notice = a.notice.clone().unwrap_or_default();
    assert!(notice.contains("cannot undo"), "{notice}");
    assert!(notice.contains("changed since change"), "{notice}");
    let Overlay::Confirm(c) = &a.overlay else {
        panic!("{:?}", a.overlay)
    };
    assert!(matches!(c.shown, Shown::Refused(_)));
    a.drawn();
    assert!(
        a.update(key(KeyCode::Char('y'))).is_empty(),
        "nothing to send"
    );
    a.update(key(KeyCode::Esc));
    assert_eq!(a.overlay, Overlay::None);
}

#[test]
fn shift_u_undoes_the_whole_run_in_the_bulk_confirm() {
    let one = instance("postgres-aaaa0001", "10.40.0.1");
    let two = instance("postgres-aaaa0002", "10.40.0.2");
    let mut a = app(&[one.clone(), two.clone()]);
    let mut records = enable(
        ENABLED,
        "2026-12-01T00:00:00Z",
        &one.id,
        "10.40.0.1",
        Some(RUN),
        true,
    );
    records.extend(enable(
        FAILED,
        "2026-12-01T00:00:01Z",
        &two.id,
        "10.40.0.2",
        Some(RUN),
        true,
    ));
    a.update(Msg::Journal(fold(records)));
    a.update(key(KeyCode::Tab));
    // From the line's detail (Enter) as from the line itself.
    a.update(key(KeyCode::Enter));
    assert!(matches!(a.overlay, Overlay::LogDetail(..)));
    let cmds = a.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('U'),
        KeyModifiers::SHIFT,
    )));
    assert_eq!(cmds, vec![Cmd::PrepareUndoRun(RUN.into())]);
    let Overlay::BulkConfirm(c) = &a.overlay else {
        panic!("{:?}", a.overlay)
    };
    assert_eq!(c.undo.as_deref(), Some(RUN));
    assert_eq!(c.form.ids.len(), 2, "the run's instances");
    let changes: Vec<_> = [&one, &two]
        .iter()
        .map(|i| match plan(i, &Want::Disable) {
            Ok(Prepared::Change(p)) => p,
            other => panic!("{other:?}"),
        })
        .collect();
    let undo = BulkPlan {
        want: Want::Disable,
        changes,
        unchanged: vec![],
        skipped: vec![],
    };
    a.update(Msg::BulkPrepared(Ok(undo.clone())));
    a.drawn();
    let shown = screen(&a);
    assert!(
        shown.contains(&format!("Undo of bulk run {RUN}")),
        "{shown}"
    );
    assert!(shown.contains("2 instances to change"), "{shown}");
    let cmds = a.update(key(KeyCode::Char('y')));
    assert!(
        matches!(cmds.as_slice(), [Cmd::ExecuteBulk(p, ..)] if **p == undo),
        "{cmds:?}"
    );
}

#[test]
fn the_log_cursor_stays_on_its_change_when_a_newer_one_comes_in() {
    let orders = instance("postgres-6bwgamo3", "10.6.0.4");
    let mut a = app(&[orders.clone(), instance("postgres-5gevh7gr", "10.6.1.21")]);
    let first = enable(
        ENABLED,
        "2026-12-01T00:00:00Z",
        &orders.id,
        "10.6.0.4",
        None,
        true,
    );
    a.update(Msg::Journal(fold(first.clone())));
    a.update(key(KeyCode::Tab));
    let on = |a: &App| {
        a.log_items()
            .get(a.log_selected)
            .and_then(|i| i.change.as_ref())
            .map(|c| c.request.id.clone())
    };
    let at = a
        .log_items()
        .iter()
        .position(|i| i.change.is_some())
        .expect("the change's line");
    a.log_selected = at;
    assert_eq!(on(&a).as_deref(), Some(ENABLED));
    // A newer change is journaled (an undo, another process): it comes in on top.
    let mut both = first;
    both.extend(enable(
        FAILED,
        "2026-12-01T00:05:00Z",
        "postgres-5gevh7gr",
        "10.6.1.21",
        None,
        true,
    ));
    a.update(Msg::Journal(fold(both)));
    assert_eq!(
        on(&a).as_deref(),
        Some(ENABLED),
        "u still means that change"
    );
}
