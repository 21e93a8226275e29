//! `--demo`: the emulator in-process on a free loopback port, the demo fleet, generated
//! credentials, and a config and journal of its own. The user's real files are never
//! touched: everything lives in one demo directory (`<data dir>/demo`, or
//! `PGSSL_DEMO_DIR`), kept between runs so a change made in the TUI is seen by the next
//! `pgssl --demo log` or `task show`, until `pgssl --demo --reset`.
//!
//! One process at a time owns the directory (a lock): it saves the emulator's state
//! (SSL states, tasks, the next TaskId) as it changes and at exit. Another `--demo` run
//! meanwhile starts from the last saved state and shares the journal, but saves nothing.

use std::path::{Path, PathBuf};

use crate::context::{Context, CredentialChoice, Globals};
use crate::credentials::{Credential, CredentialSource};
use crate::ops::{self, OpsError, Reach};
use crate::store::{Paths, ensure_private_dir};
use pgssl_emulator::{self as emulator, EmulatorConfig, FaultArgs, Faults, Fleet, LogFn, Running};

/// A running demo. Dropping it saves the emulator's state (when this process owns the
/// demo directory) and stops the emulator.
pub struct Demo {
    pub emulator: Running,
    dir: PathBuf,
    /// Said once at start: whether the TLS check can reach a real server.
    pub note: String,
    /// Said once when the directory was made (or could not be kept).
    pub kept: String,
    postgres: Option<std::thread::JoinHandle<()>>,
    /// Held while this process owns the directory and saves its state.
    owner: Option<std::fs::File>,
    saver: Option<tokio::task::JoinHandle<()>>,
    /// A temp directory used because no demo directory could be made: removed at exit.
    throwaway: bool,
}

/// The demo instance a real local PostgreSQL stands in for, when PostgreSQL is installed.
pub const POSTGRES_INSTANCE: &str = "postgres-6bwgamo3";

