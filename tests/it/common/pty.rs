//! A program in a real pseudo-terminal (the TUI, or the CLI at a prompt): keys in, the
//! screen as vt100 draws it out. Waits are on what the screen shows (with a deadline),
//! never on fixed sleeps.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

use super::Sandbox;

pub struct Pty {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Pty {
    pub fn spawn(sb: &Sandbox, args: &[&str]) -> Pty {
        Self::spawn_sized(sb, args, 24, 80)
    }

    pub fn spawn_sized(sb: &Sandbox, args: &[&str], rows: u16, cols: u16) -> Pty {
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
        Pty {
            child,
            writer,
            screen,
            raw,
            _master: pair.master,
        }
    }

    /// The process id (to send it a signal).
    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("pid")
    }

    pub fn text(&self) -> String {
        self.screen.lock().expect("screen").screen().contents()
    }

    pub fn wait_for(&self, what: &str) {
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
    pub fn settle_on(&self, what: &str) {
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

    pub fn keys(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).expect("write");
        self.writer.flush().expect("flush");
    }

    pub fn wait_exit(&mut self) -> u32 {
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

    pub fn raw_output(&self) -> Vec<u8> {
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
