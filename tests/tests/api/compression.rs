//! What goes over the wire: the app's bundle as the build precompressed it, JSON
//! compressed on the fly, and caching by file name. The responses are read raw (the
//! test client decodes nothing), so the bytes are the ones a browser receives.

use std::io::Read;
use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};

use harness::*;

const WASM: &str = "frontend-0123456789abcdef_bg.wasm";

/// A build folder as `cargo xtask` leaves it: a page, a hashed bundle with its brotli
/// and gzip copies, and a file the build did not compress.
struct Build(PathBuf);

impl Build {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("um-dist-{}", unique()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, data: &[u8]| std::fs::write(dir.join(name), data).unwrap();
        write("index.html", b"<!doctype html><title>app</title>");
        write(WASM, &wasm());
        write(&format!("{WASM}.br"), b"brotli copy");
        write(&format!("{WASM}.gz"), b"gzip copy");
        write("notes.txt", "the build's notes. ".repeat(200).as_bytes());
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Build {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn wasm() -> Vec<u8> {
    b"\0asm".iter().copied().cycle().take(4096).collect()
}

async fn get(app: &TestApp, path: &str, accept: Option<&str>) -> reqwest::Response {
    let mut request = app.client().request(reqwest::Method::GET, path);
    if let Some(accept) = accept {
        request = request.header(ACCEPT_ENCODING, accept);
    }
    request.send().await.unwrap()
}

fn header(res: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    res.headers()
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Files are the same on both databases: one is enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundle_goes_out_precompressed_and_cached_by_its_name() {
    let build = Build::new();
    let dir = build.path().to_path_buf();
    let app = TestApp::builder(Backend::Sqlite)
        .with(move |s| s.paths.static_dir = dir)
        .spawn()
        .await;
    let path = format!("/{WASM}");

    for (accept, encoding, body) in [
        (Some("gzip, deflate, br"), "br", b"brotli copy".to_vec()),
        (Some("br;q=0.5, gzip"), "gzip", b"gzip copy".to_vec()),
        (Some("gzip"), "gzip", b"gzip copy".to_vec()),
        (None, "", wasm()),
        (Some("identity"), "", wasm()),
    ] {
        let res = get(&app, &path, accept).await;
        assert_eq!(res.status(), StatusCode::OK, "{accept:?}");
        assert_eq!(header(&res, CONTENT_ENCODING), encoding, "{accept:?}");
        assert_eq!(header(&res, CONTENT_TYPE), "application/wasm", "{accept:?}");
        assert!(header(&res, VARY).contains("accept-encoding"), "{accept:?}");
        assert_eq!(
            header(&res, CACHE_CONTROL),
            "public, max-age=31536000, immutable",
            "a hashed name is cached for good"
        );
        assert_eq!(res.bytes().await.unwrap().as_ref(), body, "{accept:?}");
    }

    // Files are read, not written.
    let post = app
        .client()
        .request(reqwest::Method::POST, &path)
        .header(ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);

    // The page that names the bundles is asked about on every load, at `/`, by name
    // and for a deep link alike.
    for page in ["/", "/index.html", "/users/7/edit"] {
        let res = get(&app, page, Some("gzip, br")).await;
        assert_eq!(res.status(), StatusCode::OK, "{page}");
        assert_eq!(header(&res, CACHE_CONTROL), "no-cache", "{page}");
    }
    // A bundle that is not there (an old page asking for its old bundle) is missing,
    // not the page under the bundle's name, and nothing keeps that answer.
    let gone = get(&app, "/frontend-fedcba9876543210.js", Some("br")).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&gone, CACHE_CONTROL), "no-cache");

    // A file without copies is compressed on the way out.
    let notes = get(&app, "/notes.txt", Some("gzip")).await;
    assert_eq!(header(&notes, CONTENT_ENCODING), "gzip");
    let raw = notes.bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(raw.as_ref())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "the build's notes. ".repeat(200));
    assert!(raw.len() < text.len() / 10, "{} bytes", raw.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_is_compressed_for_clients_that_accept_it() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let spec = |accept: Option<&'static str>| {
        let app = &app;
        async move { get(app, "/api/v1/openapi.json", accept).await }
    };
    let plain = spec(None).await;
    assert_eq!(header(&plain, CONTENT_ENCODING), "");
    let plain = plain.bytes().await.unwrap();
    assert!(plain.len() > 1000);

    let gzipped = spec(Some("gzip")).await;
    assert_eq!(header(&gzipped, CONTENT_ENCODING), "gzip");
    assert!(header(&gzipped, VARY).contains("accept-encoding"));
    let raw = gzipped.bytes().await.unwrap();
    let mut body = Vec::new();
    flate2::read::GzDecoder::new(raw.as_ref())
        .read_to_end(&mut body)
        .unwrap();
    assert_eq!(body, plain.as_ref(), "the same document");
    assert!(
        raw.len() < plain.len() / 3,
        "{} of {}",
        raw.len(),
        plain.len()
    );

    let brotli = spec(Some("br")).await;
    assert_eq!(header(&brotli, CONTENT_ENCODING), "br");
    let raw = brotli.bytes().await.unwrap();
    let mut body = Vec::new();
    brotli::Decompressor::new(raw.as_ref(), 4096)
        .read_to_end(&mut body)
        .unwrap();
    assert_eq!(body, plain.as_ref(), "the same document");
}
