//! Parse arguments, pick the face (TUI or CLI), run it, exit with its code.

use clap::Parser;
use pgssl::cli::{self, Cli, Command, StdStreams};
use pgssl::context::{Context, Globals};
use pgssl::ops::OpsError;
use pgssl::store::Paths;

fn main() {
    let args = Cli::parse();
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
    let output = args.global.output;
    let mut streams = StdStreams::default();
    let mut io = streams.io(output);
    let command = match args.command {
        #[cfg(feature = "demo")]
        Some(Command::Emulator(e)) => {
            return match pgssl_emulator::run(e).await {
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
        other => other,
    };
    let globals = Globals {
        profile: args.global.profile.clone(),
        region: args.global.region.clone(),
        endpoint: args.global.endpoint.clone(),
        readonly: args.global.readonly,
    };
    #[cfg(not(feature = "demo"))]
    if args.global.demo {
        eprintln!("error: {}", cli::NOT_BUILT);
        return 2;
    }
    #[cfg(not(feature = "demo"))]
    let started = Paths::from_env()
        .map_err(OpsError::Invalid)
        .and_then(|paths| Context::load(paths, globals))
        .map(|ctx| (None::<std::convert::Infallible>, ctx));
    #[cfg(feature = "demo")]
    let started = if args.global.demo {
        let with_postgres = matches!(
            command,
            None | Some(Command::Tui) | Some(Command::Verify(_)) | Some(Command::Ssl(_))
        );
        pgssl::demo::start(None, globals, with_postgres)
            .await
            .map(|(demo, ctx)| (Some(demo), ctx))
    } else {
        Paths::from_env()
            .map_err(OpsError::Invalid)
            .and_then(|paths| Context::load(paths, globals))
            .map(|ctx| (None, ctx))
    };
    let (demo, ctx) = match started {
        Ok(s) => s,
        Err(e) => return cli::report_error(&mut io, &e),
    };
    #[cfg(feature = "demo")]
    let note = demo
        .as_ref()
        .map(|d| d.note.clone())
        .filter(|n| !n.is_empty());
    #[cfg(not(feature = "demo"))]
    let note: Option<String> = demo.map(|never| match never {});
    match command {
        Some(Command::Tui) | None => {
            let options = pgssl::tui::Options {
                readonly: args.global.readonly,
                label: if args.global.demo {
                    "demo".into()
                } else {
                    String::new()
                },
                note,
                follow: pgssl::ops::FollowOptions {
                    poll: std::time::Duration::from_secs(if args.global.demo { 1 } else { 2 }),
                    ..Default::default()
                },
            };
            pgssl::tui::run(ctx, options).await
        }
        Some(command) => {
            if let Some(n) = &note {
                eprintln!("demo: {n}");
            }
            match cli::run(&ctx, command, &mut io).await {
                Ok(()) => 0,
                Err(e) => cli::report_error(&mut io, &e),
            }
        }
    }
}
