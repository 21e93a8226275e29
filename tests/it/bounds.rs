//! Issue 19, item 7, each reproduced: a FIFO, a socket or a device where a file is
//! expected is refused at once, and a list, stdin included, has a cap.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::common::{self, Emu, Sandbox};
use pgssl_emulator::FaultArgs;

const GZ: &str = "ap-guangzhou";
const PRIMARY: &str = "postgres-6bwgamo3";
const ROLE: &str = "qcs::cam::uin/100000000001:roleName/pgssl-dba";
/// Ample for pgssl to start and refuse on a busy 2-core machine; a hang fails the test
/// after it instead of holding the suite.
const PROMPTLY: Duration = Duration::from_secs(15);

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
