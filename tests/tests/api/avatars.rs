//! `/api/v1/users/{id}/avatar`: profile pictures uploaded as real JPEG, PNG and GIF
//! files, served back re-encoded at two sizes, refused with a clear status when the
//! file is not a usable picture.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use shared::User;

use harness::*;

/// A photo-like picture (a gradient) of `width` x `height` in `format`.
pub(crate) fn picture(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
    });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(image)
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

/// What a phone leaves in a photo: an EXIF block with the place it was taken.
const GPS: &[u8] = b"GPS 51.5007N 0.1246W";

/// A JPEG with an EXIF segment (APP1) right after its start marker.
fn jpeg_with_exif(width: u32, height: u32) -> Vec<u8> {
    let jpeg = picture(width, height, ImageFormat::Jpeg);
    // "Exif", a big-endian TIFF header, an empty first directory, then the payload.
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(GPS);
    let length = u16::try_from(exif.len() + 2).unwrap();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

async fn upload(client: &Client, id: i32, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    client
        .request(Method::PUT, &format!("/api/v1/users/{id}/avatar"))
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn upload_ok(client: &Client, id: i32, body: Vec<u8>) -> User {
    let res = upload(client, id, "image/jpeg", body).await;
    assert_eq!(res.status(), StatusCode::OK);
    json(res).await
}

/// The picture at `url` (an `avatar_url`, maybe with `&size=`), decoded.
async fn fetch(client: &Client, url: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let res = client.get(url).await;
    assert_eq!(res.status(), StatusCode::OK, "{url}");
    let headers = res.headers().clone();
    (headers, res.bytes().await.unwrap().to_vec())
}

fn decode(bytes: &[u8]) -> DynamicImage {
    let reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .unwrap();
    assert_eq!(reader.format(), Some(ImageFormat::WebP));
    reader.decode().unwrap()
}

fn header(headers: &reqwest::header::HeaderMap, name: reqwest::header::HeaderName) -> &str {
    headers.get(name).map_or("", |v| v.to_str().unwrap())
}

async fn actions(admin: &Client, action: &str) -> Vec<Value> {
    let page: Value = json(admin.get(&format!("/api/v1/audit?action={action}")).await).await;
    page["items"].as_array().unwrap().clone()
}

db_test!(
    a_picture_is_kept_square_at_two_sizes_without_its_metadata,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let (ada, ada_user) = app.member(&admin, "ada", "user").await;
        assert_eq!(ada_user.avatar_url, None);

        let user = upload_ok(&ada, ada_user.id, jpeg_with_exif(800, 600)).await;
        let url = user.avatar_url.clone().expect("an avatar_url");
        assert!(
            url.starts_with(&format!("/api/v1/users/{}/avatar?v=", ada_user.id)),
            "{url}"
        );

        let (headers, large) = fetch(&ada, &url).await;
        assert_eq!(header(&headers, CONTENT_TYPE), "image/webp");
        assert!(header(&headers, CACHE_CONTROL).contains("immutable"));
        let etag = header(&headers, ETAG).to_owned();
        assert!(!etag.is_empty());
        let decoded = decode(&large);
        assert_eq!((decoded.width(), decoded.height()), (256, 256));
        // Nothing of the file but its pixels: no EXIF block, no GPS.
        assert!(!large.windows(GPS.len()).any(|w| w == GPS));
        assert!(!large.windows(4).any(|w| w == b"EXIF" || w == b"Exif"));
        let (_, small) = fetch(&ada, &format!("{url}&size=64")).await;
        let decoded = decode(&small);
        assert_eq!((decoded.width(), decoded.height()), (64, 64));

        // A browser revalidating gets a 304, with no body.
        let res = ada
            .request(Method::GET, &url)
            .header(IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        // Without the version, the answer must be revalidated.
        let (headers, _) = fetch(&ada, &format!("/api/v1/users/{}/avatar", ada_user.id)).await;
        assert!(header(&headers, CACHE_CONTROL).contains("no-cache"));

        // Every account that may see Ada sees the picture, in the list too.
        let (bob, _) = app.member(&admin, "bob", "user").await;
        let page = bob.list_users_ok("?q=ada").await;
        assert_eq!(page.items[0].avatar_url.as_deref(), Some(url.as_str()));
        fetch(&bob, &url).await;

        // A new picture gets a new URL; the old one is no longer for good.
        let replaced = upload_ok(&ada, ada_user.id, picture(300, 300, ImageFormat::Png)).await;
        let new_url = replaced.avatar_url.clone().unwrap();
        assert_ne!(new_url, url);
        let (headers, _) = fetch(&ada, &url).await;
        assert!(header(&headers, CACHE_CONTROL).contains("no-cache"));

        let res = ada
            .delete(&format!("/api/v1/users/{}/avatar", ada_user.id))
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(admin.user_ok(ada_user.id).await.avatar_url, None);
        assert_eq!(ada.get(&new_url).await.status(), StatusCode::NOT_FOUND);

        let changed = actions(&admin, "avatar_changed").await;
        assert_eq!(changed.len(), 2);
        assert_eq!(changed[0]["detail"]["format"], "png");
        assert_eq!(changed[1]["detail"]["format"], "jpeg");
        assert_eq!(changed[1]["detail"]["width"], 800);
        assert_eq!(actions(&admin, "avatar_removed").await.len(), 1);
    }
);

db_test!(bad_files_are_refused_and_change_nothing, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.admin().await;
    let (ada, ada_user) = app.member(&admin, "ada", "user").await;
    let id = ada_user.id;
    let kept = upload_ok(&ada, id, picture(120, 90, ImageFormat::Png)).await;
    let url = kept.avatar_url.clone().unwrap();
    let (_, before) = fetch(&ada, &url).await;

    let png = picture(64, 64, ImageFormat::Png);
    let mut bomb = png.clone();
    // The header claims a 60000 x 60000 canvas (the CRC fixed so it parses).
    bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    let over_5_mb = {
        let mut big = png.clone();
        big.resize(5 * 1024 * 1024 + 1, 0);
        big
    };
    for (what, content_type, body, status) in [
        (
            "text",
            "image/png",
            b"just some text".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "a BMP",
            "image/bmp",
            b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "nothing",
            "image/png",
            Vec::new(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "half a PNG",
            "image/png",
            png[..png.len() / 2].to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a decompression bomb",
            "image/png",
            bomb,
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "over 5 MB",
            "image/png",
            over_5_mb,
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ] {
        let res = upload(&ada, id, content_type, body).await;
        assert_eq!(res.status(), status, "{what}");
        let body: Value = json(res).await;
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.ends_with('.') && message.len() > 20,
            "{what}: {message}"
        );
        assert_eq!(
            admin.user_ok(id).await.avatar_url.as_deref(),
            Some(url.as_str()),
            "{what}"
        );
    }
    let (_, after) = fetch(&ada, &url).await;
    assert_eq!(before, after, "the kept picture is untouched");

    // The declared type is not trusted either way: a GIF sent as PNG is a GIF.
    let res = upload(&ada, id, "image/png", picture(40, 40, ImageFormat::Gif)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let events = actions(&admin, "avatar_changed").await;
    assert_eq!(events[0]["detail"]["format"], "gif");
    assert_eq!(events.len(), 2, "only the two pictures that were kept");
});

db_test!(
    only_the_account_and_admins_change_its_picture,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let (ada, ada_user) = app.member(&admin, "ada", "user").await;
        let (bob, _) = app.member(&admin, "bob", "user").await;
        let id = ada_user.id;
        let path = format!("/api/v1/users/{id}/avatar");
        let png = || picture(80, 80, ImageFormat::Png);

        assert_eq!(
            upload(&bob, id, "image/png", png()).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(admin.user_ok(id).await.avatar_url, None);
        let url = upload_ok(&admin, id, png()).await.avatar_url.unwrap();
        assert_eq!(bob.delete(&path).await.status(), StatusCode::FORBIDDEN);
        assert!(admin.user_ok(id).await.avatar_url.is_some());
        // Strangers see nothing, and only the two sizes exist.
        assert_eq!(
            app.client().get(&url).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            ada.get(&format!("{url}&size=100")).await.status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            ada.get("/api/v1/users/999999/avatar").await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            upload(&admin, 999_999, "image/png", png()).await.status(),
            StatusCode::NOT_FOUND
        );
        // A form on another site could post multipart data with Ada's cookie: refused.
        let res = upload(&ada, id, "multipart/form-data; boundary=x", png()).await;
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

        // Admins may remove anyone's; removing none is no error.
        assert_eq!(admin.delete(&path).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(admin.delete(&path).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(actions(&admin, "avatar_removed").await.len(), 1);
        // The picture goes with its account.
        upload_ok(&ada, id, png()).await;
        assert_eq!(admin.delete_user(id).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(admin.get(&path).await.status(), StatusCode::NOT_FOUND);
    }
);
