//! One change for many instances in the TUI (issue 14, items 2 and 3): marking, the one
//! form, the plan with what is skipped and why, the count typed above five, the
//! read-only group offer, the run's live table, stopping it, and resuming a run found
//! interrupted at start. The model is driven by keys and messages, as the runner would.

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pgssl::addresses::{Address, AddressKind};
use pgssl::domain::{Instance, InstanceKind, InstanceStatus, SslSeen, SslState, TaskStatus};
use pgssl::ops::bulk::resume::Resumable;
use pgssl::ops::bulk::schedule::{Item, Limits, Schedule, State};
use pgssl::ops::bulk::{BulkPlan, plan_many};
use pgssl::store::SavedInstance;
use pgssl::store::runs::{RunFile, RunItem, RunState};
use pgssl::tui::app::bulk::BulkEvent;
use pgssl::tui::app::{App, Cmd, Msg, Overlay};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn running(id: &str, kind: InstanceKind, addresses: Vec<Address>) -> Instance {
    let mut i = Instance::unread(id, "ap-singapore");
    i.status = InstanceStatus::from_api("running");
    i.kind = kind;
    i.addresses = addresses;
    i.ssl = Some(SslSeen {
        state: SslState::OFF,
        read_at: "2026-12-02T00:00:00Z".into(),
    });
    i.read_at = "2026-12-02T00:00:00Z".into();
    i
}

fn private(ip: &str) -> Address {
    Address {
        kind: AddressKind::Private,
        ..Address::unverified(ip.parse().expect("ip"))
    }
}

fn group(ip: &str) -> Address {
    Address {
        kind: AddressKind::Group,
        group_id: Some("pgrogrp-readers".into()),
        ..Address::unverified(ip.parse().expect("ip"))
    }
}

/// Eight primaries (one restarting), and two read-only members of one group.
fn fleet() -> Vec<Instance> {
    let mut out: Vec<Instance> = (1..=8)
        .map(|n| {
            running(
                &format!("postgres-aaaa000{n}"),
                InstanceKind::Primary,
                vec![private(&format!("192.0.2.{n}"))],
            )
        })
        .collect();
    out[7].status = InstanceStatus::from_api("restarting");
    for (n, id) in ["pgro-bbbb0001", "pgro-bbbb0002"].iter().enumerate() {
        let mut ro = running(
            id,
            InstanceKind::ReadOnly,
            vec![
                private(&format!("198.51.100.{}", n + 1)),
                group("198.51.100.50"),
            ],
        );
        ro.master = Some("postgres-aaaa0001".into());
        out.push(ro);
    }
    out
}

fn app() -> App {
    let fleet = fleet();
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
    let mut a = App::new(saved, learned, vec![], false);
    a.update(Msg::Resize(120, 40));
    a
}

