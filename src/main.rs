//! Parse arguments, pick the face (TUI or CLI), run it, exit with its code.

use clap::Parser;
use pgssl::cli::{self, Cli, Command, Options, StdStreams};
use pgssl::context::{Context, Globals};
use pgssl::ops::OpsError;
use pgssl::store::Paths;

fn main() {
    let args = match Cli::try_parse() {
        Ok(args) => args,
        Err(e) => std::process::exit(cli::clap_error(&e)),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(run(args));
    // Dropping the runtime would wait for blocked stdin readers; exit now instead.
    std::process::exit(code);
}

async fn run(args: Cli) -> i32 {
    let options = args.options();
    let mut streams = StdStreams::default();
    let mut io = streams.io(options.output);
    // Generated from the definitions: no credential, no state, no network.
    match &args.command {
        Some(Command::Completions(c)) => {
            cli::docs::completions(c.shell, &mut std::io::stdout());
            return 0;
        }
        Some(Command::Man(m)) => {
            return match cli::docs::man(&m.command, &mut std::io::stdout()) {
                Ok(()) => 0,
                Err(e) => cli::report_error(&mut io, &e),
            };
        }
        _ => {}
    }
    match args.command {
        #[cfg(feature = "demo")]
        Some(Command::Emulator(e)) => {
            return match pgssl_emulator::run(*e).await {
                Ok(()) => 0,
                Err(msg) => {
                    eprintln!("error: {msg}");
                    2
                }
            };
        }
        #[cfg(not(feature = "demo"))]
        Some(Command::Emulator(_)) => {
            eprintln!("error: {}", cli::NOT_BUILT);
            return 2;
        }
        _ => {}
    }
    let globals = Globals {
        profile: options.profile.clone(),
        region: options.region.clone(),
        endpoint: options.endpoint.clone(),
        readonly: options.readonly,
        use_cvm_role: options.use_cvm_role,
    };
    #[cfg(feature = "demo")]
    if args.reset {
        return match pgssl::demo::reset() {
            Ok(line) => {
                eprintln!("{line}");
                0
            }
            Err(e) => cli::report_error(&mut io, &e),
        };
    }
    let tui = matches!(args.command, None | Some(Command::Tui(_)));
    // The PostgreSQL stand-in only helps the commands that can reach it (a TLS check, or
    // a change that may check after): others start without it, and do not mention it.
    let with_postgres =
        tui || matches!(
            args.command,
            Some(
                Command::Verify(_)
                    | Command::Clients(_)
                    | Command::Undo(_)
                    | Command::Ssl(
                        cli::SslCommand::Enable { .. }
                            | cli::SslCommand::Disable { .. }
                            | cli::SslCommand::Resume { .. }
                    )
            )
        ) || matches!(&args.command, Some(Command::Audit(a)) if a.verify);
    let (demo, ctx) = match start(&options, globals, with_postgres).await {
        Ok(s) => s,
        Err(e) => return cli::report_error(&mut io, &e),
    };
    #[cfg(feature = "demo")]
    let mut demo = demo;
    #[cfg(feature = "demo")]
    if let Some(d) = demo.as_mut() {
        let change = matches!(
            &args.command,
            Some(Command::Ssl(
                cli::SslCommand::Enable { change, .. } | cli::SslCommand::Disable { change, .. }
            )) if !change.dry_run
        ) || matches!(
            &args.command,
            Some(Command::Ssl(cli::SslCommand::Resume { .. }))
        ) || matches!(&args.command, Some(Command::Undo(u)) if !u.change.dry_run);
        if change && !d.owns_state() {
            return cli::report_error(
                &mut io,
                &OpsError::Usage(
                    "another pgssl --demo is running and owns the demo's state: send the change there, or quit it first (reads work here); nothing was sent".into(),
                ),
            );
        }
        // A TLS check or a census (a change's plan counts who is connected) runs at
        // once from the CLI: the stand-in must be up first.
        // (The TUI starts at once and finds the stand-in when it is up.)
        let checks_tls = with_postgres && !tui;
        if checks_tls {
            d.wait_for_postgres();
        }
    }
    // A TUI beside a demo that owns the state browses it read-only (its changes would
    // go to an emulator nobody keeps).
    #[cfg(feature = "demo")]
    let follower = demo.as_ref().is_some_and(|d| !d.owns_state());
    #[cfg(not(feature = "demo"))]
    let follower = false;
    // The TUI says where the demo keeps its state and what stands in for what; the CLI
    // only where it keeps its state, the first time (the rest is about TUI keys).
    let note = demo
        .as_ref()
        .map(|d| if tui { demo_note(d) } else { demo_kept(d) })
        .filter(|n| !n.is_empty());
    // `demo` lives until the face returns: dropping it stops the emulator and removes
    // the demo's temp files.
    let code = match args.command {
        Some(command) if !tui => {
            if let Some(n) = &note {
                eprintln!("demo: {n}");
            }
            match cli::run(&ctx, command, &mut io).await {
                Ok(()) => 0,
                Err(e) => cli::report_error(&mut io, &e),
            }
        }
        _ => {
            let tui_options = pgssl::tui::Options {
                readonly: options.readonly || follower,
                follower,
                label: if options.demo {
                    "demo".into()
                } else {
                    String::new()
                },
                note,
                follow: pgssl::ops::FollowOptions {
                    poll: std::time::Duration::from_secs(if options.demo { 1 } else { 2 }),
                    ..Default::default()
                },
            };
            pgssl::tui::run(ctx, tui_options).await
        }
    };
    // Explicit: the demo stops here, after the face, never before it.
    #[cfg(feature = "demo")]
    drop(demo);
    code
}

#[cfg(feature = "demo")]
type DemoGuard = pgssl::demo::Demo;
#[cfg(not(feature = "demo"))]
type DemoGuard = std::convert::Infallible;

#[cfg(feature = "demo")]
fn demo_note(d: &DemoGuard) -> String {
    [d.kept.as_str(), d.note.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(not(feature = "demo"))]
fn demo_note(d: &DemoGuard) -> String {
    match *d {}
}

#[cfg(feature = "demo")]
fn demo_kept(d: &DemoGuard) -> String {
    d.kept.clone()
}

#[cfg(not(feature = "demo"))]
fn demo_kept(d: &DemoGuard) -> String {
    match *d {}
}

/// The context to run in: the user's files, or the demo's (with its guard).
#[cfg(feature = "demo")]
async fn start(
    options: &Options,
    globals: Globals,
    with_postgres: bool,
) -> Result<(Option<DemoGuard>, Context), OpsError> {
    if options.demo {
        let (demo, ctx) = pgssl::demo::start(None, globals, with_postgres).await?;
        return Ok((Some(demo), ctx));
    }
    let paths = Paths::from_env().map_err(OpsError::Usage)?;
    Ok((None, Context::load(paths, globals)?))
}

#[cfg(not(feature = "demo"))]
async fn start(
    options: &Options,
    globals: Globals,
    _with_postgres: bool,
) -> Result<(Option<DemoGuard>, Context), OpsError> {
    if options.demo {
        return Err(OpsError::Usage(cli::NOT_BUILT.into()));
    }
    let paths = Paths::from_env().map_err(OpsError::Usage)?;
    Ok((None, Context::load(paths, globals)?))
}
