//! Test harness: an in-process emulator on 127.0.0.1 (so tests can set faults and look at
//! what it received), and the built `pgssl` binary run in a sandbox of its own (HOME,
//! config and data dirs in a temp dir; no proxies; stdin not a terminal).

pub mod pty;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use pgssl_emulator::{self as emulator, EmulatorConfig, FaultArgs, Faults, Fleet, Key, Running};

/// The web identity token the test emulator accepts (TKE OIDC).
pub const OIDC_TOKEN: &str = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJwZ3NzbC10ZXN0In0.";

pub struct Emu {
    pub running: Running,
    pub log: Arc<Mutex<Vec<String>>>,
    // Declared last so the emulator is dropped while its runtime still exists.
    rt: tokio::runtime::Runtime,
}

impl Emu {
    pub fn start(faults: FaultArgs, task_seconds: i64) -> Emu {
        Self::start_with(Fleet::demo(), faults, task_seconds, None)
    }

    pub fn start_with(
        fleet: Fleet,
        faults: FaultArgs,
        task_seconds: i64,
        token: Option<&str>,
    ) -> Emu {
        Self::start_full(fleet, faults, task_seconds, token, false)
    }

    /// The emulator over https (`--tls`): its API CA is `running.api_ca_pem`.
    pub fn start_tls() -> Emu {
        Self::start_full(Fleet::demo(), FaultArgs::default(), 1, None, true)
    }

    fn start_full(
        fleet: Fleet,
        faults: FaultArgs,
        task_seconds: i64,
        token: Option<&str>,
        tls: bool,
    ) -> Emu {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = log.clone();
        let mut key = emulator::generated_key();
        key.token = token.map(pgssl::credentials::Secret::new);
        let running = rt
            .block_on(emulator::start(EmulatorConfig {
                listen: "127.0.0.1:0".parse().expect("addr"),
                fleet,
                key,
                task_seconds,
                faults: Faults::new(faults).expect("faults"),
                log: Some(Arc::new(move |line| sink.lock().expect("log").push(line))),
                tls,
                identity: emulator::IdentityArgs {
                    cvm_role: Some(emulator::identity::DEMO_CVM_ROLE.into()),
                    oidc_token: Some(OIDC_TOKEN.into()),
                    ..emulator::IdentityArgs::default()
                },
                ca: None,
            }))
            .expect("emulator starts");
        Emu { running, log, rt }
    }

    pub fn endpoint(&self) -> String {
        self.running.endpoint()
    }

    pub fn key(&self) -> &Key {
        &self.running.key
    }

    /// The ids of the fleet's instances in `region`, in fleet order.
    pub fn ids_in(&self, region: &str) -> Vec<String> {
        self.fleet(|f| {
            f.instances
                .iter()
                .filter(|i| i.Region.as_deref() == Some(region))
                .map(|i| i.id().to_string())
                .collect()
        })
    }

    /// Every API request the emulator served, typed, in order.
    pub fn served(&self) -> Vec<emulator::Served> {
        self.running.shared.served()
    }

    /// How many requests for `action` reached the emulator.
    pub fn count(&self, action: &str) -> usize {
        self.served()
            .iter()
            .filter(|s| s.action.is_some_and(|a| a.name() == action))
            .count()
    }

    /// How many requests the emulator answered with error `code`.
    pub fn refused(&self, code: &str) -> usize {
        self.served()
            .iter()
            .filter(|s| s.code.as_deref() == Some(code))
            .count()
    }

    /// The instances each ModifyDBInstanceSSLConfig that reached the emulator named, in
    /// order (an instance twice: it was sent twice).
    pub fn modified(&self) -> Vec<String> {
        self.served()
            .into_iter()
            .filter(|s| s.action == Some(pgssl::api::Action::ModifyDBInstanceSSLConfig))
            .filter_map(|s| s.instance)
            .collect()
    }

    /// The instances ModifyDBInstanceSSLConfig reached more than once.
    pub fn modified_twice(&self) -> Vec<String> {
        let mut seen = std::collections::BTreeMap::<String, usize>::new();
        for i in self.modified() {
            *seen.entry(i).or_default() += 1;
        }
        seen.into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(i, _)| i)
            .collect()
    }

    pub fn total(&self) -> usize {
        self.log.lock().expect("log").len()
    }

    pub fn fleet<T>(&self, f: impl FnOnce(&mut Fleet) -> T) -> T {
        let mut fleet = self.running.shared.fleet.lock().expect("fleet");
        f(&mut fleet)
    }

    /// A context for calling pgssl in process: the sandbox's files, this emulator, its
    /// key as a fixed credential, and `region` when given.
    pub fn context(&self, sb: &Sandbox, region: Option<String>) -> pgssl::context::Context {
        use pgssl::context::{Context, CredentialChoice, Globals};
        let mut ctx = Context::load(
            pgssl::store::Paths {
                config_dir: sb.dir.path().join("config"),
                data_dir: sb.dir.path().join("data"),
            },
            Globals {
                region,
                endpoint: Some(self.endpoint()),
                ..Default::default()
            },
        )
        .expect("context");
        let key = self.key();
        ctx.credentials = CredentialChoice::Fixed(
            pgssl::credentials::Credential::new(&key.secret_id, key.secret_key.expose(), None)
                .expect("cred"),
            pgssl::credentials::CredentialSource::Demo,
        );
        ctx
    }

    /// Run async code on the emulator's runtime (for library-level client tests).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Stand a real local PostgreSQL in for `id` (its certificate follows the instance's
    /// SSL state), wait until it is attached (60 s at most), and give the address map
    /// that sends the instance's addresses to it (PGSSL_ADDRESS_MAP's form).
    pub fn attach_pg(&self, id: &str) -> String {
        let port = emulator::pgserver::free_port().expect("port");
        let map = emulator::address_map_for(&self.running.shared.fleet(), id, port);
        let shared = self.running.shared.clone();
        let id = id.to_string();
        self.block_on(async { emulator::attach_postgres(shared, id, port) });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while self.running.shared.pg().is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "postgres stand-in never came up: {:?}",
                self.log.lock().expect("log")
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let pairs: Vec<String> = map.iter().map(|(a, to)| format!("{a}={to}")).collect();
        pairs.join(",")
    }
}

