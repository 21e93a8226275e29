//! A certificate authority the emulator generates at start, standing in for Tencent's
//! SSL CA: DescribeDBInstanceSSLConfig's CAUrl points at its PEM, served by the
//! emulator itself. It can also issue server certificates (for a local PostgreSQL).

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

/// The instance CA's common name.
pub const CA_NAME: &str = "pgssl emulator CA";

pub struct CertificateAuthority {
    issuer: rcgen::Issuer<'static, KeyPair>,
    cert_pem: String,
    cert_der: Vec<u8>,
}

/// A server certificate and its private key, both PEM.
pub struct IssuedCert {
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CertificateAuthority(<key redacted>)")
    }
}

/// The CA's parameters: the same for one generated and one restored, so a restored CA
/// issues certificates that chain to the certificate kept with it.
fn ca_params(common_name: &str) -> Result<CertificateParams, String> {
    let mut params = CertificateParams::new(Vec::<String>::new())
        .map_err(|e| format!("bad CA parameters: {e}"))?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "pgssl emulator");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

impl CertificateAuthority {
    pub fn generate(common_name: &str) -> Result<CertificateAuthority, String> {
        let key = KeyPair::generate().map_err(|e| format!("cannot generate a CA key: {e}"))?;
        let mut params = ca_params(common_name)?;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(3650);
        let issuer = CertifiedIssuer::self_signed(params, key)
            .map_err(|e| format!("cannot sign the CA certificate: {e}"))?;
        let (cert_pem, cert_der) = (issuer.pem(), issuer.der().to_vec());
        let params = ca_params(common_name)?;
        let key = KeyPair::from_pem(&issuer.key().serialize_pem())
            .map_err(|e| format!("cannot copy the CA key: {e}"))?;
        Ok(CertificateAuthority {
            issuer: rcgen::Issuer::new(params, key),
            cert_pem,
            cert_der,
        })
    }

    /// The CA kept from an earlier run (the demo keeps its CA, so what was pinned stays
    /// the CA): its key and certificate as `key_pem` and `cert_pem` gave them.
    pub fn restore(
        common_name: &str,
        key_pem: &str,
        cert_pem: &str,
    ) -> Result<CertificateAuthority, String> {
        let key = KeyPair::from_pem(key_pem).map_err(|e| format!("not a CA key: {e}"))?;
        let der = rustls::pki_types::pem::PemObject::from_pem_slice(cert_pem.as_bytes())
            .map(|c: rustls::pki_types::CertificateDer<'static>| c.to_vec())
            .map_err(|e| format!("not a CA certificate: {e}"))?;
        Ok(CertificateAuthority {
            issuer: rcgen::Issuer::new(ca_params(common_name)?, key),
            cert_pem: cert_pem.to_string(),
            cert_der: der,
        })
    }

    /// The CA's private key, PEM: only for keeping it where the demo keeps its state.
    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    pub fn cert_pem(&self) -> String {
        self.cert_pem.clone()
    }

    pub fn cert_der(&self) -> Vec<u8> {
        self.cert_der.clone()
    }

    /// Issue a server certificate naming `names` (IPs or DNS names), valid between the dates.
    pub fn issue(
        &self,
        names: &[String],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<IssuedCert, String> {
        let key = KeyPair::generate().map_err(|e| format!("cannot generate a key: {e}"))?;
        let mut params =
            CertificateParams::new(names.to_vec()).map_err(|e| format!("bad names: {e}"))?;
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_else(|| "server".into()),
        );
        params.distinguished_name = dn;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.not_before = not_before;
        params.not_after = not_after;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| format!("cannot sign the server certificate: {e}"))?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// How DescribeDBInstanceSSLConfig hands out the instance CA: behind CAUrl as the PEM
/// (the default), as one DER certificate or as the console's zip, under the emulator's
/// address or a host name of a test's choosing; and inline in the cloud-disk fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct CaArgs {
    /// What CAUrl serves: the PEM (default), one DER certificate, or the console's zip
    /// (TencentDB-PG-SSL-CA.zip: pem, p7b and jks, the jks password tencentdb_pg)
    #[arg(long, value_enum, value_name = "FORM", default_value_t = CaForm::Pem)]
    pub ca_form: CaForm,
    /// Also answer the cloud-disk fields CACert, CAP7B and CAJKS: `pem` (CACert and
    /// CAP7B as PEM text) or `base64` (both as base64 DER); CAJKS is base64 either way
    #[arg(long, value_enum, value_name = "FORM")]
    pub ca_inline: Option<CaInline>,
    /// Advertise CAUrl under this host name instead of the listening address (the port
    /// stays): e.g. pgssl-emulator.invalid, which only a test's own proxy resolves
    #[arg(long, value_name = "NAME", value_parser = host_name)]
    pub ca_host: Option<String>,
    /// A fault: after the CA has been handed out N times (downloaded or answered inline),
    /// hand out a new one, as Tencent may without notice
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(usize))]
    pub ca_rotate_after: Option<usize>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum CaForm {
    #[default]
    Pem,
    Der,
    Zip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CaInline {
    Pem,
    Base64,
}

fn host_name(text: &str) -> Result<String, String> {
    let ok = !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if ok {
        Ok(text.to_ascii_lowercase())
    } else {
        Err("a host name (letters, digits, '-' and '.'), e.g. pgssl-emulator.invalid".into())
    }
}

impl CaForm {
    /// Where the emulator serves this form.
    pub fn path(self) -> &'static str {
        match self {
            CaForm::Pem => "/ssl/ca.pem",
            CaForm::Der => "/ssl/ca.cer",
            CaForm::Zip => "/ssl/TencentDB-PG-SSL-CA.zip",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            CaForm::Pem => "application/x-pem-file",
            CaForm::Der => "application/pkix-cert",
            CaForm::Zip => "application/zip",
        }
    }

    pub const ALL: [CaForm; 3] = [CaForm::Pem, CaForm::Der, CaForm::Zip];
}

/// The emulator CA in every form, made once at start.
#[derive(Debug, Clone)]
pub struct CaFiles {
    pub pem: String,
    pub der: Vec<u8>,
    pub zip: Vec<u8>,
    pub p7b: Vec<u8>,
    pub jks: Vec<u8>,
}

impl CaFiles {
    pub fn of(ca: &CertificateAuthority, millis: u64) -> CaFiles {
        let certs = vec![ca.cert_der()];
        CaFiles {
            pem: ca.cert_pem(),
            der: certs[0].clone(),
            zip: pgssl_wire::cafile::to_console_zip(&certs, millis),
            p7b: pgssl_wire::cafile::to_p7b(&certs),
            jks: pgssl_wire::cafile::to_jks(&certs, millis),
        }
    }

    /// What CAUrl serves in `form`.
    pub fn body(&self, form: CaForm) -> Vec<u8> {
        match form {
            CaForm::Pem => self.pem.clone().into_bytes(),
            CaForm::Der => self.der.clone(),
            CaForm::Zip => self.zip.clone(),
        }
    }

    /// CACert, CAP7B and CAJKS as the emulator answers them in `form`.
    pub fn inline(&self, form: CaInline) -> (String, String, String) {
        use base64::Engine as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let jks = b64(&self.jks);
        match form {
            CaInline::Pem => (
                self.pem.clone(),
                pgssl_wire::cafile::pem::block("PKCS7", &self.p7b),
                jks,
            ),
            CaInline::Base64 => (b64(&self.der), b64(&self.p7b), jks),
        }
    }
}
