//! The console's files, embedded in the binary at build time (no CDN, no download at run time,
//! no Node in the Rust build): plain ES modules, CSS and one HTML page under
//! `crates/stratus-api/console/`.

/// One embedded file: its URL path under `/console/`, content type and bytes.
pub(crate) struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $type:expr) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!("../../console/", $path)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file the console serves.
pub(crate) static ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("console.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("js/app.js", JS),
    asset!("js/api.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/charts.js", JS),
    asset!("js/pages/signin.js", JS),
    asset!("js/pages/overview.js", JS),
    asset!("js/pages/buckets.js", JS),
    asset!("js/pages/bucket_settings.js", JS),
    asset!("js/pages/functions.js", JS),
    asset!("js/pages/function_detail.js", JS),
    asset!("js/pages/apps.js", JS),
    asset!("js/pages/messaging.js", JS),
    asset!("js/pages/planner.js", JS),
    asset!("js/pages/cost.js", JS),
    asset!("js/pages/admin.js", JS),
];

/// The asset at `path` (relative to `/console/`).
pub(crate) fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_found_and_nonempty() {
        for asset in ASSETS {
            assert!(!asset.body.is_empty(), "{} is empty", asset.path);
            assert!(find(asset.path).is_some());
        }
        assert!(find("../Cargo.toml").is_none());
    }

    #[test]
    fn pages_load_no_remote_or_inline_code() {
        for asset in ASSETS {
            // The SVG namespace is a name, not a download.
            let text =
                String::from_utf8_lossy(asset.body).replace("http://www.w3.org/2000/svg", "");
            assert!(
                !text.contains("http://"),
                "{} names a remote URL",
                asset.path
            );
            assert!(
                !text.contains("https://"),
                "{} names a remote URL",
                asset.path
            );
        }
        let index = String::from_utf8_lossy(find("index.html").expect("index").body);
        assert!(!index.contains("<script>"), "inline scripts break the CSP");
        assert!(!index.contains("onclick="), "inline handlers break the CSP");
    }
}
