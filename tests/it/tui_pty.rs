//! The built binary's TUI in a real pseudo-terminal, against the emulator on 127.0.0.1.
//! Waits are on what the screen shows (with a deadline), never on fixed sleeps.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{Emu, Sandbox};
use pgssl_emulator::FaultArgs;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

struct Tui {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Tui {
    fn spawn(sb: &Sandbox, args: &[&str]) -> Tui {
        Self::spawn_sized(sb, args, 24, 80)
    }

    fn spawn_sized(sb: &Sandbox, args: &[&str], rows: u16, cols: u16) -> Tui {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_pgssl"));
        cmd.args(args);
        cmd.env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        cmd.env("TERM", "xterm-256color");
        for (k, v) in &sb.env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let writer = pair.master.take_writer().expect("writer");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (s, r) = (screen.clone(), raw.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        s.lock().expect("screen").process(&buf[..n]);
                        r.lock().expect("raw").extend_from_slice(&buf[..n]);
                    }
                }
            }
        });
        Tui {
            child,
            writer,
            screen,
            raw,
            _master: pair.master,
        }
    }

    fn text(&self) -> String {
        self.screen.lock().expect("screen").screen().contents()
    }

    fn wait_for(&self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = self.text();
            if text.contains(what) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what:?}; screen:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait until two reads of the screen in a row are the same, and `what` is on it.
    fn settle_on(&self, what: &str) {
        self.wait_for(what);
        let mut last = self.text();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let now = self.text();
            if now == last || Instant::now() > deadline {
                return;
            }
            last = now;
        }
    }

    fn keys(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).expect("write");
        self.writer.flush().expect("flush");
    }

    fn wait_exit(&mut self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.exit_code();
            }
            assert!(
                Instant::now() < deadline,
                "the TUI did not exit; screen:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn raw_output(&self) -> Vec<u8> {
        // Give the reader thread the last bytes written before the pty closed.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut last = 0;
        loop {
            let len = self.raw.lock().expect("raw").len();
            if len == last && len > 0 || Instant::now() > deadline {
                break;
            }
            last = len;
            std::thread::sleep(Duration::from_millis(50));
        }
        self.raw.lock().expect("raw").clone()
    }
}

