//! `--demo`: the emulator in-process on a free loopback port, the demo fleet, generated
//! credentials, and a throwaway config and journal. The user's real files are never
//! touched: everything lives in a private temp directory removed at exit.

use std::path::{Path, PathBuf};

use crate::context::{Context, CredentialChoice, Globals};
use crate::credentials::{Credential, CredentialSource};
use crate::ops::{self, OpsError, Reach};
use crate::store::{Paths, ensure_private_dir};
use pgssl_emulator::{self as emulator, EmulatorConfig, FaultArgs, Faults, Fleet, LogFn, Running};

/// A running demo. Dropping it stops the emulator and deletes the temp directory.
pub struct Demo {
    pub emulator: Running,
    dir: PathBuf,
    /// Said once at start: whether the TLS check can reach a real server.
    pub note: String,
    postgres: Option<std::thread::JoinHandle<()>>,
}

/// The demo instance a real local PostgreSQL stands in for, when PostgreSQL is installed.
pub const POSTGRES_INSTANCE: &str = "postgres-6bwgamo3";

impl Drop for Demo {
    fn drop(&mut self) {
        // Stop the PostgreSQL stand-in, waiting for it if it is still starting.
        self.emulator.shared.close();
        if let Some(t) = self.postgres.take() {
            let _ = t.join();
        }
        self.emulator.shared.close();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Demo {
    pub fn dir(&self) -> &Path {
        &self.dir
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
    let dir = std::env::temp_dir().join(format!(
        "pgssl-demo-{}-{:x}",
        std::process::id(),
        crate::ids::random_u64()
    ));
    ensure_private_dir(&dir)
        .map_err(|e| OpsError::Invalid(format!("cannot create {} ({e})", dir.display())))?;
    let fleet = Fleet::demo();
    let regions = fleet.regions();
    let key = emulator::generated_key();
    let running = emulator::start(EmulatorConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        fleet,
        key: key.clone(),
        task_seconds: TASK_SECONDS,
        faults: Faults::new(FaultArgs::default()).map_err(OpsError::Invalid)?,
        log,
        tls: false,
        identity: emulator::IdentityArgs {
            cvm_role: Some(emulator::identity::DEMO_CVM_ROLE.into()),
            ..emulator::IdentityArgs::default()
        },
    })
    .await
    .map_err(OpsError::Invalid)?;
    let mut demo = Demo {
        emulator: running,
        dir: dir.clone(),
        note: String::new(),
        postgres: None,
    };
    let mut address_map = Vec::new();
    let postgres_installed = pgssl_emulator::pgserver::find_bin().is_some();
    if with_postgres && postgres_installed {
        let port = pgssl_emulator::pgserver::free_port()
            .map_err(|e| OpsError::Invalid(format!("no free port for PostgreSQL ({e})")))?;
        address_map =
            emulator::address_map_for(&demo.emulator.shared.fleet(), POSTGRES_INSTANCE, port);
        demo.postgres = Some(emulator::attach_postgres(
            demo.emulator.shared.clone(),
            POSTGRES_INSTANCE.into(),
            port,
        ));
        demo.note = format!(
            "a real PostgreSQL on 127.0.0.1:{port} stands in for {POSTGRES_INSTANCE}: enable SSL on it, then check with v (or pgssl verify)"
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
        .map_err(|e| OpsError::Invalid(e.to_string()))?;
    ctx.credentials = CredentialChoice::Fixed(credential.clone(), CredentialSource::Demo);
    // `P` switches between the demo's own tccli profiles (and the emulated CVM role),
    // never to the person's real keys.
    let home = dir.join("home");
    demo_profiles(&home, &key).map_err(|e| {
        OpsError::Invalid(format!(
            "cannot write the demo's profiles in {} ({e})",
            home.display()
        ))
    })?;
    ctx.home = Some(home);
    ctx.isolated = true;
    ctx.fixed = Some((credential, CredentialSource::Demo));

    // Seed the throwaway config with the fleet, as `instances import` would.
    let opened = ctx.open().await?;
    ops::inventory::import(&opened.session, &regions).await?;
    ctx.store.config.update(|c| {
        c.region = Some("ap-guangzhou".into());
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
