//! The CA's file formats, as Tencent ships them and as application teams need them:
//! PEM, DER, PKCS#7 (`.p7b`), a Java KeyStore (`.jks`, password `tencentdb_pg`) and the
//! console's zip of the three (`TencentDB-PG-SSL-CA.zip`). pgssl reads whichever arrives
//! (behind CAUrl, in DescribeDBInstanceSSLConfig's cloud-disk fields CACert / CAP7B /
//! CAJKS, in a `--ca` file) and writes what `ssl ca --format` asks; the emulator serves
//! them.
//!
//! Everything read here came from outside: sizes and counts are capped, every length
//! is checked, nothing panics, a zip is never nested, and names inside a zip only pick an
//! entry by its extension: they are never a path.

mod crc32;
pub mod der;
pub mod jks;
pub mod pem;
pub mod pkcs7;
pub mod zip;

use base64::Engine as _;

/// The JKS password of Tencent's console download, and of the JKS pgssl writes.
pub const JKS_PASSWORD: &str = "tencentdb_pg";
/// The console's download, and the base name of the files in it.
pub const ZIP_NAME: &str = "TencentDB-PG-SSL-CA.zip";
pub const BASE_NAME: &str = "TencentDB-PG-SSL-CA";
/// The alias of the first certificate in a JKS pgssl writes.
pub const JKS_ALIAS: &str = "tencentdb-pg-ca";
/// A CA bundle has a root and an intermediate or two: more is not a CA bundle.
pub const MAX_CERTS: usize = 16;
/// What one CA may weigh, in any form (as `store::caps::CA`).
pub const MAX_BYTES: usize = 1 << 20;
/// The console's zip has three small files.
pub const ZIP_LIMITS: zip::Limits = zip::Limits {
    entries: 16,
    entry_size: 256 << 10,
    total_size: MAX_BYTES,
};

/// The form a CA arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Pem,
    Der,
    P7b,
    Jks,
    Zip,
}

impl Form {
    pub fn name(self) -> &'static str {
        match self {
            Form::Pem => "PEM",
            Form::Der => "DER",
            Form::P7b => "PKCS#7",
            Form::Jks => "JKS",
            Form::Zip => "zip",
        }
    }
}

/// The certificates of a CA (each its DER, not yet parsed as X.509), and its form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub form: Form,
    pub certs: Vec<Vec<u8>>,
}

/// A CA in any of the forms: PEM (CERTIFICATE or PKCS7 blocks), one DER certificate,
/// a PKCS#7 bundle, a JKS, or the console's zip.
pub fn decode(bytes: &[u8]) -> Result<Decoded, String> {
    if bytes.len() > MAX_BYTES {
        return Err(format!("larger than {} KiB", MAX_BYTES >> 10));
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return from_zip(bytes);
    }
    decode_one(bytes)
}

/// A CA given inline as text (the cloud-disk fields): PEM text, or base64 of DER
/// (a certificate or a PKCS#7 bundle) or of a JKS.
pub fn decode_text(text: &str) -> Result<Decoded, String> {
    let text = text.trim();
    if text.len() > MAX_BYTES * 4 / 3 + 4096 {
        return Err(format!("larger than {} KiB", MAX_BYTES >> 10));
    }
    if text.contains("-----BEGIN ") {
        return decode_one(text.as_bytes());
    }
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| "neither PEM nor base64".to_string())?;
    decode_one(&bytes)
}

