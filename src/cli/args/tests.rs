use super::*;

fn parse(args: &[&str]) -> Cli {
    Cli::try_parse_from(std::iter::once("pgssl").chain(args.iter().copied())).expect("parses")
}

#[test]
fn options_before_the_command_are_passed_on_when_it_takes_them() {
    let o = parse(&[
        "--region",
        "ap-seoul",
        "--output",
        "json",
        "ssl",
        "show",
        "postgres-6bwgamo3",
    ])
    .options();
    assert_eq!(o.region.as_deref(), Some("ap-seoul"));
    assert_eq!(o.output, Output::Json);
    // The command's own option wins.
    let o = parse(&[
        "--region",
        "ap-seoul",
        "ssl",
        "show",
        "postgres-6bwgamo3",
        "--region",
        "ap-tokyo",
    ])
    .options();
    assert_eq!(o.region.as_deref(), Some("ap-tokyo"));
    // `--output text` after the command overrides `--output json` before it.
    let o = parse(&[
        "--output",
        "json",
        "ssl",
        "show",
        "postgres-6bwgamo3",
        "--output",
        "text",
    ])
    .options();
    assert_eq!(o.output, Output::Text);
    // `--readonly` before a command that sends nothing is harmless (an alias).
    assert!(
        parse(&["--readonly", "--profile", "prod", "log"])
            .options()
            .readonly
    );
    let o = parse(&["--readonly", "ssl", "disable", "postgres-6bwgamo3"]).options();
    assert!(o.readonly);
}

#[test]
fn each_help_lists_only_what_the_command_takes() {
    use clap::CommandFactory;
    let mut cli = Cli::command();
    let emulator = cli
        .find_subcommand_mut("emulator")
        .expect("emulator")
        .render_long_help()
        .to_string();
    for absent in ["--demo", "--readonly", "--output", "--profile", "--region"] {
        assert!(
            !emulator.contains(absent),
            "{absent} in emulator help:\n{emulator}"
        );
    }
    let log = cli
        .find_subcommand_mut("log")
        .expect("log")
        .render_long_help()
        .to_string();
    for absent in ["--readonly", "--profile", "--endpoint"] {
        assert!(!log.contains(absent), "{absent} in log help:\n{log}");
    }
    assert!(log.contains("--output"), "{log}");
    let ssl = cli.find_subcommand_mut("ssl").expect("ssl");
    let enable = ssl
        .find_subcommand_mut("enable")
        .expect("enable")
        .render_long_help()
        .to_string();
    for present in [
        "--address",
        "--readonly",
        "--region",
        "--profile",
        "--dry-run",
    ] {
        assert!(enable.contains(present), "{present} missing:\n{enable}");
    }
    let show = ssl
        .find_subcommand_mut("show")
        .expect("show")
        .render_long_help()
        .to_string();
    for absent in ["--readonly", "--wait"] {
        assert!(!show.contains(absent), "{absent} in ssl show help:\n{show}");
    }
}
