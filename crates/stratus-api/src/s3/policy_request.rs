//! What a bucket policy sees of an S3 request: the IAM action of the operation and the
//! condition keys the request carries (`stratus_store::PolicyRequest`). The store evaluates
//! them (`bucket_policy.rs`) in its one access decision; it adds `s3:ExistingObjectTag/<k>`.

use s3s::access::S3AccessContext;
use stratus_store::PolicyRequest;

/// The IAM action AWS checks for an S3 operation (`versioned`: the request names a versionId).
pub(super) fn action(operation: &str, versioned: bool) -> String {
    let action = match operation {
        "GetObject" | "HeadObject" if versioned => "GetObjectVersion",
        "GetObject" | "HeadObject" | "GetObjectAttributes" => "GetObject",
        "DeleteObject" if versioned => "DeleteObjectVersion",
        "DeleteObject" | "DeleteObjects" => "DeleteObject",
        "GetObjectTagging" if versioned => "GetObjectVersionTagging",
        "GetObjectAcl" if versioned => "GetObjectVersionAcl",
        "PutObjectAcl" if versioned => "PutObjectVersionAcl",
        "ListObjects" | "ListObjectsV2" | "HeadBucket" => "ListBucket",
        "ListObjectVersions" => "ListBucketVersions",
        "ListMultipartUploads" => "ListBucketMultipartUploads",
        "ListParts" => "ListMultipartUploadParts",
        "PutObject"
        | "PostObject"
        | "CopyObject"
        | "CreateMultipartUpload"
        | "UploadPart"
        | "UploadPartCopy"
        | "CompleteMultipartUpload" => "PutObject",
        "GetPublicAccessBlock" => "GetBucketPublicAccessBlock",
        "PutPublicAccessBlock" | "DeletePublicAccessBlock" => "PutBucketPublicAccessBlock",
        "DeleteBucketOwnershipControls" => "PutBucketOwnershipControls",
        "DeleteBucketTagging" => "PutBucketTagging",
        "GetBucketCors" => "GetBucketCORS",
        "PutBucketCors" | "DeleteBucketCors" => "PutBucketCORS",
        "DeleteBucketLifecycle" => "PutLifecycleConfiguration",
        "GetBucketVersioning" => "GetBucketVersioning",
        other => other,
    };
    format!("s3:{action}")
}

/// Headers a policy can test as `s3:<header>`.
const HEADER_KEYS: [&str; 9] = [
    "x-amz-acl",
    "x-amz-grant-full-control",
    "x-amz-grant-read",
    "x-amz-grant-write",
    "x-amz-grant-read-acp",
    "x-amz-grant-write-acp",
    "x-amz-copy-source",
    "x-amz-metadata-directive",
    "x-amz-server-side-encryption",
];

/// Query parameters of a listing a policy can test as `s3:<name>`.
const QUERY_KEYS: [&str; 3] = ["prefix", "delimiter", "max-keys"];

/// The policy's view of the request in `cx`.
pub(super) fn from_request(cx: &S3AccessContext<'_>) -> PolicyRequest {
    let query: Vec<(String, String)> = cx
        .uri()
        .query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let versioned = query.iter().any(|(k, _)| k == "versionId");
    let mut request = PolicyRequest::new(&action(cx.s3_op().name(), versioned));
    let header = |name: &str| cx.headers().get(name).and_then(|v| v.to_str().ok());
    for name in HEADER_KEYS {
        if let Some(value) = header(name) {
            request.with(&format!("s3:{name}"), value);
        }
    }
    if let Some(referer) = header("referer") {
        request.with("aws:Referer", referer);
    }
    if let Some(tagging) = header("x-amz-tagging") {
        for (tag, value) in form_urlencoded::parse(tagging.as_bytes()) {
            request.with(&format!("s3:RequestObjectTag/{tag}"), value.into_owned());
        }
    }
    for (name, value) in &query {
        if QUERY_KEYS.contains(&name.as_str()) {
            request.with(&format!("s3:{name}"), value.clone());
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::action;

    #[test]
    fn operations_map_to_iam_actions() {
        assert_eq!(action("HeadObject", false), "s3:GetObject");
        assert_eq!(action("GetObject", true), "s3:GetObjectVersion");
        assert_eq!(action("ListObjectsV2", false), "s3:ListBucket");
        assert_eq!(action("UploadPart", false), "s3:PutObject");
        assert_eq!(
            action("ListMultipartUploads", false),
            "s3:ListBucketMultipartUploads"
        );
        assert_eq!(action("GetObjectTagging", false), "s3:GetObjectTagging");
        assert_eq!(
            action("GetPublicAccessBlock", false),
            "s3:GetBucketPublicAccessBlock"
        );
    }
}
