//! Deciding which API a request addresses, from its SigV4 credential scope.

use http::Request;

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `/fn/NAME/...`: a function URL, whatever its authorization (it may be SigV4-signed for
    /// an `AWS_IAM` URL). No bucket can be named `fn` (S3 names have at least 3 characters).
    FunctionUrl,
    /// Signed with SigV4 for this service (`s3`, `lambda`, `sqs`, ...).
    Aws(String),
    /// Unsigned, under `/v1/` (or later the dashboard).
    Native,
    /// Unsigned `/run/NAME` or `/job/NAME`: an OSCAR script service (bearer token). Checked
    /// after the SigV4 scope, so signed S3 requests to buckets named `run` or `job` still work;
    /// only their anonymous requests, which S3 would refuse anyway, land here.
    Oscar,
    /// Unsigned `GET /?Action=ConfirmSubscription&TopicArn=..&Token=..` or
    /// `GET /?Action=Unsubscribe&SubscriptionArn=..`: the SubscribeURL and UnsubscribeURL an SNS
    /// subscriber follows (the token or the subscription ARN is its credential, as in AWS).
    SnsConfirmation,
    /// Unsigned `/metrics`: the Prometheus exposition (a signed request to a bucket named
    /// `metrics` still reaches S3).
    Metrics,
    /// Unsigned and under `/console`, or a browser's `GET /` (asking for HTML): the web
    /// console and its session API. Checked last, so signed requests and SNS links are unaffected.
    Console,
    /// Unsigned `OPTIONS`, or one to a presigned URL (not under `/fn`, `/v1` or `/console`): a
    /// browser's CORS preflight, answered from the bucket's CORS rules (`browser/cors.rs`).
    CorsPreflight,
    /// Unsigned `GET`/`HEAD` under `/website/BUCKET/`: the bucket's static website
    /// (`browser/website.rs`). A signed request to a bucket named `website` still reaches S3.
    Website,
    /// Unsigned and none of the above: handed to S3, which serves what the bucket grants
    /// anonymous requests (public ACLs and policies) and answers AccessDenied otherwise.
    AnonymousS3,
}

/// The service in a credential scope `AKID/date/region/service/aws4_request`.
fn scope_service(credential: &str) -> Option<String> {
    let parts: Vec<&str> = credential.split('/').collect();
    (parts.len() == 5 && parts[4] == "aws4_request").then(|| parts[3].to_owned())
}

fn header_service<B>(request: &Request<B>) -> Option<String> {
    let auth = request
        .headers()
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256")?;
    let credential = rest
        .split(',')
        .find_map(|field| field.trim().strip_prefix("Credential="))?;
    scope_service(credential.trim())
}

fn query_service<B>(request: &Request<B>) -> Option<String> {
    let query = request.uri().query()?;
    let credential = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("X-Amz-Credential="))?;
    let decoded = credential.replace("%2F", "/").replace("%2f", "/");
    scope_service(&decoded)
}

