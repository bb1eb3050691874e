//! TLS on the edge: the certificate and key the listener presents (an operator's files, or a
//! CA and server certificate of our own made on first start), re-read on request (SIGHUP in the
//! CLI) without dropping a connection. rustls with the `ring` provider; see `docs/tls.md`.

use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use rustls::client::danger::ServerCertVerifier as _;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// Where the edge's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files the operator provides: the certificate chain (leaf first) and its private key.
    Files { cert: PathBuf, key: PathBuf },
    /// A CA and a server certificate of our own under `DATA_DIR/tls/`, made on first start.
    SelfSigned,
}

/// The provider every TLS endpoint of this process uses (explicit, so a dependency enabling a
/// second rustls provider cannot make the choice ambiguous).
#[must_use]
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificate files in use, and the CA clients should trust when it is ours.
#[derive(Debug, Clone)]
pub(crate) struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// `DATA_DIR/tls/ca.pem` when the certificate is self-signed by us.
    pub ca: Option<PathBuf>,
}

impl TlsFiles {
    /// The files `source` names; for [`TlsSource::SelfSigned`], made (or renewed) first.
    pub(crate) fn prepare(
        source: &TlsSource,
        data_dir: &Path,
        listen: SocketAddr,
    ) -> anyhow::Result<Self> {
        match source {
            TlsSource::Files { cert, key } => Ok(Self {
                cert: cert.clone(),
                key: key.clone(),
                ca: None,
            }),
            TlsSource::SelfSigned => self_signed(&data_dir.join("tls"), listen.ip()),
        }
    }
}

/// Reads a certificate chain and its key, checking that they belong together. Every error names
/// the file and the reason.
fn load_certified_key(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> anyhow::Result<CertifiedKey> {
    let cert_pem = std::fs::read(cert)
        .with_context(|| format!("cannot read TLS certificate {}", cert.display()))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|why| anyhow!("invalid TLS certificate {}: {why}", cert.display()))?;
    if chain.is_empty() {
        bail!(
            "invalid TLS certificate {}: no PEM CERTIFICATE block in it",
            cert.display()
        );
    }
    let key_pem =
        std::fs::read(key).with_context(|| format!("cannot read TLS key {}", key.display()))?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|why| {
        anyhow!(
            "invalid TLS key {}: {} (expected a PEM private key: PKCS#8, PKCS#1 or SEC1)",
            key.display(),
            match why {
                rustls::pki_types::pem::Error::NoItemsFound => "no PEM private key in it".into(),
                other => other.to_string(),
            }
        )
    })?;
    CertifiedKey::from_der(chain, key_der, provider).map_err(|why| match why {
        rustls::Error::InconsistentKeys(_) => anyhow!(
            "TLS key {} does not match certificate {}",
            key.display(),
            cert.display()
        ),
        rustls::Error::General(text) => anyhow!("unusable TLS key {}: {text}", key.display()),
        other => anyhow!(
            "unusable TLS certificate {} with key {}: {other}",
            cert.display(),
            key.display()
        ),
    })
}

/// Hands every handshake the current certificate; [`CertResolver::reload`] swaps it. A
/// handshake takes an `Arc` of the certificate it started with, so swapping never disturbs an
/// open connection.
#[derive(Debug)]
pub struct CertResolver {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertResolver {
    fn open(files: TlsFiles, provider: Arc<CryptoProvider>) -> anyhow::Result<Self> {
        let key = load_certified_key(&files.cert, &files.key, &provider)?;
        Ok(Self {
            files,
            provider,
            current: RwLock::new(Arc::new(key)),
        })
    }

    /// Re-reads the certificate and key files; on any error the certificate in use stays.
    ///
    /// # Errors
    /// An unreadable, invalid or mismatched file (the old certificate is kept).
    pub fn reload(&self) -> anyhow::Result<()> {
        let key = load_certified_key(&self.files.cert, &self.files.key, &self.provider)?;
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(key);
        Ok(())
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        ))
    }
}

/// The listener's TLS side: the acceptor (HTTP/2 and HTTP/1.1 by ALPN) and its reloadable
/// certificate.
pub(crate) struct EdgeTls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub resolver: Arc<CertResolver>,
    pub files: TlsFiles,
}

impl EdgeTls {
    pub(crate) fn new(files: TlsFiles) -> anyhow::Result<Self> {
        let provider = crypto_provider();
        let resolver = Arc::new(CertResolver::open(files.clone(), Arc::clone(&provider))?);
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(&resolver) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            resolver,
            files,
        })
    }
}

/// How long a client may take to complete its TLS handshake.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

// --- self-signed certificates ---------------------------------------------------------------

/// The CA lasts ten years; server certificates one, and are renewed at start when expired.
const CA_DAYS: i64 = 3650;
const SERVER_DAYS: i64 = 365;

/// The names a self-signed server certificate carries: the listen IP (unless it is the
/// unspecified address), loopback in both families and `localhost`.
fn server_names(listen_ip: IpAddr) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if !listen_ip.is_unspecified() {
        names.push(listen_ip.to_string());
    }
    for name in ["127.0.0.1", "::1", "localhost"] {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
}