/// A sandbox for running the binary: its own HOME, config dir and data dir.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        let env = vec![
            ("HOME".to_string(), home.display().to_string()),
            (
                "PGSSL_CONFIG_DIR".to_string(),
                dir.path().join("config").display().to_string(),
            ),
            (
                "PGSSL_DATA_DIR".to_string(),
                dir.path().join("data").display().to_string(),
            ),
            // Where no credential is found, pgssl asks the CVM metadata service last: in
            // a test that is a closed loopback port, never metadata.tencentyun.com.
            (
                "PGSSL_METADATA_ENDPOINT".to_string(),
                "http://127.0.0.1:9".to_string(),
            ),
        ];
        Sandbox { dir, env }
    }

    /// A sandbox whose environment holds the emulator's key.
    pub fn for_emu(emu: &Emu) -> Sandbox {
        let mut s = Sandbox::new();
        s.set("TENCENTCLOUD_SECRET_ID", &emu.key().secret_id);
        s.set("TENCENTCLOUD_SECRET_KEY", emu.key().secret_key.expose());
        s
    }

    pub fn set(&mut self, k: &str, v: &str) {
        self.env.retain(|(key, _)| key != k);
        self.env.push((k.to_string(), v.to_string()));
    }

    pub fn config_file(&self) -> PathBuf {
        self.dir.path().join("config/config.toml")
    }

    pub fn journal_file(&self) -> PathBuf {
        self.dir.path().join("data/journal.jsonl")
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pgssl"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().expect("pgssl runs");
        Run::from(output)
    }

    /// As `run`, for what must never hang: a pgssl still running after `limit` is killed
    /// and the test fails.
    pub fn run_within(&self, args: &[&str], limit: std::time::Duration) -> Run {
        output_within(self.command(args), limit)
    }

    pub fn journal_lines(&self) -> Vec<serde_json::Value> {
        read_json_lines(&self.journal_file())
    }

    /// The journal holds one change to `instance` that was sent and never answered, and
    /// `pgssl log` calls it an unknown outcome.
    pub fn assert_one_unanswered_change(&self, instance: &str) {
        let lines = self.journal_lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["kind"], "request");
        assert_eq!(lines[0]["DBInstanceId"], instance);
        let log = self.run(&["log"]);
        assert!(
            log.stdout
                .contains("outcome unknown (interrupted before a reply)"),
            "{log:#?}"
        );
    }
}

/// Write a file as pgssl expects a credential or config file: mode 0600.
pub fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// Run `cmd` (stdout and stderr piped); fail the test, killing it, if it has not ended
/// within `limit`.
pub fn output_within(mut cmd: Command, limit: std::time::Duration) -> Run {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pgssl starts");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let Ok(output) = rx.recv_timeout(limit) else {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        panic!("pgssl was still running after {limit:?}: killed");
    };
    Run::from(output.expect("pgssl runs"))
}

/// Nothing in `text` can act on a terminal (newlines aside): every control, bidi or
/// invisible character is shown as a visible escape.
pub fn assert_safe(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| *c != '\n' && pgssl::text::is_unsafe(*c))
        .collect();
    assert!(bad.is_empty(), "{what} carries {bad:?}:\n{text}");
}

pub fn read_json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("journal line is JSON"))
        .collect()
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }

    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// The last line on stderr that starts with `error:`.
    pub fn error_line(&self) -> &str {
        self.stderr
            .lines()
            .rev()
            .find(|l| l.starts_with("error:"))
            .unwrap_or_else(|| panic!("no error line: {self:#?}"))
    }
}

/// Whether the PostgreSQL tests can run. Missing binaries fail the test with instructions,
/// unless PGSSL_SKIP_PG_TESTS=1 asks to skip (and the skip is said out loud).
pub fn pg_available() -> bool {
    if pgssl_emulator::pgserver::find_bin().is_some() {
        return true;
    }
    if std::env::var("PGSSL_SKIP_PG_TESTS").as_deref() == Ok("1") {
        eprintln!("SKIPPED: PostgreSQL binaries not found and PGSSL_SKIP_PG_TESTS=1");
        return false;
    }
    panic!(
        "PostgreSQL server binaries are needed (apt-get install postgresql, or set PGSSL_PG_BIN); set PGSSL_SKIP_PG_TESTS=1 to skip these tests"
    );
}

/// A proxy on loopback for tests: each connection's request line and headers are read,
/// the line remembered, and `serve` given the line, the client and what is left of its
/// stream. Returns its URL and the lines asked.
pub fn loopback_proxy<F>(serve: F) -> (String, Arc<Mutex<Vec<String>>>)
where
    F: Fn(&str, std::net::TcpStream, std::io::BufReader<std::net::TcpStream>)
        + Send
        + Sync
        + 'static,
{
    use std::io::BufRead;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    let serve = Arc::new(serve);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(client) = conn else { continue };
            let (seen, serve) = (seen.clone(), serve.clone());
            std::thread::spawn(move || {
                let mut reader = std::io::BufReader::new(client.try_clone().expect("clone"));
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    return;
                }
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let first = first.trim().to_string();
                seen.lock().expect("seen").push(first.clone());
                serve(&first, client, reader);
            });
        }
    });
    (url, asked)
}
