//! A Java KeyStore (JKS, version 2) of trusted certificates, as `keytool -importcert`
//! writes one and Tencent's console zip carries (password `tencentdb_pg`).
//!
//! Layout: magic 0xFEEDFEED, version 2, the entry count, then per entry a tag (2: a
//! trusted certificate), an alias (modified UTF-8 with a u16 length), a timestamp in
//! milliseconds, the certificate type ("X.509") and the certificate's DER with a u32
//! length; last, SHA-1 over the password as UTF-16BE, the words "Mighty Aphrodite" and
//! everything before the digest. Entries with a private key (tag 1) have no place in a
//! CA's truststore and are refused.

pub const MAGIC: [u8; 4] = [0xfe, 0xed, 0xfe, 0xed];
const TRUSTED_CERT: u32 = 2;
const PRIVATE_KEY: u32 = 1;
const WHITENER: &[u8] = b"Mighty Aphrodite";
const DIGEST_LEN: usize = 20;

fn keyed_digest(password: &str, body: &[u8]) -> [u8; DIGEST_LEN] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    for unit in password.encode_utf16() {
        ctx.update(&unit.to_be_bytes());
    }
    ctx.update(WHITENER);
    ctx.update(body);
    let mut out = [0u8; DIGEST_LEN];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// A reader over untrusted bytes: every take is checked against what is left.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.0.len() {
            return Err("the JKS data ends inside an entry".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u16(&mut self) -> Result<usize, String> {
        let b = self.take(2)?;
        Ok(usize::from(u16::from_be_bytes([b[0], b[1]])))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// The certificates of a JKS truststore, once its keyed digest checks with `password`.
pub fn read(bytes: &[u8], password: &str, max: usize) -> Result<Vec<Vec<u8>>, String> {
    if bytes.len() < 12 + DIGEST_LEN || bytes[..4] != MAGIC {
        return Err("not a Java KeyStore (JKS)".into());
    }
    let (body, digest) = bytes.split_at(bytes.len() - DIGEST_LEN);
    if keyed_digest(password, body) != digest {
        return Err(
            "the JKS does not check with the password tencentdb_pg (altered, or another password)"
                .into(),
        );
    }
    let mut c = Cursor(&body[4..]);
    let version = c.u32()?;
    if version != 2 {
        return Err(format!(
            "a JKS of version {version} (only version 2 is read)"
        ));
    }
    let count = usize::try_from(c.u32()?).unwrap_or(usize::MAX);
    if count > max {
        return Err(format!("a JKS of {count} entries (at most {max})"));
    }
    let mut certs = Vec::with_capacity(count);
    for _ in 0..count {
        match c.u32()? {
            TRUSTED_CERT => {}
            PRIVATE_KEY => {
                return Err("a JKS holding a private key, not a CA truststore".into());
            }
            other => return Err(format!("a JKS entry of unknown kind {other}")),
        }
        let alias_len = c.u16()?;
        c.take(alias_len)?;
        c.take(8)?; // when it was added
        let kind_len = c.u16()?;
        if c.take(kind_len)? != b"X.509" {
            return Err("a JKS entry that is not an X.509 certificate".into());
        }
        let len = usize::try_from(c.u32()?).unwrap_or(usize::MAX);
        certs.push(c.take(len)?.to_vec());
    }
    if !c.0.is_empty() {
        return Err("data after the last JKS entry".into());
    }
    if certs.is_empty() {
        return Err("a JKS with no certificate in it".into());
    }
    Ok(certs)
}

/// A JKS truststore of `certs` (DER) under `password`, aliases `alias`, `alias-2`, ...,
/// each stamped `millis` (milliseconds since the epoch).
pub fn write(certs: &[Vec<u8>], alias: &str, password: &str, millis: u64) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend(2u32.to_be_bytes());
    let count = u32::try_from(certs.len()).expect("a CA bundle has a handful of certificates");
    out.extend(count.to_be_bytes());
    for (i, cert) in certs.iter().enumerate() {
        let name = if i == 0 {
            alias.to_string()
        } else {
            format!("{alias}-{}", i + 1)
        };
        out.extend(TRUSTED_CERT.to_be_bytes());
        // Aliases are ASCII here, where modified UTF-8 is plain UTF-8.
        let alias_len = u16::try_from(name.len()).expect("aliases are short");
        out.extend(alias_len.to_be_bytes());
        out.extend(name.as_bytes());
        out.extend(millis.to_be_bytes());
        out.extend(5u16.to_be_bytes());
        out.extend(b"X.509");
        let len = u32::try_from(cert.len()).expect("a certificate is a few KiB");
        out.extend(len.to_be_bytes());
        out.extend(cert);
    }
    let digest = keyed_digest(password, &out);
    out.extend(digest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_digest_and_bounds() {
        let certs = vec![vec![0x30, 0x03, 0x02, 0x01, 0x01], vec![0x30, 0x00]];
        let jks = write(&certs, "ca", "tencentdb_pg", 1_700_000_000_000);
        assert_eq!(read(&jks, "tencentdb_pg", 16).expect("reads"), certs);
        assert!(read(&jks, "changeit", 16).is_err(), "another password");
        assert!(read(&jks, "tencentdb_pg", 1).is_err(), "over the cap");
        let mut flipped = jks.clone();
        flipped[30] ^= 1;
        assert!(read(&flipped, "tencentdb_pg", 16).is_err(), "altered");
        for cut in 0..jks.len() {
            assert!(read(&jks[..cut], "tencentdb_pg", 16).is_err());
        }
    }

    #[test]
    fn a_length_past_the_end_is_an_error_even_with_a_good_digest() {
        // A forged count and length, re-digested: the reader must still stop at the end.
        let mut body = MAGIC.to_vec();
        body.extend(2u32.to_be_bytes());
        body.extend(1u32.to_be_bytes());
        body.extend(TRUSTED_CERT.to_be_bytes());
        body.extend(0u16.to_be_bytes());
        body.extend(0u64.to_be_bytes());
        body.extend(5u16.to_be_bytes());
        body.extend(b"X.509");
        body.extend(u32::MAX.to_be_bytes());
        let digest = keyed_digest("tencentdb_pg", &body);
        body.extend(digest);
        assert!(read(&body, "tencentdb_pg", 16).is_err());
    }
}
