//! The scriptable face: clap definitions and the non-interactive commands. Every command
//! is a thin layer over `ops`; output is text for people or stable JSON for scripts.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;
use serde_json::json;

use crate::addresses::{self, AddressSpec};
use crate::api::models::{DescribeRegionsRequest, DescribeTasksRequest, TaskSet};
use crate::api::{self, ApiError, SSL_REGIONS};
use crate::context::{Context, Opened};
use crate::ops::{self, FollowEnd, FollowOptions, OpsError, SslChange};
use crate::store::config::SavedInstance;
use crate::store::journal::{Entry, Outcome};
use crate::text::sanitize;
use crate::validate;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success (for verify: the TLS check passed)
  1  the API (or the TLS check) reported a failure, or a reply could not be used
  2  usage or validation error: nothing was sent
  3  outcome unknown: a change may or may not have been made (for verify: could not reach the server)";

#[derive(Debug, Parser)]
#[command(
    name = "pgssl",
    version,
    about = "Turn SSL on or off on TencentDB for PostgreSQL instances, and check it worked.",
    long_about = "Turn SSL on or off on TencentDB for PostgreSQL instances, choose the address the \
certificate protects, follow the task to its end, and check the result over TLS.\n\n\
Without a command, pgssl starts its terminal UI. `pgssl --demo` runs it against an embedded \
emulator with a demo fleet: no account needed, nothing leaves this machine.",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// tccli profile to take credentials (and default region) from (~/.tccli/NAME.credential)
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Region of the instance (one of the 18 the SSL API supports)
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// API endpoint: a host (https), or http://127.0.0.1:PORT for a local emulator
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Run against the embedded emulator and a demo fleet, with throwaway config and journal
    #[arg(long, global = true)]
    pub demo: bool,
    /// TUI: browse, refresh and verify, but never send a change
    #[arg(long, global = true)]
    pub readonly: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show, enable or disable SSL on an instance
    #[command(subcommand)]
    Ssl(SslCommand),
    /// The instances pgssl keeps, and discovering them
    #[command(subcommand)]
    Instances(InstancesCommand),
    /// The regions pgssl works in
    #[command(subcommand)]
    Regions(RegionsCommand),
    /// Tasks (the asynchronous side of a change)
    #[command(subcommand)]
    Task(TaskCommand),
    /// The journal of changes pgssl has sent
    Log(LogArgs),
    /// Check the protected address over TLS against the instance's CA
    Verify(VerifyArgs),
    /// Run the local Tencent Cloud API emulator
    #[cfg(feature = "demo")]
    Emulator(pgssl_emulator::EmulatorArgs),
    /// Run the local Tencent Cloud API emulator (not in this build)
    #[cfg(not(feature = "demo"))]
    #[command(disable_help_flag = true)]
    Emulator(NotBuilt),
    /// Start the terminal UI (the default)
    Tui,
}

/// What a build without the `demo` feature takes in place of the emulator's options, so
/// that it can say in one line why there is no emulator.
#[derive(Debug, Clone, Args)]
pub struct NotBuilt {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub args: Vec<String>,
}

/// The one line a build without the `demo` feature gives for `--demo` and `emulator`.
pub const NOT_BUILT: &str = "this pgssl was built without the demo feature (cargo build --no-default-features): --demo and `pgssl emulator` are not available; build with default features to get them";