const LEAVE_ALT_SCREEN: &[u8] = b"\x1b[?1049l";
const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn position(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn imported(emu: &Emu) -> Sandbox {
    let sb = Sandbox::for_emu(emu);
    sb.run(&[
        "--endpoint",
        &emu.endpoint(),
        "instances",
        "import",
        "ap-guangzhou",
    ])
    .ok();
    sb
}

#[test]
fn enable_ssl_from_the_tui_and_watch_the_task_finish() {
    let emu = Emu::start(FaultArgs::default(), 2);
    let sb = imported(&emu);
    let config_before = std::fs::read(sb.config_file()).expect("config");
    let ep = emu.endpoint();
    let mut tui = Tui::spawn(&sb, &["--endpoint", &ep, "--region", "ap-guangzhou"]);
    tui.settle_on("orders-db");
    // Mouse capture stays off so text remains selectable.
    assert!(!contains(&tui.raw_output(), b"\x1b[?1000h"));

    tui.keys("/6bwgamo3\r");
    tui.settle_on("1/5 instances");
    tui.keys("\r");
    tui.settle_on("SSL now: off");
    tui.keys("\t");
    tui.keys("j"); // public
    tui.keys("\r");
    tui.settle_on("Confirm change");
    assert!(tui.text().contains("restarts the instance"));
    assert!(
        tui.text()
            .contains("SSL new:  on, protecting public 203.0.113.17")
    );
    // At 80 columns the request goes one field a line: no value is broken.
    assert!(tui.text().contains("\"SSLEnabled\":true,"));
    assert!(tui.text().contains("\"ConnectAddress\":\"203.0.113.17\"}"));
    tui.keys("y");
    tui.wait_for("TaskId 100017");
    tui.wait_for("Success 100%");
    tui.wait_for("on   pub 203.0.113.17");
    tui.keys("q");
    assert_eq!(tui.wait_exit(), 0);
    let raw = tui.raw_output();
    let leave = position(&raw, LEAVE_ALT_SCREEN).expect("left the alternate screen");
    assert!(position(&raw, SHOW_CURSOR).expect("cursor shown") > 0);
    assert!(leave > 0);

    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1);
    let lines = sb.journal_lines();
    assert_eq!(lines[0]["kind"], "request");
    assert_eq!(lines[1]["outcome"], "ok");
    assert!(
        lines
            .iter()
            .any(|l| l["kind"] == "task" && l["Status"] == "Success")
    );
    // What pgssl learned after the task ended is kept in the inventory; the config a
    // person edits is byte for byte as it was (the TUI refreshed and changed SSL).
    let inventory =
        std::fs::read_to_string(sb.dir.path().join("data/inventory.json")).expect("inventory");
    assert!(
        inventory.contains(r#""protected":"203.0.113.17""#),
        "{inventory}"
    );
    assert_eq!(
        std::fs::read(sb.config_file()).expect("config"),
        config_before
    );
}

#[test]
fn sighup_mid_request_restores_the_terminal_and_leaves_an_unknown_record() {
    let emu = Emu::start(
        FaultArgs {
            latency_ms: 60_000,
            fault_actions: vec!["ModifyDBInstanceSSLConfig".into()],
            ..FaultArgs::default()
        },
        2,
    );
    let sb = imported(&emu);
    let ep = emu.endpoint();
    // The demo fleet lists tasks of other operations already: wait for one more.
    let before = emu.fleet(|f| f.tasks.len());
    let mut tui = Tui::spawn(&sb, &["--endpoint", &ep, "--region", "ap-guangzhou"]);
    tui.settle_on("billing");
    tui.keys("/billing\r");
    tui.settle_on("1/5 instances");
    tui.keys("\r");
    tui.settle_on("SSL now: on");
    tui.keys(" "); // SSL off
    tui.keys("\r");
    tui.settle_on("Confirm change");
    tui.keys("y");
    // The request is in the emulator's hands (and delayed there).
    let deadline = Instant::now() + Duration::from_secs(20);
    while emu.fleet(|f| f.tasks.len()) == before {
        assert!(Instant::now() < deadline, "the change never arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = tui.child.process_id().expect("pid");
    let status = std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    assert_eq!(tui.wait_exit(), 129);
    let raw = tui.raw_output();
    assert!(contains(&raw, LEAVE_ALT_SCREEN), "terminal restored");
    assert!(contains(&raw, SHOW_CURSOR), "cursor shown again");

    sb.assert_one_unanswered_change("postgres-5gevh7gr");
}

#[test]
fn a_terminal_below_the_minimum_says_how_large_it_must_be() {
    let sb = Sandbox::new();
    let mut tui = Tui::spawn_sized(&sb, &[], 12, 50);
    tui.wait_for("needs at least 64x18");
    // Without credentials the TUI still starts, and Ctrl-C quits (130, as a shell's ^C).
    tui.keys("\x03");
    assert_eq!(tui.wait_exit(), 130);
}

#[test]
fn sigint_sigterm_and_sigquit_all_restore_the_terminal() {
    for (signal, code) in [("-INT", 130), ("-TERM", 143), ("-QUIT", 131)] {
        let sb = Sandbox::new();
        let mut tui = Tui::spawn(&sb, &[]);
        tui.settle_on("quit");
        let pid = tui.child.process_id().expect("pid");
        let status = std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        assert_eq!(tui.wait_exit(), code, "{signal}");
        let raw = tui.raw_output();
        assert!(
            contains(&raw, LEAVE_ALT_SCREEN),
            "{signal}: terminal restored"
        );
        assert!(contains(&raw, SHOW_CURSOR), "{signal}: cursor shown again");
    }
}

#[test]
fn quit_mid_task_warns_once_and_the_next_start_follows_it_to_the_end() {
    let emu = Emu::start(FaultArgs::default(), 6);
    let sb = imported(&emu);
    let ep = emu.endpoint();
    let args = ["--endpoint", ep.as_str(), "--region", "ap-guangzhou"];
    let mut tui = Tui::spawn_sized(&sb, &args, 40, 120);
    tui.settle_on("orders-db");
    tui.keys("/6bwgamo3\r");
    tui.settle_on("1/5 instances");
    tui.keys("\r");
    tui.settle_on("SSL now: off");
    tui.keys("\tj\r");
    tui.settle_on("Confirm change");
    tui.keys("y");
    tui.wait_for("TaskId 100017");
    tui.keys("q");
    tui.wait_for("q again to quit");
    tui.keys("q");
    assert_eq!(tui.wait_exit(), 0);
    let raw = String::from_utf8_lossy(&tui.raw_output()).into_owned();
    assert!(
        raw.contains("task 100017 on postgres-6bwgamo3 is still running"),
        "{raw}"
    );
    assert!(raw.contains("pgssl task show 100017 --wait"), "{raw}");
    let ended = |sb: &Sandbox| {
        sb.journal_lines()
            .iter()
            .any(|l| l["kind"] == "task" && l["Status"] == "Success")
    };
    assert!(!ended(&sb), "quit before the task ended");

    // The next start finds the change unfinished in the journal and follows it.
    let mut tui = Tui::spawn_sized(&sb, &args, 40, 120);
    tui.wait_for("following 1 unfinished change");
    tui.wait_for("Success 100%");
    tui.keys("q");
    assert_eq!(
        tui.wait_exit(),
        0,
        "nothing of this run is running: q quits"
    );
    assert!(ended(&sb));
    assert_eq!(
        emu.count("ModifyDBInstanceSSLConfig"),
        1,
        "nothing sent again"
    );
}
