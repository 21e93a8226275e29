//! Issue 23, items 3 and 5, in the TUI: the tccli command of every plan, copyable from
//! the confirm; a header laid out by priority; every key listed in `?` and every hint
//! true where it is shown; the messages that said too little or too much.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pgssl::addresses::{Address, AddressKind};
use pgssl::credentials::choices::Choice;
use pgssl::domain::{Instance, InstanceKind, InstanceStatus, SslSeen, SslState};
use pgssl::ops::{Intent, plan};
use pgssl::tui::app::{App, Cmd, Guarded, Msg, Overlay, Who};

const READ: &str = "2026-11-28T04:00:00Z";

fn primary(id: &str, ip: &str) -> Instance {
    let mut i = Instance::unread(id, "ap-guangzhou");
    i.status = InstanceStatus::from_api("running");
    i.kind = InstanceKind::Primary;
    i.addresses = vec![Address {
        kind: AddressKind::Private,
        ..Address::unverified(ip.parse().expect("ip"))
    }];
    i.ssl = Some(SslSeen {
        state: SslState::OFF,
        read_at: READ.into(),
    });
    i.read_at = READ.into();
    i
}

fn fleet() -> Vec<Instance> {
    vec![
        primary("postgres-6bwgamo3", "10.6.0.4"),
        primary("postgres-5gevh7gr", "10.6.1.21"),
    ]
}

fn app(w: u16, h: u16) -> App {
    let mut a = crate::tui_model::app_of(fleet(), false);
    a.update(Msg::Resize(w, h));
    a
}

fn who(profile: Option<&str>, protected: bool) -> Who {
    Who {
        credential: format!(
            "role pgssl-dba via profile {} · AKID****wxyz · temporary until 2026-12-03T06:00:00Z",
            profile.unwrap_or("default")
        ),
        account: Some("account 100000000001 (role session pgssl-1)".into()),
        problem: None,
        profile: profile.map(str::to_string),
        protected,
        readonly: false,
    }
}

fn key(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn chars(a: &mut App, s: &str) -> Vec<Cmd> {
    s.chars()
        .flat_map(|c| a.update(key(KeyCode::Char(c))))
        .collect()
}

use crate::tui_bulk::render;

/// The first instance's form, submitted, and the plan the core makes for it, drawn.
fn confirm(a: &mut App) -> Intent {
    a.update(key(KeyCode::Enter));
    let cmds = a.update(key(KeyCode::Enter));
    let [Cmd::Prepare(intent)] = cmds.as_slice() else {
        panic!("the form asks for a fresh plan: {cmds:?}")
    };
    let intent = intent.clone();
    let fresh = fleet()[0].clone();
    a.update(Msg::Prepared {
        intent: intent.clone(),
        result: plan::plan(&fresh, &intent.want)
            .map(Box::new)
            .map_err(pgssl::ops::OpsError::refused),
    });
    a.drawn();
    intent
}

const TCCLI: &str = "tccli postgres ModifyDBInstanceSSLConfig --cli-unfold-argument --profile ops --region ap-guangzhou --DBInstanceId postgres-6bwgamo3 --SSLEnabled True --ConnectAddress 10.6.0.4";

#[test]
fn the_confirm_shows_the_tccli_command_and_c_copies_it_without_confirming() {
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let mut a = app(w, h);
        a.update(Msg::Who(who(Some("ops"), false)));
        confirm(&mut a);
        let text = render(&a);
        // Wrapped between words, whole: every word of the command is on screen.
        assert!(text.contains("As tccli (c copies it):"), "{text}");
        for word in TCCLI.split(' ') {
            assert!(text.contains(word), "{word} at {w}x{h}: {text}");
        }
        assert!(
            text.contains("y send the change"),
            "the keys stay on screen: {text}"
        );
        let cmds = a.update(key(KeyCode::Char('c')));
        assert_eq!(cmds, vec![Cmd::Copy(TCCLI.into())]);
        assert!(
            matches!(a.overlay, Overlay::Confirm(_)),
            "c never confirms, never closes"
        );
        assert!(a.inflight.is_empty());
    }
}

