//! Issue 23 item 2: shell completions and the manual page, generated from the clap
//! definitions; no credential, no state, nothing sent.

use crate::common::Sandbox;

#[test]
fn completions_for_each_shell_come_from_the_definitions() {
    let sb = Sandbox::new();
    let bash = sb.run(&["completions", "bash"]);
    bash.ok();
    assert!(bash.stdout.contains("complete -F _pgssl"), "{bash:#?}");
    // Every command is offered, the ones added last too.
    for word in ["ssl", "audit", "clients", "verify", "completions", "man"] {
        assert!(bash.stdout.contains(word), "{word} missing");
    }
    let zsh = sb.run(&["completions", "zsh"]);
    zsh.ok();
    assert!(zsh.stdout.starts_with("#compdef pgssl"), "{zsh:#?}");
    assert!(
        zsh.stdout.contains("--plaintext-user"),
        "audit's flags are there"
    );
    let fish = sb.run(&["completions", "fish"]);
    fish.ok();
    assert!(fish.stdout.contains("complete -c pgssl"), "{fish:#?}");
    for shell in ["elvish", "powershell"] {
        let r = sb.run(&["completions", shell]);
        r.ok();
        assert!(r.stdout.contains("pgssl"), "{shell}: {r:#?}");
    }
    let r = sb.run(&["completions", "tcsh"]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.stdout.is_empty());
    // Nothing was written: no state for a generated text.
    let data = sb.dir.path().join("data");
    assert!(
        std::fs::read_dir(&data).map_or(0, Iterator::count) == 0,
        "{data:?} was written"
    );
}

#[test]
fn the_manual_page_is_roff_for_pgssl_and_for_each_command() {
    let sb = Sandbox::new();
    let r = sb.run(&["man"]);
    r.ok();
    assert!(r.stdout.contains(".TH pgssl 1"), "{}", r.stdout);
    assert!(r.stdout.contains(".SH NAME") && r.stdout.contains(".SH SUBCOMMANDS"));
    let r = sb.run(&["man", "ssl", "enable"]);
    r.ok();
    assert!(r.stdout.contains(".TH pgssl-ssl-enable 1"), "{}", r.stdout);
    assert!(r.stdout.contains("address"), "{}", r.stdout);
    let r = sb.run(&["man", "ssl", "bogus"]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line()
            .contains("no command 'bogus' under `pgssl ssl`: one of show, enable"),
        "{r:#?}"
    );
}
