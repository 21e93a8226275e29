//! Issue 21: who is connected, and how. `pgssl clients` against a real PostgreSQL (Debian's
//! binaries) standing in for an instance, with plaintext and TLS connections held open by
//! the test, a SCRAM monitoring login, and the refusals: a wrong login, a login without
//! pg_monitor, an MD5 password over plaintext.

use crate::common;

use crate::common::{Emu, Sandbox};
use pgssl_emulator::FaultArgs;
use pgssl_emulator::pgserver::{LocalPostgres, Ssl};

const ID: &str = "postgres-6bwgamo3";
const PASSWORD: &str = "census-pw-7d3f9a";

/// Held client connections: dropping them closes them.
struct Held(Vec<tokio_postgres::Client>);

async fn plaintext_clients(port: u16, app: &str, n: usize) -> Held {
    let mut held = Vec::new();
    for _ in 0..n {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let mut cfg = tokio_postgres::Config::new();
        cfg.user("app").dbname("postgres").application_name(app);
        let (client, conn) = cfg
            .connect_raw(stream, tokio_postgres::NoTls)
            .await
            .expect("plaintext login");
        tokio::spawn(conn);
        held.push(client);
    }
    Held(held)
}

async fn tls_clients(port: u16, ca_pem: &str, app: &str, n: usize) -> Held {
    use tokio_postgres::tls::MakeTlsConnect;
    pgssl::api::client::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    for c in pgssl::probe::parse_pem_certs(ca_pem.as_bytes()).expect("ca") {
        roots.add(c).expect("root");
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut make = tokio_postgres_rustls::MakeRustlsConnect::new(config);
    let mut held = Vec::new();
    for _ in 0..n {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let tls = <tokio_postgres_rustls::MakeRustlsConnect as MakeTlsConnect<
            tokio::net::TcpStream,
        >>::make_tls_connect(&mut make, "10.6.0.4")
        .expect("tls");
        let mut cfg = tokio_postgres::Config::new();
        cfg.user("app")
            .dbname("postgres")
            .application_name(app)
            .ssl_mode(tokio_postgres::config::SslMode::Require);
        let (client, conn) = cfg.connect_raw(stream, tls).await.expect("tls login");
        tokio::spawn(conn);
        held.push(client);
    }
    Held(held)
}

#[test]
fn clients_counts_tls_and_plaintext_with_a_scram_login_and_refuses_what_it_must() {
    if !common::pg_available() {
        return;
    }
    let emu = Emu::start(FaultArgs::default(), 1);
    let port = pgssl_emulator::pgserver::free_port().expect("port");
    // The monitoring login by SCRAM; an MD5 user; everyone else trusted (the test's apps).
    let hba = "local all all trust\n\
               host all pgssl_monitor 127.0.0.1/32 scram-sha-256\n\
               host all plain_monitor 127.0.0.1/32 scram-sha-256\n\
               host all md5_monitor 127.0.0.1/32 md5\n\
               host all clear_monitor 127.0.0.1/32 password\n\
               host all all 127.0.0.1/32 trust\n";
    let server = LocalPostgres::start_with(Some(port), Ssl::Off, Some(hba)).expect("postgres");
    server
        .sql(&format!(
            "CREATE ROLE pgssl_monitor LOGIN PASSWORD '{PASSWORD}' IN ROLE pg_monitor; \
             CREATE ROLE plain_monitor LOGIN PASSWORD '{PASSWORD}'; \
             CREATE ROLE clear_monitor LOGIN PASSWORD '{PASSWORD}'; \
             CREATE ROLE app LOGIN; \
             SET password_encryption = 'md5'; \
             CREATE ROLE md5_monitor LOGIN PASSWORD '{PASSWORD}';"
        ))
        .expect("roles");
    let shared = emu.running.shared.clone();
    emu.block_on(pgssl_emulator::attach_started(shared, ID.into(), server));
    let map = pgssl_emulator::address_map_for(&emu.running.shared.fleet(), ID, port);
    let mut sb = Sandbox::for_emu(&emu);
    let map_text: Vec<String> = map.iter().map(|(a, to)| format!("{a}={to}")).collect();
    sb.set("PGSSL_ADDRESS_MAP", &map_text.join(","));
    let ep = emu.endpoint();
    // Every run: the password never in what pgssl prints.
    let run = |sb: &Sandbox, rest: &[&str]| {
        let mut v = vec!["--endpoint", ep.as_str(), "--region", "ap-guangzhou"];
        v.extend_from_slice(rest);
        let r = sb.run(&v);
        assert!(
            !r.stdout.contains(PASSWORD) && !r.stderr.contains(PASSWORD),
            "the password was printed: {r:#?}"
        );
        r
    };

    // Without a login: one line saying how to get one, exit 2, nothing counted.
    let r = run(&sb, &["clients", ID]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line()
            .contains("no login for the census: set PGUSER"),
        "{r:#?}"
    );

    // SSL off: three plaintext clients; the census logs in without TLS by SCRAM.
    let plain = emu.block_on(plaintext_clients(port, "billing-worker", 3));
    sb.set("PGUSER", "pgssl_monitor");
    sb.set("PGPASSWORD", PASSWORD);
    let r = run(&sb, &["--output", "json", "clients", ID]);
    r.ok();
    let j = r.json();
    assert_eq!(
        (&j["connections"], &j["tls"], &j["plaintext"]),
        (&3.into(), &0.into(), &3.into()),
        "{j}"
    );
    assert_eq!(j["channel"], "plaintext");
    assert_eq!(j["clients"][0]["application_name"], "billing-worker");
    assert_eq!(j["clients"][0]["client_addr"], "127.0.0.1");
    assert_eq!(j["clients"][0]["count"], 3);
    assert_eq!(j["clients"][0]["ssl"], false);

    // The plan of a change says who is connected and what it means for them.
    let r = run(
        &sb,
        &["ssl", "enable", ID, "--address", "private", "--dry-run"],
    );
    r.ok();
    assert!(
        r.stderr
            .contains("Clients:  3 client connections: 0 over TLS, 3 plaintext from 1 address"),
        "{r:#?}"
    );
    assert!(
        r.stderr.contains(
            "3 plaintext connection(s) (127.0.0.1 (billing-worker)): they will stay plaintext"
        ),
        "{r:#?}"
    );

    // A plan of many says it too (only the mapped instance is selected: nothing else is
    // dialled).
    let r = run(
        &sb,
        &[
            "--output",
            "json",
            "ssl",
            "enable",
            "--filter",
            "6bwgamo3",
            "--address",
            "private",
            "--dry-run",
        ],
    );
    r.ok();
    let clients = r.json()["clients"].to_string();
    assert!(
        clients.contains("0 over TLS, 3 plaintext on the 1 instance(s) counted")
            && clients.contains(
                "postgres-6bwgamo3: 3 plaintext (127.0.0.1 (billing-worker)): they will stay plaintext"
            ),
        "{clients}"
    );

    // An MD5 or cleartext password would cross without TLS: refused before it is sent
    // (exit 3).
    for (user, how) in [
        ("md5_monitor", "MD5-hashed"),
        ("clear_monitor", "cleartext"),
    ] {
        sb.set("PGUSER", user);
        let r = run(&sb, &["clients", ID]);
        assert_eq!(r.code, 3, "{r:#?}");
        assert!(
            r.error_line().contains(&format!(
                "asks for a {how} password over a connection without TLS: pgssl will not send it"
            )),
            "{r:#?}"
        );
    }

    // SSL on (protecting 10.6.0.4): two TLS clients join; the census is verify-full.
    sb.set("PGUSER", "pgssl_monitor");
    let r = run(
        &sb,
        &[
            "ssl",
            "enable",
            ID,
            "--address",
            "private",
            "--yes",
            "--wait",
            "--poll",
            "0.2",
        ],
    );
    r.ok();
    // After the change: the census again, and the verdict.
    assert!(
        r.stdout.contains(
            "Verdict:  enabled, not enforced: 3 plaintext connection(s) from 127.0.0.1 (billing-worker)"
        ),
        "{r:#?}"
    );
    // The journal keeps the counts with the change, not the rows.
    let census = sb
        .journal_lines()
        .into_iter()
        .find(|l| l["kind"] == "census")
        .expect("a census record");
    assert_eq!(
        (&census["plaintext"], &census["tls"]),
        (&3.into(), &0.into())
    );
    assert!(census.get("clients").is_none(), "{census}");
    let ca = emu.running.shared.ca.cert_pem();
    let tls = emu.block_on(tls_clients(port, &ca, "orders-api", 2));
    let r = run(&sb, &["clients", ID]);
    r.ok();
    assert!(
        r.stdout.contains(&format!(
            "{ID}: 5 client connections: 2 over TLS (TLSv1.3 2), 3 plaintext from 1 address (at 10.6.0.4:5432, over TLS, verify-full, as pgssl_monitor)"
        )),
        "{r:#?}"
    );
    let table: Vec<&str> = r.stdout.lines().skip(2).collect();
    assert!(
        table[0].starts_with("PLAINTEXT"),
        "plaintext first: {table:?}"
    );
    assert!(
        table[1].starts_with("tls") && table[1].contains("orders-api"),
        "{table:?}"
    );
    // Before disabling: the TLS connections that would fail to reconnect.
    let r = run(
        &sb,
        &["--output", "json", "ssl", "disable", ID, "--dry-run"],
    );
    r.ok();
    let lines = r.json()["clients"].to_string();
    assert!(
        lines.contains("2 connection(s) use TLS now: clients with sslmode=require or verify-* will fail to reconnect"),
        "{lines}"
    );
    // Another address of the instance: its certificate names 10.6.0.4, so verify-ca.
    let r = run(
        &sb,
        &[
            "--output",
            "json",
            "clients",
            ID,
            "--address",
            "203.0.113.17",
        ],
    );
    r.ok();
    assert_eq!(r.json()["channel"], "verify-ca");

    // The audit with live checks: its row has the TLS result and the census counts.
    // Every other instance of the region is sent to a closed loopback port, never out.
    let mut everywhere: Vec<String> = Vec::new();
    for other in emu.ids_in("ap-guangzhou") {
        let to = if other == ID { port } else { 9 };
        let pairs = pgssl_emulator::address_map_for(&emu.running.shared.fleet(), &other, to);
        everywhere.extend(pairs.iter().map(|(a, to)| format!("{a}={to}")));
    }
    sb.set("PGSSL_ADDRESS_MAP", &everywhere.join(","));
    let r = run(&sb, &["--output", "json", "audit", "--verify"]);
    let v = r.json();
    let row = v["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["DBInstanceId"] == ID))
        .cloned()
        .expect("its row");
    assert_eq!(row["tls"]["result"], "verify-full", "{row:#}");
    assert_eq!(row["tls"]["version"], "TLSv1.3", "{row:#}");
    assert!(row["tls"]["cert_days_left"].as_i64().is_some(), "{row:#}");
    assert_eq!(
        (
            &row["census"]["connections"],
            &row["census"]["tls"],
            &row["census"]["plaintext"]
        ),
        (&5.into(), &2.into(), &3.into()),
        "{row:#}"
    );
    let other = v["rows"]
        .as_array()
        .and_then(|rows| {
            rows.iter()
                .find(|r| r["DBInstanceId"] != ID && r["ssl"] == "off")
        })
        .cloned()
        .expect("another row");
    assert!(other["census"]["not_counted"].is_string(), "{other:#}");

    // A login without pg_monitor: other users' sessions are hidden, and that is said.
    sb.set("PGUSER", "plain_monitor");
    let r = run(&sb, &["--output", "json", "clients", ID]);
    r.ok();
    let j = r.json();
    assert!(
        j["note"]
            .as_str()
            .unwrap_or("")
            .contains("not a member of pg_monitor"),
        "{j}"
    );
    assert_eq!(
        (&j["connections"], &j["hidden"]),
        (&5.into(), &5.into()),
        "{j}"
    );

    // A wrong password: one line, exit 3, and the password is nowhere.
    sb.set("PGUSER", "pgssl_monitor");
    sb.set("PGPASSWORD", "wrong-pw-0000");
    let r = run(&sb, &["clients", ID]);
    assert_eq!(r.code, 3, "{r:#?}");
    assert!(
        r.error_line()
            .contains("refused the census login as pgssl_monitor"),
        "{r:#?}"
    );
    assert_eq!(r.stderr.matches("error:").count(), 1, "{r:#?}");

    // Nothing pgssl wrote holds the password.
    for path in walk(sb.dir.path()) {
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(PASSWORD),
            "{} holds the password",
            path.display()
        );
    }
    // The held connections stayed open throughout (they were what was counted).
    assert_eq!(plain.0.len() + tls.0.len(), 5);
    assert!(plain.0.iter().chain(&tls.0).all(|c| !c.is_closed()));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn the_demo_has_clients_to_count_with_no_setup() {
    if !common::pg_available() {
        return;
    }
    let sb = Sandbox::new();
    let r = sb.run(&["--demo", "--output", "json", "clients", ID]);
    r.ok();
    let j = r.json();
    assert_eq!((&j["plaintext"], &j["tls"]), (&3.into(), &0.into()), "{j}");
    assert_eq!(j["user"], "pgssl_monitor");
    assert_eq!(j["clients"][0]["application_name"], "billing-worker");
    // SSL on: the stand-in's TLS clients join, counted over verify-full.
    sb.run(&[
        "--demo",
        "ssl",
        "enable",
        ID,
        "--address",
        "private",
        "--yes",
        "--wait",
        "--poll",
        "0.2",
    ])
    .ok();
    let r = sb.run(&["--demo", "clients", ID]);
    r.ok();
    assert!(
        r.stdout.contains(
            "5 client connections: 2 over TLS (TLSv1.3 2), 3 plaintext from 1 address (at 10.6.0.4:5432, over TLS, verify-full, as pgssl_monitor)"
        ),
        "{r:#?}"
    );
    // The demo's census password lives in the demo's own ~/.pgpass, 0600, and nowhere in
    // what pgssl printed.
    let pgpass = walk(sb.dir.path())
        .into_iter()
        .find(|p| p.ends_with(".pgpass"))
        .expect("the demo's .pgpass");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&pgpass).expect("meta").permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&pgpass).expect("read");
    let password = text.trim().rsplit(':').next().expect("password");
    assert!(password.len() >= 20);
    assert!(!r.stdout.contains(password) && !r.stderr.contains(password));
}

