//! The state the resource routers share: the services behind `/v1`.

use std::sync::Arc;

use stratus_identity::Identity;
use stratus_store::Store;

use super::caller::KnowsIdentity;

#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Arc<Store>,
    pub identity: Arc<Identity>,
    pub functions: Arc<stratus_runtime::Functions>,
    pub apps: Arc<stratus_identity::Apps>,
    pub billing: crate::Billing,
}

impl KnowsIdentity for AppState {
    fn identity(&self) -> &Identity {
        &self.identity
    }
}
