//! The readers against files real tools wrote (openssl, keytool, Python's zipfile; see
//! tests/fixtures/ca/README.md), the writers against the same, and hostile input.

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/ca/",
            $name
        ))
    };
}

/// The intermediate then the root, as `bundle.pem` orders them.
fn bundle() -> Vec<Vec<u8>> {
    let text = std::str::from_utf8(fixture!("bundle.pem")).expect("ascii");
    pem::blocks(text, 16)
        .expect("pem")
        .into_iter()
        .map(|(_, der)| der)
        .collect()
}

#[test]
fn every_form_real_tools_wrote_reads_to_the_same_certificates() {
    let want = bundle();
    assert_eq!(want.len(), 2);
    for (name, bytes, form) in [
        ("bundle.pem", &fixture!("bundle.pem")[..], Form::Pem),
        ("bundle.p7b", &fixture!("bundle.p7b")[..], Form::P7b),
        ("bundle-pem.p7b", &fixture!("bundle-pem.p7b")[..], Form::Pem),
        ("bundle.jks", &fixture!("bundle.jks")[..], Form::Jks),
        (
            "TencentDB-PG-SSL-CA.zip",
            &fixture!("TencentDB-PG-SSL-CA.zip")[..],
            Form::Zip,
        ),
    ] {
        let d = decode(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(d.form, form, "{name}");
        assert_eq!(sorted(&d.certs), sorted(&want), "{name}");
    }
    let der = decode(fixture!("root.der")).expect("der");
    assert_eq!((der.form, der.certs), (Form::Der, vec![want[1].clone()]));
}

#[test]
fn the_writers_match_what_real_tools_read() {
    let certs = bundle();
    // Byte for byte what `openssl crl2pkcs7 -nocrl -outform DER` wrote.
    assert_eq!(to_p7b(&certs), fixture!("bundle.p7b").to_vec());
    assert_eq!(to_pem(&certs).as_bytes(), fixture!("bundle.pem"));
    // keytool's JKS and ours differ in aliases and dates only: both read back the same.
    let ours = to_jks(&certs, 1_767_225_600_000);
    assert_eq!(jks::read(&ours, JKS_PASSWORD, 16).expect("jks"), certs);
    let zip = to_console_zip(&certs, 1_767_225_600_000);
    let d = decode(&zip).expect("zip");
    assert_eq!((d.form, d.certs), (Form::Zip, certs.clone()));
    let names: Vec<String> = zip::read(&zip, ZIP_LIMITS)
        .expect("entries")
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(
        names,
        [
            "TencentDB-PG-SSL-CA.pem",
            "TencentDB-PG-SSL-CA.p7b",
            "TencentDB-PG-SSL-CA.jks"
        ]
    );
}

#[test]
fn inline_text_in_every_plausible_form() {
    use base64::engine::general_purpose::STANDARD;
    let certs = bundle();
    let b64 = |b: &[u8]| STANDARD.encode(b);
    for (what, text) in [
        ("PEM text", to_pem(&certs)),
        ("PKCS7 PEM", pem::block("PKCS7", &to_p7b(&certs))),
        ("base64 p7b", b64(&to_p7b(&certs))),
        ("base64 jks", b64(&to_jks(&certs, 0))),
        ("base64 wrapped", {
            let s = b64(&to_p7b(&certs));
            s.as_bytes()
                .chunks(76)
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .collect::<Vec<_>>()
                .join("\r\n")
        }),
    ] {
        let d = decode_text(&text).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(sorted(&d.certs), sorted(&certs), "{what}");
    }
    let one = decode_text(&b64(&certs[0])).expect("base64 DER");
    assert_eq!((one.form, one.certs), (Form::Der, vec![certs[0].clone()]));
    assert!(decode_text("not a certificate!").is_err());
    assert!(decode_text(&b64(b"plain words")).is_err());
}

#[test]
fn hostile_zips_are_refused_or_read_by_extension_only() {
    let certs = bundle();
    let pem = to_pem(&certs);
    // A name that climbs out of any folder is just a name: it picks the entry, nothing else.
    let climbing = zip::write(&[("../../../../etc/cron.d/x.pem", pem.as_bytes())]);
    assert_eq!(decode(&climbing).expect("reads").certs, certs);
    // A zip in a zip is not followed.
    let inner = to_console_zip(&certs, 0);
    let nested = zip::write(&[("inner.pem", &inner)]);
    assert!(decode(&nested).is_err());
    // The pem and the p7b disagree: refused.
    let other = vec![certs[0].clone()];
    let mixed = zip::write(&[("a.pem", pem.as_bytes()), ("a.p7b", &to_p7b(&other))]);
    assert!(
        decode(&mixed)
            .unwrap_err()
            .contains("different certificates")
    );
    // Nothing recognisable in it.
    let readme = zip::write(&[("README.txt", b"hello")]);
    assert!(decode(&readme).unwrap_err().contains("no .pem"));
    // Too large to be a CA at all.
    assert!(decode(&vec![b'a'; MAX_BYTES + 1]).is_err());
}

#[test]
fn junk_never_panics() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let samples: Vec<Vec<u8>> = vec![
        fixture!("bundle.p7b").to_vec(),
        fixture!("bundle.jks").to_vec(),
        fixture!("TencentDB-PG-SSL-CA.zip").to_vec(),
        fixture!("bundle.pem").to_vec(),
    ];
    for sample in &samples {
        for _ in 0..400 {
            let mut bad = sample.clone();
            let len = bad.len();
            for _ in 0..=(next() % 4) {
                let at = usize::try_from(next()).unwrap_or(0) % len;
                bad[at] = u8::try_from(next() & 0xff).unwrap_or(0);
            }
            let cut = usize::try_from(next()).unwrap_or(0) % (len + 1);
            let _ = decode(&bad);
            let _ = decode(&bad[..cut]);
        }
    }
    // Deep nesting of SEQUENCEs is walked once, not recursed.
    let mut deep = vec![0x05, 0x00];
    for _ in 0..10_000 {
        deep = der::write(der::SEQUENCE, &deep);
        if deep.len() > 60_000 {
            break;
        }
    }
    let _ = decode(&deep);
}
