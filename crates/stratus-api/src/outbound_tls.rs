//! What outbound HTTPS trusts: the system's root certificates (rustls-native-certs reads the
//! distribution's bundle, e.g. `/etc/ssl/certs`, so an operator's `update-ca-certificates`
//! applies) plus an optional PEM file of extra CAs. Used by SNS `https` subscriptions and,
//! through `stratus-server`, by the `stratus` CLI.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

/// A rustls client configuration (the `ring` provider, TLS 1.2 and 1.3) trusting the system's
/// roots and every certificate in `extra_ca` (PEM).
///
/// # Errors
/// `extra_ca` cannot be read, or holds no usable certificate (the message names the file).
pub fn tls_client_config(extra_ca: Option<&Path>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::debug!(%error, "a system root certificate could not be read");
    }
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    if let Some(path) = extra_ca {
        let pem = std::fs::read(path)
            .map_err(|why| format!("cannot read CA file {}: {why}", path.display()))?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|why| format!("invalid CA file {}: {why}", path.display()))?;
        if certs.is_empty() {
            return Err(format!(
                "invalid CA file {}: no PEM CERTIFICATE block in it",
                path.display()
            ));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|why| format!("invalid CA file {}: {why}", path.display()))?;
        }
    } else if added == 0 {
        tracing::warn!("no system root certificates found: outbound HTTPS will not verify");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|why| format!("TLS protocol versions: {why}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unusable_ca_file_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing.pem");
        let error = tls_client_config(Some(&missing)).expect_err("missing");
        assert!(error.contains(&missing.display().to_string()), "{error}");
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "hello").expect("write");
        let error = tls_client_config(Some(&garbage)).expect_err("garbage");
        assert!(
            error.contains("garbage.pem") && error.contains("no PEM"),
            "{error}"
        );
        tls_client_config(None).expect("system roots alone");
    }
}
