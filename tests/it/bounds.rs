//! Issue 19, item 7 and its untrusted text, each reproduced: every reply pgssl reads has a
//! size cap, every wait a deadline; a FIFO, a socket or a device where a file is expected
//! is refused at once; a list, stdin included, has a cap; temp files a killed writer left
//! are removed; one audit result has one exit code whatever the format; clap's errors
//! and the emulator's lines show a hostile argument as visible escapes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::common::{self, Emu, OIDC_TOKEN, Sandbox, assert_safe};
use pgssl_emulator::FaultArgs;

const GZ: &str = "ap-guangzhou";
const PRIMARY: &str = "postgres-6bwgamo3";
const ROLE: &str = "qcs::cam::uin/100000000001:roleName/pgssl-dba";
/// Ample for pgssl to start and refuse on a busy 2-core machine; a hang fails the test
/// after it instead of holding the suite.
const PROMPTLY: Duration = Duration::from_secs(15);

#[derive(Clone, Copy)]
enum Answer {
    /// 200 and a body that never ends.
    Endless,
    /// Takes the request and says nothing, the connection held open.
    Never,
}

/// An HTTP server on loopback answering every request the same way: its URL, and how
/// many connections it took.
fn server(answer: Answer) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let taken = Arc::new(AtomicUsize::new(0));
    let counter = taken.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut head = [0u8; 16 << 10];
                let _ = conn.read(&mut head);
                match answer {
                    // Until pgssl hangs up.
                    Answer::Never => {
                        let _ = conn.read_to_end(&mut Vec::new());
                    }
                    Answer::Endless => {
                        let _ = conn.write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"Response\":{\"RequestId\":\"",
                        );
                        let chunk = vec![b'a'; 64 << 10];
                        while conn.write_all(&chunk).is_ok() {}
                    }
                }
            });
        }
    });
    (url, taken)
}

/// Exactly one line on stderr says what went wrong, and it contains each of `words`.
fn assert_refused(r: &common::Run, words: &[&str]) {
    assert_ne!(r.code, 0, "{r:#?}");
    assert_eq!(r.stderr.matches("error:").count(), 1, "{r:#?}");
    let line = r.error_line();
    for w in words {
        assert!(line.contains(w), "{w:?} not in {line:?}");
    }
}

fn mkfifo(path: &Path) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("dir");
    }
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo {}", path.display());
}

/// `pgssl --endpoint ENDPOINT --region ap-guangzhou ssl show PRIMARY`.
fn show(endpoint: &str) -> Vec<&str> {
    vec![
        "--endpoint",
        endpoint,
        "--region",
        GZ,
        "ssl",
        "show",
        PRIMARY,
    ]
}

/// `show`, signed with the CVM's role (from the metadata service).
fn show_with_cvm_role(endpoint: &str) -> Vec<&str> {
    let mut args = vec!["--use-cvm-role"];
    args.extend(show(endpoint));
    args
}

/// A process id no process can have (past the kernel's pid_max): a writer killed long ago.
fn dead_pid() -> u64 {
    std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .expect("pid_max")
        .trim()
        .parse::<u64>()
        .expect("a number")
        + 1
}

#[test]
fn a_huge_reply_from_metadata_sts_or_the_api_stops_at_its_cap() {
    let (endless, _) = server(Answer::Endless);
    // The CVM role's metadata service (the hostile run grew pgssl to 1.3 GB here).
    let mut sb = Sandbox::new();
    sb.set("PGSSL_METADATA_ENDPOINT", &endless);
    let r = sb.run_within(&show_with_cvm_role(&endless), PROMPTLY);
    assert_refused(&r, &["metadata service", "larger than 64 KiB"]);
    // STS, assuming a role with the environment's keys.
    let emu = Emu::start(FaultArgs::default(), 1);
    let mut sb = Sandbox::for_emu(&emu);
    sb.set("TENCENTCLOUD_ROLE_ARN", ROLE);
    sb.set("TENCENTCLOUD_ROLE_SESSION_NAME", "pgssl-test");
    sb.set("PGSSL_STS_ENDPOINT", &endless);
    let ep = emu.endpoint();
    let r = sb.run_within(&show(&ep), PROMPTLY);
    assert_refused(&r, &["AssumeRole", "larger than 8 MiB"]);
    // The API itself.
    let mut sb = Sandbox::for_emu(&emu);
    sb.set("PGSSL_STS_ENDPOINT", &emu.endpoint());
    let r = sb.run_within(&show(&endless), PROMPTLY);
    assert_refused(&r, &["DescribeDBInstance", "larger than 8 MiB"]);
    assert_eq!(emu.count("DescribeDBInstanceSSLConfig"), 0);
}

