//! Virtual-hosted-style addressing for `--domain DOMAIN`: `BUCKET.DOMAIN` names its bucket in the
//! host (every S3 operation), while the bare domain, IP addresses and any other name stay
//! path-style, as before. The domain is set once at start-up, after the service is built.

use std::sync::{Arc, OnceLock};

use s3s::S3Result;
use s3s::host::{S3Host, VirtualHost};

pub(crate) struct DomainHost {
    pub(crate) domain: Arc<OnceLock<String>>,
}

impl S3Host for DomainHost {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        let name = match host.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => host,
        };
        let bucket = self.domain.get().and_then(|domain| {
            name.strip_suffix(domain.as_str())
                .and_then(|p| p.strip_suffix('.'))
                .filter(|p| !p.is_empty())
        });
        Ok(match bucket {
            Some(bucket) => VirtualHost::new(name).with_bucket(bucket),
            None => VirtualHost::new(name),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_subdomains_of_the_domain_name_buckets() {
        let host = DomainHost {
            domain: Arc::new(OnceLock::new()),
        };
        assert_eq!(
            host.parse_host_header("b.example.test")
                .expect("host")
                .bucket(),
            None
        );
        let _ = host.domain.set("example.test".into());
        let parse = |h: &'static str| {
            host.parse_host_header(h)
                .expect("host")
                .bucket()
                .map(str::to_owned)
        };
        assert_eq!(parse("photos.example.test:4566"), Some("photos".into()));
        assert_eq!(parse("example.test:4566"), None);
        assert_eq!(parse("localhost:4566"), None);
    }
}
