//! What djust answers for a path no route matches: the favicon at `/favicon.ico` (so an
//! application that routes its own wins), else a 404 — a small styled page for browsers, one
//! line of plain text for everything else. Neither repeats the request unescaped.

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// Path of the favicon browsers ask for.
pub(crate) const FAVICON_PATH: &str = "/favicon.ico";

/// The router's fallback.
pub(super) async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if uri.path() == FAVICON_PATH && (method == Method::GET || method == Method::HEAD) {
        return favicon();
    }
    not_found(uri.path(), &headers)
}

/// 404: styled HTML when the client accepts HTML, else plain text.
fn not_found(path: &str, headers: &HeaderMap) -> Response {
    let wants_html = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"));
    if wants_html {
        // The path is escaped by the page, and cut: a 404 is no place for a 64 KiB echo.
        let shown: String = path.chars().take(200).collect();
        return crate::dev::error_page(
            StatusCode::NOT_FOUND,
            &format!("There is no page at {shown}."),
            None,
        );
    }
    let mut response = (StatusCode::NOT_FOUND, "404 Not Found\n").into_response();
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/x-icon"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        icon().as_slice(),
    )
        .into_response()
}

/// The icon: 16 × 16, 32-bit, a violet disc with a white dot (djust's presence dot), as an ICO
/// file (one BMP image), made once.
pub(crate) fn icon() -> &'static Vec<u8> {
    static ICON: OnceLock<Vec<u8>> = OnceLock::new();
    ICON.get_or_init(|| {
        const SIZE: u32 = 16;
        let pixels = SIZE * SIZE * 4;
        let mask = SIZE * 4; // 1 bit per pixel, rows padded to 32 bits
        let image = 40 + pixels + mask;
        let mut out = Vec::with_capacity(22 + image as usize);
        // ICONDIR + one ICONDIRENTRY.
        for v in [0u16, 1, 1] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&[16, 16, 0, 0]);
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&32u16.to_le_bytes());
        out.extend_from_slice(&image.to_le_bytes());
        out.extend_from_slice(&22u32.to_le_bytes());
        // BITMAPINFOHEADER (the height counts the mask too).
        for v in [40u32, SIZE, SIZE * 2] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&32u16.to_le_bytes());
        for v in [0u32, pixels + mask, 0, 0, 0, 0] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        // Pixels, bottom row first, BGRA.
        for row in (0..SIZE).rev() {
            for col in 0..SIZE {
                let (x, y) = (f64::from(col) + 0.5, f64::from(row) + 0.5);
                let disc = (x - 8.0).powi(2) + (y - 8.0).powi(2) <= 56.25;
                let dot = (x - 10.5).powi(2) + (y - 5.5).powi(2) <= 5.0;
                let bgra = match (disc, dot) {
                    (true, true) => [0xff, 0xff, 0xff, 0xff],
                    (true, false) => [0xea, 0x5e, 0xa5, 0xff], // #a55eea
                    _ => [0, 0, 0, 0],
                };
                out.extend_from_slice(&bgra);
            }
        }
        // The AND mask: all zero (the alpha channel decides).
        out.resize(out.len() + mask as usize, 0);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_icon_is_a_well_formed_ico() {
        let ico = icon();
        assert_eq!(&ico[..6], &[0, 0, 1, 0, 1, 0], "ICO header, one image");
        let size = u32::from_le_bytes([ico[14], ico[15], ico[16], ico[17]]) as usize;
        let offset = u32::from_le_bytes([ico[18], ico[19], ico[20], ico[21]]) as usize;
        assert_eq!(offset + size, ico.len());
        assert_eq!(&ico[offset..offset + 4], &40u32.to_le_bytes());
        // The centre is violet and opaque, a corner transparent.
        let pixel = |row: usize, col: usize| {
            let at = offset + 40 + ((15 - row) * 16 + col) * 4;
            &ico[at..at + 4]
        };
        assert_eq!(pixel(8, 6), &[0xea, 0x5e, 0xa5, 0xff]);
        assert_eq!(pixel(0, 0)[3], 0);
    }
}