#[test]
fn sts_oidc_and_metadata_that_never_answer_are_given_up_on_saying_when() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let ep = emu.endpoint();
    // AssumeRole (the hostile run waited 364 s: 30 s, four tries, for each request).
    let (never, asked) = server(Answer::Never);
    let mut sb = Sandbox::for_emu(&emu);
    sb.set("TENCENTCLOUD_ROLE_ARN", ROLE);
    sb.set("TENCENTCLOUD_ROLE_SESSION_NAME", "pgssl-test");
    sb.set("PGSSL_STS_ENDPOINT", &never);
    sb.set("PGSSL_STS_TIMEOUT", "0.6");
    let r = sb.run_within(&show(&ep), PROMPTLY);
    assert_refused(&r, &["AssumeRole", "no reply within 0.6 s"]);
    // STS's two tries, once: the command's later requests do not wait for it again.
    assert_eq!(asked.load(Ordering::SeqCst), 2);
    // TKE OIDC.
    let (never, _) = server(Answer::Never);
    let mut sb = Sandbox::new();
    let token = sb.dir.path().join("token");
    std::fs::write(&token, OIDC_TOKEN).expect("token");
    sb.set("TKE_REGION", GZ);
    sb.set("TKE_PROVIDER_ID", "pgssl-demo-oidc");
    sb.set(
        "TKE_WEB_IDENTITY_TOKEN_FILE",
        token.to_str().expect("utf-8"),
    );
    sb.set("TKE_ROLE_ARN", ROLE);
    sb.set("PGSSL_STS_ENDPOINT", &never);
    sb.set("PGSSL_STS_TIMEOUT", "0.3");
    let r = sb.run_within(&show(&ep), PROMPTLY);
    assert_refused(&r, &["AssumeRoleWithWebIdentity", "no reply within 0.3 s"]);
    // The metadata service keeps its own short wait (2 s), says it, and is waited for
    // once (it was three times, once per request).
    let (never, asked) = server(Answer::Never);
    let mut sb = Sandbox::new();
    sb.set("PGSSL_METADATA_ENDPOINT", &never);
    let r = sb.run_within(&show_with_cvm_role(&ep), PROMPTLY);
    assert_refused(&r, &["metadata service", "no answer within 2 s"]);
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    assert_eq!(
        emu.count("DescribeDBInstanceSSLConfig"),
        0,
        "nothing was read"
    );
}

#[test]
fn a_list_from_a_device_or_an_endless_stdin_is_refused_at_its_cap() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let r = sb.run_within(
        &["ssl", "disable", "--from", "/dev/zero", "--endpoint", &ep],
        PROMPTLY,
    );
    assert_eq!(r.code, 2, "{r:#?}");
    assert_refused(
        &r,
        &["--from /dev/zero", "a character device", "nothing was sent"],
    );
    // stdin: more than any list of instances.
    let mut child = sb
        .command(&["ssl", "disable", "--from", "-", "--endpoint", &ep])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pgssl");
    let mut stdin = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || {
        let lines = "postgres-aaaa1111\n".repeat(1 << 16);
        // pgssl stops reading at its cap: the pipe breaks then.
        for _ in 0..20 {
            if stdin.write_all(lines.as_bytes()).is_err() {
                break;
            }
        }
    });
    let r = common::Run::from(child.wait_with_output().expect("runs"));
    let _ = feeder.join();
    assert_eq!(r.code, 2, "{r:#?}");
    assert_refused(&r, &["--from -", "larger than 16 MiB"]);
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
}

/// A tccli profile `default` holding the emulator's key, in `sb`'s home.
fn tccli_profile(sb: &Sandbox, emu: &Emu) -> PathBuf {
    let dir = sb.home().join(".tccli");
    std::fs::create_dir_all(&dir).expect("dir");
    let cred = dir.join("default.credential");
    std::fs::write(
        &cred,
        serde_json::json!({
            "secretId": emu.key().secret_id,
            "secretKey": emu.key().secret_key.expose(),
        })
        .to_string(),
    )
    .expect("credential");
    dir
}