#[test]
fn a_protected_confirm_copies_with_ctrl_t_and_says_a_wrong_id_does_not_match() {
    let mut a = app(80, 24);
    a.update(Msg::Who(who(Some("prod"), true)));
    confirm(&mut a);
    // `c` is text here: an instance id may hold it.
    assert!(chars(&mut a, "postgres-c").is_empty());
    assert!(render(&a).contains("As tccli (Ctrl-T copies it):"));
    let cmds = a.update(ctrl('t'));
    assert!(
        matches!(cmds.as_slice(), [Cmd::Copy(t)] if t.contains("--profile prod") && t.contains("--DBInstanceId postgres-6bwgamo3")),
        "{cmds:?}"
    );
    let cmds = a.update(key(KeyCode::Enter));
    assert!(cmds.is_empty(), "a wrong id sends nothing: {cmds:?}");
    let text = render(&a);
    assert!(
        text.contains("'postgres-c' does not match postgres-6bwgamo3"),
        "{text}"
    );
    assert!(text.contains("nothing was sent"), "{text}");
    // Typing again clears it; the right id sends.
    a.update(key(KeyCode::Backspace));
    assert!(!render(&a).contains("✗ 'postgres-c'"));
    chars(&mut a, "6bwgamo3");
    a.drawn();
    let cmds = a.update(key(KeyCode::Enter));
    assert!(matches!(cmds.as_slice(), [Cmd::Execute(_)]), "{cmds:?}");
}

/// The form submitted, and the core refusing to plan (a forbidden account).
fn refused(a: &mut App) {
    a.update(key(KeyCode::Enter));
    let cmds = a.update(key(KeyCode::Enter));
    let [Cmd::Prepare(intent)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    a.update(Msg::Prepared {
        intent: intent.clone(),
        result: Err(pgssl::ops::OpsError::Usage(
            "account 100000000001 is forbidden by config.toml (forbidden_accounts): use a credential of another account (--profile)".into(),
        )),
    });
}

#[test]
fn a_refused_plan_offers_no_key_that_sends() {
    let mut a = app(80, 24);
    refused(&mut a);
    a.drawn();
    let text = render(&a);
    assert!(text.contains("is forbidden"), "{text}");
    assert!(!text.contains("y send"), "{text}");
    assert!(!text.contains("copy the tccli"), "{text}");
    assert!(text.contains("n go back"), "{text}");
    let labels: Vec<&str> = a.hints().iter().map(|b| b.label).collect();
    assert_eq!(labels, vec!["n", "Esc"]);
    // The same with a protected profile: nothing to type, Enter is not offered.
    let mut a = app(80, 24);
    a.update(Msg::Who(who(Some("prod"), true)));
    refused(&mut a);
    let text = render(&a);
    assert!(!text.contains("Type postgres-6bwgamo3 to send"), "{text}");
    assert!(!text.contains("Enter send"), "{text}");
}

#[test]
fn the_header_keeps_protection_and_account_and_drops_the_rest_whole() {
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let mut a = app(w, h);
        a.label = "demo".into();
        a.update(Msg::Who(who(Some("demo-prod"), true)));
        // An order and a filter take room on the first line.
        a.update(key(KeyCode::Char('o')));
        a.update(key(KeyCode::Char('o')));
        a.update(Msg::Notice("x".into()));
        let text = render(&a);
        insta::assert_snapshot!(format!("header_protected_{w}x{h}"), text);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].contains("[PROTECTED] demo-prod"), "{text}");
        assert!(
            lines[1].contains("account 100000000001 (role session pgssl-1)"),
            "{text}"
        );
        // What does not fit is left out whole, never cut mid-word.
        assert!(lines[0].trim_end().ends_with(" · x"), "{text}");
        let who = lines[1].trim_end();
        assert!(
            who.ends_with("(role session pgssl-1)") || who.ends_with("via profile demo-prod"),
            "{text}"
        );
    }
}