/// One file: anything but a zip.
fn decode_one(bytes: &[u8]) -> Result<Decoded, String> {
    if bytes.starts_with(&jks::MAGIC) {
        let certs = jks::read(bytes, JKS_PASSWORD, MAX_CERTS)?;
        return Ok(Decoded {
            form: Form::Jks,
            certs,
        });
    }
    if bytes.first() == Some(&der::SEQUENCE) {
        if pkcs7::looks_like(bytes) {
            let certs = pkcs7::read(bytes, MAX_CERTS)?;
            return Ok(Decoded {
                form: Form::P7b,
                certs,
            });
        }
        let one = der::expect(bytes, der::SEQUENCE, "a certificate")?;
        if !one.rest.is_empty() {
            return Err("data after the DER certificate".into());
        }
        return Ok(Decoded {
            form: Form::Der,
            certs: vec![bytes.to_vec()],
        });
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err("neither PEM, DER, PKCS#7, JKS nor a zip".into());
    };
    let mut certs = Vec::new();
    for (label, der) in pem::blocks(text, MAX_CERTS)? {
        match label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" => certs.push(der),
            "PKCS7" | "PKCS #7 SIGNED DATA" => certs.extend(pkcs7::read(&der, MAX_CERTS)?),
            // Keys, CRLs, parameters: not part of a CA bundle, never kept.
            _ => {}
        }
        if certs.len() > MAX_CERTS {
            return Err(format!("more than {MAX_CERTS} certificates"));
        }
    }
    if certs.is_empty() {
        return Err("no certificate found (neither PEM, DER, PKCS#7, JKS nor a zip)".into());
    }
    Ok(Decoded {
        form: Form::Pem,
        certs,
    })
}

/// The rank of an entry of the console's zip by its extension: the PEM first, then the
/// p7b, then the jks; anything else (a readme) is not read.
fn rank(name: &str) -> Option<u8> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    match ext.as_str() {
        "pem" | "crt" | "cer" => Some(0),
        "p7b" | "p7c" => Some(1),
        "jks" => Some(2),
        _ => None,
    }
}

fn sorted(certs: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut v = certs.to_vec();
    v.sort();
    v
}

/// The console's zip: its PEM (else p7b, else jks); any other of the three that reads
/// must hold the same certificates, or the zip is refused.
fn from_zip(bytes: &[u8]) -> Result<Decoded, String> {
    let mut entries: Vec<(u8, zip::Entry)> = zip::read(bytes, ZIP_LIMITS)?
        .into_iter()
        .filter_map(|e| rank(&e.name).map(|r| (r, e)))
        .collect();
    entries.sort_by_key(|(r, _)| *r);
    let Some(((_, first), others)) = entries.split_first() else {
        return Err("a zip with no .pem, .p7b or .jks in it".into());
    };
    let primary = decode_one(&first.data).map_err(|e| format!("{} in the zip: {e}", first.name))?;
    for (_, other) in others {
        // One that does not read (a p7b in BER, say) is not used; one that reads must agree.
        if let Ok(d) = decode_one(&other.data)
            && sorted(&d.certs) != sorted(&primary.certs)
        {
            return Err(format!(
                "{} and {} in the zip hold different certificates",
                first.name, other.name
            ));
        }
    }
    Ok(Decoded {
        form: Form::Zip,
        certs: primary.certs,
    })
}

/// `certs` as PEM CERTIFICATE blocks.
pub fn to_pem(certs: &[Vec<u8>]) -> String {
    certs.iter().map(|c| pem::block("CERTIFICATE", c)).collect()
}

/// `certs` as a PKCS#7 bundle, DER (a `.p7b` as Windows and `openssl crl2pkcs7
/// -outform DER` write it).
pub fn to_p7b(certs: &[Vec<u8>]) -> Vec<u8> {
    pkcs7::write(certs)
}

/// `certs` as a JKS truststore with Tencent's password (`tencentdb_pg`).
pub fn to_jks(certs: &[Vec<u8>], millis: u64) -> Vec<u8> {
    jks::write(certs, JKS_ALIAS, JKS_PASSWORD, millis)
}

/// The console's download: `TencentDB-PG-SSL-CA.{pem,p7b,jks}` in one zip.
pub fn to_console_zip(certs: &[Vec<u8>], millis: u64) -> Vec<u8> {
    let pem = to_pem(certs);
    let p7b = to_p7b(certs);
    let jks = to_jks(certs, millis);
    zip::write(&[
        (&format!("{BASE_NAME}.pem"), pem.as_bytes()),
        (&format!("{BASE_NAME}.p7b"), &p7b),
        (&format!("{BASE_NAME}.jks"), &jks),
    ])
}

#[cfg(test)]
mod tests;
