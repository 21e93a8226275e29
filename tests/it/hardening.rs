//! Issue 10's findings, each reproduced: proxies never see a loopback request, JSON output
//! is as safe as text, values from the API are checked before use, what can never work is
//! refused up front, and the loose ends.

use crate::common;

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{Emu, Sandbox, assert_safe};
use pgssl_emulator::FaultArgs;

const GZ: &str = "ap-guangzhou";
const PRIMARY: &str = "postgres-6bwgamo3";

/// A "proxy" on loopback that counts the connections it gets and what they carried.
struct FakeProxy {
    url: String,
    hits: Arc<AtomicUsize>,
    seen: Arc<std::sync::Mutex<Vec<u8>>>,
}

impl FakeProxy {
    fn start() -> FakeProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let hits = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (h, s) = (hits.clone(), seen.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                h.fetch_add(1, Ordering::SeqCst);
                let _ = conn.set_read_timeout(Some(std::time::Duration::from_millis(300)));
                let mut buf = [0u8; 4096];
                if let Ok(n) = conn.read(&mut buf) {
                    s.lock().expect("seen").extend_from_slice(&buf[..n]);
                }
                // Then hang up: a proxy that answers nothing.
            }
        });
        FakeProxy { url, hits, seen }
    }
}

#[test]
fn proxies_never_see_a_loopback_endpoint() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let proxy = FakeProxy::start();
    let mut sb = Sandbox::for_emu(&emu);
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "all_proxy",
    ] {
        sb.set(var, &proxy.url);
    }
    let ep = emu.endpoint();
    sb.run(&["--endpoint", &ep, "--region", GZ, "ssl", "show", PRIMARY])
        .ok();
    // The CA download from the emulator is loopback too.
    sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        GZ,
        "ssl",
        "ca",
        "postgres-5gevh7gr",
    ])
    .ok();
    // And the demo's in-process emulator.
    sb.run(&["--demo", "ssl", "show", PRIMARY]).ok();
    assert_eq!(
        proxy.hits.load(Ordering::SeqCst),
        0,
        "the proxy saw: {}",
        String::from_utf8_lossy(&proxy.seen.lock().expect("seen"))
    );
}

#[test]
fn json_output_is_as_safe_as_text() {
    let emu = Emu::start(FaultArgs::default(), 1);
    // C1 controls (U+009B is a one-byte CSI), DEL, bidi overrides and isolates: JSON's own
    // escaping stops at U+001F, so these would reach the terminal raw.
    let hostile = "orders\u{9b}2J\u{7f}\u{202e}gnp\u{2066}x";
    emu.fleet(|f| {
        let i = f
            .instances
            .iter_mut()
            .find(|i| i.id() == PRIMARY)
            .expect("primary");
        i.DBInstanceName = Some(hostile.into());
    });
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    // A person's name for an instance, in config.toml, is outside text too (written with
    // TOML's escapes, which decode to the same characters).
    std::fs::create_dir_all(sb.config_file().parent().expect("dir")).expect("dir");
    std::fs::write(
        sb.config_file(),
        "[instances]\nap-guangzhou = [\"postgres-5gevh7gr\"]\n\n[names]\npostgres-5gevh7gr = \"orders\\u009b2J\\u007f\\u202egnp\\u2066x\"\n",
    )
    .expect("config");
    let listed = sb.run(&["--output", "json", "instances", "list"]);
    listed.ok();
    assert_safe("instances list of a hand-edited config", &listed.stdout);
    assert!(listed.stdout.contains("\\x9b2J"), "{listed:#?}");
    for args in [
        vec![
            "--endpoint",
            ep.as_str(),
            "--region",
            GZ,
            "--output",
            "json",
            "ssl",
            "show",
            PRIMARY,
        ],
        vec![
            "--endpoint",
            ep.as_str(),
            "--region",
            GZ,
            "--output",
            "json",
            "instances",
            "list",
            "--remote",
        ],
        vec![
            "--endpoint",
            ep.as_str(),
            "--region",
            GZ,
            "instances",
            "import",
        ],
        vec!["--output", "json", "instances", "list"],
    ] {
        let r = sb.run(&args);
        r.ok();
        assert_safe(&format!("stdout of {args:?}"), &r.stdout);
        assert_safe(&format!("stderr of {args:?}"), &r.stderr);
        if args.contains(&"json") {
            // Still valid JSON, and the information is there as visible escapes.
            let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
            assert!(v.to_string().contains("\\\\x9b2J"), "{v}");
        }
    }
}

