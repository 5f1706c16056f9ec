//! `GET /api/v1/users/export.csv`: every account the list would show, all pages, in
//! the list's order, as UTF-8 CSV.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use serde_json::{Value, json};

use super::users::seed_accounts;
use harness::*;

/// The export for `query`: its header row and its records.
async fn export(admin: &Client, query: &str) -> (Vec<String>, Vec<csv::StringRecord>) {
    let res = admin.get(&format!("/api/v1/users/export.csv{query}")).await;
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    let headers = res.headers().clone();
    assert_eq!(headers[CONTENT_TYPE], "text/csv; charset=utf-8");
    let disposition = headers[CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment") && disposition.contains("users.csv"));
    let body = res.bytes().await.unwrap();
    let text = std::str::from_utf8(&body).expect("UTF-8");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let records = reader.records().map(Result::unwrap).collect();
    (header, records)
}

/// Column `name` of `record`, by the header.
fn cell<'a>(header: &[String], record: &'a csv::StringRecord, name: &str) -> &'a str {
    let index = header.iter().position(|h| h == name).unwrap();
    &record[index]
}

/// Every username of the list for `query`, following its `next` cursors.
async fn listed(admin: &Client, query: &str) -> Vec<String> {
    let mut page = admin.list_users_ok(&format!("?per_page=100&{query}")).await;
    let mut names: Vec<String> = page.items.iter().map(|u| u.username.clone()).collect();
    while let Some(next) = page.next.clone() {
        page = admin
            .list_users_ok(&format!("?per_page=100&{query}&cursor={next}"))
            .await;
        names.extend(page.items.iter().map(|u| u.username.clone()));
    }
    names
}

db_test!(
    the_export_holds_every_account_of_the_list_in_its_order,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let mut zoe = serde_json::to_value(account("zoe")).unwrap();
        zoe["first_name"] = json!("Zoë");
        zoe["last_name"] = json!("=HYPERLINK(\"http://evil.example\")");
        assert_eq!(admin.create_user(&zoe).await.status(), StatusCode::CREATED);
        // More than one chunk of the export (500 accounts a query).
        seed_accounts(&app, db, 1_203).await;

        let (header, rows) = export(&admin, "?sort=-username").await;
        assert_eq!(
            header[..6],
            [
                "username",
                "email",
                "first_name",
                "last_name",
                "mobile",
                "role"
            ]
        );
        assert_eq!(rows.len(), 1_205, "every account, not a page");
        let exported: Vec<String> = rows
            .iter()
            .map(|r| cell(&header, r, "username").to_owned())
            .collect();
        assert_eq!(
            exported,
            listed(&admin, "sort=-username").await,
            "the list's order"
        );

        let zoe = rows
            .iter()
            .find(|r| cell(&header, r, "username") == "zoe")
            .unwrap();
        assert_eq!(cell(&header, zoe, "first_name"), "Zoë");
        // A spreadsheet would run that as a formula: it stays text.
        assert_eq!(
            cell(&header, zoe, "last_name"),
            "'=HYPERLINK(\"http://evil.example\")"
        );
        assert_eq!(cell(&header, zoe, "email"), "zoe@example.com");
        assert_eq!(cell(&header, zoe, "role"), "user");
        assert_eq!(cell(&header, zoe, "last_login_at"), "");
        assert!(cell(&header, zoe, "created_at").ends_with('Z'));

        // The same search and filter as the list.
        let (_, found) = export(&admin, "?q=bulk12&sort=username").await;
        let found: Vec<String> = found.iter().map(|r| r[0].to_owned()).collect();
        assert_eq!(found, listed(&admin, "q=bulk12&sort=username").await);
        assert_eq!(found.len(), 15, "bulk12, bulk120..129, bulk1200..1203");
        let (_, admins) = export(&admin, "?role=admin").await;
        assert_eq!(admins.len(), 1);

        // Who exported what is in the trail.
        let trail: Value = json(admin.get("/api/v1/audit?action=users_exported").await).await;
        let events = trail["items"].as_array().unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(events[1]["detail"]["q"], "bulk12");
    }
);

db_test!(
    only_admins_export_and_bad_filters_are_refused,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let (member, _) = app.member(&admin, "ada", "user").await;
        let res = member.get("/api/v1/users/export.csv").await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            app.client().get("/api/v1/users/export.csv").await.status(),
            StatusCode::UNAUTHORIZED
        );
        let res = admin.get("/api/v1/users/export.csv?sort=password").await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let body: Value = json(res).await;
        assert!(body["error"]["fields"]["sort"].is_string());
        let res = admin.get("/api/v1/users/export.csv?role=wizard").await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
);
