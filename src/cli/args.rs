//! The command line, as clap reads it. Each subcommand takes only the options that mean
//! something to it (its `--help` lists exactly those); options given before the command
//! (`pgssl --region R ssl show ...`) are passed on to it when it takes them.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::ops::{FollowOptions, MAX_FOLLOW, OpsError};

/// The exit codes, for `--help`: the one table of `ops::exit`.
pub fn exit_codes() -> String {
    use std::fmt::Write as _;
    let mut out = String::from("Exit codes (every command):");
    for (code, meaning) in crate::ops::exit::TABLE {
        let _ = write!(out, "\n  {code:<3}  {meaning}");
    }
    out
}

#[derive(Debug, Parser)]
#[command(
    name = "pgssl",
    version,
    about = "Turn SSL on or off on TencentDB for PostgreSQL instances, and check it worked.",
    long_about = "Turn SSL on or off on TencentDB for PostgreSQL instances, choose the address the \
certificate protects, follow the task to its end, and check the result over TLS.\n\n\
Without a command, pgssl starts its terminal UI. `pgssl --demo` runs it against an embedded \
emulator with a demo fleet: no account needed, nothing leaves this machine.",
    after_help = exit_codes()
)]
pub struct Cli {
    #[command(flatten)]
    pub api: ApiArgs,
    /// Run against the embedded emulator and a demo fleet, with a config and journal of its
    /// own, kept between runs (in the data directory's `demo`, or PGSSL_DEMO_DIR)
    #[arg(long)]
    pub demo: bool,
    /// With --demo: forget the demo's state (changes, journal, config) and exit
    #[arg(long, requires = "demo")]
    pub reset: bool,
    /// Browse, refresh and verify, but never send a change
    #[arg(long)]
    pub readonly: bool,
    /// Output format of the command that follows (text or json)
    #[arg(long, value_enum, hide = true)]
    pub output: Option<Output>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Where the API is and who calls it.
#[derive(Debug, Clone, Default, Args)]
pub struct ApiArgs {
    /// tccli profile to take credentials (and default region) from (~/.tccli/NAME.credential)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Region of the instance, e.g. ap-guangzhou (one DescribeRegions lists as AVAILABLE)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// API endpoint: a host (https), or http://127.0.0.1:PORT for a local emulator
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Sign with this CVM's instance role, from the metadata service (as tccli's flag)
    #[arg(long)]
    pub use_cvm_role: bool,
}

/// The options of a command that talks to the API.
#[derive(Debug, Clone, Default, Args)]
pub struct Common {
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub local: Local,
}

/// The options of a command that works on local files only.
#[derive(Debug, Clone, Default, Args)]
pub struct Local {
    /// Output format
    #[arg(long, value_enum)]
    pub output: Option<Output>,
    /// Run against the embedded emulator and its demo fleet
    #[arg(long)]
    pub demo: bool,
}

/// `ssl ca --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CaFormatArg {
    Pem,
    P7b,
    Jks,
}

