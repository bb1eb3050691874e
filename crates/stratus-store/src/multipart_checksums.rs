//! The store's side of multipart checksums: each part's verified checksums, kept beside the
//! part, and the upload's headers updated with the object checksum just before completion, so
//! that the completed object takes it over in the same transaction as its other headers.

use std::collections::BTreeMap;

use stratus_core::Action;
use stratus_identity::Principal;
use stratus_meta::{ObjectHeaders, PartRecord, UploadRecord};

use crate::{Store, StoreResult};

/// An upload with its parts and the checksums recorded for them (by part number).
pub struct UploadChecksums {
    pub upload: UploadRecord,
    pub parts: Vec<PartRecord>,
    pub checksums: BTreeMap<u32, BTreeMap<String, String>>,
}

impl Store {
    /// Records the checksums verified while `part` was received.
    ///
    /// # Errors
    /// `NoSuchUpload`, `AccessDenied`, metadata failures.
    pub async fn record_part_checksums(
        &self,
        caller: &Principal,
        target: (&str, &str, &str),
        part: &PartRecord,
        checksums: BTreeMap<String, String>,
    ) -> StoreResult<()> {
        let (bucket, key, upload_id) = target;
        self.authorize(caller, bucket, Action::Write).await?;
        self.list_parts(caller, bucket, key, upload_id).await?;
        self.meta
            .set_part_checksums(upload_id, part.part_number, &part.blob, checksums)
            .await?;
        Ok(())
    }

    /// The upload, its parts and their recorded checksums.
    ///
    /// # Errors
    /// `NoSuchUpload`, `AccessDenied`, metadata failures.
    pub async fn upload_checksums(
        &self,
        caller: &Principal,
        target: (&str, &str, &str),
    ) -> StoreResult<UploadChecksums> {
        let (bucket, key, upload_id) = target;
        let (upload, parts) = self.list_parts(caller, bucket, key, upload_id).await?;
        let checksums = self.meta.part_checksums(upload_id).await?;
        Ok(UploadChecksums {
            upload,
            parts,
            checksums,
        })
    }

    /// Replaces the headers the upload's object will have (its checksum, once computed).
    ///
    /// # Errors
    /// `NoSuchUpload`, `AccessDenied`, metadata failures.
    pub async fn set_upload_headers(
        &self,
        caller: &Principal,
        target: (&str, &str, &str),
        headers: ObjectHeaders,
    ) -> StoreResult<()> {
        let (bucket, key, upload_id) = target;
        self.authorize(caller, bucket, Action::Write).await?;
        self.list_parts(caller, bucket, key, upload_id).await?;
        Ok(self.meta.set_upload_headers(upload_id, headers).await?)
    }
}