/// The addresses of `ids` mapped to a loopback port nothing listens on: a check or a
/// census of them fails here, and nothing is ever dialled outside this machine.
fn closed_map(emu: &Emu, ids: &[&str]) -> Vec<String> {
    let dead = pgssl_emulator::pgserver::free_port().expect("port");
    ids.iter()
        .flat_map(|id| pgssl_emulator::address_map_for(&emu.running.shared.fleet(), id, dead))
        .map(|(a, to)| format!("{a}={to}"))
        .collect()
}

#[test]
fn a_canary_whose_tls_check_fails_halts_the_run_resumably() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let mut sb = Sandbox::for_emu(&emu);
    let ids = ["postgres-6bwgamo3", "pgro-ro9x2k1q", "pgro-ro4m7c2z"];
    sb.set("PGSSL_ADDRESS_MAP", &closed_map(&emu, &ids).join(","));
    let list = sb.dir.path().join("wave.txt");
    std::fs::write(&list, ids.map(|i| format!("{i} ap-guangzhou\n")).concat()).expect("list");
    let ep = emu.endpoint();
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "ssl",
        "enable",
        "--from",
        list.to_str().expect("path"),
        "--address",
        "private",
        "--canary",
        "1",
        "--canary-wait",
        "0",
        "--yes",
        "--poll",
        "0.2",
    ]);
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.stderr
            .contains("canary postgres-6bwgamo3: the TLS check failed"),
        "{r:#?}"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1, "only the canary");
    // Stopped with why, resumable: the rest is offered, never dropped.
    let r = sb.run(&["--endpoint", &ep, "ssl", "resume"]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.all().contains("2 never sent"), "{r:#?}");
    // The plan it offers says how to see who is connected (no login here).
    assert!(
        r.all().contains("Clients:  not counted: set PGUSER"),
        "{r:#?}"
    );
    // Bad input: refused before anything is read.
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "ssl",
        "enable",
        "postgres-6bwgamo3",
        "--canary",
        "1",
        "--yes",
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
}

