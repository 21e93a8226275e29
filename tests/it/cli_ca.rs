//! The CA as Tencent ships it (issue 20, item 2), end to end against the emulator: the
//! cloud-disk fields first, CAUrl as PEM, DER or the console's zip, `ssl ca --format`,
//! `--ca` in any form, and a CAUrl over plain http from another host never trusted
//! silently (reached through a plain-HTTP forward proxy on loopback, as a real one
//! would be through HTTP_PROXY; nothing leaves 127.0.0.0/8).

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use crate::common::{Emu, Sandbox};
use pgssl_emulator::FaultArgs;
use pgssl_emulator::ca::{CaArgs, CaForm, CaInline};
use pgssl_wire::cafile;

/// SSL on in the demo fleet, protecting 10.6.1.21.
const ON: &str = "postgres-5gevh7gr";
const OFF: &str = "postgres-6bwgamo3";
const GZ: &str = "ap-guangzhou";
const NAME: &str = "pgssl-emulator.invalid";

fn run(sb: &Sandbox, emu: &Emu, rest: &[&str]) -> crate::common::Run {
    let ep = emu.endpoint();
    let mut args = vec!["--endpoint", ep.as_str(), "--region", GZ];
    args.extend_from_slice(rest);
    sb.run(&args)
}

/// `ssl enable ID --address private --wait --verify`.
fn enable_and_verify(sb: &Sandbox, emu: &Emu, id: &str) -> crate::common::Run {
    let args = [
        "ssl",
        "enable",
        id,
        "--address",
        "private",
        "--yes",
        "--wait",
        "--poll",
        "0.2",
        "--verify",
    ];
    run(sb, emu, &args)
}

fn serve(emu: &Emu, ca: CaArgs) {
    emu.running.shared.set_ca_serving(ca);
}

/// The emulator's CA, DER.
fn emulator_ca(emu: &Emu) -> Vec<u8> {
    emu.running.shared.ca.cert_der()
}

fn kept_path(sb: &Sandbox, id: &str) -> std::path::PathBuf {
    sb.dir.path().join(format!("data/ca/{id}.pem"))
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("meta").permissions().mode() & 0o777
}

/// An address map that sends every address of the instance to a closed loopback port:
/// should a check ever run, it reaches nothing outside this machine.
fn dead_end(sb: &mut Sandbox) {
    let port = pgssl_emulator::pgserver::free_port().expect("port");
    sb.set(
        "PGSSL_ADDRESS_MAP",
        &format!("10.6.1.21=127.0.0.1:{port},10.6.0.4=127.0.0.1:{port}"),
    );
}

#[test]
fn the_inline_field_comes_first_in_either_encoding() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    for form in [CaInline::Pem, CaInline::Base64] {
        serve(
            &emu,
            CaArgs {
                ca_inline: Some(form),
                ..CaArgs::default()
            },
        );
        let before = emu.running.shared.ca_downloads();
        let j = run(&sb, &emu, &["--output", "json", "ssl", "ca", ON]).json();
        assert_eq!(j["source"], "inline", "{j}");
        assert_eq!(j["field"], "CACert");
        assert_eq!(j["authenticated"], true);
        assert_eq!(
            emu.running.shared.ca_downloads(),
            before,
            "CAUrl was not fetched"
        );
        let kept = std::fs::read(kept_path(&sb, ON)).expect("kept");
        assert_eq!(
            cafile::decode(&kept).expect("pem").certs,
            vec![emulator_ca(&emu)]
        );
        assert_eq!(mode(&kept_path(&sb, ON)), 0o600);
    }
    // SSL off: the fields are "" and there is no CA, as before.
    let r = run(&sb, &emu, &["ssl", "ca", OFF]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("no CA until SSL is on"), "{r:#?}");
}

