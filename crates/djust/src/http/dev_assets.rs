//! Dev mode: the client scripts are read from the djust crate's `assets/` on every load (so an
//! edit of `client.js` shows on the next reload of the page, without rebuilding) and sent with
//! `Cache-Control: no-store`. Where that directory is not on disk (a binary moved to another
//! machine), the copy compiled into the binary is sent, still uncached.

use std::path::Path;

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The crate's assets directory, as it was when djust was compiled.
pub(crate) const ASSETS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets");

/// The files of `/djust/djust.js`, in the order `DJUST_JS` concatenates them.
const CLIENT_FILES: [&str; 7] = [
    "patch.js",
    "rendered.js",
    "offline.js",
    "cursors.js",
    "client.js",
    "text-carets.js",
    "shared-text.js",
];

/// `/djust/djust.js` in dev mode: the files on disk, else `embedded`.
pub(super) fn script(embedded: &'static str) -> Response {
    uncached(read_client(Path::new(ASSETS_DIR)).map_or(embedded.into(), Into::into))
}

/// `/djust/yjs.js` in dev mode (a vendored bundle nobody edits: only uncached).
pub(super) fn yjs(embedded: &'static str) -> Response {
    uncached(embedded.into())
}

/// The client files of `dir` concatenated as `DJUST_JS` does, or `None` if one is missing.
fn read_client(dir: &Path) -> Option<String> {
    let mut out = String::new();
    for (i, name) in CLIENT_FILES.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&std::fs::read_to_string(dir.join(name)).ok()?);
    }
    Some(out)
}

fn uncached(body: std::borrow::Cow<'static, str>) -> Response {
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
        ],
        body.into_owned(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_on_disk_make_the_compiled_in_client() {
        // Fails if `DJUST_JS` and `CLIENT_FILES` ever list different files.
        assert_eq!(
            read_client(Path::new(ASSETS_DIR)).as_deref(),
            Some(super::super::DJUST_JS)
        );
    }

    #[test]
    fn an_edited_file_is_served_as_it_is_now() {
        let dir = std::env::temp_dir().join(format!("djust-assets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in CLIENT_FILES {
            std::fs::write(dir.join(name), format!("// {name}")).unwrap();
        }
        assert!(read_client(&dir).unwrap().contains("// client.js"));
        std::fs::write(dir.join("client.js"), "// edited").unwrap();
        let now = read_client(&dir).unwrap();
        assert!(
            now.contains("// edited") && !now.contains("// client.js"),
            "{now}"
        );
        std::fs::remove_file(dir.join("patch.js")).unwrap();
        assert!(
            read_client(&dir).is_none(),
            "a missing file: the embedded copy"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