#[test]
fn the_header_says_reads_are_running_not_that_something_is_pending() {
    let mut a = app(120, 40);
    let cmds = a.update(key(KeyCode::Char('r')));
    assert!(matches!(cmds.as_slice(), [Cmd::Refresh(_)]));
    let text = render(&a);
    let header = text.lines().next().unwrap_or_default();
    assert!(header.contains("1 read running"), "{header}");
    assert!(!header.contains("pending"), "{header}");
    // The refresh counts each instance as it is read.
    a.update(Msg::Refreshed {
        id: "postgres-6bwgamo3".into(),
        result: Ok(fleet()[0].clone()),
    });
    assert!(render(&a).contains("refreshed 1/2"), "{}", render(&a));
}

#[test]
fn help_lists_every_view_and_each_view_hints_what_its_keys_do() {
    let mut a = app(120, 40);
    a.update(key(KeyCode::Char('?')));
    let mut seen = String::new();
    for _ in 0..20 {
        seen.push_str(&render(&a));
        a.update(key(KeyCode::Char('j')));
    }
    for needle in [
        "Audit (A): ",
        "Enter go to the finding's instance",
        "Report (V) and message (!): ",
        "c copy the highlighted line whole",
        "V the last TLS report",
        "! the header's last message",
        "A audit the regions",
        "c copy the tccli command",
        "Ctrl-T copy the tccli command",
    ] {
        assert!(seen.contains(needle), "{needle}: {seen}");
    }
    // Every mode has its line in the help.
    for mode in pgssl::tui::keys::MODES {
        if *mode != pgssl::tui::keys::Mode::Help {
            assert!(seen.contains(&format!("{}: ", mode.title())), "{mode:?}");
        }
    }
    // The audit view: Enter goes to the instance, and says so.
    a.update(key(KeyCode::Esc));
    a.update(key(KeyCode::Char('A')));
    assert!(matches!(a.overlay, Overlay::Findings(..)));
    let text = render(&a);
    assert!(
        text.contains("Enter go to the finding's instance"),
        "{text}"
    );
    assert!(!text.contains("the change in full"), "{text}");
}

#[test]
fn read_only_says_which_reason_applies() {
    let mut a = app(80, 24);
    a.readonly = true;
    a.readonly_flag = true;
    a.demo_follower = true;
    a.update(key(KeyCode::Enter));
    let n = a.notice.clone().unwrap_or_default();
    assert!(
        n.contains("another pgssl --demo owns the demo's state"),
        "{n}"
    );
    assert!(!n.contains("config.toml"), "{n}");
    a.demo_follower = false;
    a.update(key(KeyCode::Enter));
    let n = a.notice.clone().unwrap_or_default();
    assert!(n.contains("--readonly") && !n.contains("demo"), "{n}");
    let mut a = app(80, 24);
    let mut w = who(Some("audit"), false);
    w.readonly = true;
    a.update(Msg::Who(w));
    assert!(a.readonly);
    a.update(key(KeyCode::Enter));
    let n = a.notice.clone().unwrap_or_default();
    assert!(
        n.contains("profile audit is readonly in config.toml"),
        "{n}"
    );
    assert!(!n.contains("demo"), "{n}");
    // The footer offers no form.
    assert!(
        !render(&a)
            .lines()
            .last()
            .unwrap_or_default()
            .contains("SSL form")
    );
}

#[test]
fn p_marks_protected_and_read_only_profiles() {
    let mut a = app(80, 24);
    a.update(key(KeyCode::Char('P')));
    let profile = |name: &str| Choice::Profile {
        name: name.into(),
        kind: "keys".into(),
        region: Some("ap-guangzhou".into()),
    };
    let g = |protected, readonly| Guarded {
        protected,
        readonly,
    };
    a.update(Msg::Choices(vec![
        (Choice::Demo, g(false, false)),
        (profile("demo-prod"), g(true, false)),
        (profile("demo-readonly"), g(false, true)),
    ]));
    let text = render(&a);
    let line = |name: &str| {
        text.lines()
            .find(|l| l.contains(name))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("demo-prod").contains("[PROTECTED]"), "{text}");
    assert!(line("demo-readonly").contains("[read-only]"), "{text}");
    assert!(!line("demo key").contains('['), "{text}");
}