#[test]
fn a_canary_that_holds_lets_the_rest_go() {
    if !common::pg_available() {
        return;
    }
    let (emu, sb, plain, list) = canary_wave(2);
    let ep = emu.endpoint();
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "ssl",
        "enable",
        "--from",
        list.to_str().expect("path"),
        "--address",
        "private",
        "--canary",
        "1",
        "--canary-wait",
        "0",
        "--yes",
        "--poll",
        "0.2",
    ]);
    r.ok();
    assert!(
        r.stderr.contains(
            "canary wave of 1 passed (postgres-6bwgamo3: 2 of 2 client connections back): sending the rest"
        ),
        "{r:#?}"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 2);
    assert!(plain.0.iter().all(|c| !c.is_closed()));
}

#[test]
fn a_canary_whose_clients_do_not_come_back_halts_the_run() {
    if !common::pg_available() {
        return;
    }
    let (emu, sb, plain, list) = canary_wave(4);
    let ep = emu.endpoint();
    let mut child = sb
        .command(&[
            "--endpoint",
            &ep,
            "ssl",
            "enable",
            "--from",
            list.to_str().expect("path"),
            "--address",
            "private",
            "--canary",
            "1",
            "--canary-wait",
            "0",
            "--yes",
            "--poll",
            "0.2",
        ])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut lines = std::io::BufRead::lines(stderr);
    // The canary has left (its clients were counted before anything was sent): the
    // clients go away and do not come back.
    for line in lines.by_ref() {
        if line.expect("line").contains("sent:") {
            break;
        }
    }
    drop(plain);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let code = child.wait().expect("ends").code();
    assert_eq!(code, Some(1), "{rest:#?}");
    assert!(
        rest.iter().any(|l| l
            .contains("canary postgres-6bwgamo3: only 0 of its 4 client connections came back")),
        "{rest:#?}"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1, "only the canary");
}

