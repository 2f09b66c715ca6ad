//! Interactive API documentation at `/api/docs`: Swagger UI (vendored from the npm package
//! `swagger-ui-dist`, see `crates/server/assets/swagger-ui/VENDORED.md`) showing
//! `/api/openapi.json`. Every file is compiled into the binary: the page loads nothing from
//! outside the server.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, Method};
use axum::response::{IntoResponse, Response};

use crate::access::Rule;
use crate::error::ApiError;
use crate::extract::Path;
use crate::router::Routes;

/// The documentation's routes (anonymous, not in the OpenAPI document).
pub fn routes() -> Routes {
    Routes::new()
        .add_undocumented(Rule::Anonymous, Method::GET, DOCS_PATH, page)
        .add_undocumented(
            Rule::Anonymous,
            Method::GET,
            &format!("{DOCS_PATH}/{{file}}"),
            file,
        )
}

/// Path of the documentation page.
pub const DOCS_PATH: &str = "/api/docs";

/// One file served under `/api/docs/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $content_type:literal) => {
        Asset {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/assets/swagger-ui/",
                $name
            )),
        }
    };
}

/// The page itself.
const INDEX: Asset = asset!("index.html", "text/html; charset=utf-8");

/// The files the page loads, and the licenses that come with them.
const ASSETS: &[Asset] = &[
    asset!("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    asset!("swagger-ui.css", "text/css; charset=utf-8"),
    asset!("amphora-docs.js", "text/javascript; charset=utf-8"),
    asset!("favicon-32x32.png", "image/png"),
    asset!("LICENSE", "text/plain; charset=utf-8"),
    asset!("NOTICE", "text/plain; charset=utf-8"),
    asset!(
        "swagger-ui-bundle.js.LICENSE.txt",
        "text/plain; charset=utf-8"
    ),
];

fn serve(asset: &Asset) -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        asset.bytes,
    )
        .into_response()
}

/// `GET /api/docs`: the Swagger UI page.
pub async fn page() -> Response {
    serve(&INDEX)
}

/// `GET /api/docs/{file}`: one of the page's files; anything else is 404.
pub async fn file(Path(name): Path<String>) -> Result<Response, ApiError> {
    ASSETS
        .iter()
        .find(|asset| asset.name == name)
        .map(serve)
        .ok_or(ApiError::NotFound)
}