#[test]
fn an_address_from_the_api_that_is_not_an_ip_is_never_offered_or_sent() {
    let emu = Emu::start(FaultArgs::default(), 1);
    emu.fleet(|f| {
        let i = f
            .instances
            .iter_mut()
            .find(|i| i.id() == PRIMARY)
            .expect("primary");
        for n in i.DBInstanceNetInfo.as_mut().expect("nets") {
            if n.NetType.as_deref() == Some("private") {
                n.Ip = Some("10.66.0.1\u{1b}[2J\u{202e}".into());
            }
        }
    });
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let show = sb.run(&["--endpoint", &ep, "--region", GZ, "ssl", "show", PRIMARY]);
    show.ok();
    assert_safe("ssl show", &show.stdout);
    assert!(
        show.stdout
            .contains("unusable: private '10.66.0.1\\x1b[2J\\u{202e}' is not an IP address"),
        "{show:#?}"
    );
    // The keyword finds no usable private address: refused, nothing sent.
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        GZ,
        "ssl",
        "enable",
        PRIMARY,
        "--address",
        "private",
        "--yes",
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("has no private address"), "{r:#?}");
    // Nor can its display form be typed back.
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        GZ,
        "ssl",
        "enable",
        PRIMARY,
        "--address",
        "10.66.0.1",
        "--yes",
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
}

#[test]
fn what_can_never_work_is_refused_up_front_and_nothing_is_sent() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    // A region with a trailing newline or an ideographic space is the region, trimmed,
    // everywhere it is used: the dry run's header carries the clean name.
    for region in ["ap-guangzhou\n", "ap-guangzhou\u{3000}"] {
        let r = sb.run(&[
            "--endpoint",
            &ep,
            "--region",
            region,
            "ssl",
            "disable",
            "postgres-5gevh7gr",
            "--dry-run",
        ]);
        r.ok();
        assert!(r.stdout.contains("X-TC-Region: ap-guangzhou\n"), "{r:#?}");
    }
    let reads = emu.total();
    for endpoint in [
        "https://:443",
        "https://-",
        "https://a..b:443",
        "https://x.com:0",
    ] {
        let r = sb.run(&[
            "--endpoint",
            endpoint,
            "--region",
            GZ,
            "ssl",
            "show",
            PRIMARY,
        ]);
        assert_eq!(r.code, 2, "{endpoint}: {r:#?}");
        assert_eq!(r.stderr.matches("error:").count(), 1, "{r:#?}");
        assert!(
            r.error_line().contains("does not name a host") || r.error_line().contains("port"),
            "{r:#?}"
        );
    }
    assert_eq!(emu.total(), reads, "nothing was sent");
}