#[test]
fn caurl_as_der_or_the_console_zip_and_every_format_written() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let want = vec![emulator_ca(&emu)];
    for (form, shown) in [(CaForm::Der, "DER"), (CaForm::Zip, "zip")] {
        serve(
            &emu,
            CaArgs {
                ca_form: form,
                ..CaArgs::default()
            },
        );
        let r = run(&sb, &emu, &["ssl", "ca", ON]);
        r.ok();
        assert!(r.stdout.contains(&format!("({shown})")), "{r:#?}");
        assert!(r.stdout.contains("kept at "), "{r:#?}");
        let kept = std::fs::read_to_string(kept_path(&sb, ON)).expect("kept");
        assert!(
            kept.starts_with("-----BEGIN CERTIFICATE-----"),
            "kept as PEM"
        );
    }
    // What application teams need, each read back by the same reader a --ca file uses.
    for (format, starts) in [
        ("pem", &b"-----BEGIN CERTIFICATE-----"[..]),
        ("p7b", &[0x30][..]),
        ("jks", &[0xfe, 0xed, 0xfe, 0xed][..]),
    ] {
        let out = sb.dir.path().join(format!("app.{format}"));
        let out_s = out.to_str().expect("utf-8");
        let r = run(
            &sb,
            &emu,
            &["ssl", "ca", ON, "--out", out_s, "--format", format],
        );
        r.ok();
        assert!(
            r.stdout.contains(&format!("written to {out_s} ({format}")),
            "{r:#?}"
        );
        let bytes = std::fs::read(&out).expect("written");
        assert!(bytes.starts_with(starts), "{format}");
        let d = cafile::decode(&bytes).expect("reads");
        assert_eq!(d.certs, want, "{format}");
        assert_eq!(mode(&out), 0o600, "{format}");
    }
    assert!(
        run(
            &sb,
            &emu,
            &["ssl", "ca", ON, "--out", "x", "--format", "pfx"]
        )
        .code
            == 2,
        "an unknown format is bad input"
    );
}

#[test]
fn a_ca_file_in_any_form_is_taken_and_junk_is_one_line() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let mut sb = Sandbox::for_emu(&emu);
    dead_end(&mut sb);
    let certs = vec![emulator_ca(&emu)];
    for (name, bytes) in [
        ("ca.zip", cafile::to_console_zip(&certs, 0)),
        ("ca.jks", cafile::to_jks(&certs, 0)),
        ("ca.p7b", cafile::to_p7b(&certs)),
        ("ca.cer", certs[0].clone()),
    ] {
        let path = sb.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        // The CA reads, so the check goes on to connect: nothing listens (exit 3).
        let r = run(
            &sb,
            &emu,
            &["verify", ON, "--ca", path.to_str().expect("utf-8")],
        );
        assert_eq!(r.code, 3, "{name}: {r:#?}");
        assert!(r.error_line().contains("could not reach"), "{name}: {r:#?}");
    }
    let junk = sb.dir.path().join("junk.zip");
    // 4 MiB that deflate to a few KiB: refused from the entry's size, never inflated.
    let bomb = cafile::zip::write(&[("x.pem", &vec![b'A'; 4 << 20])]);
    std::fs::write(&junk, &bomb).expect("write");
    let r = run(
        &sb,
        &emu,
        &["verify", ON, "--ca", junk.to_str().expect("utf-8")],
    );
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("would inflate"), "{r:#?}");
    assert_eq!(
        r.stderr
            .trim()
            .lines()
            .filter(|l| l.starts_with("error"))
            .count(),
        1
    );
}

/// A plain-HTTP forward proxy on loopback: forwards `GET http://NAME:PORT/...` to
/// 127.0.0.1:PORT, answers 502 for any other host (never connecting anywhere else),
/// and remembers each request line.
fn forward_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    crate::common::loopback_proxy(|first, mut client, _| {
        let target = first.split_whitespace().nth(1).unwrap_or("");
        let prefix = format!("http://{NAME}:");
        let Some((port, path)) = target
            .strip_prefix(&prefix)
            .and_then(|rest| rest.split_once('/'))
        else {
            let _ = client.write_all(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            return;
        };
        let Ok(mut upstream) = std::net::TcpStream::connect(format!("127.0.0.1:{port}")) else {
            return;
        };
        let request =
            format!("GET /{path} HTTP/1.1\r\nHost: {NAME}:{port}\r\nConnection: close\r\n\r\n");
        if upstream.write_all(request.as_bytes()).is_err() {
            return;
        }
        let mut reply = Vec::new();
        let _ = upstream.read_to_end(&mut reply);
        let _ = client.write_all(&reply);
    })
}