fn key(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn chars(a: &mut App, s: &str) -> Vec<Cmd> {
    s.chars()
        .flat_map(|c| a.update(key(KeyCode::Char(c))))
        .collect()
}

pub(crate) fn render(a: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(a.size.0, a.size.1)).expect("terminal");
    t.draw(|f| pgssl::tui::view::draw(f, a)).expect("draw");
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// The core's answer to `PrepareBulk`, planned from what the model knows.
fn answer(a: &mut App, cmds: &[Cmd]) -> BulkPlan {
    let [Cmd::PrepareBulk { ids, want, .. }] = cmds else {
        panic!("the form asks for a fresh plan: {cmds:?}")
    };
    let all = fleet();
    let read = ids
        .iter()
        .map(|(_, id)| Ok(all.iter().find(|i| i.id == *id).expect("known").clone()))
        .collect();
    let plan = plan_many(read, want);
    a.update(Msg::BulkPrepared(Ok(plan.clone())));
    a.drawn();
    plan
}

#[test]
fn marking_then_one_form_and_the_count_typed_above_five() {
    let mut a = app();
    // Space marks and moves on; `*` marks every one shown; again, unmarks them.
    a.update(key(KeyCode::Char(' ')));
    a.update(key(KeyCode::Char(' ')));
    assert_eq!(a.marked.len(), 2);
    assert!(render(&a).contains("2 marked"), "{}", render(&a));
    a.update(key(KeyCode::Char('*')));
    assert_eq!(a.marked.len(), 10);
    a.update(key(KeyCode::Char('*')));
    assert!(a.marked.is_empty());
    // Only the primaries: filter, mark all shown.
    a.update(key(KeyCode::Char('/')));
    chars(&mut a, "postgres-");
    a.update(key(KeyCode::Enter));
    a.update(key(KeyCode::Char('*')));
    assert_eq!(a.marked.len(), 8);
    a.update(key(KeyCode::Enter));
    assert!(matches!(a.overlay, Overlay::BulkForm(_)), "{:?}", a.overlay);
    let cmds = a.update(key(KeyCode::Enter));
    let plan = answer(&mut a, &cmds);
    assert_eq!(plan.changes.len(), 7);
    let text = render(&a);
    // Every change with its current and new state, what is skipped and why, the count.
    assert!(text.contains("postgres-aaaa0003"), "{text}");
    assert!(
        text.contains("off -> on, protecting private 192.0.2.3"),
        "{text}"
    );
    assert!(text.contains("Skipped (1):"), "{text}");
    assert!(
        text.contains("postgres-aaaa0008 is 'restarting', not running"),
        "{text}"
    );
    assert!(text.contains("7 instances to change"), "{text}");
    assert!(text.contains("restarts its instance"), "{text}");
    assert!(text.contains("Type 7 to send"), "{text}");
    // `y` is not the count; a wrong count sends nothing.
    assert!(a.update(key(KeyCode::Char('y'))).is_empty());
    assert!(chars(&mut a, "8").is_empty());
    assert!(a.update(key(KeyCode::Enter)).is_empty());
    assert!(
        a.notice.as_deref().is_some_and(|n| n.contains("type 7")),
        "{:?}",
        a.notice
    );
    a.update(key(KeyCode::Backspace));
    chars(&mut a, "7");
    let cmds = a.update(key(KeyCode::Enter));
    let [Cmd::ExecuteBulk(sent, limits, _)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(**sent, plan, "exactly the plan shown is sent");
    assert_eq!(*limits, Limits::default());
    assert!(a.marked.is_empty());
    assert!(matches!(a.overlay, Overlay::Run(_)));
}

#[test]
fn a_few_changes_need_only_y_and_esc_goes_back_to_the_form() {
    let mut a = app();
    a.update(key(KeyCode::Char(' ')));
    a.update(key(KeyCode::Char(' ')));
    a.update(key(KeyCode::Enter));
    // Stop at the first failure, at most 1 restarting: the form's fields.
    a.update(key(KeyCode::Tab)); // address
    a.update(key(KeyCode::Tab)); // restarting at once
    a.update(key(KeyCode::Char(' ')));
    a.update(key(KeyCode::Tab)); // stop at first failure
    a.update(key(KeyCode::Char(' ')));
    a.update(key(KeyCode::Tab)); // primary with its read-only instances
    a.update(key(KeyCode::Tab)); // a canary wave first
    a.update(key(KeyCode::Char(' ')));
    let text = render(&a);
    assert!(
        text.contains("at most 10") && text.contains("Stop at first failure   yes"),
        "{text}"
    );
    assert!(
        text.contains("Canary first") && text.contains("1, then 60 s for clients"),
        "{text}"
    );
    let cmds = a.update(key(KeyCode::Enter));
    answer(&mut a, &cmds);
    assert!(render(&a).contains("y send the change"), "{}", render(&a));
    a.update(key(KeyCode::Esc));
    assert!(matches!(a.overlay, Overlay::BulkForm(_)));
    let cmds = a.update(key(KeyCode::Enter));
    answer(&mut a, &cmds);
    let cmds = a.update(key(KeyCode::Char('y')));
    let [Cmd::ExecuteBulk(plan, limits, canary)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(plan.changes.len(), 2);
    assert_eq!(limits.max_running, Some(10));
    assert!(limits.stop_on_failure);
    assert_eq!(canary.map(|c| c.n), Some(1), "the form's canary wave");
}

#[test]
fn the_group_address_for_one_member_offers_the_whole_group() {
    let mut a = app();
    a.update(key(KeyCode::Char('/')));
    chars(&mut a, "pgro-bbbb0001");
    a.update(key(KeyCode::Enter));
    a.update(key(KeyCode::Char(' ')));
    a.update(key(KeyCode::Enter));
    a.update(key(KeyCode::Tab)); // address: private -> public -> group
    a.update(key(KeyCode::Char(' ')));
    a.update(key(KeyCode::Char(' ')));
    let text = render(&a);
    assert!(
        text.contains("Whole group") && text.contains("also pgro-bbbb0002"),
        "{text}"
    );
    assert!(
        text.contains("Tencent asks for SSL on every member"),
        "{text}"
    );
    let cmds = a.update(key(KeyCode::Enter));
    // The rest of the group is added by ops, read fresh like the marked one.
    let [
        Cmd::PrepareBulk {
            ids, with_group, ..
        },
    ] = cmds.as_slice()
    else {
        panic!("{cmds:?}")
    };
    let ids: Vec<&str> = ids.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids, ["pgro-bbbb0001"]);
    assert!(with_group);
}

fn item(id: &str, state: State) -> Item {
    let plan = plan_many(
        vec![Ok(fleet().into_iter().find(|i| i.id == id).expect("known"))],
        &pgssl::ops::Want::Enable(pgssl::addresses::AddressSpec::Kind(AddressKind::Private)),
    );
    let mut plan = plan;
    let mut i = Item::new(match plan.changes.pop() {
        Some(p) => p,
        None => panic!("{id} plans a change"),
    });
    i.state = state;
    i
}

#[test]
fn the_run_table_updates_live_x_stops_and_q_warns() {
    let mut a = app();
    a.update(key(KeyCode::Char(' ')));
    a.update(key(KeyCode::Enter));
    let cmds = a.update(key(KeyCode::Enter));
    answer(&mut a, &cmds);
    a.update(key(KeyCode::Char('y')));
    let waiting = item("postgres-aaaa0001", State::Waiting);
    a.update(Msg::Bulk(BulkEvent::Started {
        run_id: "20261202T000000Z-abcd1234".into(),
        items: vec![waiting],
    }));
    let running = item(
        "postgres-aaaa0001",
        State::Running {
            task_id: Some(100_017),
            request_id: "r-1".into(),
            status: Some(TaskStatus::Running),
            progress: Some(40),
        },
    );
    a.update(Msg::Bulk(BulkEvent::Changed {
        index: 0,
        item: Box::new(running),
    }));
    let text = render(&a);
    assert!(
        text.contains("100017") && text.contains("Running 40%"),
        "{text}"
    );
    assert!(text.contains("1/1 sent, 1 restarting"), "{text}");
    assert_eq!(a.update(key(KeyCode::Char('x'))), vec![Cmd::StopBulk]);
    a.update(key(KeyCode::Esc));
    assert!(render(&a).contains("run 1/1 (b)"), "{}", render(&a));
    // q warns once: quitting stops sending; resume continues.
    a.update(key(KeyCode::Char('q')));
    assert!(!a.quit);
    assert!(
        a.notice
            .as_deref()
            .is_some_and(|n| n.contains("ssl resume")),
        "{:?}",
        a.notice
    );
    assert!(a.farewell().iter().any(|l| l.contains("ssl resume")));
    a.update(Msg::Bulk(BulkEvent::Changed {
        index: 0,
        item: Box::new(item(
            "postgres-aaaa0001",
            State::Ended {
                task_id: Some(100_017),
                request_id: Some("r-1".into()),
                status: TaskStatus::Success,
                message: None,
            },
        )),
    }));
    let cmds = a.update(Msg::Bulk(BulkEvent::Finished(Ok(RunState::Finished {
        at: String::new(),
    }))));
    assert_eq!(cmds, vec![Cmd::ReloadJournal]);
    assert!(
        a.notice
            .as_deref()
            .is_some_and(|n| n.contains("1 succeeded")),
        "{:?}",
        a.notice
    );
    a.update(key(KeyCode::Char('q')));
    assert!(a.quit, "nothing runs any more: q quits at once");
}

#[test]
fn an_interrupted_run_is_offered_at_start_and_continues_only_on_y() {
    let found = Resumable {
        run: {
            let mut r = RunFile::new(
                "20261202T000000Z-abcd1234".into(),
                "env".into(),
                "http://127.0.0.1:1".into(),
                (Some(5), false, false),
                ["postgres-aaaa0001", "postgres-aaaa0002"]
                    .iter()
                    .map(|id| RunItem {
                        region: "ap-singapore".into(),
                        DBInstanceId: (*id).into(),
                        SSLEnabled: false,
                        ConnectAddress: None,
                    })
                    .collect(),
            );
            r.created = "2026-12-02T00:00:00Z".into();
            r
        },
        schedule: Schedule::new(
            vec![
                item(
                    "postgres-aaaa0001",
                    State::Running {
                        task_id: Some(100_020),
                        request_id: "r".into(),
                        status: None,
                        progress: None,
                    },
                ),
                item("postgres-aaaa0002", State::Waiting),
            ],
            Limits::default(),
        ),
        unchanged: vec![],
        skipped: vec![],
    };
    let mut a = app();
    a.update(Msg::Resumable(Ok(Some(Box::new(found.clone())))));
    let text = render(&a);
    assert!(text.contains("0 done, 1 running, 1 never sent"), "{text}");
    assert!(text.contains("nothing sent before is sent again"), "{text}");
    assert!(a.update(key(KeyCode::Char('n'))).is_empty());
    assert!(matches!(a.overlay, Overlay::None));
    a.update(Msg::Resumable(Ok(Some(Box::new(found.clone())))));
    // A `y` before the offer was ever drawn answers nothing.
    assert!(a.update(key(KeyCode::Char('y'))).is_empty());
    a.drawn();
    let cmds = a.update(key(KeyCode::Char('y')));
    assert_eq!(cmds, vec![Cmd::ResumeBulk(Box::new(found.clone()))]);
    assert!(matches!(a.overlay, Overlay::Run(_)));

    // Found while a filter is being typed: it waits for `b`; keys typed go to the filter.
    let mut a = app();
    a.update(key(KeyCode::Char('/')));
    a.update(Msg::Resumable(Ok(Some(Box::new(found.clone())))));
    chars(&mut a, "y");
    assert_eq!(a.filter, "y");
    assert!(
        a.notice
            .as_deref()
            .is_some_and(|n| n.contains("b shows it")),
        "{:?}",
        a.notice
    );
    a.update(key(KeyCode::Esc));
    a.update(key(KeyCode::Char('b')));
    assert!(matches!(a.overlay, Overlay::Resume(_)), "{:?}", a.overlay);

    // More than five never sent: their count is typed, as for a new plan.
    let mut many = found;
    let ids: Vec<String> = (1..=7).map(|n| format!("postgres-aaaa000{n}")).collect();
    many.schedule.items = ids.iter().map(|id| item(id, State::Waiting)).collect();
    let mut a = app();
    a.update(Msg::Resumable(Ok(Some(Box::new(many)))));
    a.drawn();
    assert!(a.update(key(KeyCode::Char('y'))).is_empty());
    assert!(a.update(key(KeyCode::Enter)).is_empty());
    assert!(render(&a).contains("Type 7 to send them"), "{}", render(&a));
    chars(&mut a, "7");
    let cmds = a.update(key(KeyCode::Enter));
    assert!(matches!(cmds.as_slice(), [Cmd::ResumeBulk(_)]), "{cmds:?}");
}

#[test]
fn at_80x24_the_count_and_the_keys_always_show_and_the_plan_scrolls() {
    let mut a = app();
    a.update(Msg::Resize(80, 24));
    a.update(key(KeyCode::Char('/')));
    chars(&mut a, "postgres-");
    a.update(key(KeyCode::Enter));
    a.update(key(KeyCode::Char('*')));
    a.update(key(KeyCode::Enter));
    let cmds = a.update(key(KeyCode::Enter));
    answer(&mut a, &cmds);
    let text = render(&a);
    assert!(text.contains("7 instances to change"), "{text}");
    assert!(text.contains("Type 7 to send"), "{text}");
    assert!(
        text.contains("Enter send, once the count is typed"),
        "{text}"
    );
    // End shows the last of the plan (the skipped one), and the count still shows.
    a.update(key(KeyCode::End));
    let text = render(&a);
    assert!(text.contains("postgres-aaaa0008 is 'restarting'"), "{text}");
    assert!(text.contains("Type 7 to send"), "{text}");
    // A wrong count is said inside the dialog.
    chars(&mut a, "6");
    a.update(key(KeyCode::Enter));
    assert!(
        render(&a).contains("type 7 (the number of changes)"),
        "{}",
        render(&a)
    );
}

#[test]
fn r_with_marks_reads_every_marked_instance() {
    let mut a = app();
    a.update(key(KeyCode::Char('*')));
    let cmds = a.update(key(KeyCode::Char('r')));
    let [Cmd::Refresh(targets)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(
        targets.len(),
        10,
        "every marked one, not only those on screen"
    );
    a.update(key(KeyCode::Esc));
    assert!(a.marked.is_empty(), "Esc clears the marks");
}

#[test]
fn the_bulk_confirm_shows_who_is_connected_once_counted() {
    let mut a = app();
    a.update(key(KeyCode::Char(' ')));
    a.update(key(KeyCode::Char(' ')));
    a.update(key(KeyCode::Enter)); // the form
    let cmds = a.update(key(KeyCode::Enter));
    answer(&mut a, &cmds);
    a.update(Msg::BulkCensus(vec![
        "Clients:  0 over TLS, 4 plaintext on the 2 instance(s) counted".into(),
    ]));
    let text = render(&a);
    assert!(
        text.contains("Clients:  0 over TLS, 4 plaintext on the 2 instance(s) counted"),
        "{text}"
    );
}

#[test]
fn the_bulk_confirm_shows_a_tccli_command_per_change_and_c_copies_them() {
    let mut a = app();
    a.update(key(KeyCode::Char(' ')));
    a.update(key(KeyCode::Char(' ')));
    a.update(key(KeyCode::Enter));
    let cmds = a.update(key(KeyCode::Enter));
    let plan = answer(&mut a, &cmds);
    assert_eq!(plan.changes.len(), 2);
    let text = render(&a);
    assert!(text.contains("As tccli (c copies them all):"), "{text}");
    assert!(text.contains("--DBInstanceId postgres-aaaa0001"), "{text}");
    assert!(text.contains("--DBInstanceId postgres-aaaa0002"), "{text}");
    let cmds = a.update(key(KeyCode::Char('c')));
    let [Cmd::Copy(copied)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(copied.lines().count(), 2, "{copied}");
    assert!(copied.lines().all(|l| l.starts_with(
        "tccli postgres ModifyDBInstanceSSLConfig --cli-unfold-argument --region ap-singapore"
    )));
    assert!(
        matches!(a.overlay, Overlay::BulkConfirm(_)),
        "c never confirms"
    );
}