impl Drop for Demo {
    fn drop(&mut self) {
        if let Some(s) = self.saver.take() {
            s.abort();
        }
        if self.owner.is_some() {
            // Best effort: the next run starts from the fleet file if this fails.
            let _ = save_state(&self.dir, &self.emulator.shared, "");
        }
        // Stop the PostgreSQL stand-in, waiting for it if it is still starting.
        self.emulator.shared.close();
        if let Some(t) = self.postgres.take() {
            let _ = t.join();
        }
        self.emulator.shared.close();
        if self.throwaway {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Where the demo keeps its state: `PGSSL_DEMO_DIR`, else `demo` in pgssl's data directory.
pub fn demo_dir() -> Result<PathBuf, String> {
    if let Some(d) = std::env::var_os("PGSSL_DEMO_DIR").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    Ok(Paths::from_env()?.data_dir.join("demo"))
}

/// `pgssl --demo --reset`: remove the demo directory, unless a demo is running in it.
pub fn reset() -> Result<String, OpsError> {
    let dir = demo_dir().map_err(OpsError::Usage)?;
    let shown = crate::text::clean(&dir.display().to_string());
    if !dir.exists() {
        return Ok(format!("no demo state at {shown}: nothing to reset"));
    }
    if take_lock(&dir).is_none() {
        return Err(OpsError::Usage(format!(
            "a pgssl --demo is running with the state in {shown}: quit it, then reset"
        )));
    }
    std::fs::remove_dir_all(&dir)
        .map_err(|e| OpsError::Usage(format!("cannot remove {shown} ({e})")))?;
    Ok(format!(
        "demo state reset: removed {shown}; the next pgssl --demo starts from the demo fleet"
    ))
}

/// The demo directory's lock, if no other process holds it.
fn take_lock(dir: &Path) -> Option<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(dir.join("lock"))
        .ok()?;
    file.try_lock().ok()?;
    Some(file)
}

fn state_file(dir: &Path) -> PathBuf {
    dir.join("emulator-state.json")
}

fn key_file(dir: &Path) -> PathBuf {
    dir.join("emulator-key.json")
}

/// Write the emulator's state (atomically, 0600) unless it is `last`; the text written.
fn save_state(
    dir: &Path,
    shared: &pgssl_emulator::server::Shared,
    last: &str,
) -> std::io::Result<String> {
    let state = shared.fleet().saved_state();
    let text = serde_json::to_string(&state).map_err(std::io::Error::other)?;
    if text != last {
        crate::store::write_atomic(&state_file(dir), text.as_bytes())?;
    }
    Ok(text)
}

/// The saved state, if there is a readable one (a damaged file is set aside, said, and
/// the demo starts from the fleet file).
fn load_state(dir: &Path) -> (Option<emulator::fleet::SavedState>, Option<String>) {
    let path = state_file(dir);
    let bytes = match crate::store::bounded::read(&path, crate::store::caps::RECORDS) {
        Ok(b) => b,
        Err(e) if crate::store::bounded::is_refusal(&e) => {
            return (
                None,
                Some(format!(
                    "the demo's saved state {} cannot be used ({e}); the demo starts from its fleet",
                    crate::text::clean(&path.display().to_string())
                )),
            );
        }
        Err(_) => return (None, None),
    };
    match serde_json::from_slice(&bytes) {
        Ok(state) => (Some(state), None),
        Err(e) => {
            let _ = std::fs::rename(&path, path.with_extension("json.damaged"));
            (
                None,
                Some(format!(
                    "the demo's saved state was unreadable ({e}); it was set aside and the demo starts from its fleet"
                )),
            )
        }
    }
}

/// The demo's key: kept with its state so the journal's SecretId stays the same.
fn demo_key(dir: &Path, owner: bool) -> emulator::Key {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Saved {
        secret_id: String,
        secret_key: String,
    }
    let saved: Option<Saved> =
        crate::store::bounded::read(&key_file(dir), crate::store::caps::CREDENTIAL)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .filter(|k: &Saved| {
                crate::credentials::Credential::new(&k.secret_id, &k.secret_key, None).is_ok()
            });
    if let Some(k) = saved {
        return emulator::Key {
            secret_id: k.secret_id,
            secret_key: crate::credentials::Secret::new(k.secret_key),
            token: None,
        };
    }
    let key = emulator::generated_key();
    if owner {
        let text = serde_json::json!({
            "secret_id": key.secret_id,
            "secret_key": key.secret_key.expose(),
        });
        let _ = crate::store::write_atomic(&key_file(dir), text.to_string().as_bytes());
    }
    key
}

/// The demo's instance CA, kept in its directory (mode 0600) as its key is: the CA a
/// DBA pinned in one run is the CA of the next (a CA that changed would be an audit
/// finding). Generated the first time, or when what is kept does not read.
fn demo_ca(dir: &Path, owner: bool) -> Result<emulator::ca::CertificateAuthority, OpsError> {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Saved {
        key_pem: String,
        cert_pem: String,
    }
    let path = dir.join("emulator-ca.json");
    let saved: Option<Saved> = crate::store::bounded::read(&path, crate::store::caps::CREDENTIAL)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    if let Some(ca) = saved.and_then(|s| {
        emulator::ca::CertificateAuthority::restore(emulator::ca::CA_NAME, &s.key_pem, &s.cert_pem)
            .ok()
    }) {
        return Ok(ca);
    }
    let ca = emulator::ca::CertificateAuthority::generate(emulator::ca::CA_NAME)
        .map_err(OpsError::Usage)?;
    if owner {
        let saved = Saved {
            key_pem: ca.key_pem(),
            cert_pem: ca.cert_pem(),
        };
        if let Ok(text) = serde_json::to_vec(&saved) {
            let _ = crate::store::write_atomic(&path, &text);
        }
    }
    Ok(ca)
}

impl Demo {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// This process owns the demo's state (no other `--demo` runs): changes may be sent.
    pub fn owns_state(&self) -> bool {
        self.owner.is_some()
    }

    /// Wait until the PostgreSQL stand-in is up and matches the emulator (a TLS check run
    /// at once from the CLI would find it still starting).
    pub fn wait_for_postgres(&mut self) {
        if let Some(t) = self.postgres.take() {
            let _ = tokio::task::block_in_place(|| t.join());
        }
    }
}

/// How long a demo SSL change takes: long enough to watch, short enough not to wait.
pub const TASK_SECONDS: i64 = 6;

/// Start the demo: emulator, temp files, and a context whose config already holds the
/// demo fleet's instances and regions.
/// `with_postgres`: stand a real PostgreSQL in for one instance (when installed), for the
/// commands that can use it (the TUI, `verify`, `ssl`); others start faster without it.
pub async fn start(
    log: Option<LogFn>,
    globals: Globals,
    with_postgres: bool,
) -> Result<(Demo, Context), OpsError> {
    crate::hint::set_demo();
    if globals.endpoint.is_some() {
        return Err(OpsError::Usage(
            "--demo runs its own emulator on 127.0.0.1: drop --endpoint (or drop --demo to use that endpoint)".into(),
        ));
    }
    // The kept directory; a private temp one if it cannot be made (said once).
    let (dir, throwaway, mut kept) = match demo_dir() {
        Ok(d) => match ensure_private_dir(&d) {
            Ok(()) => {
                let fresh = !state_file(&d).exists() && !d.join("data").exists();
                let said = if fresh {
                    format!(
                        "the demo keeps its state in {} (pgssl --demo --reset starts over)",
                        crate::text::clean(&d.display().to_string())
                    )
                } else {
                    String::new()
                };
                (d, false, said)
            }
            Err(e) => (
                throwaway_dir(),
                true,
                format!(
                    "cannot keep the demo's state in {} ({e}): this run's is thrown away at exit",
                    crate::text::clean(&d.display().to_string())
                ),
            ),
        },
        Err(e) => (
            throwaway_dir(),
            true,
            format!("{e}: this demo run's state is thrown away at exit"),
        ),
    };
    ensure_private_dir(&dir)
        .map_err(|e| OpsError::Usage(format!("cannot create {} ({e})", dir.display())))?;
    let owner = take_lock(&dir);
    if owner.is_some() {
        // What a demo killed mid-save left; its owner is the one writer of this directory.
        crate::store::remove_dead_temps(&dir);
    }
    if owner.is_none() && kept.is_empty() {
        kept = "another pgssl --demo is running: this one starts from its last saved state and shares its journal, but saves nothing".into();
    }
    let mut fleet = Fleet::demo();
    let (saved, problem) = load_state(&dir);
    if let Some(p) = problem {
        kept = p;
    }
    if let Some(saved) = saved {
        fleet.restore(saved, pgssl_wire::clock::unix_now());
    }
    let regions = fleet.regions();
    let key = demo_key(&dir, owner.is_some());
    let running = emulator::start(EmulatorConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        fleet,
        key: key.clone(),
        task_seconds: TASK_SECONDS,
        faults: Faults::new(FaultArgs::default()).map_err(OpsError::Usage)?,
        log,
        tls: false,
        identity: emulator::IdentityArgs {
            cvm_role: Some(emulator::identity::DEMO_CVM_ROLE.into()),
            ..emulator::IdentityArgs::default()
        },
        ca: Some(demo_ca(&dir, owner.is_some())?),
    })
    .await
    .map_err(OpsError::Usage)?;
    // The owner saves the state as it changes, so a run beside it sees its changes.
    let state_saver = owner.as_ref().map(|_| {
        let (dir, shared) = (dir.clone(), running.shared.clone());
        tokio::spawn(async move {
            let mut last = String::new();
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                if let Ok(text) = save_state(&dir, &shared, &last) {
                    last = text;
                }
            }
        })
    });
    let mut demo = Demo {
        emulator: running,
        dir: dir.clone(),
        note: String::new(),
        kept,
        postgres: None,
        owner,
        saver: state_saver,
        throwaway,
    };
    let mut address_map = Vec::new();
    let postgres_installed = pgssl_emulator::pgserver::find_bin().is_some();
    // The stand-in's census login, new each run: kept only in the demo's own ~/.pgpass.
    let census_password = crate::ids::random_string(24, b"abcdefghijkmnpqrstuvwxyz23456789");
    if with_postgres && postgres_installed {
        let port = pgssl_emulator::pgserver::free_port()
            .map_err(|e| OpsError::Usage(format!("no free port for PostgreSQL ({e})")))?;
        address_map =
            emulator::address_map_for(&demo.emulator.shared.fleet(), POSTGRES_INSTANCE, port);
        demo.postgres = Some(emulator::attach_postgres_with_clients(
            demo.emulator.shared.clone(),
            POSTGRES_INSTANCE.into(),
            port,
            census_password.clone(),
        ));
        demo.note = format!(
            "a real PostgreSQL on 127.0.0.1:{port} stands in for {POSTGRES_INSTANCE}: enable SSL on it, then check with v (or pgssl --demo verify {POSTGRES_INSTANCE})"
        );
    } else if with_postgres {
        demo.note = format!(
            "PostgreSQL is not installed here, so the TLS check cannot reach the demo's addresses; install it (apt-get install postgresql) to see {POSTGRES_INSTANCE} checked for real"
        );
    }
    let paths = Paths {
        config_dir: dir.join("config"),
        data_dir: dir.join("data"),
    };
    let profile = globals.profile.clone();
    let globals = Globals {
        profile: None,
        endpoint: Some(demo.emulator.endpoint()),
        region: globals.region,
        readonly: globals.readonly,
        use_cvm_role: false,
    };
    let mut ctx = Context::load(paths, globals)?;
    // The demo never connects outside this machine: only the stand-in is checked.
    ctx.reach = Reach {
        map: address_map,
        loopback_only: true,
    };
    let credential = Credential::new(&key.secret_id, key.secret_key.expose(), None)
        .map_err(|e| OpsError::Usage(e.to_string()))?;
    ctx.credentials = CredentialChoice::Fixed(credential.clone(), CredentialSource::Demo);
    // `P` switches between the demo's own tccli profiles (and the emulated CVM role),
    // never to the person's real keys.
    let home = dir.join("home");
    demo_profiles(&home, &key).map_err(|e| {
        OpsError::Usage(format!(
            "cannot write the demo's profiles in {} ({e})",
            home.display()
        ))
    })?;
    // `pgssl --demo clients postgres-6bwgamo3`: the login, the libpq way, in the demo's
    // own home (0600) and config, never the person's.
    crate::store::write_atomic(
        &home.join(".pgpass"),
        format!(
            "*:*:*:{}:{census_password}\n",
            pgssl_emulator::pg::MONITOR_USER
        )
        .as_bytes(),
    )
    .map_err(|e| {
        OpsError::Usage(format!(
            "cannot write the demo's census login in {} ({e})",
            home.display()
        ))
    })?;
    ctx.home = Some(home);
    ctx.isolated = true;
    ctx.fixed = Some((credential, CredentialSource::Demo));
    // `--demo --profile demo-readonly`: the demo's own profiles, with their guards, as
    // `P` in the TUI; a profile the demo does not have is refused when opened.
    if let Some(name) = profile {
        ctx = ctx.with_choice(&crate::credentials::choices::Choice::Profile {
            name,
            kind: String::new(),
            region: None,
        });
    }