#[test]
fn plain_http_from_another_host_is_never_trusted_silently() {
    let emu = Emu::start(FaultArgs::default(), 1);
    serve(
        &emu,
        CaArgs {
            ca_form: CaForm::Zip,
            ca_host: Some(NAME.into()),
            ..CaArgs::default()
        },
    );
    let mut sb = Sandbox::for_emu(&emu);
    let (proxy, asked) = forward_proxy();
    sb.set("HTTP_PROXY", &proxy);
    dead_end(&mut sb);
    let kept = kept_path(&sb, ON);
    let fingerprint = {
        let pem = cafile::to_pem(&[emulator_ca(&emu)]);
        let path = sb.dir.path().join("console.pem");
        std::fs::write(&path, pem).expect("write");
        pgssl::ops::ca::load_ca_file(&path).expect("reads").infos[0]
            .sha256
            .clone()
    };

    // Shown, with its SHA-256 and the line that says it came unauthenticated; not kept.
    let r = run(&sb, &emu, &["ssl", "ca", ON]);
    r.ok();
    assert!(
        r.stdout.contains(&format!("sha256:   {fingerprint}")),
        "{r:#?}"
    );
    assert!(r.stdout.contains("NOT kept, UNAUTHENTICATED"), "{r:#?}");
    assert!(!kept.exists(), "nothing kept");
    let port = emu.running.addr.port();
    let want = format!("GET http://{NAME}:{port}/ssl/TencentDB-PG-SSL-CA.zip HTTP/1.1");
    assert_eq!(
        asked.lock().expect("asked").clone(),
        vec![want],
        "through the proxy"
    );
    let j = run(&sb, &emu, &["--output", "json", "ssl", "ca", ON]).json();
    assert_eq!(
        (j["source"].clone(), j["authenticated"].clone()),
        ("unauthenticated".into(), false.into())
    );
    assert!(j["path"].is_null(), "{j}");

    // verify, and a change's --verify, refuse in one line (exit 2) before connecting.
    let r = run(&sb, &emu, &["verify", ON]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line()
            .contains("unauthenticated, and none is confirmed"),
        "{r:#?}"
    );
    assert!(
        r.error_line()
            .contains("--fingerprint SHA256, or pass --ca FILE"),
        "{r:#?}"
    );
    // A change's --verify: the change is made (exit 0), the check says in one line why it
    // could not run, and nothing was connected to.
    let r = enable_and_verify(&sb, &emu, OFF);
    r.ok();
    assert!(
        r.stderr.contains("the TLS check could not run")
            && r.stderr.contains("unauthenticated, and none is confirmed"),
        "{r:#?}"
    );
    assert!(!kept_path(&sb, OFF).exists());
    // audit: the CA is "not read" with the same reason, an unchecked finding (the demo
    // fleet's SSL-off instances are findings too: exit 1), nothing kept.
    let audit = run(&sb, &emu, &["--output", "json", "audit"]);
    assert_eq!(audit.code, 1, "{audit:#?}");
    let findings = audit.json()["findings"].clone();
    assert!(
        findings
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["DBInstanceId"] == ON
                && f["kind"] == "unchecked"
                && f["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("plain http"))),
        "{findings}"
    );
    assert!(!kept.exists());

    // --out without confirming: nothing written (exit 2).
    let out = sb.dir.path().join("app.jks");
    let out_s = out.to_str().expect("utf-8");
    let r = run(
        &sb,
        &emu,
        &["ssl", "ca", ON, "--out", out_s, "--format", "jks"],
    );
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("was not written"), "{r:#?}");
    assert!(!out.exists() && !kept.exists());

    // A fingerprint that is not it: exit 1, nothing kept or written.
    let wrong = "AB:".repeat(31) + "AB";
    let r = run(
        &sb,
        &emu,
        &["ssl", "ca", ON, "--fingerprint", &wrong, "--out", out_s],
    );
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.error_line().contains("does not match --fingerprint"),
        "{r:#?}"
    );
    assert!(!out.exists() && !kept.exists());
    // Not a fingerprint at all: bad input, one line.
    let r = run(&sb, &emu, &["ssl", "ca", ON, "--fingerprint", "12:34"]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line().contains("is not a SHA-256 fingerprint"),
        "{r:#?}"
    );

    // Confirmed (lower case, no colons, as people paste it): kept and written.
    let pasted = fingerprint.replace(':', "").to_lowercase();
    let r = run(
        &sb,
        &emu,
        &[
            "ssl",
            "ca",
            ON,
            "--fingerprint",
            &pasted,
            "--out",
            out_s,
            "--format",
            "jks",
        ],
    );
    r.ok();
    assert!(kept.exists() && out.exists(), "{r:#?}");
    assert_eq!(
        cafile::decode(&std::fs::read(&out).expect("jks"))
            .expect("jks")
            .certs,
        vec![emulator_ca(&emu)]
    );
    // Fetched again, the same: it is the CA confirmed there.
    let r = run(&sb, &emu, &["ssl", "ca", ON]);
    r.ok();
    assert!(r.stdout.contains("is the CA confirmed there"), "{r:#?}");
    // verify now trusts the confirmed copy and goes on to connect (nothing listens: 3).
    let r = run(&sb, &emu, &["verify", ON]);
    assert_eq!(r.code, 3, "{r:#?}");
    assert!(
        r.error_line().contains("could not reach 10.6.1.21"),
        "{r:#?}"
    );

    // The same instance with the CA inline: trusted as it is, whatever CAUrl says.
    serve(
        &emu,
        CaArgs {
            ca_form: CaForm::Zip,
            ca_host: Some(NAME.into()),
            ca_inline: Some(CaInline::Base64),
            ca_rotate_after: None,
        },
    );
    std::fs::remove_file(&kept).expect("rm");
    let before = asked.lock().expect("asked").len();
    let r = run(&sb, &emu, &["verify", ON]);
    assert_eq!(r.code, 3, "{r:#?}");
    assert!(kept.exists(), "kept from CACert");
    assert_eq!(
        asked.lock().expect("asked").len(),
        before,
        "CAUrl not fetched"
    );
}