#[test]
fn a_credential_file_that_is_a_fifo_is_refused_at_once() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let ep = emu.endpoint();
    let show = show(&ep);
    // tccli's credential file.
    let sb = Sandbox::new();
    mkfifo(&sb.home().join(".tccli/default.credential"));
    let r = sb.run_within(&show, PROMPTLY);
    assert_eq!(r.code, 2, "{r:#?}");
    assert_refused(&r, &["default.credential", "FIFO"]);
    // tccli's configure file beside a good credential file.
    let sb = Sandbox::new();
    let dir = tccli_profile(&sb, &emu);
    mkfifo(&dir.join("default.configure"));
    let r = sb.run_within(&show, PROMPTLY);
    assert_eq!(r.code, 2, "{r:#?}");
    assert_refused(&r, &["default.configure", "FIFO"]);
    // The SDKs' credentials file.
    let mut sb = Sandbox::new();
    let fifo = sb.dir.path().join("credentials");
    mkfifo(&fifo);
    sb.set(
        "TENCENTCLOUD_CREDENTIALS_FILE",
        fifo.to_str().expect("utf-8"),
    );
    let r = sb.run_within(&show, PROMPTLY);
    assert_eq!(r.code, 2, "{r:#?}");
    assert_refused(&r, &["credentials", "FIFO"]);
    // The TKE OIDC token file, read when the key is first needed.
    let mut sb = Sandbox::new();
    let fifo = sb.dir.path().join("token");
    mkfifo(&fifo);
    sb.set("TKE_REGION", GZ);
    sb.set("TKE_PROVIDER_ID", "pgssl-demo-oidc");
    sb.set("TKE_WEB_IDENTITY_TOKEN_FILE", fifo.to_str().expect("utf-8"));
    sb.set("TKE_ROLE_ARN", ROLE);
    sb.set("PGSSL_STS_ENDPOINT", &ep);
    let r = sb.run_within(&show, PROMPTLY);
    assert_eq!(r.code, 2, "{r:#?}");
    assert_refused(&r, &["TKE_WEB_IDENTITY_TOKEN_FILE", "FIFO"]);
    assert_eq!(emu.total(), 0, "nothing was sent");
}

#[test]
fn pgssls_own_files_that_are_fifos_are_refused_at_once() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let ep = emu.endpoint();
    // config.toml.
    let sb = Sandbox::for_emu(&emu);
    mkfifo(&sb.config_file());
    let r = sb.run_within(&["regions", "list"], PROMPTLY);
    assert_eq!(r.code, 2, "{r:#?}");
    assert_refused(&r, &["config.toml", "FIFO"]);
    // inventory.json: said, and never replaced by what pgssl learns.
    let sb = Sandbox::for_emu(&emu);
    let inventory = sb.dir.path().join("data/inventory.json");
    mkfifo(&inventory);
    let r = sb.run_within(&["instances", "list"], PROMPTLY);
    assert!(
        r.stderr.contains("inventory.json") && r.stderr.contains("FIFO"),
        "{r:#?}"
    );
    // regions.json, a cache: passed over.
    let sb = Sandbox::for_emu(&emu);
    mkfifo(&sb.dir.path().join("data/regions.json"));
    sb.run_within(&["regions", "list"], PROMPTLY).ok();
    // A run file, for `ssl resume`.
    let sb = Sandbox::for_emu(&emu);
    let run = sb.dir.path().join("data/runs/20261202T000000Z-abcd.json");
    mkfifo(&run);
    let r = sb.run_within(&["--endpoint", &ep, "ssl", "resume"], PROMPTLY);
    assert_refused(&r, &["20261202T000000Z-abcd.json", "FIFO"]);
    // --from, and a CA file.
    let fifo = sb.dir.path().join("list");
    mkfifo(&fifo);
    let fifo = fifo.to_str().expect("utf-8");
    let r = sb.run_within(
        &["ssl", "disable", "--from", fifo, "--endpoint", &ep],
        PROMPTLY,
    );
    assert_eq!(r.code, 2, "{r:#?}");
    assert_refused(&r, &["--from", "FIFO"]);
    let r = sb.run_within(
        &[
            "--endpoint",
            &ep,
            "--region",
            GZ,
            "verify",
            "postgres-5gevh7gr",
            "--ca",
            fifo,
        ],
        PROMPTLY,
    );
    assert_eq!(r.code, 2, "{r:#?}");
    assert_refused(&r, &["list", "FIFO"]);
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
    // The demo's saved state and key: said, and the demo starts from its fleet.
    let mut sb = Sandbox::new();
    let demo = sb.dir.path().join("demo");
    mkfifo(&demo.join("emulator-state.json"));
    mkfifo(&demo.join("emulator-key.json"));
    sb.set("PGSSL_DEMO_DIR", demo.to_str().expect("utf-8"));
    let r = sb.run_within(&["--demo", "ssl", "show", PRIMARY], PROMPTLY);
    r.ok();
    assert!(r.stderr.contains("FIFO"), "{r:#?}");
}

