//! The census's login, the libpq way: `PGUSER`, `PGPASSWORD`, `PGPASSFILE` or
//! `~/.pgpass`, `PGDATABASE`, and the config's `[monitor]` user and database (never a
//! password in config.toml). Pure: the environment and the password file's text are
//! passed in.

use crate::store::config::Monitor;
use crate::text::sanitize;

/// A password: never shown, never in Debug, compared only by the server.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where a password came from (said, never the password).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordFrom {
    Env,
    PassFile,
    None,
}

/// Who the census logs in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub user: String,
    pub database: String,
    pub password: Option<Secret>,
    pub from: PasswordFrom,
    /// A password file that was not used, and why (libpq says the same).
    pub note: Option<String>,
}

/// What the login is resolved from: the process's environment, read once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    pub user: Option<String>,
    pub password: Option<String>,
    pub passfile: Option<std::path::PathBuf>,
    pub database: Option<String>,
    pub home: Option<std::path::PathBuf>,
}

impl Env {
    pub fn from_process() -> Env {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Env {
            user: var("PGUSER"),
            password: var("PGPASSWORD"),
            passfile: var("PGPASSFILE").map(Into::into),
            database: var("PGDATABASE"),
            home: var("HOME").map(Into::into),
        }
    }

    /// The password file libpq would read: PGPASSFILE, else ~/.pgpass.
    pub fn passfile_path(&self) -> Option<std::path::PathBuf> {
        self.passfile
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".pgpass")))
    }
}

/// A user or database name: printable, at most 63 bytes (PostgreSQL's NAMEDATALEN - 1).
fn name(what: &str, value: &str) -> Result<String, String> {
    if value.is_empty() || value.len() > 63 || value.chars().any(crate::text::is_unsafe) {
        return Err(format!(
            "the census's {what} '{}' is not a PostgreSQL name (1 to 63 printable bytes)",
            sanitize(value)
        ));
    }
    Ok(value.to_string())
}

/// The login for `host:port`, or None when no user is set (PGUSER, or `[monitor] user`):
/// the census is then not taken, and the caller says how to get it. libpq would fall
/// back to the operating-system user; on a bastion that is a person's name, not a
/// database login, so pgssl asks for one instead. The database defaults to `postgres`
/// (every instance has it) where libpq would use the user's name.
pub fn resolve(
    env: &Env,
    monitor: &Monitor,
    host: &str,
    port: u16,
    passfile: Option<(&str, bool)>,
) -> Result<Option<Login>, String> {
    let Some(user) = env.user.clone().or_else(|| monitor.user.clone()) else {
        return Ok(None);
    };
    let user = name("user", &user)?;
    let database = name(
        "database",
        &env.database
            .clone()
            .or_else(|| monitor.database.clone())
            .unwrap_or_else(|| "postgres".into()),
    )?;
    if let Some(p) = &env.password {
        return Ok(Some(Login {
            user,
            database,
            password: Some(Secret::new(p.clone())),
            from: PasswordFrom::Env,
            note: None,
        }));
    }
    let (mut password, mut note) = (None, None);
    if let Some((text, private)) = passfile {
        if private {
            password = lookup(text, host, port, &database, &user).map(Secret::new);
        } else {
            note = Some(
                "the password file is readable by others, so it is not used (as libpq does): chmod 0600 it".into(),
            );
        }
    }
    let from = if password.is_some() {
        PasswordFrom::PassFile
    } else {
        PasswordFrom::None
    };
    Ok(Some(Login {
        user,
        database,
        password,
        from,
        note,
    }))
}

/// The first line of a `.pgpass` that matches `host:port:database:user` (`*` matches
/// anything; `\:` and `\\` are escapes), as libpq reads it.
pub fn lookup(text: &str, host: &str, port: u16, database: &str, user: &str) -> Option<String> {
    let port = port.to_string();
    let wanted = [host, port.as_str(), database, user];
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split(line);
        if fields.len() < 5 {
            continue;
        }
        let matches = fields[..4]
            .iter()
            .zip(wanted)
            .all(|(f, w)| f == "*" || f == w);
        if matches {
            return Some(fields[4].clone());
        }
    }
    None
}

/// Split a `.pgpass` line on unescaped colons into at most five fields (the password
/// keeps what follows, colons included once unescaped).
fn split(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next()
                    && let Some(last) = out.last_mut()
                {
                    last.push(n);
                }
            }
            ':' if out.len() < 5 => out.push(String::new()),
            c => {
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PGPASS: &str = "# comment\n\
        10.6.0.4:5432:postgres:someone:not-this\n\
        *:5432:*:pgssl_monitor:s3cr\\:et\n\
        *:*:*:*:fallback\n";

    #[test]
    fn pgpass_lines_match_as_libpq_reads_them() {
        assert_eq!(
            lookup(PGPASS, "10.6.0.4", 5432, "postgres", "pgssl_monitor").as_deref(),
            Some("s3cr:et")
        );
        assert_eq!(
            lookup(PGPASS, "10.6.0.4", 5432, "postgres", "someone").as_deref(),
            Some("not-this")
        );
        assert_eq!(
            lookup(PGPASS, "h", 6432, "d", "pgssl_monitor").as_deref(),
            Some("fallback")
        );
        assert_eq!(lookup("a:b\n", "a", 1, "d", "u"), None);
    }

    #[test]
    fn the_login_comes_from_the_environment_then_the_config() {
        let monitor = Monitor {
            user: Some("pgssl_monitor".into()),
            database: None,
        };
        let env = Env::default();
        assert_eq!(
            resolve(&env, &Monitor::default(), "h", 5432, None),
            Ok(None)
        );
        let l = resolve(&env, &monitor, "10.6.0.4", 5432, Some((PGPASS, true)))
            .expect("ok")
            .expect("a login");
        assert_eq!(
            (l.user.as_str(), l.database.as_str()),
            ("pgssl_monitor", "postgres")
        );
        assert_eq!(l.from, PasswordFrom::PassFile);
        assert_eq!(l.password.as_ref().map(Secret::expose), Some("s3cr:et"));
        // Never in Debug.
        assert!(!format!("{l:?}").contains("s3cr"), "{l:?}");
        // A file others can read is not used, and that is said.
        let l = resolve(&env, &monitor, "10.6.0.4", 5432, Some((PGPASS, false)))
            .expect("ok")
            .expect("login");
        assert!(l.password.is_none() && l.note.is_some());
        // PGUSER and PGPASSWORD win.
        let env = Env {
            user: Some("ops".into()),
            password: Some("from-env".into()),
            database: Some("metrics".into()),
            ..Env::default()
        };
        let l = resolve(&env, &monitor, "h", 5432, None)
            .expect("ok")
            .expect("login");
        assert_eq!(
            (l.user.as_str(), l.database.as_str(), l.from),
            ("ops", "metrics", PasswordFrom::Env)
        );
        let bad = Env {
            user: Some("x\u{1b}[2J".into()),
            ..Env::default()
        };
        let e = resolve(&bad, &monitor, "h", 5432, None).expect_err("junk user");
        assert!(!e.contains('\u{1b}'), "{e}");
    }
}
