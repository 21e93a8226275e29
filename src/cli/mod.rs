//! The scriptable face. `args` is the command line; each command family has its module
//! and returns a result that `output` renders as text for people or as stable JSON for
//! scripts. Every command is a thin layer over `ops`.

pub mod args;
mod audit;
mod bulk;
mod ca;
mod clients;
pub mod docs;
mod instances;
mod json;
mod log;
pub mod output;
mod regions;
mod ssl;
mod task;
pub mod undo;
mod verify;

pub use args::{Cli, Command, NOT_BUILT, Options, Output, SslCommand, exit_codes};
pub use log::entry_line;
pub use output::{Io, Report, StdStreams, Text, clap_error, report_error};

use crate::context::{Context, Opened};
use crate::ops::OpsError;
use crate::validate;

/// Run one non-interactive command.
pub async fn run(ctx: &Context, command: Command, io: &mut Io<'_>) -> Result<(), OpsError> {
    for note in &ctx.notes {
        io.info(note);
    }
    let is_list = matches!(
        &command,
        Command::Instances(args::InstancesCommand::List { .. })
            | Command::Ssl(args::SslCommand::Show { all: true, .. })
            | Command::Audit(_)
    );
    if io.output == Output::Csv && !is_list {
        return Err(OpsError::Usage(
            "--output csv is for lists: instances list, ssl show --all; use --output json here"
                .into(),
        ));
    }
    if io.output == Output::Html && !matches!(&command, Command::Audit(_)) {
        return Err(OpsError::Usage(
            "--output html is for pgssl audit; use --output json here".into(),
        ));
    }
    let result = match command {
        Command::Ssl(cmd) => ssl::run(ctx, cmd, io).await,
        Command::Instances(cmd) => instances::run(ctx, cmd, io).await,
        Command::Regions(cmd) => regions::run(ctx, cmd, io).await,
        Command::Task(cmd) => task::run(ctx, cmd, io).await,
        Command::Log(args) => log::run(ctx, &args, io),
        Command::Undo(args) => undo::run(ctx, &args, io).await,
        Command::Verify(args) => verify::run(ctx, &args, io).await,
        Command::Clients(args) => clients::run(ctx, &args, io).await,
        Command::Audit(args) => audit::run(ctx, &args, io).await,
        Command::Completions(args) => {
            docs::completions(args.shell, io.out);
            Ok(())
        }
        Command::Man(args) => docs::man(&args.command, io.out),
        Command::Emulator(_) | Command::Tui(_) => Err(OpsError::Usage(
            "this command is not run by the CLI dispatcher".into(),
        )),
    };
    io.account_at_end();
    // A result that could not be written whole is no result: the command fails.
    match (result, io.finish()) {
        (Ok(()) | Err(OpsError::Unchecked(_)), Some(e)) => Err(OpsError::Failed(format!(
            "cannot write the output ({e}): what was printed is incomplete"
        ))),
        (Err(OpsError::Failed(why)), Some(e)) => Err(OpsError::Failed(format!(
            "{why}; and cannot write the output ({e}): what was printed is incomplete"
        ))),
        (result, _) => result,
    }
}

/// Resolve the credential and say which one is used (on stderr), and whose it is when
/// that is known already (kept from an earlier command); otherwise the account line
/// comes when STS answers, before a prompt or at the end, and nothing waits for it.
async fn open(ctx: &Context, io: &mut Io<'_>) -> Result<Opened, OpsError> {
    let opened = ctx.open().await?;
    announce(&opened, io).await;
    Ok(opened)
}

/// The credential line, the account line if known, and any warnings, on stderr. A
/// temporary key is had first (the command's first request needs it anyway), so the
/// line can say which key and until when; a failure to get it is the command's to
/// report.
async fn announce(opened: &Opened, io: &mut Io<'_>) {
    let _ = opened.session.client.provider().current().await;
    io.info(opened.credential_line());
    io.account = Some(opened.session.clone());
    io.account_if_known();
    for w in &opened.warnings {
        io.info(w);
    }
}

fn instance_id(input: &str) -> Result<String, OpsError> {
    validate::instance_id(input).map_err(OpsError::Usage)
}

/// The regions a command works in: those given, else `--region`, else the saved ones.
fn regions_to_use(ctx: &Context, given: &[String]) -> Result<Vec<String>, OpsError> {
    let regions: Vec<String> = if !given.is_empty() {
        given.to_vec()
    } else if let Some(r) = &ctx.globals.region {
        vec![r.clone()]
    } else {
        ctx.config.regions.clone()
    };
    if regions.is_empty() {
        return Err(OpsError::Usage(format!(
            "which regions? pass --region R, or keep some with `{} regions add R`",
            crate::hint::pgssl()
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for r in &regions {
        let r = validate::region_name(r).map_err(OpsError::Usage)?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

/// The region a command on an instance works in, confirmed as one to send to (see
/// `Context::confirm_region`).
async fn region(
    ctx: &Context,
    opened: &Opened,
    instance: Option<&str>,
) -> Result<String, OpsError> {
    let r = ctx.region_for(instance, opened.credential_region.as_deref())?;
    confirm(ctx, opened, &r).await?;
    Ok(r)
}

/// The region is one DescribeRegions lists as AVAILABLE (`ops::regions::confirm`).
async fn confirm(ctx: &Context, opened: &Opened, region: &str) -> Result<(), OpsError> {
    ctx.confirm_region(&opened.session, region).await
}

/// Confirm a plan as `ops::confirm` says it must be: at a terminal without `--yes`, the
/// prompt (y, or what must be typed); otherwise `--yes`, with `--confirm` when the
/// confirmation is typed (a protected profile). Nothing is sent unless this passes.
pub(super) fn confirm_plan(
    confirmation: &crate::ops::confirm::Confirmation,
    what_is_sent: &str,
    args: &args::ChangeArgs,
    protected: Option<&str>,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    confirm_with(
        confirmation,
        what_is_sent,
        (args.yes, args.confirm.as_deref()),
        protected,
        io,
    )
}

/// `confirm_plan`, with `--yes` and `--confirm` given apart (`ssl resume`).
pub(super) fn confirm_with(
    confirmation: &crate::ops::confirm::Confirmation,
    what_is_sent: &str,
    (yes, confirm): (bool, Option<&str>),
    protected: Option<&str>,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    use crate::ops::refusal::ConfirmRefusal;
    if yes || !io.interactive {
        return confirmation
            .unattended(yes, confirm, protected)
            .map_err(OpsError::refused);
    }
    let answer = io
        .prompt(&confirmation.prompt(what_is_sent))
        .map_err(|e| OpsError::refused(ConfirmRefusal::AnswerUnreadable { why: e.to_string() }))?;
    confirmation.check(&answer).map_err(OpsError::refused)
}

/// Each region checked, each kept once, in the order given.
fn valid_regions(regions: &[String]) -> Result<Vec<String>, OpsError> {
    let mut out: Vec<String> = Vec::new();
    for r in regions {
        let r = validate::region_name(r).map_err(OpsError::Usage)?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}