#[test]
fn local_paths_are_sanitized_in_errors_and_lines() {
    let mut sb = Sandbox::new();
    let evil = sb.dir.path().join("cfg\u{1b}[2J\u{202e}");
    std::fs::create_dir_all(&evil).expect("dir");
    std::fs::write(evil.join("config.toml"), "regions = [\n").expect("broken config");
    sb.set("PGSSL_CONFIG_DIR", evil.to_str().expect("utf-8"));
    let r = sb.run(&["instances", "list"]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert_safe("the error", &r.stderr);
    assert!(r.stderr.contains("cfg\\x1b[2J\\u{202e}"), "{r:#?}");
    let data = sb.dir.path().join("data\u{9b}31m");
    sb.set(
        "PGSSL_CONFIG_DIR",
        sb.dir.path().join("config").to_str().expect("utf-8"),
    );
    sb.set("PGSSL_DATA_DIR", data.to_str().expect("utf-8"));
    let r = sb.run(&["log"]);
    r.ok();
    assert_safe("log", &r.stderr);
    assert!(r.stderr.contains("data\\x9b31m"), "{r:#?}");
}

#[test]
fn the_emulator_refuses_an_empty_fleet_and_takes_its_key_out_of_sight() {
    let sb = Sandbox::new();
    for (name, text) in [
        ("empty.json", "[]"),
        ("nested.json", "[[],[]]"),
        ("none.json", "{\"DBInstanceSet\": []}"),
    ] {
        let path = sb.dir.path().join(name);
        std::fs::write(&path, text).expect("fleet");
        let r = sb.run(&["emulator", "--fleet", path.to_str().expect("utf-8")]);
        assert_eq!(r.code, 2, "{name}: {r:#?}");
        assert!(r.error_line().contains(name), "names the file: {r:#?}");
    }
    // The key from a file: a wrong one is refused at once, before anything listens.
    let key = sb.dir.path().join("key");
    std::fs::write(&key, "  padded  \n").expect("key");
    let r = sb.run(&[
        "emulator",
        "--secret-id",
        "AKIDtest",
        "--secret-key-file",
        key.to_str().expect("utf-8"),
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("surrounding spaces"), "{r:#?}");
    let r = sb.run(&["emulator", "--secret-id", "AKIDtest"]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line().contains("PGSSL_EMULATOR_SECRET_KEY"),
        "{r:#?}"
    );
    let help = sb.run(&["emulator", "--help"]);
    assert!(
        help.stdout.contains("PGSSL_EMULATOR_SECRET_KEY")
            && help.stdout.contains("--secret-key-file"),
        "{help:#?}"
    );
}

#[test]
fn the_emulator_takes_its_key_from_the_environment() {
    use std::io::BufRead;
    let sb = Sandbox::new();
    let key = "envKeyNeverOnTheCommandLine00001";
    let mut child = sb
        .command(&[
            "emulator",
            "--secret-id",
            "AKIDenvkeytest0000000000000000000000",
        ])
        .env("PGSSL_EMULATOR_SECRET_KEY", key)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("emulator");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("line");
    let endpoint = first
        .trim()
        .rsplit(' ')
        .next()
        .expect("endpoint")
        .to_string();
    let mut sb = sb;
    sb.set(
        "TENCENTCLOUD_SECRET_ID",
        "AKIDenvkeytest0000000000000000000000",
    );
    sb.set("TENCENTCLOUD_SECRET_KEY", key);
    let r = sb.run(&[
        "--endpoint",
        &endpoint,
        "--region",
        GZ,
        "ssl",
        "show",
        PRIMARY,
    ]);
    let _ = child.kill();
    let _ = child.wait();
    r.ok();
}

#[test]
fn temp_files_of_a_killed_writer_are_removed_under_the_lock() {
    let sb = Sandbox::new();
    let dir = sb.dir.path().join("config");
    std::fs::create_dir_all(&dir).expect("dir");
    let stale = dir.join(".config.toml.tmp.4242.deadbeef");
    std::fs::write(&stale, "half a config").expect("stale");
    let other = dir.join("notes.txt");
    std::fs::write(&other, "mine").expect("other");
    sb.run(&["regions", "add", "ap-seoul"]).ok();
    assert!(!stale.exists(), "the stale temp file is gone");
    assert!(other.exists(), "nothing else is touched");
}

#[test]
fn a_path_that_is_not_utf8_is_shown_not_a_panic() {
    use std::os::unix::ffi::OsStrExt;
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let out = sb
        .dir
        .path()
        .join(std::ffi::OsStr::from_bytes(b"ca\xff.pem"));
    let mut cmd = sb.command(&[
        "--endpoint",
        &ep,
        "--region",
        GZ,
        "--output",
        "json",
        "ssl",
        "ca",
        "postgres-5gevh7gr",
        "--out",
    ]);
    cmd.arg(&out);
    let r = common::Run::from(cmd.output().expect("runs"));
    r.ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert!(
        v["out"].as_str().expect("out").contains("ca\u{fffd}.pem"),
        "{v}"
    );
    assert!(out.exists());
}