/// The CA's parameters. Its name derives from its key, so the same parameters can be rebuilt
/// from `ca-key.pem` to sign a renewed server certificate without parsing `ca.pem`.
fn ca_params(ca_key: &rcgen::KeyPair) -> anyhow::Result<rcgen::CertificateParams> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        format!("Stratus local CA {}", key_tag(ca_key.public_key_raw())),
    );
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Stratus");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(CA_DAYS);
    Ok(params)
}

/// A short, stable tag of a public key for the CA's name, so two servers' CAs are told apart
/// (FNV-1a: a label, not a security property).
fn key_tag(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", hash >> 32)
}

fn server_cert_pem(
    names: &[String],
    ca_key: &rcgen::KeyPair,
    server_key: &rcgen::KeyPair,
) -> anyhow::Result<String> {
    let issuer = rcgen::Issuer::new(ca_params(ca_key)?, ca_key);
    let mut params = rcgen::CertificateParams::new(names.to_vec())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Stratus server");
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(SERVER_DAYS);
    Ok(params.signed_by(server_key, &issuer)?.pem())
}

/// Writes `path` with `mode` so that a crash never leaves it half-written.
fn write_file(path: &Path, contents: &str, mode: u32) -> anyhow::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Whether `server.pem` is signed by `ca.pem`, unexpired and valid for every name.
fn server_cert_fits(ca_pem: &[u8], server_pem: &[u8], names: &[String]) -> bool {
    let (Ok(ca), Ok(leaf)) = (
        CertificateDer::from_pem_slice(ca_pem),
        CertificateDer::from_pem_slice(server_pem),
    ) else {
        return false;
    };
    let mut roots = rustls::RootCertStore::empty();
    if roots.add(ca).is_err() {
        return false;
    }
    let Ok(verifier) = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        crypto_provider(),
    )
    .build() else {
        return false;
    };
    // Renew a month before expiry rather than on the day.
    let soon = UnixTime::since_unix_epoch(
        UnixTime::now()
            .as_secs()
            .checked_add(30 * 24 * 3600)
            .map_or(Duration::MAX, Duration::from_secs),
    );
    names.iter().all(|name| {
        ServerName::try_from(name.as_str()).is_ok_and(|server_name| {
            verifier
                .verify_server_cert(&leaf, &[], &server_name, &[], soon)
                .is_ok()
        })
    })
}

