//! SigV4 secret lookup for s3s, backed by the identity service.

use std::sync::Arc;

use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3ErrorCode, S3Result};
use stratus_identity::Identity;

pub(crate) struct KeyAuth {
    pub(crate) identity: Arc<Identity>,
}

#[async_trait::async_trait]
impl S3Auth for KeyAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.identity.lookup(access_key).await {
            Ok(Some(key)) => Ok(SecretKey::from(key.secret)),
            Ok(None) => Err(s3s::S3Error::with_message(
                S3ErrorCode::InvalidAccessKeyId,
                "the access key id you provided does not exist in our records",
            )),
            Err(error) => {
                tracing::error!(?error, "key lookup failed");
                Err(s3s::S3Error::new(S3ErrorCode::InternalError))
            }
        }
    }
}
