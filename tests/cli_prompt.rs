//! The confirmation prompt a person at a terminal sees: the change described, and only
//! an explicit "y" sends it.

mod common;

use clap::Parser;
use common::{Emu, Sandbox};
use pgssl::cli::{self, Cli, Io, Output};
use pgssl::context::{Context, CredentialChoice, Globals};
use pgssl::credentials::{Credential, CredentialSource};
use pgssl::store::Paths;
use pgssl_emulator::FaultArgs;

fn run_with_answer(emu: &Emu, sb: &Sandbox, answer: &str) -> (i32, String) {
    let cli = Cli::parse_from([
        "pgssl",
        "--endpoint",
        &emu.endpoint(),
        "--region",
        "ap-guangzhou",
        "ssl",
        "enable",
        "postgres-6bwgamo3",
        "--address",
        "public",
    ]);
    let paths = Paths {
        config_dir: sb.dir.path().join("config"),
        data_dir: sb.dir.path().join("data"),
    };
    let options = cli.options();
    let mut ctx = Context::load(
        paths,
        Globals {
            region: options.region,
            endpoint: options.endpoint,
            ..Default::default()
        },
    )
    .expect("context");
    let key = emu.key();
    ctx.credentials = CredentialChoice::Fixed(
        Credential::new(&key.secret_id, key.secret_key.expose(), None).expect("cred"),
        CredentialSource::Demo,
    );
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut stdin = std::io::Cursor::new(answer.as_bytes().to_vec());
    let mut io = Io {
        out: &mut out,
        err: &mut err,
        output: Output::Text,
        interactive: true,
        stdin: &mut stdin,
        printed_json: false,
    };
    let command = cli.command.expect("command");
    let code = match emu.block_on(cli::run(&ctx, command, &mut io)) {
        Ok(()) => 0,
        Err(e) => cli::report_error(&mut io, &e),
    };
    (
        code,
        format!(
            "{}{}",
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&err)
        ),
    )
}

#[test]
fn only_y_sends() {
    let emu = Emu::start(FaultArgs::default(), 1);
    for answer in ["n\n", "\n", "yes please\n", ""] {
        let sb = Sandbox::new();
        let (code, text) = run_with_answer(&emu, &sb, answer);
        assert_eq!(code, 2, "{answer:?}: {text}");
        assert!(text.contains("cancelled: nothing was sent"), "{text}");
        assert!(
            text.contains("Instance: postgres-6bwgamo3 (orders-db), primary in ap-guangzhou"),
            "{text}"
        );
        assert!(text.contains("SSL now:  off"), "{text}");
        assert!(
            text.contains("SSL new:  on, protecting public 203.0.113.17"),
            "{text}"
        );
        assert!(text.contains("restarts the instance"), "{text}");
    }
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
    let sb = Sandbox::new();
    let (code, text) = run_with_answer(&emu, &sb, "y\n");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("TaskId 100017"), "{text}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1);
}