/// Makes `DIR/ca.pem`, `DIR/ca-key.pem` (0600), `DIR/server.pem` and `DIR/server-key.pem`
/// (0600) unless they exist; keeps the CA and renews the server certificate when it no longer
/// covers `listen_ip` (or expires within a month).
pub(crate) fn self_signed(dir: &Path, listen_ip: IpAddr) -> anyhow::Result<TlsFiles> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let ca_path = dir.join("ca.pem");
    let ca_key_path = dir.join("ca-key.pem");
    let cert_path = dir.join("server.pem");
    let key_path = dir.join("server-key.pem");
    let ca_key = if ca_path.exists() && ca_key_path.exists() {
        let pem = std::fs::read_to_string(&ca_key_path)
            .with_context(|| format!("cannot read {}", ca_key_path.display()))?;
        rcgen::KeyPair::from_pem(&pem)
            .map_err(|why| anyhow!("invalid CA key {}: {why}", ca_key_path.display()))?
    } else {
        let key = rcgen::KeyPair::generate()?;
        let cert = ca_params(&key)?.self_signed(&key)?;
        write_file(&ca_key_path, &key.serialize_pem(), 0o600)?;
        write_file(&ca_path, &cert.pem(), 0o644)?;
        // A new CA invalidates any server certificate signed by an old one.
        let _ = std::fs::remove_file(&cert_path);
        tracing::info!(ca = %ca_path.display(), "created a TLS certificate authority for this server");
        key
    };
    let names = server_names(listen_ip);
    let fits = match (
        std::fs::read(&ca_path),
        std::fs::read(&cert_path),
        key_path.exists(),
    ) {
        (Ok(ca), Ok(server), true) => server_cert_fits(&ca, &server, &names),
        _ => false,
    };
    if !fits {
        let server_key = rcgen::KeyPair::generate()?;
        let pem = server_cert_pem(&names, &ca_key, &server_key)?;
        write_file(&key_path, &server_key.serialize_pem(), 0o600)?;
        write_file(&cert_path, &pem, 0o644)?;
        tracing::info!(cert = %cert_path.display(), names = ?names, "issued a TLS server certificate");
    }
    Ok(TlsFiles {
        cert: cert_path,
        key: key_path,
        ca: Some(ca_path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> Vec<u8> {
        std::fs::read(path).expect("read")
    }

    #[test]
    fn self_signed_files_are_made_once_and_reused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let tls = dir.path().join("tls");
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        let files = self_signed(&tls, ip).expect("generate");
        assert_eq!(files.ca.as_deref(), Some(tls.join("ca.pem").as_path()));
        for (name, mode) in [
            ("ca.pem", 0o644),
            ("ca-key.pem", 0o600),
            ("server.pem", 0o644),
            ("server-key.pem", 0o600),
        ] {
            let meta = std::fs::metadata(tls.join(name)).expect(name);
            assert_eq!(meta.permissions().mode() & 0o777, mode, "{name}");
        }
        // The pair loads and matches; the certificate verifies for every name against the CA.
        load_certified_key(&files.cert, &files.key, &crypto_provider()).expect("usable pair");
        let names = server_names(ip);
        assert_eq!(names, ["127.0.0.1", "::1", "localhost"]);
        assert!(server_cert_fits(
            &read(&tls.join("ca.pem")),
            &read(&files.cert),
            &names
        ));
        assert!(!server_cert_fits(
            &read(&tls.join("ca.pem")),
            &read(&files.cert),
            &["10.1.2.3".to_owned()]
        ));
        // A second start reuses everything byte for byte.
        let before: Vec<Vec<u8>> = ["ca.pem", "ca-key.pem", "server.pem", "server-key.pem"]
            .iter()
            .map(|n| read(&tls.join(n)))
            .collect();
        self_signed(&tls, ip).expect("reuse");
        let after: Vec<Vec<u8>> = ["ca.pem", "ca-key.pem", "server.pem", "server-key.pem"]
            .iter()
            .map(|n| read(&tls.join(n)))
            .collect();
        assert_eq!(before, after);
    }

    #[test]
    fn a_new_listen_address_renews_the_server_certificate_under_the_same_ca() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tls = dir.path().join("tls");
        self_signed(&tls, "127.0.0.1".parse().expect("ip")).expect("generate");
        let ca = read(&tls.join("ca.pem"));
        let old_cert = read(&tls.join("server.pem"));
        let other: IpAddr = "127.0.0.2".parse().expect("ip");
        let files = self_signed(&tls, other).expect("renew");
        assert_eq!(read(&tls.join("ca.pem")), ca, "the CA is kept");
        let new_cert = read(&files.cert);
        assert_ne!(new_cert, old_cert, "the server certificate is renewed");
        assert!(server_cert_fits(&ca, &new_cert, &server_names(other)));
        assert!(server_names(other).contains(&"127.0.0.2".to_owned()));
        // The unspecified address is no name: loopback and localhost only.
        assert_eq!(
            server_names("0.0.0.0".parse().expect("ip")),
            ["127.0.0.1", "::1", "localhost"]
        );
    }

    #[test]
    fn bad_files_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = self_signed(&dir.path().join("a"), "127.0.0.1".parse().expect("ip"))
            .expect("generate a");
        let b = self_signed(&dir.path().join("b"), "127.0.0.1".parse().expect("ip"))
            .expect("generate b");
        let provider = crypto_provider();
        let error = |cert: &Path, key: &Path| {
            format!(
                "{:#}",
                load_certified_key(cert, key, &provider).expect_err("refused")
            )
        };
        let mismatch = error(&a.cert, &b.key);
        assert!(mismatch.contains("does not match"), "{mismatch}");
        assert!(
            mismatch.contains(&b.key.display().to_string()),
            "{mismatch}"
        );
        let missing = dir.path().join("missing.pem");
        let text = error(&missing, &a.key);
        assert!(
            text.contains(&missing.display().to_string()) && text.contains("cannot read"),
            "{text}"
        );
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a certificate\n").expect("write");
        let text = error(&garbage, &a.key);
        assert!(text.contains(&garbage.display().to_string()), "{text}");
        let text = error(&a.cert, &garbage);
        assert!(
            text.contains(&garbage.display().to_string()) && text.contains("key"),
            "{text}"
        );
    }

    #[test]
    fn reload_swaps_the_certificate_and_keeps_it_on_a_bad_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = self_signed(&dir.path().join("a"), "127.0.0.1".parse().expect("ip"))
            .expect("generate a");
        let b = self_signed(&dir.path().join("b"), "127.0.0.1".parse().expect("ip"))
            .expect("generate b");
        let live = TlsFiles {
            cert: dir.path().join("live.pem"),
            key: dir.path().join("live-key.pem"),
            ca: None,
        };
        std::fs::copy(&a.cert, &live.cert).expect("copy");
        std::fs::copy(&a.key, &live.key).expect("copy");
        let resolver = CertResolver::open(live.clone(), crypto_provider()).expect("open");
        let leaf = |r: &CertResolver| r.current.read().expect("lock").cert[0].as_ref().to_vec();
        assert_eq!(
            leaf(&resolver),
            CertificateDer::from_pem_slice(&read(&a.cert))
                .expect("pem")
                .as_ref()
        );
        std::fs::copy(&b.cert, &live.cert).expect("copy");
        std::fs::copy(&b.key, &live.key).expect("copy");
        resolver.reload().expect("reload");
        let b_leaf = CertificateDer::from_pem_slice(&read(&b.cert))
            .expect("pem")
            .as_ref()
            .to_vec();
        assert_eq!(leaf(&resolver), b_leaf);
        std::fs::write(&live.cert, "garbage").expect("write");
        assert!(resolver.reload().is_err());
        assert_eq!(
            leaf(&resolver),
            b_leaf,
            "a bad file keeps the old certificate"
        );
    }
}