#[derive(Debug, Subcommand)]
pub enum SslCommand {
    /// SSL state, protected address, CA URL and the addresses an instance has
    Show {
        /// Instance id, e.g. postgres-5gevh7gr
        instance: String,
    },
    /// Turn SSL on, protecting ADDR (an IP, or private / public / group)
    Enable {
        instance: String,
        /// The address the certificate protects: an IP, or private, public, group
        #[arg(long, value_name = "ADDR")]
        address: String,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Turn SSL off
    Disable {
        instance: String,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Fetch the instance's CA certificate (CAUrl), keep it, and show it
    Ca {
        instance: String,
        /// Also write it here
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// Instance id, e.g. postgres-5gevh7gr
    pub instance: String,
    /// Check this address instead of the protected one (HOST or HOST:PORT)
    #[arg(long, value_name = "HOST[:PORT]")]
    pub address: Option<String>,
    /// Verify against this CA file instead of the one from CAUrl
    #[arg(long, value_name = "FILE")]
    pub ca: Option<std::path::PathBuf>,
    /// Connect through here (an SSH tunnel, a port forward); the name checked stays the address
    #[arg(long, value_name = "IP:PORT")]
    pub via: Option<std::net::SocketAddr>,
}

#[derive(Debug, Clone, Args)]
pub struct ChangeArgs {
    /// Follow the task until it ends (Success, Fail or Pause) or --timeout passes
    #[arg(long)]
    pub wait: bool,
    /// Print the exact signed HTTP request and send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// With --wait: check the protected address over TLS once the task succeeds
    #[arg(long, requires = "wait")]
    pub verify: bool,
    #[command(flatten)]
    pub follow: FollowArgs,
}

#[derive(Debug, Clone, Args)]
pub struct FollowArgs {
    /// With --wait: give up waiting after this many seconds
    #[arg(long, value_name = "SECS", default_value_t = 1800)]
    pub timeout: u64,
    /// With --wait: seconds between DescribeTasks polls
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    pub poll: f64,
}

impl FollowArgs {
    fn options(&self) -> Result<FollowOptions, OpsError> {
        if !(self.poll.is_finite() && (0.1..=600.0).contains(&self.poll)) {
            return Err(OpsError::Invalid(
                "--poll must be between 0.1 and 600 seconds".into(),
            ));
        }
        if self.timeout == 0 || Duration::from_secs(self.timeout) > ops::MAX_FOLLOW {
            return Err(OpsError::Invalid(format!(
                "--timeout must be between 1 and {} seconds (a week)",
                ops::MAX_FOLLOW.as_secs()
            )));
        }
        Ok(FollowOptions {
            poll: Duration::from_secs_f64(self.poll),
            timeout: Duration::from_secs(self.timeout),
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum InstancesCommand {
    /// The saved instances (with --remote: what the API lists in the regions)
    List {
        /// Ask the API (DescribeDBInstances) instead of showing the saved list
        #[arg(long)]
        remote: bool,
    },
    /// Save an instance, after checking it exists (needs --region unless a default is set)
    Add { instance: String },
    /// Forget a saved instance (nothing changes on the instance itself)
    Remove { instance: String },
    /// Save every instance the API lists in REGION(s), read-only ones and their groups included
    Import {
        /// Regions to import from (default: --region, else the saved regions)
        regions: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RegionsCommand {
    /// The saved regions (--all: the 18 the SSL API supports; --remote: DescribeRegions)
    List {
        #[arg(long)]
        all: bool,
        #[arg(long, conflicts_with = "all")]
        remote: bool,
    },
    /// Keep these regions
    Add {
        #[arg(required = true)]
        regions: Vec<String>,
    },
    /// Stop keeping these regions
    Remove {
        #[arg(required = true)]
        regions: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// A task's status and progress (DescribeTasks)
    Show {
        task_id: String,
        /// Follow it until it ends
        #[arg(long)]
        wait: bool,
        #[command(flatten)]
        follow: FollowArgs,
    },
}

#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// One JSON object per change (same as --output json)
    #[arg(long)]
    pub json: bool,
    /// Show only the last N changes
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Only changes to this instance
    #[arg(long, value_name = "ID")]
    pub instance: Option<String>,
}

/// Where command output goes; tests capture it.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub output: Output,
    /// Whether a person can answer a confirmation prompt.
    pub interactive: bool,
    pub stdin: &'a mut dyn BufRead,
    /// A JSON document went to stdout already: an error must not add a second one.
    pub printed_json: bool,
}

impl Io<'_> {
    fn json(&mut self, value: &impl Serialize) {
        self.printed_json = true;
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".into());
        let _ = writeln!(self.out, "{text}");
    }
    fn line(&mut self, s: impl AsRef<str>) {
        let _ = writeln!(self.out, "{}", s.as_ref());
    }
    fn info(&mut self, s: impl AsRef<str>) {
        let _ = writeln!(self.err, "{}", s.as_ref());
    }
}

/// Print an error as one line (and as JSON on stdout in json mode); return its exit code.
pub fn report_error(io: &mut Io<'_>, error: &OpsError) -> i32 {
    let code = error.exit_code();
    let _ = writeln!(io.err, "error: {error}");
    if io.output == Output::Json && !io.printed_json {
        let api = match error {
            OpsError::Api(e) | OpsError::Unknown { error: e, .. } => Some(e),
            _ => None,
        };
        io.json(&json!({
            "error": {
                "kind": match error {
                    OpsError::Invalid(_) => "invalid",
                    OpsError::NotFound(_) => "not_found",
                    OpsError::Failed(_) => "failed",
                    OpsError::Unreachable(_) => "unreachable",
                    OpsError::Journal(_) => "journal",
                    OpsError::Unknown { .. } => "outcome_unknown",
                    OpsError::Api(e) => e.kind(),
                },
                "Code": api.and_then(ApiError::code),
                "RequestId": api.and_then(ApiError::request_id),
                "message": error.to_string(),
                "check": match error { OpsError::Unknown { check, .. } => Some(check), _ => None },
                "exit_code": code,
            }
        }));
    }
    code
}

fn open(ctx: &Context, io: &mut Io<'_>) -> Result<Opened, OpsError> {
    let opened = ctx.open()?;
    io.info(&opened.banner);
    for w in &opened.warnings {
        io.info(w);
    }
    Ok(opened)
}

/// Run one non-interactive command.
pub async fn run(ctx: &Context, command: Command, io: &mut Io<'_>) -> Result<(), OpsError> {
    match command {
        Command::Ssl(SslCommand::Show { instance }) => ssl_show(ctx, &instance, io).await,
        Command::Ssl(SslCommand::Enable {
            instance,
            address,
            change,
        }) => {
            let spec = AddressSpec::parse(&address).map_err(OpsError::Invalid)?;
            ssl_change(ctx, &instance, Some(spec), &change, io).await
        }
        Command::Ssl(SslCommand::Disable { instance, change }) => {
            ssl_change(ctx, &instance, None, &change, io).await
        }
        Command::Instances(cmd) => instances(ctx, cmd, io).await,
        Command::Regions(cmd) => regions(ctx, cmd, io).await,
        Command::Task(TaskCommand::Show {
            task_id,
            wait,
            follow,
        }) => task_show(ctx, &task_id, wait, &follow, io).await,
        Command::Log(args) => log(ctx, &args, io),
        Command::Ssl(SslCommand::Ca { instance, out }) => {
            ssl_ca(ctx, &instance, out.as_deref(), io).await
        }
        Command::Verify(args) => verify(ctx, &args, io).await,
        Command::Emulator(_) | Command::Tui => Err(OpsError::Invalid(
            "this command is not run by the CLI dispatcher".into(),
        )),
    }
}

#[derive(Serialize)]
#[allow(non_snake_case)]
struct ShowJson<'a> {
    DBInstanceId: &'a str,
    DBInstanceName: String,
    Region: &'a str,
    DBInstanceType: String,
    DBInstanceStatus: String,
    SSLEnabled: Option<bool>,
    ConnectAddress: Option<&'a str>,
    CAUrl: Option<&'a str>,
    Addresses: &'a [addresses::Address],
}

async fn ssl_show(ctx: &Context, instance: &str, io: &mut Io<'_>) -> Result<(), OpsError> {
    let id = validate::instance_id(instance).map_err(OpsError::Invalid)?;
    let opened = open(ctx, io)?;
    let region = ctx.region_for(Some(&id), opened.credential_region.as_deref())?;
    let info = ops::describe_instance(&opened.session.client, &region, &id).await?;
    // Keep what we learned if the instance is saved.
    if ctx.config.instance(&id).is_some() {
        let saved = info.to_saved();
        if let Err(e) = ctx.config_file.update(|c| c.upsert(saved)) {
            io.info(format!("warning: could not update the saved instance: {e}"));
        }
    }
    let ssl = info.ssl.as_ref();
    if io.output == Output::Json {
        io.json(&ShowJson {
            DBInstanceId: &id,
            DBInstanceName: sanitize(info.instance.name()).into_owned(),
            Region: &region,
            DBInstanceType: sanitize(info.instance.DBInstanceType.as_deref().unwrap_or(""))
                .into_owned(),
            DBInstanceStatus: sanitize(info.instance.status()).into_owned(),
            SSLEnabled: ssl.map(|s| s.SSLEnabled),
            ConnectAddress: ssl.and_then(|s| s.ConnectAddress.as_deref()),
            CAUrl: ssl.and_then(|s| s.CAUrl.as_deref()),
            Addresses: &info.addresses,
        });
        return Ok(());
    }
    io.line(format!(
        "{id}  {}  {}  {}  {region}",
        sanitize(info.instance.name()),
        sanitize(info.instance.DBInstanceType.as_deref().unwrap_or("?")),
        sanitize(info.instance.status())
    ));
    io.line(format!(
        "SSL:       {}",
        ssl.map(ops::SslState::describe)
            .unwrap_or_else(|| "unknown".into())
    ));
    if let Some(url) = ssl.and_then(|s| s.CAUrl.as_deref()) {
        io.line(format!("CA URL:    {url}"));
    }
    io.line("Addresses:");
    if info.addresses.is_empty() {
        io.line("  (none reported)");
    }
    for a in &info.addresses {
        let protected = ssl
            .filter(|s| s.SSLEnabled)
            .and_then(|s| s.ConnectAddress.as_deref())
            == Some(a.ip.as_str());
        io.line(format!(
            "  {:<8} {}:{}{}{}",
            a.kind.keyword(),
            a.ip,
            a.port_or_default(),
            a.group_name
                .as_deref()
                .or(a.group_id.as_deref())
                .map(|g| format!("  group {g}"))
                .unwrap_or_default(),
            if protected {
                "  <- protected by SSL"
            } else {
                ""
            }
        ));
    }
    Ok(())
}

#[derive(Serialize)]
#[allow(non_snake_case)]
struct ChangeJson<'a> {
    DBInstanceId: &'a str,
    Region: &'a str,
    SSLEnabled: bool,
    ConnectAddress: Option<&'a str>,
    result: &'a str,
    TaskId: Option<i64>,
    RequestId: Option<&'a str>,
    task: Option<TaskJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verify: Option<&'a crate::probe::Report>,
    #[serde(skip_serializing_if = "Option::is_none")]
    follow_error: Option<String>,
}

#[derive(Serialize)]
#[allow(non_snake_case)]
struct TaskJson {
    TaskId: Option<i64>,
    Status: String,
    Progress: Option<i64>,
    timed_out: bool,
    Message: Option<String>,
}

impl TaskJson {
    fn from(t: &TaskSet, timed_out: bool) -> TaskJson {
        TaskJson {
            TaskId: t.TaskId,
            Status: sanitize(t.status()).into_owned(),
            Progress: t.Progress,
            timed_out,
            Message: t
                .TaskDetail
                .as_ref()
                .and_then(|d| d.Message.as_deref())
                .filter(|m| !m.is_empty())
                .map(|m| sanitize(m).into_owned()),
        }
    }
}

/// Plan without the network, for --dry-run: addresses come from the saved instance.
fn offline_change(
    ctx: &Context,
    id: &str,
    region: &str,
    spec: Option<&AddressSpec>,
) -> Result<SslChange, OpsError> {
    let saved = ctx.config.instance(id);
    let address = match spec {
        None => None,
        Some(AddressSpec::Ip(ip)) => Some(
            saved
                .and_then(|s| s.addresses.iter().find(|a| a.ip == ip.to_string()).cloned())
                .unwrap_or_else(|| addresses::Address::unverified(*ip)),
        ),
        Some(spec @ AddressSpec::Kind(_)) => {
            let saved = saved.ok_or_else(|| {
                OpsError::Invalid(format!(
                    "--dry-run sends nothing, so '{spec}' cannot be looked up: save the instance first (pgssl instances add {id}) or give the IP"
                ))
            })?;
            Some(
                addresses::choose(id, saved.is_readonly(), &saved.addresses, spec)
                    .map_err(OpsError::Invalid)?,
            )
        }
    };
    let base = saved.cloned().unwrap_or_else(|| SavedInstance {
        id: id.to_string(),
        region: region.to_string(),
        kind: Some("instance".into()),
        ..Default::default()
    });
    let mut change = SslChange::for_saved(&base, spec.is_some(), address);
    change.region = region.to_string();
    Ok(change)
}

async fn ssl_change(
    ctx: &Context,
    instance: &str,
    spec: Option<AddressSpec>,
    args: &ChangeArgs,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    let id = validate::instance_id(instance).map_err(OpsError::Invalid)?;
    let follow = args.follow.options()?;
    if ctx.globals.readonly && !args.dry_run {
        return Err(OpsError::Invalid(
            "--readonly: changes are disabled; drop --readonly to send one (--dry-run shows it without sending)".into(),
        ));
    }
    let opened = open(ctx, io)?;
    let region = ctx.region_for(Some(&id), opened.credential_region.as_deref())?;
    let session = &opened.session;

    if args.dry_run {
        let change = offline_change(ctx, &id, &region, spec.as_ref())?;
        let prepared = session.client.prepare(
            Some(&region),
            &change.request(),
            crate::api::client::system_clock(),
        );
        io.info("dry run: this is the exact request pgssl would send; nothing was sent");
        io.line(prepared.render());
        return Ok(());
    }

    let info = ops::describe_instance(&session.client, &region, &id).await?;
    let change = ops::plan(&info, spec.is_some(), spec.as_ref()).map_err(OpsError::Invalid)?;
    if change.is_noop() {
        let now = change
            .current
            .as_ref()
            .map(ops::SslState::describe)
            .unwrap_or_default();
        if io.output == Output::Json {
            io.json(&ChangeJson {
                DBInstanceId: &id,
                Region: &region,
                SSLEnabled: change.enable,
                ConnectAddress: change.request().ConnectAddress.as_deref(),
                result: "unchanged",
                TaskId: None,
                RequestId: None,
                task: None,
                verify: None,
                follow_error: None,
            });
        } else {
            io.line(format!(
                "{id} already has SSL {now}: nothing to do, nothing sent"
            ));
        }
        return Ok(());
    }

    if !args.yes {
        confirm(&change, io)?;
    }

    let applied = session.apply(&change).await?;
    let request = change.request();
    if io.output == Output::Text {
        io.line(format!(
            "sent: {} SSL {} on {id}: TaskId {}, RequestId {}",
            region,
            if change.enable { "enable" } else { "disable" },
            applied
                .TaskId
                .map(|t| t.to_string())
                .unwrap_or_else(|| "(none)".into()),
            applied.RequestId
        ));
    }
    let mut task = None;
    let mut verify_report: Option<crate::probe::Report> = None;
    let mut follow_error: Option<OpsError> = None;
    let mut now: Option<ops::InstanceInfo> = None;
    if args.wait {
        if let Some(task_id) = applied.TaskId {
            // The change is sent: whatever happens while following, its TaskId and
            // RequestId must still be reported.
            match follow_with_progress(
                session,
                &region,
                task_id,
                Some(&applied.journal_id),
                follow,
                io,
            )
            .await
            {
                Ok(end) => task = Some(end),
                Err(e) => follow_error = Some(e),
            }
            // Describe it once more: what it looks like now is shown, saved (for the TUI
            // and `instances list`) and, if asked, checked over TLS.
            if let Ok(info) = ops::describe_instance(&session.client, &region, &id).await {
                if let (Some(state), Output::Text) = (&info.ssl, io.output) {
                    io.line(format!("{id} now has SSL {}", state.describe()));
                }
                if ctx.config.instance(&id).is_some() {
                    let saved = info.to_saved();
                    let _ = ctx.config_file.update(|c| c.upsert(saved));
                }
                now = Some(info);
            }
        }
        let succeeded = task
            .as_ref()
            .is_some_and(|(t, timed_out)| !timed_out && t.status() == "Success");
        if let (true, true, Some(info)) = (succeeded, change.enable, &now) {
            let wanted = args.verify
                || (io.interactive
                    && io.output == Output::Text
                    && ask(io, "Check the protected address over TLS now? [Y/n] ", true));
            if wanted {
                let verified = session
                    .verify_described(
                        &ctx.paths,
                        &ctx.address_map,
                        info,
                        &ops::VerifyRequest::default(),
                    )
                    .await;
                match verified {
                    Ok(v) => {
                        if io.output == Output::Text {
                            for line in v.lines() {
                                io.line(line);
                            }
                        }
                        verify_report = Some(v.report);
                    }
                    Err(e) => io.info(format!("warning: the TLS check could not run: {e}")),
                }
            } else if io.output == Output::Text {
                io.line(format!(
                    "check it over TLS with: pgssl verify {id} --region {region}"
                ));
            }
        }
    } else if io.output == Output::Text {
        io.line(format!(
            "the change runs in the background and restarts the instance; follow it with: pgssl task show {} --region {region} --wait",
            applied.TaskId.unwrap_or(0)
        ));
    }
    if io.output == Output::Json {
        io.json(&ChangeJson {
            DBInstanceId: &id,
            Region: &region,
            SSLEnabled: request.SSLEnabled,
            ConnectAddress: request.ConnectAddress.as_deref(),
            result: "sent",
            TaskId: applied.TaskId,
            RequestId: Some(&applied.RequestId),
            task: task
                .as_ref()
                .map(|(t, timed_out)| TaskJson::from(t, *timed_out)),
            verify: verify_report.as_ref(),
            follow_error: follow_error
                .as_ref()
                .map(|e| format!("the change was sent, but following its task failed: {e}")),
        });
    }
    if let Some(e) = follow_error {
        return Err(OpsError::Failed(format!(
            "the change was sent (TaskId {}, RequestId {}), but following its task failed: {e}",
            applied
                .TaskId
                .map(|t| t.to_string())
                .unwrap_or_else(|| "-".into()),
            applied.RequestId
        )));
    }
    if let Some(report) = &verify_report
        && report.verdict.exit_code() != 0
    {
        return Err(verdict_error(report));
    }
    match task {
        Some((t, false)) if t.status() != "Success" => Err(OpsError::Failed(format!(
            "task {} ended {}{}",
            t.TaskId.unwrap_or(0),
            sanitize(t.status()),
            t.TaskDetail
                .as_ref()
                .and_then(|d| d.Message.as_deref())
                .filter(|m| !m.is_empty())
                .map(|m| format!(": {}", sanitize(m)))
                .unwrap_or_default()
        ))),
        Some((t, true)) => Err(OpsError::Failed(format!(
            "gave up waiting for task {} after {}s (last status {}); it continues on Tencent's side",
            t.TaskId.unwrap_or(0),
            follow.timeout.as_secs(),
            sanitize(t.status())
        ))),
        _ => Ok(()),
    }
}

/// Ask a yes/no question on the terminal; Enter gives `default`.
fn ask(io: &mut Io<'_>, question: &str, default: bool) -> bool {
    let _ = write!(io.err, "{question}");
    let _ = io.err.flush();
    let mut answer = String::new();
    if io.stdin.read_line(&mut answer).is_err() {
        return false;
    }
    match answer.trim() {
        "" => default,
        a => matches!(a, "y" | "Y" | "yes"),
    }
}

fn verdict_error(report: &crate::probe::Report) -> OpsError {
    let target = format!("{}:{}", report.address, report.port);
    let line = report.verdict.sentence(&target);
    match report.verdict {
        crate::probe::Verdict::Unreachable(_) => OpsError::Unreachable(line),
        _ => OpsError::Failed(line),
    }
}

async fn ssl_ca(
    ctx: &Context,
    instance: &str,
    out: Option<&std::path::Path>,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    let id = validate::instance_id(instance).map_err(OpsError::Invalid)?;
    let opened = open(ctx, io)?;
    let region = ctx.region_for(Some(&id), opened.credential_region.as_deref())?;
    let (url, bundle) = opened.session.instance_ca(&ctx.paths, &region, &id).await?;
    if let Some(out) = out {
        let pem = std::fs::read(&bundle.path).map_err(|e| {
            OpsError::Failed(format!("cannot read {} ({e})", bundle.path.display()))
        })?;
        crate::store::write_atomic(out, &pem)
            .map_err(|e| OpsError::Failed(format!("cannot write {} ({e})", out.display())))?;
    }
    let now = crate::api::client::system_clock();
    if io.output == Output::Json {
        io.json(&json!({
            "DBInstanceId": id,
            "CAUrl": url,
            "path": bundle.path,
            "out": out,
            "certificates": bundle.infos,
        }));
        return Ok(());
    }
    io.line(format!("CA of {id} from {url}"));
    io.line(format!("kept at {}", bundle.path.display()));
    if let Some(out) = out {
        io.line(format!("written to {}", out.display()));
    }
    for c in &bundle.infos {
        io.line(format!("  subject:  {}", c.subject));
        io.line(format!("  sha256:   {}", c.sha256));
        io.line(format!(
            "  valid:    {} to {} ({})",
            c.not_before,
            c.not_after,
            c.time_left(now)
        ));
    }
    Ok(())
}

async fn verify(ctx: &Context, args: &VerifyArgs, io: &mut Io<'_>) -> Result<(), OpsError> {
    let id = validate::instance_id(&args.instance).map_err(OpsError::Invalid)?;
    let (address, port) = match &args.address {
        None => (None, None),
        Some(a) => {
            let (host, port) = split_host_port(a).map_err(OpsError::Invalid)?;
            (Some(host), port)
        }
    };
    let opened = open(ctx, io)?;
    let region = ctx.region_for(Some(&id), opened.credential_region.as_deref())?;
    let request = ops::VerifyRequest {
        address,
        port,
        ca_file: args.ca.clone(),
        via: args.via,
    };
    let v = opened
        .session
        .verify(&ctx.paths, &ctx.address_map, &region, &id, &request)
        .await?;
    if io.output == Output::Json {
        io.json(
            &json!({"DBInstanceId": id, "ca": v.ca.path, "via": v.target.via, "report": v.report}),
        );
    } else {
        io.line(format!("TLS check of {} for {id}", v.target.display()));
        for line in v.lines() {
            io.line(line);
        }
    }
    match v.report.verdict.exit_code() {
        0 => Ok(()),
        _ => Err(verdict_error(&v.report)),
    }
}

/// `HOST`, `HOST:PORT`, `[V6]:PORT` or a bare IPv6 address.
fn split_host_port(input: &str) -> Result<(String, Option<u16>), String> {
    let bad = || format!("'{}' is not HOST or HOST:PORT", sanitize(input));
    let s = input.trim();
    if s.is_empty() {
        return Err(bad());
    }
    if let Ok(ip) = s.parse::<std::net::IpAddr>() {
        return Ok((ip.to_string(), None));
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        let port = after
            .strip_prefix(':')
            .map(|p| p.parse().map_err(|_| bad()))
            .transpose()?;
        return Ok((host.to_string(), port));
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse::<u16>().map_err(|_| bad())?)),
        None => (s, None),
    };
    let valid = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if valid {
        Ok((host.to_string(), port))
    } else {
        Err(bad())
    }
}

fn confirm(change: &SslChange, io: &mut Io<'_>) -> Result<(), OpsError> {
    if !io.interactive {
        return Err(OpsError::Invalid(
            "refusing to change SSL without confirmation: stdin is not a terminal; review the change and pass --yes".into(),
        ));
    }
    for line in change.summary() {
        io.info(line);
    }
    let _ = write!(
        io.err,
        "Send this change? Type y to send, anything else cancels: "
    );
    let _ = io.err.flush();
    let mut answer = String::new();
    io.stdin.read_line(&mut answer).map_err(|e| {
        OpsError::Invalid(format!("cannot read the answer ({e}); nothing was sent"))
    })?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(OpsError::Invalid("cancelled: nothing was sent".into()))
    }
}

/// Follow a task, printing a line whenever status or progress changes. Returns the last
/// task seen and whether waiting timed out.
async fn follow_with_progress(
    session: &ops::Session,
    region: &str,
    task_id: i64,
    journal_id: Option<&str>,
    options: FollowOptions,
    io: &mut Io<'_>,
) -> Result<(TaskSet, bool), OpsError> {
    let mut last = (String::new(), None);
    let text = io.output == Output::Text;
    let err = &mut *io.err;
    let end = session
        .follow_task(region, task_id, journal_id, options, |t| {
            let now = (t.status().to_string(), t.Progress);
            if now != last && text {
                let _ = writeln!(
                    err,
                    "task {task_id}: {} {}%",
                    sanitize(t.status()),
                    t.Progress.unwrap_or(0)
                );
            }
            last = now;
        })
        .await?;
    Ok(match end {
        FollowEnd::Finished(t) => (t, false),
        FollowEnd::TimedOut(t) => (
            t.unwrap_or(TaskSet {
                TaskId: Some(task_id),
                Status: Some("(not visible yet)".into()),
                ..Default::default()
            }),
            true,
        ),
    })
}

async fn task_show(
    ctx: &Context,
    task_id: &str,
    wait: bool,
    follow: &FollowArgs,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    let task_id = validate::task_id(task_id).map_err(OpsError::Invalid)?;
    let follow = follow.options()?;
    let opened = open(ctx, io)?;
    let region = ctx.region_for(None, opened.credential_region.as_deref())?;
    let session = &opened.session;
    // The journal entry this task belongs to, so its status is recorded there.
    let journal_id = ctx
        .journal
        .entries()
        .ok()
        .and_then(|(entries, _)| {
            entries
                .into_iter()
                .rev()
                .find(|e| e.task_id() == Some(task_id))
        })
        .map(|e| e.request.id);
    let (task, timed_out) = if wait {
        follow_with_progress(session, &region, task_id, journal_id.as_deref(), follow, io).await?
    } else {
        let reply = session
            .client
            .call(
                Some(&region),
                &DescribeTasksRequest {
                    TaskId: Some(task_id),
                    ..Default::default()
                },
            )
            .await?;
        let task = reply
            .TaskSet
            .unwrap_or_default()
            .into_iter()
            .find(|t| t.TaskId == Some(task_id))
            .ok_or_else(|| {
                OpsError::NotFound(format!(
                    "no task {task_id} in {region}: check the id and --region"
                ))
            })?;
        (task, false)
    };
    if io.output == Output::Json {
        let mut v = serde_json::to_value(TaskJson::from(&task, timed_out)).unwrap_or_default();
        v["DBInstanceId"] = json!(task.DBInstanceId.as_deref().map(sanitize));
        v["StartTime"] = json!(task.StartTime.as_deref().map(sanitize));
        v["EndTime"] = json!(task.EndTime.as_deref().map(sanitize));
        io.json(&v);
    } else {
        io.line(format!(
            "task {task_id}: {} {}%  instance {}  started {}{}",
            sanitize(task.status()),
            task.Progress.unwrap_or(0),
            sanitize(task.DBInstanceId.as_deref().unwrap_or("?")),
            sanitize(task.StartTime.as_deref().unwrap_or("?")),
            task.EndTime
                .as_deref()
                .filter(|e| !e.is_empty())
                .map(|e| format!("  ended {}", sanitize(e)))
                .unwrap_or_default()
        ));
    }
    if timed_out {
        return Err(OpsError::Failed(format!(
            "gave up waiting for task {task_id} after {}s; it continues on Tencent's side",
            follow.timeout.as_secs()
        )));
    }
    Ok(())
}

fn instance_row(i: &SavedInstance) -> String {
    let ssl = match &i.ssl {
        Some(s) if s.enabled => format!("on {}", s.connect_address.as_deref().unwrap_or("")),
        Some(_) => "off".into(),
        None => "?".into(),
    };
    // The config is a file people edit: nothing in it reaches the terminal unsanitized.
    let row = format!(
        "{:<18} {:<16} {:<24} {:<8} {:<10} {:<18} {}",
        i.id,
        i.region,
        crate::text::truncate(&sanitize(&i.name), 24),
        i.kind.as_deref().unwrap_or("?"),
        i.status.as_deref().unwrap_or("?"),
        ssl,
        i.addresses
            .iter()
            .map(|a| a.label())
            .collect::<Vec<_>>()
            .join(", ")
    );
    sanitize(&row).into_owned()
}

const INSTANCE_HEADER: &str = "ID                 REGION           NAME                     TYPE     STATUS     SSL                ADDRESSES";

fn regions_to_use(ctx: &Context, given: &[String]) -> Result<Vec<String>, OpsError> {
    let regions: Vec<String> = if !given.is_empty() {
        given.to_vec()
    } else if let Some(r) = &ctx.globals.region {
        vec![r.clone()]
    } else {
        ctx.config.regions.clone()
    };
    if regions.is_empty() {
        return Err(OpsError::Invalid(
            "which regions? pass --region R, or keep some with `pgssl regions add R`".into(),
        ));
    }
    valid_regions(&regions)
}

/// Each region checked, each kept once, in the order given.
fn valid_regions(regions: &[String]) -> Result<Vec<String>, OpsError> {
    let mut out: Vec<String> = Vec::new();
    for r in regions {
        let r = validate::region(r).map_err(OpsError::Invalid)?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

async fn instances(ctx: &Context, cmd: InstancesCommand, io: &mut Io<'_>) -> Result<(), OpsError> {
    match cmd {
        InstancesCommand::List { remote: false } => {
            let list: Vec<&SavedInstance> = ctx
                .config
                .instances
                .iter()
                .filter(|i| ctx.globals.region.as_ref().is_none_or(|r| &i.region == r))
                .collect();
            if io.output == Output::Json {
                io.json(&list);
            } else if list.is_empty() {
                io.info("no saved instances: add one with `pgssl instances add ID --region R` or `pgssl instances import --region R`");
            } else {
                io.line(INSTANCE_HEADER);
                for i in list {
                    io.line(instance_row(i));
                }
            }
            Ok(())
        }
        InstancesCommand::List { remote: true } => {
            let regions = regions_to_use(ctx, &[])?;
            let opened = open(ctx, io)?;
            let mut all = Vec::new();
            for region in &regions {
                all.extend(ops::discover(&opened.session.client, region).await?);
            }
            if io.output == Output::Json {
                io.json(&all);
            } else {
                io.line(INSTANCE_HEADER);
                for i in &all {
                    io.line(instance_row(i));
                }
                io.info(format!("{} instances in {}", all.len(), regions.join(", ")));
            }
            Ok(())
        }
        InstancesCommand::Add { instance } => {
            let id = validate::instance_id(&instance).map_err(OpsError::Invalid)?;
            let opened = open(ctx, io)?;
            let region = ctx.region_for(Some(&id), opened.credential_region.as_deref())?;
            let info = ops::describe_instance(&opened.session.client, &region, &id).await?;
            let saved = info.to_saved();
            let summary = instance_row(&saved);
            ctx.config_file
                .update(|c| c.upsert(saved))
                .map_err(|e| OpsError::Invalid(e.to_string()))?;
            if io.output == Output::Json {
                io.json(&info.to_saved());
            } else {
                io.line(format!("saved {summary}"));
            }
            Ok(())
        }
        InstancesCommand::Remove { instance } => {
            let id = validate::instance_id(&instance).map_err(OpsError::Invalid)?;
            let removed = ctx
                .config_file
                .update(|c| c.remove(&id))
                .map_err(|e| OpsError::Invalid(e.to_string()))?;
            if !removed {
                return Err(OpsError::Invalid(format!(
                    "{id} is not saved, so there is nothing to remove (see `pgssl instances list`)"
                )));
            }
            if io.output == Output::Json {
                io.json(&json!({"removed": id}));
            } else {
                io.line(format!(
                    "removed {id} from the saved list (the instance itself is untouched)"
                ));
            }
            Ok(())
        }
        InstancesCommand::Import { regions } => {
            let regions = regions_to_use(ctx, &regions)?;
            let opened = open(ctx, io)?;
            let mut found = Vec::new();
            for region in &regions {
                let list = ops::discover(&opened.session.client, region).await?;
                io.info(format!("{region}: {} instances", list.len()));
                found.extend(list);
            }
            let count = found.len();
            let added = ctx
                .config_file
                .update(|c| c.import(found, &regions))
                .map_err(|e| OpsError::Invalid(e.to_string()))?;
            let updated = count - added;
            if io.output == Output::Json {
                io.json(&json!({"regions": regions, "added": added, "updated": updated}));
            } else {
                io.line(format!(
                    "imported {count} instances from {}: {added} new, {updated} updated",
                    regions.join(", ")
                ));
            }
            Ok(())
        }
    }
}

async fn regions(ctx: &Context, cmd: RegionsCommand, io: &mut Io<'_>) -> Result<(), OpsError> {
    match cmd {
        RegionsCommand::List { all: true, .. } => {
            if io.output == Output::Json {
                io.json(&SSL_REGIONS);
            } else {
                for r in SSL_REGIONS {
                    let mark = if ctx.config.regions.iter().any(|s| s == r) {
                        "*"
                    } else {
                        " "
                    };
                    io.line(format!("{mark} {r}"));
                }
            }
            Ok(())
        }
        RegionsCommand::List { remote: true, .. } => {
            let opened = open(ctx, io)?;
            let reply = opened
                .session
                .client
                .call(None, &DescribeRegionsRequest {})
                .await?;
            let set = reply.RegionSet.unwrap_or_default();
            if io.output == Output::Json {
                io.json(&set);
            } else {
                for r in &set {
                    let region = sanitize(r.Region.as_deref().unwrap_or("?")).into_owned();
                    io.line(format!(
                        "{:<18} {:<12} {}{}",
                        region,
                        sanitize(r.RegionState.as_deref().unwrap_or("")),
                        sanitize(r.RegionName.as_deref().unwrap_or("")),
                        if api::is_ssl_region(&region) {
                            ""
                        } else {
                            "  (no SSL API)"
                        }
                    ));
                }
            }
            Ok(())
        }
        RegionsCommand::List { .. } => {
            if io.output == Output::Json {
                io.json(&ctx.config.regions);
            } else if ctx.config.regions.is_empty() {
                io.info("no saved regions: add some with `pgssl regions add ap-guangzhou ...` (see `pgssl regions list --all`)");
            } else {
                for r in &ctx.config.regions {
                    io.line(r);
                }
            }
            Ok(())
        }
        RegionsCommand::Add { regions } => {
            let regions = valid_regions(&regions)?;
            let now = ctx
                .config_file
                .update(|c| {
                    c.keep_regions(&regions);
                    c.regions.clone()
                })
                .map_err(|e| OpsError::Invalid(e.to_string()))?;
            if io.output == Output::Json {
                io.json(&now);
            } else {
                io.line(format!("regions: {}", now.join(", ")));
            }
            Ok(())
        }
        RegionsCommand::Remove { regions } => {
            let regions = valid_regions(&regions)?;
            let now = ctx
                .config_file
                .update(|c| {
                    c.regions.retain(|r| !regions.contains(r));
                    c.regions.clone()
                })
                .map_err(|e| OpsError::Invalid(e.to_string()))?;
            if io.output == Output::Json {
                io.json(&now);
            } else {
                io.line(format!(
                    "regions: {}",
                    if now.is_empty() {
                        "(none)".to_string()
                    } else {
                        now.join(", ")
                    }
                ));
            }
            Ok(())
        }
    }
}

/// One line per change for people.
pub fn entry_line(e: &Entry) -> String {
    let r = &e.request;
    let what = if r.SSLEnabled {
        format!("enable {}", r.ConnectAddress.as_deref().unwrap_or("?"))
    } else {
        "disable".to_string()
    };
    let outcome = match &e.outcome {
        Some(Outcome::Ok { RequestId, TaskId }) => format!(
            "ok TaskId {} RequestId {RequestId}",
            TaskId.map(|t| t.to_string()).unwrap_or_else(|| "-".into())
        ),
        Some(Outcome::Error {
            Code, RequestId, ..
        }) => format!(
            "error {Code}{}",
            RequestId
                .as_deref()
                .map(|r| format!(" RequestId {r}"))
                .unwrap_or_default()
        ),
        Some(Outcome::Unknown { .. }) => "outcome unknown".into(),
        None => "outcome unknown (interrupted before a reply)".into(),
    };
    let task = e
        .task
        .as_ref()
        .map(|(_, s, p)| {
            format!(
                "  task {s}{}",
                p.map(|p| format!(" {p}%")).unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let check = e
        .check
        .as_ref()
        .map(|(result, _, _)| format!("  checked: {result}"))
        .unwrap_or_default();
    let verify = e
        .verify
        .as_ref()
        .map(|(_, result, _)| format!("  tls: {result}"))
        .unwrap_or_default();
    sanitize(&format!(
        "{}  {}  {:<18} {:<22} {outcome}{task}{check}{verify}",
        r.time, r.region, r.DBInstanceId, what
    ))
    .into_owned()
}

fn log(ctx: &Context, args: &LogArgs, io: &mut Io<'_>) -> Result<(), OpsError> {
    if let Some(id) = &args.instance {
        validate::instance_id(id).map_err(OpsError::Invalid)?;
    }
    let (entries, skipped) = ctx.journal.entries().map_err(|e| {
        OpsError::NotFound(format!(
            "cannot read the journal {} ({e})",
            ctx.journal.path().display()
        ))
    })?;
    let mut entries: Vec<Entry> = entries
        .into_iter()
        .filter(|e| {
            args.instance
                .as_ref()
                .is_none_or(|id| &e.request.DBInstanceId == id)
        })
        .collect();
    if let Some(n) = args.limit {
        let drop = entries.len().saturating_sub(n);
        entries.drain(..drop);
    }
    if skipped > 0 {
        io.info(format!(
            "warning: {skipped} unreadable lines in {} were skipped",
            ctx.journal.path().display()
        ));
    }
    if args.json || io.output == Output::Json {
        for e in &entries {
            let _ = writeln!(io.out, "{}", serde_json::to_string(e).unwrap_or_default());
        }
    } else if entries.is_empty() {
        io.info(format!(
            "no changes recorded yet in {}",
            ctx.journal.path().display()
        ));
    } else {
        for e in &entries {
            io.line(entry_line(e));
        }
    }
    Ok(())
}

/// The process's standard streams, owned, for building an `Io`.
pub struct StdStreams {
    out: std::io::Stdout,
    err: std::io::Stderr,
    input: std::io::StdinLock<'static>,
    interactive: bool,
}

impl Default for StdStreams {
    fn default() -> Self {
        let stdin = std::io::stdin();
        StdStreams {
            interactive: stdin.is_terminal(),
            input: stdin.lock(),
            out: std::io::stdout(),
            err: std::io::stderr(),
        }
    }
}

impl StdStreams {
    pub fn io(&mut self, output: Output) -> Io<'_> {
        Io {
            out: &mut self.out,
            err: &mut self.err,
            output,
            interactive: self.interactive,
            stdin: &mut self.input,
            printed_json: false,
        }
    }
}