    // Seed the demo's config with the fleet, as `instances import` would, the first time.
    if ctx.config.instances().is_empty() {
        let opened = ctx.open().await?;
        ops::inventory::import(&opened.session, &regions).await?;
    }
    ctx.store.config.update(|c| {
        c.region = Some("ap-guangzhou".into());
        // The census's login (its password is in the demo's ~/.pgpass).
        c.guards.global.monitor.user = Some(pgssl_emulator::pg::MONITOR_USER.into());
        // Guards to try: a protected profile confirms by typing the instance id.
        for (name, protected, readonly) in
            [("demo-prod", true, false), ("demo-readonly", false, true)]
        {
            c.guards.profiles.insert(
                name.into(),
                crate::store::config::Guard {
                    readonly,
                    protected,
                    ..crate::store::config::Guard::default()
                },
            );
        }
    })?;
    ctx.config = ctx.store.config.load()?;
    Ok((demo, ctx))
}

fn throwaway_dir() -> PathBuf {
    std::env::temp_dir().join(format!(
        "pgssl-demo-{}-{:x}",
        std::process::id(),
        crate::ids::random_u64()
    ))
}

/// Three tccli profiles for the demo: the emulator's key (`demo-ops`), a role assumed with
/// it (`demo-prod`, protected in the demo's config) and a read-only one.
fn demo_profiles(home: &std::path::Path, key: &emulator::Key) -> std::io::Result<()> {
    let dir = home.join(".tccli");
    ensure_private_dir(home)?;
    ensure_private_dir(&dir)?;
    let keys = serde_json::json!({
        "secretId": key.secret_id,
        "secretKey": key.secret_key.expose(),
    });
    let mut prod = keys.clone();
    prod["role-arn"] = format!(
        "qcs::cam::uin/{}:roleName/{}",
        emulator::identity::DEMO_ACCOUNT,
        emulator::identity::DEMO_ROLE
    )
    .into();
    prod["role-session-name"] = "pgssl-demo".into();
    for (name, cred) in [
        ("demo-ops", &keys),
        ("demo-prod", &prod),
        ("demo-readonly", &keys),
    ] {
        crate::store::write_atomic(
            &dir.join(format!("{name}.credential")),
            cred.to_string().as_bytes(),
        )?;
        crate::store::write_atomic(
            &dir.join(format!("{name}.configure")),
            br#"{"_sys_param":{"region":"ap-guangzhou"}}"#,
        )?;
    }
    Ok(())
}