impl From<CaFormatArg> for crate::ops::ca::CaFormat {
    fn from(f: CaFormatArg) -> Self {
        match f {
            CaFormatArg::Pem => Self::Pem,
            CaFormatArg::P7b => Self::P7b,
            CaFormatArg::Jks => Self::Jks,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Output {
    #[default]
    Text,
    Json,
    /// For lists (`instances list`, `ssl show --all`, `audit`): a header row, then a row each.
    Csv,
    /// For `audit`: one self-contained page to keep (no script, nothing remote).
    Html,
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
    /// The journal of changes pgssl has sent, newest first (--oldest-first for the other order)
    Log(LogArgs),
    /// Undo a change (or every change of a bulk run) from the journal: SSL back to what it
    /// was before, as a change of its own, confirmed and guarded as any; refused when the
    /// instance changed since (unless --force) or the change did not succeed
    Undo(Box<super::undo::UndoArgs>),
    /// Check the protected address over TLS against the instance's CA
    Verify(VerifyArgs),
    /// Who is connected, and how: the client connections over TLS and in plaintext, by
    /// address, application and user (a monitoring login: PGUSER, PGPASSWORD or ~/.pgpass,
    /// or [monitor] in config.toml); exit 3 when nothing could be counted
    Clients(ClientsArgs),
    /// Every instance of the regions judged: SSL off, read-only groups that disagree, CAs
    /// expired or expiring; exit 0 compliant, 1 a finding, 3 something not checked
    Audit(AuditArgs),
    /// Run the local Tencent Cloud API emulator
    #[cfg(feature = "demo")]
    Emulator(Box<pgssl_emulator::EmulatorArgs>),
    /// Run the local Tencent Cloud API emulator (not in this build)
    #[cfg(not(feature = "demo"))]
    #[command(disable_help_flag = true)]
    Emulator(NotBuilt),
    /// Start the terminal UI (the default)
    Tui(TuiArgs),
    /// Shell completions on stdout: bash, zsh, fish, elvish or powershell
    Completions(CompletionsArgs),
    /// The manual page (roff) on stdout: `pgssl man | man -l -`; `pgssl man ssl enable`
    /// for one command's page
    Man(ManArgs),
}

/// `pgssl completions SHELL`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `pgssl man [COMMAND...]`.
#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// A command's page instead of pgssl's own, e.g. `ssl enable`
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// The TUI's options, for `pgssl tui`.
#[derive(Debug, Clone, Default, Args)]
pub struct TuiArgs {
    #[command(flatten)]
    pub api: ApiArgs,
    /// Run against the embedded emulator and a demo fleet
    #[arg(long)]
    pub demo: bool,
    /// Browse, refresh and verify, but never send a change
    #[arg(long)]
    pub readonly: bool,
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
        #[arg(required_unless_present = "all")]
        instance: Option<String>,
        /// Every instance of the regions (--region, else the saved regions), as the API
        /// lists them, each with its SSL state, and how many are on, off and unknown
        #[arg(long, conflicts_with = "instance")]
        all: bool,
        /// Also show the tccli commands that read the same (DescribeDBInstances,
        /// DescribeDBInstanceSSLConfig)
        #[arg(long, short, conflicts_with = "all")]
        verbose: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Turn SSL on, protecting ADDR (an IP, or private / public / group); for many
    /// instances at once: --all, --filter EXPR or --from FILE with an address kind
    #[command(group = clap::ArgGroup::new("which").required(true).args(["instance", "all", "filter", "from"]))]
    Enable {
        /// Instance id, e.g. postgres-5gevh7gr
        instance: Option<String>,
        /// The address the certificate protects: an IP, or private, public, group (for many
        /// instances: a kind, taken per instance)
        #[arg(long, value_name = "ADDR")]
        address: String,
        #[command(flatten)]
        many: ManyArgs,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Turn SSL off (it takes no --address: no address is protected once SSL is off); for
    /// many instances at once: --all, --filter EXPR or --from FILE
    #[command(group = clap::ArgGroup::new("which").required(true).args(["instance", "all", "filter", "from"]))]
    // What only an enable means is not offered here (and refused in one line if given).
    #[command(mut_arg("with_group", |a| a.hide(true)), mut_arg("verify", |a| a.hide(true)))]
    Disable {
        /// Instance id, e.g. postgres-5gevh7gr
        instance: Option<String>,
        /// Taken only to be refused in one line: disabling protects no address.
        #[arg(long, hide = true, num_args = 0..=1, default_missing_value = "")]
        address: Option<String>,
        #[command(flatten)]
        many: ManyArgs,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Go on with a bulk change that did not finish (stopped, interrupted, killed): shows which
    /// changes are done, running and never sent, and continues once confirmed. Nothing the
    /// journal holds as sent is sent again. --abandon RUN gives up its never-sent changes.
    Resume {
        /// The run to go on with (default: the newest waiting)
        #[arg(value_name = "RUN")]
        run: Option<String>,
        /// Do not ask for confirmation (without a terminal; a protected profile also needs --confirm)
        #[arg(long, short = 'y')]
        yes: bool,
        /// With --yes: the number of never-sent changes, as shown; needed on a protected profile
        #[arg(long, value_name = "N", requires = "yes")]
        confirm: Option<String>,
        /// Give up this run's never-sent changes (what was sent is not undone): it is no
        /// longer offered
        #[arg(long, value_name = "RUN", conflicts_with_all = ["run", "yes", "confirm"])]
        abandon: Option<String>,
        #[command(flatten)]
        follow: FollowArgs,
        #[command(flatten)]
        common: Common,
    },
    /// Fetch the instance's CA (inline in DescribeDBInstanceSSLConfig, else CAUrl as PEM,
    /// DER or the console's zip), keep it, and show it. One that came over plain http from
    /// another host is shown with its SHA-256 and kept only once confirmed (--fingerprint)
    Ca {
        instance: String,
        /// Also write it here (mode 0600)
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
        /// The form written to --out: pem (psql's sslrootcert, libpq, most drivers), p7b
        /// (PKCS#7: Windows, .NET) or jks (Java, password tencentdb_pg); default pem
        #[arg(long, value_enum, value_name = "FORMAT", requires = "out")]
        format: Option<CaFormatArg>,
        /// Confirm a CA that came unauthenticated (plain http): the SHA-256 of one of its
        /// certificates as the console's CA shows it; once per certificate
        #[arg(long, value_name = "SHA256")]
        fingerprint: Vec<String>,
        /// Accept the CA fetched now as the one pinned for the instance (after Tencent
        /// changed it and clients have the new one): the audit's ca_changed goes away
        #[arg(long)]
        accept: bool,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// Also check each protected address live over TLS (each check at most 10 s)
    #[arg(long)]
    pub verify: bool,
    /// With --verify: also ask whether the address still accepts unencrypted connections,
    /// with a plaintext StartupMessage for this user (stops at the server's first answer;
    /// no password is ever sent)
    #[arg(long, value_name = "USER", requires = "verify")]
    pub plaintext_user: Option<String>,
    /// Report what changed since an earlier audit (a file `--output json` wrote): exit 1
    /// when anything got worse
    #[arg(long, value_name = "FILE")]
    pub since: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub common: Common,
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
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Clone, Args)]
pub struct ClientsArgs {
    /// Instance id, e.g. postgres-5gevh7gr
    pub instance: String,
    /// Count at this address instead of the protected one (else the private one) (HOST or
    /// HOST:PORT); TLS is then verify-ca
    #[arg(long, value_name = "HOST[:PORT]")]
    pub address: Option<String>,
    /// The instance's CA from this file instead of the one pgssl keeps
    #[arg(long, value_name = "FILE")]
    pub ca: Option<std::path::PathBuf>,
    /// Connect through here (an SSH tunnel, a port forward); the name checked stays the address
    #[arg(long, value_name = "IP:PORT")]
    pub via: Option<std::net::SocketAddr>,
    #[command(flatten)]
    pub common: Common,
}

/// Choosing many instances, and how a bulk change is carried out.
#[derive(Debug, Clone, Default, Args)]
pub struct ManyArgs {
    /// Every instance of the regions (--region, else the saved regions), as the API lists them
    #[arg(long)]
    pub all: bool,
    /// The instances of the regions that match all these words (as the TUI's `/`):
    /// ssl:on|off|unknown, status:running, region:sing, type:primary|ro,
    /// protected:private|public|group|none, or text in the id, name and addresses
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// The instances listed in FILE: an id per line, optionally with its region (CSV from
    /// `instances list --output csv` works); `-` reads stdin
    #[arg(long, value_name = "FILE")]
    pub from: Option<std::path::PathBuf>,
    /// How many instances may be restarting at once (a number, or `unlimited`); each change
    /// restarts its instance. Default 5: a wrong change reaches at most five instances
    /// before the first reports back
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub max_running: Option<String>,
    /// Let a primary and its read-only instances restart at the same time (by default one
    /// waits for the other)
    #[arg(long)]
    pub together: bool,
    /// Send nothing more after the first change that fails (a task ending Fail or Pause,
    /// a refusal, an unknown outcome); what was sent is still followed to its end
    #[arg(long)]
    pub stop_on_failure: bool,
    /// With --address group: also change the other members of each read-only group whose
    /// address is protected (Tencent asks for SSL on every member of the group)
    #[arg(long)]
    pub with_group: bool,
    /// Send the first N changes alone; once they succeeded, wait --canary-wait for clients
    /// to reconnect, check each over TLS and count its clients, and go on only if every
    /// check held and each has at least half of its client connections back (else the run
    /// stops, resumable, with why)
    #[arg(long, value_name = "N")]
    pub canary: Option<usize>,
    /// With --canary: seconds to wait for clients to reconnect before checking (default 60)
    #[arg(long, value_name = "SECS", requires = "canary")]
    pub canary_wait: Option<u64>,
}

impl ManyArgs {
    /// The options that only mean something for many instances, as given.
    pub fn bulk_only(&self) -> Option<&'static str> {
        if self.max_running.is_some() {
            Some("--max-running")
        } else if self.together {
            Some("--together")
        } else if self.stop_on_failure {
            Some("--stop-on-failure")
        } else if self.with_group {
            Some("--with-group")
        } else if self.canary.is_some() {
            Some("--canary")
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ChangeArgs {
    /// Follow the task until it ends (Success, Fail or Pause) or --timeout passes
    #[arg(long)]
    pub wait: bool,
    /// Read the instance, plan the change and print the exact signed request; send no change
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (without a terminal; a protected profile also needs --confirm)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// With --yes: the instance id (one change) or the number of changes (many), as the plan
    /// shows it; checked against the plan, and needed on a protected profile
    #[arg(long, value_name = "ID|N", requires = "yes")]
    pub confirm: Option<String>,
    /// With --wait: check the protected address over TLS once the task succeeds
    #[arg(long, requires = "wait")]
    pub verify: bool,
    /// Refuse to send (as `pgssl --readonly`): only --dry-run works
    #[arg(long)]
    pub readonly: bool,
    #[command(flatten)]
    pub follow: FollowArgs,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Clone, Args)]
pub struct FollowArgs {
    /// Give up following a task after this many seconds (a change follows its task with
    /// --wait; a run of many, and a resume, always follow theirs)
    #[arg(long, value_name = "SECS", default_value_t = 1800)]
    pub timeout: u64,
    /// Seconds between DescribeTasks polls while a task is followed
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    pub poll: f64,
}

impl FollowArgs {
    pub fn options(&self) -> Result<FollowOptions, OpsError> {
        if !(self.poll.is_finite() && (0.1..=600.0).contains(&self.poll)) {
            return Err(OpsError::Usage(
                "--poll must be between 0.1 and 600 seconds".into(),
            ));
        }
        if self.timeout == 0 || Duration::from_secs(self.timeout) > MAX_FOLLOW {
            return Err(OpsError::Usage(format!(
                "--timeout must be between 1 and {} seconds (a week)",
                MAX_FOLLOW.as_secs()
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
        /// With --remote: read every instance's SSL state too (paced under the API's
        /// 20 requests a second), kept with when it was read
        #[arg(long, requires = "remote")]
        ssl: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Save an instance, after checking it exists (needs --region unless a default is set)
    Add {
        instance: String,
        #[command(flatten)]
        common: Common,
    },
    /// Forget a saved instance (nothing changes on the instance itself)
    Remove {
        instance: String,
        #[command(flatten)]
        local: Local,
    },
    /// Save every instance the API lists in REGION(s), read-only ones and their groups included
    Import {
        /// Regions to import from (default: --region, else the saved regions)
        regions: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Subcommand)]
pub enum RegionsCommand {
    /// The saved regions (--all: every region pgssl knows from DescribeRegions, with its state;
    /// --remote: DescribeRegions asked now)
    List {
        /// Every region pgssl knows from DescribeRegions' last answer (kept a day), with its
        /// state (AVAILABLE, UNAVAILABLE) and name
        #[arg(long)]
        all: bool,
        /// Ask DescribeRegions now, and keep its answer
        #[arg(long, conflicts_with = "all")]
        remote: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Keep these regions
    Add {
        #[arg(required = true)]
        regions: Vec<String>,
        #[command(flatten)]
        local: Local,
    },
    /// Stop keeping these regions
    Remove {
        #[arg(required = true)]
        regions: Vec<String>,
        #[command(flatten)]
        local: Local,
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
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// One JSON object per change (same as --output json)
    #[arg(long)]
    pub json: bool,
    /// Show only the latest N changes (still newest first)
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Oldest first (the journal's order); the default is newest first, as in the TUI
    #[arg(long)]
    pub oldest_first: bool,
    /// Only changes to this instance
    #[arg(long, value_name = "ID")]
    pub instance: Option<String>,
    /// Start a new journal file now (it also happens by itself past 64 MiB); the old one
    /// is kept next to it and `pgssl log` still reads it
    #[arg(long, conflicts_with_all = ["limit", "instance", "json", "oldest_first"])]
    pub rotate: bool,
    #[command(flatten)]
    pub local: Local,
}

/// The options that decide how a command runs, whichever side of it they were given on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub use_cvm_role: bool,
    pub demo: bool,
    pub readonly: bool,
    pub output: Output,
}

impl Cli {
    /// The options of the command to run: its own, else those given before it. Options
    /// before the command are global (an alias such as `pgssl --profile prod` works with
    /// every command); a command ignores those that mean nothing to it.
    pub fn options(&self) -> Options {
        let (mine, output) = self
            .command
            .as_ref()
            .map(Command::options)
            .unwrap_or_default();
        let before = &self.api;
        Options {
            profile: mine.profile.or_else(|| before.profile.clone()),
            region: mine.region.or_else(|| before.region.clone()),
            endpoint: mine.endpoint.or_else(|| before.endpoint.clone()),
            use_cvm_role: mine.use_cvm_role || before.use_cvm_role,
            demo: mine.demo || self.demo,
            readonly: mine.readonly || self.readonly,
            // Given after the command, it wins, whichever value it names.
            output: output.or(self.output).unwrap_or_default(),
        }
    }
}

/// A command's own options, and its `--output` when given.
fn from_common(c: &Common, readonly: bool) -> (Options, Option<Output>) {
    let options = Options {
        profile: c.api.profile.clone(),
        region: c.api.region.clone(),
        endpoint: c.api.endpoint.clone(),
        use_cvm_role: c.api.use_cvm_role,
        demo: c.local.demo,
        readonly,
        output: Output::Text,
    };
    (options, c.local.output)
}

fn from_local(l: &Local) -> (Options, Option<Output>) {
    let options = Options {
        demo: l.demo,
        ..Options::default()
    };
    (options, l.output)
}

impl Command {
    fn options(&self) -> (Options, Option<Output>) {
        match self {
            Command::Ssl(
                SslCommand::Show { common, .. }
                | SslCommand::Ca { common, .. }
                | SslCommand::Resume { common, .. },
            )
            | Command::Verify(VerifyArgs { common, .. })
            | Command::Clients(ClientsArgs { common, .. })
            | Command::Audit(AuditArgs { common, .. })
            | Command::Instances(
                InstancesCommand::List { common, .. }
                | InstancesCommand::Add { common, .. }
                | InstancesCommand::Import { common, .. },
            )
            | Command::Regions(RegionsCommand::List { common, .. })
            | Command::Task(TaskCommand::Show { common, .. }) => from_common(common, false),
            Command::Ssl(
                SslCommand::Enable { change, .. } | SslCommand::Disable { change, .. },
            ) => from_common(&change.common, change.readonly),
            Command::Undo(u) => from_common(&u.change.common, u.change.readonly),
            Command::Instances(InstancesCommand::Remove { local, .. })
            | Command::Regions(
                RegionsCommand::Add { local, .. } | RegionsCommand::Remove { local, .. },
            ) => from_local(local),
            Command::Log(l) => {
                let (o, output) = from_local(&l.local);
                (o, if l.json { Some(Output::Json) } else { output })
            }
            Command::Tui(t) => (
                Options {
                    profile: t.api.profile.clone(),
                    region: t.api.region.clone(),
                    endpoint: t.api.endpoint.clone(),
                    use_cvm_role: t.api.use_cvm_role,
                    demo: t.demo,
                    readonly: t.readonly,
                    output: Output::Text,
                },
                None,
            ),
            Command::Emulator(_) | Command::Completions(_) | Command::Man(_) => {
                (Options::default(), None)
            }
        }
    }
}

#[cfg(test)]
mod tests;