#[test]
fn bang_and_v_show_when_the_message_came_and_v_copies_a_line_whole() {
    let mut a = app(80, 24);
    a.update(Msg::Notice("the message".into()));
    // It came then: looking at it later does not move its time.
    a.notice_at = "2026-12-03T05:13:50Z".into();
    a.update(key(KeyCode::Char('!')));
    let Overlay::Text(item, _) = &a.overlay else {
        panic!("{:?}", a.overlay)
    };
    assert_eq!(item.time, "2026-12-03T05:13:50Z");
    assert!(render(&a).contains("2026-12-03T05:13:50 message"));
    a.update(key(KeyCode::Esc));

    let fingerprint = "4D:CE:BC:21:D4:31:D2:E2:61:64:27:DC:06:2E:A2:D3:29:50:32:5E:7F:6D:7A:39:C6:C6:BB:7F:7D:09:25:7D";
    let psql = "psql \"host=10.6.1.21 port=5432 dbname=postgres user=YOUR_USER sslmode=verify-full sslrootcert=/tmp/pgt1/demo/data/ca/postgres-6bwgamo3.pem\"";
    a.update(Msg::CaFetched {
        id: "postgres-6bwgamo3".into(),
        result: Ok(vec![
            "CA kept at /tmp/ca.pem".into(),
            "CN=pgssl emulator CA, valid to 2036-11-30T05:13:42Z (3649 days left)".into(),
            format!("  sha256 {fingerprint}"),
        ]),
    });
    a.update(Msg::Verified {
        id: "postgres-6bwgamo3".into(),
        result: Ok(pgssl::tui::app::CheckShown {
            result: pgssl::probe::VerifyResult::VerifyFull,
            lines: vec!["verify-full: ok".into(), format!("    {psql}")],
        }),
    });
    a.update(key(KeyCode::Char('V')));
    let Overlay::Text(item, _) = &a.overlay else {
        panic!("{:?}", a.overlay)
    };
    let at = a.reports["postgres-6bwgamo3"].tls_at.clone();
    assert_eq!(item.time, at, "the newest report's time");
    assert!(item.detail[0].starts_with("TLS check of the protected address ("));
    let copy_line = |a: &mut App, text: &str| {
        a.update(key(KeyCode::Char('g')));
        for _ in 0..20 {
            let Overlay::Text(item, line) = &a.overlay else {
                panic!()
            };
            if item.detail[*line].contains(text) {
                return a.update(key(KeyCode::Char('c')));
            }
            a.update(key(KeyCode::Char('j')));
        }
        panic!("{text} not found")
    };
    assert_eq!(copy_line(&mut a, "psql"), vec![Cmd::Copy(psql.into())]);
    assert_eq!(
        copy_line(&mut a, "sha256"),
        vec![Cmd::Copy(fingerprint.into())],
        "the fingerprint alone, whole, as --fingerprint takes it"
    );
    let text = render(&a);
    assert!(text.contains("c copy the highlighted line whole"), "{text}");
}

#[test]
fn in_the_demo_a_suggested_command_carries_demo() {
    let sb = crate::common::Sandbox::new();
    for (region, suggested) in [
        (
            "ap-guangzhou",
            "pgssl --demo instances list --remote --region ap-guangzhou",
        ),
        ("nowhere", "pgssl --demo regions list --remote"),
    ] {
        let r = sb.run(&[
            "--demo",
            "ssl",
            "show",
            "postgres-nosuch01",
            "--region",
            region,
        ]);
        assert!(
            format!("{}{}", r.stdout, r.stderr).contains(suggested),
            "{r:#?}"
        );
    }
    // The CLI's own notes too.
    for (args, suggested) in [
        (
            &[
                "--demo",
                "ssl",
                "disable",
                "postgres-6bwgamo3",
                "--wait",
                "--verify",
            ][..],
            "`pgssl --demo verify INSTANCE",
        ),
        (
            &[
                "--demo",
                "ssl",
                "disable",
                "postgres-6bwgamo3",
                "--address",
                "x",
            ][..],
            "`pgssl --demo ssl enable postgres-6bwgamo3",
        ),
    ] {
        let r = sb.run(args);
        assert!(r.stderr.contains(suggested), "{args:?}: {r:#?}");
    }
}
