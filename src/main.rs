//! Parse arguments, pick the face (TUI or CLI), run it, exit with its code.

use clap::Parser;
use pgssl::cli::{self, Cli, Command};
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
    std::process::exit(code);
}

async fn run(args: Cli) -> i32 {
    let output = args.global.output;
    match args.command {
        Some(Command::Emulator(e)) => match pgssl::emulator::run(e).await {
            Ok(()) => 0,
            Err(msg) => {
                eprintln!("error: {msg}");
                2
            }
        },
        Some(Command::Tui) | None => {
            eprintln!("error: the terminal UI is not built yet; use a command (pgssl --help)");
            2
        }
        Some(command) => {
            let globals = Globals {
                profile: args.global.profile.clone(),
                region: args.global.region.clone(),
                endpoint: args.global.endpoint.clone(),
            };
            let ctx = Paths::from_env()
                .map_err(OpsError::Invalid)
                .and_then(|paths| Context::load(paths, globals));
            cli::with_std_io(output, |io| {
                let ctx = match ctx {
                    Ok(c) => c,
                    Err(e) => return cli::report_error(io, &e),
                };
                // The command runs on this thread; stdio stays locked for its duration.
                let result = tokio::task::block_in_place(|| {
                    tokio::runtime::Handle::current().block_on(cli::run(&ctx, command, io))
                });
                match result {
                    Ok(()) => 0,
                    Err(e) => cli::report_error(io, &e),
                }
            })
        }
    }
}