/// A wave of two for the canary tests: postgres-6bwgamo3 (a real PostgreSQL, `clients`
/// plaintext connections held, a monitoring login) first, then pgro-ro9x2k1q, whose
/// addresses go to a closed loopback port (nothing is dialled outside this machine).
fn canary_wave(clients: usize) -> (Emu, Sandbox, Held, std::path::PathBuf) {
    let emu = Emu::start(FaultArgs::default(), 1);
    let port = pgssl_emulator::pgserver::free_port().expect("port");
    let hba = "local all all trust\n\
               host all pgssl_monitor 127.0.0.1/32 scram-sha-256\n\
               host all all 127.0.0.1/32 trust\n";
    let server = LocalPostgres::start_with(Some(port), Ssl::Off, Some(hba)).expect("postgres");
    server
        .sql(&format!(
            "CREATE ROLE pgssl_monitor LOGIN PASSWORD '{PASSWORD}' IN ROLE pg_monitor; CREATE ROLE app LOGIN;"
        ))
        .expect("roles");
    let shared = emu.running.shared.clone();
    emu.block_on(pgssl_emulator::attach_started(shared, ID.into(), server));
    let plain = emu.block_on(plaintext_clients(port, "billing-worker", clients));
    let mut map: Vec<String> =
        pgssl_emulator::address_map_for(&emu.running.shared.fleet(), ID, port)
            .iter()
            .map(|(a, to)| format!("{a}={to}"))
            .collect();
    map.extend(closed_map(&emu, &["pgro-ro9x2k1q"]));
    let mut sb = Sandbox::for_emu(&emu);
    sb.set("PGSSL_ADDRESS_MAP", &map.join(","));
    sb.set("PGUSER", "pgssl_monitor");
    sb.set("PGPASSWORD", PASSWORD);
    let list = sb.dir.path().join("wave.txt");
    std::fs::write(
        &list,
        format!("{ID} ap-guangzhou\npgro-ro9x2k1q ap-guangzhou\n"),
    )
    .expect("list");
    (emu, sb, plain, list)
}