#[test]
fn the_emulators_files_that_are_fifos_are_refused_at_once() {
    let sb = Sandbox::new();
    let fifo = sb.dir.path().join("fleet.json");
    mkfifo(&fifo);
    let fifo = fifo.to_str().expect("utf-8");
    let r = sb.run_within(&["emulator", "--fleet", fifo], PROMPTLY);
    assert_eq!(r.code, 2, "{r:#?}");
    assert_refused(&r, &["fleet.json", "FIFO"]);
    let r = sb.run_within(
        &[
            "emulator",
            "--secret-id",
            "AKIDtest",
            "--secret-key-file",
            fifo,
        ],
        PROMPTLY,
    );
    assert_eq!(r.code, 2, "{r:#?}");
    assert_refused(&r, &["--secret-key-file", "FIFO"]);
}

#[test]
fn temp_files_a_killed_writer_left_are_removed() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let data = sb.dir.path().join("data");
    let runs = data.join("runs");
    std::fs::create_dir_all(&runs).expect("runs");
    let dead = dead_pid();
    let mine = std::process::id();
    // What a kill -9 mid-write leaves: in runs/, and beside the journal's index.
    let stale = [
        runs.join(format!(".20261201T000000Z-dead.json.tmp.{dead}.1f")),
        data.join(format!(".journal.pending.json.tmp.{dead}.2f")),
    ];
    // A live writer's temp file is its own business; an hour-old one is nobody's.
    let live = runs.join(format!(".20261201T000000Z-live.json.tmp.{mine}.3f"));
    let old = runs.join(format!(".20261201T000000Z-old.json.tmp.{mine}.4f"));
    let other = runs.join("notes.txt");
    for f in stale.iter().chain([&live, &old, &other]) {
        std::fs::write(f, "half").expect("write");
    }
    std::fs::File::options()
        .write(true)
        .open(&old)
        .expect("open")
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
        .expect("mtime");
    let list = sb.dir.path().join("list.txt");
    std::fs::write(&list, "postgres-5gevh7gr\n").expect("list");
    let ep = emu.endpoint();
    let r = sb.run(&[
        "--region",
        "eu-frankfurt",
        "ssl",
        "disable",
        "--from",
        list.to_str().expect("utf-8"),
        "--yes",
        "--poll",
        "0.2",
        "--endpoint",
        &ep,
    ]);
    r.ok();
    for f in stale.iter().chain([&old]) {
        assert!(!f.exists(), "{f:?} is gone");
    }
    assert!(live.exists() && other.exists(), "nothing else is touched");
    // The demo's state, kept by the demo's owner.
    let mut sb = Sandbox::new();
    let demo = sb.dir.path().join("demo");
    std::fs::create_dir_all(&demo).expect("demo");
    let stale = demo.join(format!(".emulator-state.json.tmp.{dead}.5f"));
    std::fs::write(&stale, "half").expect("write");
    sb.set("PGSSL_DEMO_DIR", demo.to_str().expect("utf-8"));
    sb.run(&["--demo", "ssl", "show", PRIMARY]).ok();
    assert!(!stale.exists(), "{stale:?} is gone");
}