#[test]
fn verify_full_holds_against_the_ca_from_the_zip_and_from_cacert() {
    if !crate::common::pg_available() {
        return;
    }
    let emu = Emu::start(FaultArgs::default(), 1);
    let map = emu.attach_pg(OFF);
    let mut sb = Sandbox::for_emu(&emu);
    sb.set("PGSSL_ADDRESS_MAP", &map);
    // The console's zip behind CAUrl: the change's --verify checks against what it holds.
    serve(
        &emu,
        CaArgs {
            ca_form: CaForm::Zip,
            ..CaArgs::default()
        },
    );
    let r = enable_and_verify(&sb, &emu, OFF);
    r.ok();
    assert!(r.stdout.contains("verify-full holds"), "{r:#?}");
    let kept = kept_path(&sb, OFF);
    assert!(
        r.stdout
            .contains(&format!("sslrootcert={}", kept.display())),
        "the kept PEM is what psql is pointed at: {r:#?}"
    );
    // CACert (base64 DER) first: CAUrl is not fetched, and verify-full holds against it.
    serve(
        &emu,
        CaArgs {
            ca_form: CaForm::Der,
            ca_inline: Some(CaInline::Base64),
            ..CaArgs::default()
        },
    );
    std::fs::remove_file(&kept).expect("rm");
    let before = emu.running.shared.ca_downloads();
    let r = run(&sb, &emu, &["verify", OFF]);
    r.ok();
    assert!(r.stdout.contains("verify-full holds"), "{r:#?}");
    assert_eq!(emu.running.shared.ca_downloads(), before);
    assert!(kept.exists());
    // A JKS given with --ca (as a Java team would hold it): the chain holds, and no
    // sslrootcert line points psql at a file it cannot read.
    let jks = sb.dir.path().join("app.jks");
    run(
        &sb,
        &emu,
        &[
            "ssl",
            "ca",
            OFF,
            "--out",
            jks.to_str().expect("utf-8"),
            "--format",
            "jks",
        ],
    )
    .ok();
    let r = run(
        &sb,
        &emu,
        &["verify", OFF, "--ca", jks.to_str().expect("utf-8")],
    );
    r.ok();
    assert!(r.stdout.contains("verify-full holds"), "{r:#?}");
    assert!(!r.stdout.contains("sslrootcert="), "{r:#?}");
}
