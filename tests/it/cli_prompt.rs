//! The confirmation prompt a person at a terminal sees: the change described, and only
//! an explicit "y" sends it.

use crate::common::{Emu, Sandbox};
use clap::Parser;
use pgssl::cli::{self, Cli, Io, Output};
use pgssl_emulator::FaultArgs;

fn run_with_answer(emu: &Emu, sb: &Sandbox, answer: &str) -> (i32, String) {
    run_args_with_answer(
        emu,
        sb,
        &[
            "--region",
            "ap-guangzhou",
            "ssl",
            "enable",
            "postgres-6bwgamo3",
            "--address",
            "public",
        ],
        answer,
    )
}

/// `pgssl --endpoint EMU ARGS` at a terminal that answers `answer`.
fn run_args_with_answer(emu: &Emu, sb: &Sandbox, args: &[&str], answer: &str) -> (i32, String) {
    let ep = emu.endpoint();
    let mut all = vec!["pgssl", "--endpoint", &ep];
    all.extend(args);
    let cli = Cli::parse_from(all);
    let ctx = emu.context(sb, cli.options().region);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut stdin = std::io::Cursor::new(answer.as_bytes().to_vec());
    let mut io = Io {
        out: &mut out,
        err: &mut err,
        output: Output::Text,
        interactive: true,
        stdin: &mut stdin,
        printed_json: false,
        account: None,
        write_error: None,
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
            text.contains(
                "SSL new:  on, protecting public gz-postgres-6bwgamo3.sql.tencentcdb.com"
            ),
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

#[test]
fn many_changes_need_the_count_typed_a_few_need_y() {
    let emu = Emu::start(FaultArgs::default(), 1);
    // Nine instances of ap-singapore, listed in a file.
    let ids: Vec<String> = emu.fleet(|f| {
        f.instances
            .iter()
            .filter(|i| i.Region.as_deref() == Some("ap-singapore"))
            .take(9)
            .map(|i| i.id().to_string())
            .collect()
    });
    let list = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(list.path(), ids.join("\n")).expect("write");
    let path = list.path().display().to_string();
    let many = [
        "--region",
        "ap-singapore",
        "ssl",
        "enable",
        "--from",
        &path,
        "--address",
        "private",
        "--poll",
        "0.2",
        "--max-running",
        "unlimited",
    ];
    // Nine changes: y is not the count, nor is a wrong number.
    for answer in ["y\n", "8\n", "\n", ""] {
        let sb = Sandbox::new();
        let (code, text) = run_args_with_answer(&emu, &sb, &many, answer);
        assert_eq!(code, 2, "{answer:?}: {text}");
        assert!(text.contains("Type the number of changes (9)"), "{text}");
        assert!(text.contains("9 instances to change"), "{text}");
        assert!(text.contains("nothing was sent"), "{text}");
    }
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
    let sb = Sandbox::new();
    let (code, text) = run_args_with_answer(&emu, &sb, &many, "9\n");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("9 changes: 9 success"), "{text}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 9);
    // Two changes: y sends.
    let few = [
        "--region",
        "ap-guangzhou",
        "ssl",
        "enable",
        "--filter",
        "orders-db-ro",
        "--address",
        "private",
        "--poll",
        "0.2",
    ];
    let (code, text) = run_args_with_answer(&emu, &sb, &few, "n\n");
    assert_eq!(code, 2, "{text}");
    let (code, text) = run_args_with_answer(&emu, &sb, &few, "y\n");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("2 changes: 2 success"), "{text}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 11);
}
