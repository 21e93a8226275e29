//! A throwaway local PostgreSQL server (Debian's binaries), for the TLS check's tests and
//! for `--demo`, where the emulator points an instance's address at it. Runs as a
//! non-root user when pgssl runs as root, on a free loopback port, in a temp directory
//! removed when dropped. Its SSL settings can be changed and reloaded while it runs.

use std::borrow::Borrow;
use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The newest `/usr/lib/postgresql/<version>/bin` with initdb and postgres in it
/// (`PGSSL_PG_BIN` overrides).
pub fn find_bin() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PGSSL_PG_BIN").map(PathBuf::from) {
        return dir.join("initdb").exists().then_some(dir);
    }
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").exists() && bin.join("postgres").exists()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// SSL settings for the server.
pub enum Ssl {
    Off,
    On { cert_pem: String, key_pem: String },
}

pub struct LocalPostgres {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    owner: Option<(u32, u32)>,
    child: std::sync::Mutex<Option<Child>>,
}

impl Drop for LocalPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// uid and gid of a user from /etc/passwd.
fn user_ids(name: &str) -> Option<(u32, u32)> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 3 && f[0] == name).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

fn is_root() -> bool {
    fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
}

pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl LocalPostgres {
    /// initdb and start a server with `ssl` on a free port. Takes a second or two.
    /// `ssl` is only read, so an `Ssl` or a `&Ssl` will do.
    pub fn start(ssl: impl Borrow<Ssl>) -> Result<LocalPostgres, String> {
        Self::start_on(None, ssl)
    }

    /// The same, on `port` when given.
    pub fn start_on(port: Option<u16>, ssl: impl Borrow<Ssl>) -> Result<LocalPostgres, String> {
        Self::start_with(port, ssl, None)
    }

    /// The same, with `hba` as pg_hba.conf (else every login is trusted).
    pub fn start_with(
        port: Option<u16>,
        ssl: impl Borrow<Ssl>,
        hba: Option<&str>,
    ) -> Result<LocalPostgres, String> {
        let ssl = ssl.borrow();
        let bin = find_bin().ok_or("PostgreSQL server binaries not found (install Debian's postgresql package, or set PGSSL_PG_BIN)")?;
        // PostgreSQL refuses to run as root: use the postgres user, else nobody.
        let owner =
            if is_root() {
                Some(user_ids("postgres").or_else(|| user_ids("nobody")).ok_or(
                    "running as root and no 'postgres' or 'nobody' user to run PostgreSQL as",
                )?)
            } else {
                None
            };
        let dir = std::env::temp_dir().join(format!(
            "pgssl-pg-{}-{:x}",
            std::process::id(),
            pgssl_wire::ids::random_u64()
        ));
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {} ({e})", dir.display()))?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(|e| e.to_string())?;
        if let Some((uid, gid)) = owner {
            chown(&dir, Some(uid), Some(gid))
                .map_err(|e| format!("cannot chown {} ({e})", dir.display()))?;
        }
        let data = dir.join("data");
        let run = |cmd: &mut Command| -> Result<(), String> {
            if let Some((uid, gid)) = owner {
                cmd.uid(uid).gid(gid);
            }
            let out = cmd
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("cannot run {} ({e})", cmd.get_program().display()))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "{} failed: {}",
                    cmd.get_program().display(),
                    pgssl_wire::text::excerpt(&out.stderr, 300)
                ))
            }
        };
        run(Command::new(bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
            .env("LC_ALL", "C"))?;
        if let Some(hba) = hba {
            let path = data.join("pg_hba.conf");
            fs::write(&path, hba).map_err(|e| e.to_string())?;
            if let Some((uid, gid)) = owner {
                chown(&path, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
            }
        }
        let conf = data.join("postgresql.conf");
        let mut text = fs::read_to_string(&conf).map_err(|e| e.to_string())?;
        text.push_str("\ninclude 'pgssl.conf'\n");
        fs::write(&conf, text).map_err(|e| e.to_string())?;
        let port = match port {
            Some(p) => p,
            None => free_port().map_err(|e| e.to_string())?,
        };
        write_ssl(&data, owner, ssl)?;
        let mut cmd = Command::new(bin.join("postgres"));
        cmd.arg("-D")
            .arg(&data)
            .args([
                "-p",
                &port.to_string(),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
            ])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", dir.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?,
            ));
        if let Some((uid, gid)) = owner {
            cmd.uid(uid).gid(gid);
            let _ = chown(dir.join("server.log"), Some(uid), Some(gid));
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start postgres ({e})"))?;
        let server = LocalPostgres {
            port,
            dir,
            bin,
            owner,
            child: std::sync::Mutex::new(Some(child)),
        };
        server.wait_for_answer(match ssl {
            Ssl::Off => b'N',
            Ssl::On { .. } => b'S',
        })?;
        Ok(server)
    }

    /// Stop the server and remove its files. Safe to call more than once.
    pub fn stop(&self) {
        let child = self.child.lock().ok().and_then(|mut c| c.take());
        if let Some(mut child) = child {
            let _ = child.kill();
            let _ = child.wait();
            let _ = fs::remove_dir_all(&self.dir);
        }
    }

    /// Run SQL as the superuser over the server's local socket (psql), returning its
    /// unaligned output.
    pub fn sql(&self, sql: &str) -> Result<String, String> {
        let mut cmd = Command::new(self.bin.join("psql"));
        cmd.arg("-h")
            .arg(&self.dir)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
            ])
            .args(["-v", "ON_ERROR_STOP=1", "-X", "-A", "-t", "-c", sql])
            .stdin(Stdio::null());
        if let Some((uid, gid)) = self.owner {
            cmd.uid(uid).gid(gid);
        }
        let out = cmd.output().map_err(|e| format!("cannot run psql ({e})"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(format!(
                "psql failed: {}",
                pgssl_wire::text::excerpt(&out.stderr, 300)
            ))
        }
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    /// Change SSL settings and reload; returns once the server answers accordingly.
    /// `ssl` is only read, so an `Ssl` or a `&Ssl` will do.
    pub fn set_ssl(&self, ssl: impl Borrow<Ssl>) -> Result<(), String> {
        let ssl = ssl.borrow();
        write_ssl(&self.dir.join("data"), self.owner, ssl)?;
        let mut cmd = Command::new(self.bin.join("pg_ctl"));
        cmd.arg("reload")
            .arg("-D")
            .arg(self.dir.join("data"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some((uid, gid)) = self.owner {
            cmd.uid(uid).gid(gid);
        }
        let status = cmd
            .status()
            .map_err(|e| format!("cannot run pg_ctl ({e})"))?;
        if !status.success() {
            return Err("pg_ctl reload failed".into());
        }
        self.wait_for_answer(match ssl {
            Ssl::Off => b'N',
            Ssl::On { .. } => b'S',
        })
    }

    /// Poll with SSLRequest until the server answers `want` (or give up after 30 s).
    fn wait_for_answer(&self, want: u8) -> Result<(), String> {
        use std::io::{Read, Write};
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got =
                std::net::TcpStream::connect_timeout(&self.addr(), Duration::from_millis(500))
                    .and_then(|mut s| {
                        s.set_read_timeout(Some(Duration::from_secs(2)))?;
                        s.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])?;
                        let mut b = [0u8; 1];
                        s.read_exact(&mut b)?;
                        Ok(b[0])
                    });
            if got.as_ref().ok() == Some(&want) {
                return Ok(());
            }
            if Instant::now() > deadline {
                let log = fs::read(self.dir.join("server.log")).unwrap_or_default();
                return Err(format!(
                    "PostgreSQL did not answer {} within 30 s: {}",
                    want as char,
                    pgssl_wire::text::excerpt(&log, 400)
                ));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

/// Write the SSL part of the configuration (and the certificate and key), owned by `owner`.
fn write_ssl(data: &Path, owner: Option<(u32, u32)>, ssl: &Ssl) -> Result<(), String> {
    let write_owned = |path: &Path, text: &str, mode: u32| -> Result<(), String> {
        // Replace, never truncate in place: the server may be reading the old one.
        let tmp = path.with_extension("tmp");
        fs::write(&tmp, text).map_err(|e| e.to_string())?;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(mode)).map_err(|e| e.to_string())?;
        if let Some((uid, gid)) = owner {
            chown(&tmp, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
        }
        fs::rename(&tmp, path).map_err(|e| e.to_string())
    };
    let conf = match ssl {
        Ssl::Off => "ssl = off\n".to_string(),
        Ssl::On { cert_pem, key_pem } => {
            write_owned(&data.join("server.crt"), cert_pem, 0o644)?;
            write_owned(&data.join("server.key"), key_pem, 0o600)?;
            "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n".to_string()
        }
    };
    write_owned(&data.join("pgssl.conf"), &conf, 0o644)
}
