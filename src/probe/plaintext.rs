//! Does an address still accept a connection without TLS? A plaintext StartupMessage,
//! the server's first answer, and hang up: never a password.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{Target, Timeouts, io_reason};
use crate::text::clean;

/// Whether an address still accepts a connection without TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plaintext {
    /// The server went on to authentication for a plaintext connection, asking for this.
    Accepted(Auth),
    /// The server refused it (its message, e.g. pg_hba's "no entry ... no encryption").
    Refused(String),
    Unreachable(String),
}

/// What a server's first AuthenticationRequest asks for (the protocol's codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// 0: nothing (trust).
    Ok,
    /// 3: the password in clear.
    Cleartext,
    /// 5: an MD5 hash of the password, which anyone who sees it can replay.
    Md5,
    /// 10: SASL (SCRAM): the password never crosses the wire.
    Sasl,
    Other(u32),
}

impl Auth {
    fn of(code: u32) -> Auth {
        match code {
            0 => Auth::Ok,
            3 => Auth::Cleartext,
            5 => Auth::Md5,
            10 => Auth::Sasl,
            other => Auth::Other(other),
        }
    }

    /// Whether a password would cross an unencrypted connection in a form others can use.
    pub fn exposes_password(self) -> bool {
        matches!(self, Auth::Cleartext | Auth::Md5 | Auth::Other(_))
    }
}

/// Send a plaintext StartupMessage for `user` and read the server's first answer, then
/// hang up: no password is ever sent (an 'R' authentication request already says the
/// plaintext path is open).
pub async fn plaintext(target: &Target, user: &str, timeouts: Timeouts) -> Plaintext {
    let connect = async {
        match target.via {
            Some(addr) => TcpStream::connect(addr).await,
            None => TcpStream::connect((target.address.as_str(), target.port)).await,
        }
    };
    let mut stream = match tokio::time::timeout(timeouts.connect, connect).await {
        Err(_) => {
            return Plaintext::Unreachable(format!(
                "no connection within {}s",
                timeouts.connect.as_secs()
            ));
        }
        Ok(Err(e)) => return Plaintext::Unreachable(io_reason(&e)),
        Ok(Ok(s)) => s,
    };
    let mut body = Vec::new();
    body.extend_from_slice(&196_608u32.to_be_bytes()); // protocol 3.0
    for (k, v) in [("user", user), ("database", "postgres")] {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let Ok(len) = u32::try_from(body.len() + 4) else {
        return Plaintext::Refused("the user name is too long".into());
    };
    let mut msg = len.to_be_bytes().to_vec();
    msg.extend_from_slice(&body);
    let answer = async {
        stream.write_all(&msg).await?;
        let mut head = [0u8; 5];
        stream.read_exact(&mut head).await?;
        let n = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut rest = vec![0u8; n.saturating_sub(4).min(4096)];
        if head[0] == b'E' || head[0] == b'R' {
            stream.read_exact(&mut rest).await?;
        }
        Ok::<(u8, Vec<u8>), std::io::Error>((head[0], rest))
    };
    match tokio::time::timeout(timeouts.answer, answer).await {
        Err(_) => {
            Plaintext::Unreachable(format!("no answer within {}s", timeouts.answer.as_secs()))
        }
        Ok(Err(e)) => Plaintext::Refused(io_reason(&e)),
        Ok(Ok((b'R', body))) => Plaintext::Accepted(Auth::of(
            body.get(..4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map_or(u32::MAX, u32::from_be_bytes),
        )),
        Ok(Ok((b'E', fields))) => {
            // ErrorResponse: typed fields, 'M' is the message.
            let message = fields
                .split(|b| *b == 0)
                .find(|f| f.first() == Some(&b'M'))
                .map_or_else(
                    || "refused".into(),
                    |f| clean(&String::from_utf8_lossy(&f[1..])),
                );
            Plaintext::Refused(message)
        }
        Ok(Ok((other, _))) => Plaintext::Refused(format!(
            "an unexpected first answer ({})",
            clean(&char::from(other).to_string())
        )),
    }
}
