//! `POST /api/v1/users/import`: a CSV file upserted by username, a report line per
//! row, a dry run that writes nothing, 10,000 rows at once.

use reqwest::StatusCode;
use shared::{ImportOutcome, ImportReport};

use harness::*;

const HEADER: &str = "username,email,first_name,last_name,mobile,role,password_hash\n";

async fn import(admin: &Client, csv: String, dry_run: bool) -> reqwest::Response {
    admin
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/users/import?dry_run={dry_run}"),
        )
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap()
}

async fn report(admin: &Client, csv: String, dry_run: bool) -> ImportReport {
    let res = import(admin, csv, dry_run).await;
    assert_eq!(res.status(), StatusCode::OK);
    json(res).await
}

db_test!(
    ten_thousand_rows_dry_run_then_import_with_a_report,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        // One bcrypt hash for every row, as a legacy system would export them.
        // Mobiles are +1444...: `account()` draws the admin's from +1555..., and a
        // shared number would skip a row.
        let hash = bcrypt::hash("imported passphrase 42", 4).unwrap();
        let mut csv = HEADER.to_owned();
        for n in 0..10_000 {
            csv.push_str(&format!(
                "person{n},person{n}@example.com,Person,Number{n},+1444{n:07},user,{hash}\n"
            ));
        }
        let dry = report(&admin, csv.clone(), true).await;
        assert!(dry.dry_run);
        assert_eq!((dry.created, dry.updated, dry.skipped), (10_000, 0, 0));
        assert_eq!(
            admin.list_users_ok("").await.total,
            1,
            "a dry run writes nothing"
        );

        let started = std::time::Instant::now();
        let done = report(&admin, csv.clone(), false).await;
        println!("imported 10,000 rows in {:?}", started.elapsed());
        assert_eq!((done.created, done.skipped), (10_000, 0));
        assert_eq!(done.rows.len(), 10_000);
        assert_eq!(done.rows[9_999].line, 10_001);
        assert_eq!(admin.list_users_ok("?q=person9999").await.items.len(), 1);
        // The kept hash is the password.
        app.client()
            .login_ok("person42", "imported passphrase 42")
            .await;

        // Again, with two rows changed: upsert by username, the rest unchanged.
        let changed = csv
            .replace(
                "person7,person7@example.com,Person,Number7,",
                "person7,person7@example.com,Septima,Number7,",
            )
            .replace(
                "person8,person8@example.com,Person,Number8,+14440000008,user",
                "person8,person8@example.com,Person,Number8,+14440000008,admin",
            );
        let again = report(&admin, changed, false).await;
        // person42's bcrypt hash was upgraded to argon2id at login: the file's hash
        // is put back (the same password), so that row counts as updated too.
        assert_eq!((again.created, again.updated, again.skipped), (0, 3, 9_997));
        let updated: Vec<&str> = again
            .rows
            .iter()
            .filter(|r| r.outcome == ImportOutcome::Updated)
            .map(|r| r.username.as_str())
            .collect();
        assert_eq!(updated, ["person7", "person8", "person42"]);
        assert_eq!(again.rows[6].reason.as_deref(), Some("unchanged"));
        let seventh = admin.list_users_ok("?q=person7@example.com").await.items;
        assert_eq!(seventh[0].first_name, "Septima");
        // A download of the report, as the app offers it.
        assert!(
            again
                .to_csv()
                .starts_with("line,username,outcome,reason\n2,person0,skipped,unchanged\n")
        );
    }
);

db_test!(
    bad_rows_are_skipped_with_the_reason_and_the_rest_imported,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, me) = app.admin().await;
        let (_, ann) = app.member(&admin, "ann", "user").await;
        let csv = format!(
            "{HEADER}\
             neo,neo@example.com,Neo,Anderson,+14440100001,user,\n\
             bad,not-an-email,Bad,Row,+14440100002,user,\n\
             dup,{ann_email},Dup,Row,+14440100003,user,\n\
             neo,neo2@example.com,Neo,Again,+14440100004,user,\n\
             hash,hash@example.com,Hash,Row,+14440100005,user,plaintext\n\
             admin,{me_email},New,Name,{me_mobile},user,\n\
             role,role@example.com,Role,Row,+14440100006,owner,\n",
            ann_email = ann.email.clone().unwrap(),
            me_email = me.email.clone().unwrap(),
            me_mobile = me.mobile.clone().unwrap(),
        );
        let done = report(&admin, csv, false).await;
        let outcome: Vec<(u64, ImportOutcome, String)> = done
            .rows
            .iter()
            .map(|r| (r.line, r.outcome, r.reason.clone().unwrap_or_default()))
            .collect();
        assert_eq!(outcome[0], (2, ImportOutcome::Created, String::new()));
        assert!(outcome[1].2.starts_with("email"), "{outcome:?}");
        assert_eq!(outcome[2].2, "email is another account's");
        assert_eq!(outcome[3].2, "username repeats line 2");
        assert!(outcome[4].2.starts_with("password_hash"), "{outcome:?}");
        assert!(
            outcome[5].2.starts_with("would demote an admin"),
            "{outcome:?}"
        );
        assert!(outcome[6].2.starts_with("role"), "{outcome:?}");
        assert_eq!((done.created, done.skipped), (1, 6));
        // Without a hash: no password to log in with, and the verification mail.
        let neo = admin.list_users_ok("?q=neo").await.items;
        assert_eq!(neo.len(), 1);
        app.mail
            .wait_for_subject("neo@example.com", subjects::EMAIL_CODE, 1)
            .await;
        let res = app.client().login("neo", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let trail: serde_json::Value =
            json(admin.get("/api/v1/audit?action=users_imported").await).await;
        assert_eq!(trail["items"][0]["detail"]["created"], 1);
    }
);

db_test!(
    a_file_that_is_not_an_import_is_refused_whole,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let (member, _) = app.member(&admin, "ann", "user").await;
        for csv in [
            "user,mail\nx,y\n",
            "username,email,first_name,last_name,mobile\n",
        ] {
            let (status, error) = error_of(import(&admin, csv.to_owned(), false).await).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{csv}");
            assert!(
                error["message"].as_str().unwrap().contains("column")
                    || error["message"].as_str().unwrap().contains("header"),
                "{error}"
            );
        }
        let res = admin
            .request(reqwest::Method::POST, "/api/v1/users/import")
            .header("Content-Type", "text/plain")
            .body(HEADER)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let res = import(&member, HEADER.to_owned(), false).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(admin.list_users_ok("").await.total, 2);
    }
);