#[test]
fn one_audit_result_has_one_exit_code_whatever_the_format() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let mut sb = Sandbox::for_emu(&emu);
    // The instances with SSL on (eu-frankfurt's protects 192.0.2.44, ap-guangzhou's
    // 10.6.1.21): their live checks go to a closed loopback port instead, never to those
    // addresses, and cannot be made.
    sb.set(
        "PGSSL_ADDRESS_MAP",
        "192.0.2.44=127.0.0.1:9,10.6.1.21=127.0.0.1:9",
    );
    let ep = emu.endpoint();
    // Something unchecked only: 3. Findings and something unchecked: 1 (the finding is
    // known; what could not be checked cannot undo it).
    for (region, code) in [("eu-frankfurt", 3), ("ap-guangzhou", 1)] {
        for output in ["text", "json", "csv"] {
            let r = sb.run(&[
                "--endpoint",
                &ep,
                "--region",
                region,
                "--output",
                output,
                "audit",
                "--verify",
            ]);
            assert_eq!(r.code, code, "{region} {output}: {r:#?}");
            assert!(r.stdout.contains("unchecked"), "{region} {output}: {r:#?}");
            if output == "json" {
                assert_eq!(r.json()["exit_code"], code, "{r:#?}");
            }
        }
    }
}

#[test]
fn clap_errors_show_a_hostile_argument_as_visible_escapes() {
    let sb = Sandbox::new();
    for (args, shown) in [
        (
            vec!["verify", PRIMARY, "--via", "\u{1b}]0;x\u{7}"],
            "\\x1b]0;x\\x07",
        ),
        (
            vec!["ssl", "enable", PRIMARY, "--wait", "--timeout", "\u{9b}31m"],
            "\\x9b31m",
        ),
        (
            vec!["ssl", "show", "--x\u{202e}\u{1b}[2J"],
            "--x\\u{202e}\\x1b[2J",
        ),
    ] {
        let r = sb.run(&args);
        assert_eq!(r.code, 2, "{args:?}: {r:#?}");
        assert_safe(&format!("{args:?}"), &r.all());
        assert!(r.stderr.contains(shown), "{args:?}: {r:#?}");
        assert!(r.stderr.starts_with("error:"), "{r:#?}");
    }
    // Help and version are no errors, and unchanged.
    let r = sb.run(&["--help"]);
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(r.stdout.contains("Usage:"), "{r:#?}");
    let r = sb.run(&["--version"]);
    assert_eq!(r.code, 0, "{r:#?}");
}

#[test]
fn the_emulator_shows_a_hostile_ca_path_as_visible_escapes() {
    let sb = Sandbox::new();
    let out = sb.dir.path().join("ca\u{1b}]0;x\u{7}\u{202e}.pem");
    let mut child = sb
        .command(&[
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--tls",
            "--tls-ca-out",
            out.to_str().expect("utf-8"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("emulator");
    let lines = BufReader::new(child.stdout.take().expect("stdout"));
    let said = lines
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("its certificate is signed by"));
    let _ = child.kill();
    let _ = child.wait();
    let said = said.expect("the CA line");
    assert_safe("the CA line", &said);
    assert!(said.contains("ca\\x1b]0;x\\x07\\u{202e}.pem"), "{said}");
    assert!(out.exists(), "the CA is written where asked");
}

#[test]
fn a_journal_that_is_a_fifo_or_a_device_is_refused_at_once() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let journal = sb.journal_file();
    std::fs::create_dir_all(journal.parent().expect("data dir")).expect("data dir");
    let limit = std::time::Duration::from_secs(20);
    mkfifo(&journal);
    for args in [&["log"][..], &["log", "--limit", "3"][..]] {
        let r = sb.run_within(args, limit);
        assert_eq!(r.code, 1, "{args:?}: {r:#?}");
        assert!(
            r.error_line().contains("it is a FIFO, not a regular file"),
            "{r:#?}"
        );
    }
    // A change is refused before it is sent: its journal record cannot be written.
    let ep = emu.endpoint();
    let r = sb.run_within(
        &[
            "--endpoint",
            &ep,
            "--region",
            "ap-guangzhou",
            "ssl",
            "enable",
            "postgres-6bwgamo3",
            "--address",
            "private",
            "--yes",
        ],
        limit,
    );
    assert_ne!(r.code, 0, "{r:#?}");
    assert_eq!(
        emu.count("ModifyDBInstanceSSLConfig"),
        0,
        "nothing sent: {r:#?}"
    );
    std::fs::remove_file(&journal).expect("remove the FIFO");
    std::os::unix::fs::symlink("/dev/zero", &journal).expect("symlink");
    let r = sb.run_within(&["log"], limit);
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.error_line().contains("it is a character device"),
        "{r:#?}"
    );
}
