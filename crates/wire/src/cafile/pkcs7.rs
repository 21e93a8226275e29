//! PKCS#7 (RFC 2315) as a certificate bundle: a "degenerate" SignedData that carries
//! certificates and no signature, what `openssl crl2pkcs7 -nocrl` writes and what a
//! `.p7b` file is.

use super::der::{self, CONTEXT_0, INTEGER, OID, SEQUENCE, SET};

/// 1.2.840.113549.1.7.2, signedData.
const SIGNED_DATA: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
/// 1.2.840.113549.1.7.1, data.
const DATA: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];

/// True when `bytes` starts like a PKCS#7 SignedData (a SEQUENCE opening with its OID).
pub fn looks_like(bytes: &[u8]) -> bool {
    der::expect(bytes, SEQUENCE, "a SEQUENCE")
        .and_then(|outer| der::expect(outer.content, OID, "an OID"))
        .is_ok_and(|oid| oid.content == SIGNED_DATA)
}

/// The certificates of a PKCS#7 bundle (DER), each as its own DER.
pub fn read(bytes: &[u8], max: usize) -> Result<Vec<Vec<u8>>, String> {
    let outer = der::expect(bytes, SEQUENCE, "a PKCS#7 ContentInfo")?;
    let oid = der::expect(outer.content, OID, "the content type")?;
    if oid.content != SIGNED_DATA {
        return Err("a PKCS#7 structure that is not SignedData".into());
    }
    let explicit = der::expect(oid.rest, CONTEXT_0, "the SignedData")?;
    let signed = der::expect(explicit.content, SEQUENCE, "the SignedData")?;
    let version = der::expect(signed.content, INTEGER, "the version")?;
    let digests = der::expect(version.rest, SET, "the digest algorithms")?;
    let encap = der::expect(digests.rest, SEQUENCE, "the content info")?;
    let Ok(certs) = der::expect(encap.rest, CONTEXT_0, "certificates") else {
        return Err("a PKCS#7 bundle with no certificates in it".into());
    };
    let mut out = Vec::new();
    let mut rest = certs.content;
    while !rest.is_empty() {
        let cert = der::read(rest)?;
        if cert.tag == SEQUENCE {
            if out.len() == max {
                return Err(format!("more than {max} certificates in one PKCS#7 bundle"));
            }
            out.push(cert.whole.to_vec());
        }
        // Other choices (attribute certificates) are not CA certificates: skipped.
        rest = cert.rest;
    }
    if out.is_empty() {
        return Err("a PKCS#7 bundle with no certificates in it".into());
    }
    Ok(out)
}

/// A PKCS#7 bundle (DER) of `certs`, each a certificate's DER.
pub fn write(certs: &[Vec<u8>]) -> Vec<u8> {
    let mut content = der::write(INTEGER, &[1]);
    content.extend(der::write(SET, &[]));
    content.extend(der::write(SEQUENCE, &der::write(OID, &DATA)));
    content.extend(der::write(CONTEXT_0, &certs.concat()));
    content.extend(der::write(SET, &[]));
    let signed = der::write(SEQUENCE, &content);
    let mut info = der::write(OID, &SIGNED_DATA);
    info.extend(der::write(CONTEXT_0, &signed));
    der::write(SEQUENCE, &info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_cert(n: u8) -> Vec<u8> {
        der::write(SEQUENCE, &der::write(INTEGER, &[n]))
    }

    #[test]
    fn round_trip_and_bounds() {
        let certs = vec![fake_cert(1), fake_cert(2)];
        let p7 = write(&certs);
        assert!(looks_like(&p7));
        assert!(!looks_like(&certs[0]));
        assert_eq!(read(&p7, 16).expect("reads"), certs);
        assert!(read(&p7, 1).is_err(), "over the cap");
        assert!(read(&write(&[]), 16).is_err(), "empty");
        for cut in 0..p7.len() {
            assert!(read(&p7[..cut], 16).is_err());
        }
    }

    #[test]
    fn openssl_crl2pkcs7_shape_reads() {
        // `openssl crl2pkcs7 -nocrl` of nothing but the structure: the same layout as write.
        let p7 = write(&[fake_cert(9)]);
        let body = &p7[2..];
        assert_eq!(&body[2..11], &SIGNED_DATA);
    }
}