/// Routes by the SigV4 service; legacy SigV2 (`AWS key:signature`) is S3's.
#[must_use]
pub fn destination<B>(request: &Request<B>) -> Destination {
    let path = request.uri().path();
    if path == "/fn" || path.starts_with("/fn/") {
        return Destination::FunctionUrl;
    }
    // A browser's preflight to a presigned URL carries the URL's query signature (made for
    // another method); S3 answers it as a CORS preflight, so only a signed header counts.
    let presigned = || {
        (request.method() != http::Method::OPTIONS)
            .then(|| query_service(request))
            .flatten()
    };
    if let Some(service) = header_service(request).or_else(presigned) {
        return Destination::Aws(service);
    }
    if path == "/v1" || path.starts_with("/v1/") {
        return Destination::Native;
    }
    if path == "/metrics" {
        return Destination::Metrics;
    }
    if path.starts_with("/run/") || path.starts_with("/job/") {
        return Destination::Oscar;
    }
    if crate::sns::is_confirmation_link(request) {
        return Destination::SnsConfirmation;
    }
    if crate::console::is_console_request(request.method(), request.uri(), request.headers()) {
        return Destination::Console;
    }
    if request.method() == http::Method::OPTIONS {
        return Destination::CorsPreflight;
    }
    if path.starts_with("/website/")
        && matches!(*request.method(), http::Method::GET | http::Method::HEAD)
    {
        return Destination::Website;
    }
    Destination::AnonymousS3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, auth: Option<&str>) -> Request<()> {
        let mut builder = Request::builder().uri(uri);
        if let Some(auth) = auth {
            builder = builder.header("authorization", auth);
        }
        builder.body(()).expect("request")
    }

    #[test]
    fn routes_by_credential_scope() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=x";
        assert_eq!(
            destination(&request("/2015-03-31/functions", Some(auth))),
            Destination::Aws("lambda".into())
        );
        let presigned = "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=x";
        assert_eq!(
            destination(&request(presigned, None)),
            Destination::Aws("s3".into())
        );
        assert_eq!(
            destination(&request("/v1/health", None)),
            Destination::Native
        );
        assert_eq!(
            destination(&request("/fn/classify/x", Some(auth))),
            Destination::FunctionUrl
        );
        assert_eq!(
            destination(&request("/bucket/key", None)),
            Destination::AnonymousS3
        );
        assert_eq!(
            destination(&request("/metrics", None)),
            Destination::Metrics
        );
        assert_eq!(
            destination(&request("/metrics", Some(auth))),
            Destination::Aws("lambda".into())
        );
        assert_eq!(
            destination(&request("/run/upper", None)),
            Destination::Oscar
        );
        let s3_auth = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x";
        assert_eq!(
            destination(&request("/job/key", Some(s3_auth))),
            Destination::Aws("s3".into())
        );
    }

    #[test]
    fn unsigned_root_and_console_paths_reach_the_console() {
        let browser = Request::builder()
            .uri("/")
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .body(())
            .expect("request");
        assert_eq!(destination(&browser), Destination::Console);
        // An SDK's anonymous ListBuckets asks for no HTML: S3 refuses it as before.
        assert_eq!(destination(&request("/", None)), Destination::AnonymousS3);
        assert_eq!(
            destination(&request("/console/js/app.js", None)),
            Destination::Console
        );
        assert_eq!(
            destination(&request("/?list-type=2", None)),
            Destination::AnonymousS3
        );
        let mut put = request("/", None);
        *put.method_mut() = http::Method::PUT;
        assert_eq!(destination(&put), Destination::AnonymousS3);
        let s3_auth = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x";
        assert_eq!(
            destination(&request("/", Some(s3_auth))),
            Destination::Aws("s3".into())
        );
        assert_eq!(
            destination(&request("/consoles/key", None)),
            Destination::AnonymousS3
        );
    }

    #[test]
    fn unsigned_preflights_and_websites_reach_the_browser_edge() {
        let mut options = request("/bucket/key", None);
        *options.method_mut() = http::Method::OPTIONS;
        assert_eq!(destination(&options), Destination::CorsPreflight);
        assert_eq!(
            destination(&request("/website/site/index.html", None)),
            Destination::Website
        );
        let s3_auth = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x";
        assert_eq!(
            destination(&request("/website/key", Some(s3_auth))),
            Destination::Aws("s3".into())
        );
        let mut put = request("/website/site/x", None);
        *put.method_mut() = http::Method::PUT;
        assert_eq!(destination(&put), Destination::AnonymousS3);
        let presigned_options = request(
            "/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=x",
            None,
        );
        let mut presigned_options = presigned_options;
        *presigned_options.method_mut() = http::Method::OPTIONS;
        assert_eq!(destination(&presigned_options), Destination::CorsPreflight);
        let mut native_options = request("/v1/buckets", None);
        *native_options.method_mut() = http::Method::OPTIONS;
        assert_eq!(destination(&native_options), Destination::Native);
    }

    #[test]
    fn unsigned_confirmation_links_reach_sns() {
        let link =
            "/?Action=ConfirmSubscription&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At&Token=abc";
        assert_eq!(
            destination(&request(link, None)),
            Destination::SnsConfirmation
        );
        let unsubscribe =
            "/?Action=Unsubscribe&SubscriptionArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At%3Aid";
        assert_eq!(
            destination(&request(unsubscribe, None)),
            Destination::SnsConfirmation
        );
        let mut post = request(link, None);
        *post.method_mut() = http::Method::POST;
        assert_eq!(destination(&post), Destination::AnonymousS3);
        assert_eq!(
            destination(&request("/?Action=Publish", None)),
            Destination::AnonymousS3
        );
        let signed = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=x";
        assert_eq!(
            destination(&request("/", Some(signed))),
            Destination::Aws("sns".into())
        );
    }
}
