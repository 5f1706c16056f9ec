//! Profile pictures in the app: a user picks a file (a real one, through the file
//! chooser's DevTools hook), sees a preview, uploads it and finds it in the header
//! and the list; a file over the limit is refused before it is sent; an admin removes
//! another account's picture and its initials come back.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::dom::SetFileInputFilesParams;
use harness::PASSWORD;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

use super::{
    Chromium, TempDir, WAIT, click, find, go_to, log_in, screenshot, spawn_app, testid, wait_gone,
    wait_path, wait_text,
};

/// A colourful square picture, written to `dir` as `name`.
fn picture_file(dir: &Path, name: &str, hue: u8) -> PathBuf {
    let image = RgbImage::from_fn(400, 300, |x, y| {
        Rgb([hue, (x * 255 / 400) as u8, (y * 255 / 300) as u8])
    });
    let mut png = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(image)
        .write_to(&mut png, ImageFormat::Png)
        .unwrap();
    let path = dir.join(name);
    std::fs::write(&path, png.into_inner()).unwrap();
    path
}

/// Puts `file` into the file input `selector`, as choosing it in the dialog would.
pub(super) async fn choose_file(page: &Page, selector: &str, file: &Path) {
    let input = find(page, selector).await;
    let params = SetFileInputFilesParams::builder()
        .file(file.display().to_string())
        .backend_node_id(input.backend_node_id)
        .build()
        .unwrap();
    page.execute(params).await.expect("the file is chosen");
}

/// Waits until the image `selector` has loaded, and returns its natural width.
async fn loaded_width(page: &Page, selector: &str) -> u64 {
    let started = Instant::now();
    let script = format!(
        "(() => {{ const img = document.querySelector({}); \
         return img && img.complete ? img.naturalWidth : 0; }})()",
        serde_json::to_string(selector).unwrap()
    );
    loop {
        let width: u64 = page
            .evaluate(script.as_str())
            .await
            .ok()
            .and_then(|r| r.into_value().ok())
            .unwrap_or(0);
        if width > 0 {
            return width;
        }
        assert!(started.elapsed() < WAIT, "{selector} never loaded");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picture_is_chosen_previewed_uploaded_and_seen_in_the_list() {
    let app = spawn_app(|_| {}).await;
    let (admin, _) = app.admin().await;
    let (bob_client, bob) = app.member(&admin, "bob", "user").await;
    app.member(&admin, "carol", "user").await;
    let files = TempDir(std::env::temp_dir().join(format!("um-pictures-{}", harness::unique())));
    std::fs::create_dir_all(&files.0).unwrap();
    // Bob already has a picture (set through the API).
    let res = bob_client
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/users/{}/avatar", bob.id),
        )
        .header(CONTENT_TYPE, "image/png")
        .body(std::fs::read(picture_file(&files.0, "bob.png", 40)).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let mut chromium = Chromium::launch().await;
    let page = chromium.open(&format!("{}/login", app.address)).await;
    log_in(&page, "admin", PASSWORD).await;
    wait_path(&page, "/").await;
    // No picture yet: the header shows the initials.
    find(
        &page,
        &format!("{} {}", testid("nav-profile"), testid("avatar-initials")),
    )
    .await;
    click(&page, "nav-profile").await;
    wait_path(&page, "/profile").await;

    // Over 5 MB: refused on the spot, nothing sent.
    let huge = files.0.join("huge.png");
    std::fs::write(&huge, vec![0u8; 5 * 1024 * 1024 + 10]).unwrap();
    choose_file(&page, &testid("picture-input"), &huge).await;
    wait_text(&page, &testid("picture-error"), "up to 5 MB").await;
    assert!(page.find_element(testid("picture-upload")).await.is_err());

    // A real picture: previewed, then uploaded.
    let mine = picture_file(&files.0, "me.png", 220);
    choose_file(&page, &testid("picture-input"), &mine).await;
    assert!(loaded_width(&page, &testid("picture-preview")).await > 0);
    wait_gone(&page, &testid("picture-error")).await;
    click(&page, "picture-upload").await;
    wait_text(&page, &testid("toast-success"), "The picture was saved.").await;
    let header_picture = format!("{} {}", testid("nav-profile"), testid("avatar"));
    assert_eq!(loaded_width(&page, &header_picture).await, 64);
    let big = format!("{} {}", testid("picture-editor"), testid("avatar"));
    assert_eq!(loaded_width(&page, &big).await, 256);

    // The list shows every picture, the small size, and initials for the rest.
    go_to(&page, &format!("{}/?sort=username", app.address)).await;
    wait_text(&page, &testid("summary"), "of 3").await;
    for name in ["admin", "bob"] {
        let selector = format!(
            "{} {}",
            testid(&format!("user-row-{name}")),
            testid("avatar")
        );
        assert_eq!(loaded_width(&page, &selector).await, 64, "{name}");
    }
    let carol = format!("{} {}", testid("user-row-carol"), testid("avatar-initials"));
    wait_text(&page, &carol, "FT").await;
    screenshot(&page, "dashboard-pictures").await;

    // An admin removes Bob's picture from his account page.
    go_to(&page, &format!("{}/users/{}/edit", app.address, bob.id)).await;
    click(&page, "picture-remove").await;
    wait_text(&page, &testid("toast-success"), "The picture was removed.").await;
    find(
        &page,
        &format!("{} {}", testid("picture-editor"), testid("avatar-initials")),
    )
    .await;
    assert_eq!(admin.user_ok(bob.id).await.avatar_url, None);
    chromium.assert_quiet(&[]).await;
}
