//! Password recovery over a real SMTP server: forgot -> verify-otp -> answer -> reset.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use harness::*;

pub(crate) const NEW_PASSWORD: &str = "saffron glacier trombone 58";

/// A `forgot` answer with its (random) request id blanked: the rest must be the same
/// whether or not an account matched.
async fn shape(res: reqwest::Response) -> String {
    let mut body: Value = res.json().await.unwrap();
    let id = body["request_id"].as_str().unwrap();
    assert!(
        id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    body["request_id"] = Value::Null;
    body.to_string()
}

async fn assert_invalid(res: reqwest::Response, why: &str) {
    let (status, error) = error_of(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{why}: {error}");
}

db_test!(recovery_end_to_end, |db| async move {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    app.signup_verified(&client, &account("ada")).await;
    let old_session = app.client();
    old_session.login_ok("ada", PASSWORD).await;

    let res = client.forgot("email", "ADA@example.com").await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let mail = app
        .mail
        .wait_for_subject("ada@example.com", subjects::RECOVERY_CODE, 1)
        .await
        .remove(0);
    assert!(mail.subject.contains("User Management"), "{}", mail.subject);
    let code = mail.code();
    assert!(
        mail.text.contains("10 minutes") && mail.html.contains(&code),
        "text and HTML parts"
    );
    assert!(
        !mail.raw.contains("http://") && !mail.raw.contains("https://"),
        "no link to consume"
    );
    assert!(
        !mail.subject.contains(&code),
        "the code is not in the subject"
    );

    let res = client.verify_otp("ada@example.com", &code).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["security_question"], "Name of your first pet?");
    let flow = body["flow_token"].as_str().unwrap().to_owned();

    let res = client.answer(&flow, "  rex   THE dog ").await;
    assert_eq!(res.status(), StatusCode::OK, "answers compare normalised");
    let reset_token = json::<Value>(res).await["reset_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, error) = error_of(client.reset(&reset_token, "password123456").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["fields"]["new_password"].is_string(),
        "the policy applies"
    );
    let res = client.reset(&reset_token, NEW_PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::NO_CONTENT,
        "a weak try does not spend the token"
    );
    assert!(session_set_cookie(&res).is_none(), "no automatic login");

    assert_eq!(
        old_session.me().await.status(),
        StatusCode::UNAUTHORIZED,
        "old sessions end"
    );
    assert_eq!(
        app.client().login("ada", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.client().login_ok("ada", NEW_PASSWORD).await;
    let notice = app
        .mail
        .wait_for_subject("ada@example.com", subjects::PASSWORD_CHANGED, 1)
        .await
        .remove(0);
    assert!(
        notice.subject.contains("password was changed"),
        "{}",
        notice.subject
    );

    assert_invalid(
        client
            .reset(&reset_token, "another fine passphrase 9")
            .await,
        "reset token reused",
    )
    .await;
    assert_invalid(client.answer(&flow, ANSWER).await, "flow token reused").await;
    assert_invalid(
        client.verify_otp("ada@example.com", &code).await,
        "code reused",
    )
    .await;
});

db_test!(
    mobile_identifies_the_account_and_mail_goes_to_its_email,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        let mut req = account("ada");
        req.mobile = "+44 7700 900123".into();
        app.signup_verified(&client, &req).await;
        let res = client.forgot("mobile", "+447700900123").await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let code = app
            .mail
            .wait_for_subject("ada@example.com", subjects::RECOVERY_CODE, 1)
            .await[0]
            .code();
        let res = client
            .post(
                "/api/v1/password/verify-otp",
                &json!({"method": "mobile", "identifier": "+44 7700-900-123", "otp": code}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
);

db_test!(
    unknown_accounts_get_the_same_answer_and_no_mail,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        app.signup_verified(&client, &account("ada")).await;
        let unknown = client.forgot("email", "nobody@example.com").await;
        let unknown_mobile = client.forgot("mobile", "+19995550000").await;
        let known = client.forgot("email", "ada@example.com").await;
        let bodies = [
            (unknown.status(), shape(unknown).await),
            (unknown_mobile.status(), shape(unknown_mobile).await),
            (known.status(), shape(known).await),
        ];
        assert_eq!(bodies[0], bodies[2]);
        assert_eq!(bodies[1], bodies[2]);
        assert_eq!(bodies[2].0, StatusCode::ACCEPTED);
        app.mail
            .wait_for_subject("ada@example.com", subjects::RECOVERY_CODE, 1)
            .await;
        let (status, a) = error_of(client.verify_otp("nobody@example.com", "123456").await).await;
        let (_, b) = error_of(client.verify_otp("ada@example.com", "000000").await).await;
        assert_eq!(
            (status, &a),
            (StatusCode::BAD_REQUEST, &b),
            "unknown and wrong look the same"
        );
        assert_eq!(
            app.mail
                .received_with_subject(subjects::RECOVERY_CODE)
                .len(),
            1,
            "only the real account got mail"
        );

        let (status, error) = error_of(client.forgot("email", "not-an-email").await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(error["fields"]["identifier"].is_string());
    }
);

db_test!(five_wrong_tries_kill_the_code, |db| async move {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    app.signup_verified(&client, &account("ada")).await;
    let code = app.mailed_code(&client, "ada@example.com", 1).await.code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for i in 0..5 {
        assert_invalid(
            client.verify_otp("ada@example.com", wrong).await,
            &format!("wrong try {i}"),
        )
        .await;
    }
    assert_invalid(
        client.verify_otp("ada@example.com", &code).await,
        "6th try, right code",
    )
    .await;
    client.login_ok("ada", PASSWORD).await;

    // A new code has tries of its own, spent only by submissions naming its request.
    let (request_id, fresh) = app.requested_code(&client, "ada@example.com", 2).await;
    assert_eq!(
        client
            .verify_otp_for("ada@example.com", &fresh, &request_id)
            .await
            .status(),
        StatusCode::OK,
        "a new code revives"
    );
});

db_test!(wrong_answers_have_the_flows_own_budget, |db| async move {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    app.signup_verified(&client, &account("ada")).await;
    let code = app.mailed_code(&client, "ada@example.com", 1).await.code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..2 {
        assert_invalid(
            client.verify_otp("ada@example.com", wrong).await,
            "wrong code",
        )
        .await;
    }
    let flow = client.flow_token_ok("ada@example.com", &code).await;
    for _ in 0..5 {
        let (status, error) = error_of(client.answer(&flow, "wrong answer").await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error["fields"]["security_answer"], "is incorrect");
    }
    assert_invalid(
        client.answer(&flow, ANSWER).await,
        "five wrong answers spent the flow's budget",
    )
    .await;
});

db_test!(codes_expire, |db| async move {
    let app = TestApp::builder(db)
        .with(|s| s.recovery.code_ttl = Duration::from_secs(2))
        .spawn()
        .await;
    let client = app.client();
    app.signup_verified(&client, &account("ada")).await;
    let code = app.mailed_code(&client, "ada@example.com", 1).await.code();
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_invalid(
        client.verify_otp("ada@example.com", &code).await,
        "expired code",
    )
    .await;
});

db_test!(flow_and_reset_tokens_expire, |db| async move {
    let app = TestApp::builder(db)
        .with(|s| s.recovery.code_ttl = Duration::from_secs(2))
        .spawn()
        .await;
    let client = app.client();
    app.signup_verified(&client, &account("ada")).await;
    let code = app.mailed_code(&client, "ada@example.com", 1).await.code();
    let flow = client.flow_token_ok("ada@example.com", &code).await;
    let reset_token = client.reset_token_ok(&flow).await;
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_invalid(
        client.reset(&reset_token, NEW_PASSWORD).await,
        "expired reset token",
    )
    .await;
    app.client().login_ok("ada", PASSWORD).await;
});

db_test!(a_new_request_cancels_no_live_code, |db| async move {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    app.signup_verified(&client, &account("ada")).await;
    let (request_id, first) = app.requested_code(&client, "ada@example.com", 1).await;
    // A stranger asks again: the owner's code still works.
    let second = app
        .mailed_code(&app.client(), "ada@example.com", 2)
        .await
        .code();
    assert_eq!(
        client
            .verify_otp_for("ada@example.com", &first, &request_id)
            .await
            .status(),
        StatusCode::OK,
        "the first code was not cancelled"
    );
    // Without a request id, the newest code is the one that counts.
    assert_eq!(
        client.verify_otp("ada@example.com", &second).await.status(),
        StatusCode::OK
    );
    assert_invalid(
        client
            .verify_otp_for("ada@example.com", &first, &request_id)
            .await,
        "a code is used once",
    )
    .await;
});

db_test!(
    concurrent_submissions_respect_budget_and_single_use,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let client = app.client();
        app.signup_verified(&client, &account("ada")).await;
        let code = app.mailed_code(&client, "ada@example.com", 1).await.code();
        let statuses = futures::future::join_all(
            (0..12).map(|_| async { client.verify_otp("ada@example.com", &code).await.status() }),
        )
        .await;
        let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(ok, 1, "one code, one use: {statuses:?}");

        let code = app.mailed_code(&client, "ada@example.com", 2).await.code();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let mixed = futures::future::join_all((0..16).map(|i| {
            let otp = if i % 4 == 3 {
                code.clone()
            } else {
                wrong.to_owned()
            };
            let client = client.clone();
            async move {
                (
                    otp.clone(),
                    client.verify_otp("ada@example.com", &otp).await.status(),
                )
            }
        }))
        .await;
        let ok = mixed.iter().filter(|(_, s)| *s == StatusCode::OK).count();
        assert!(ok <= 1, "{mixed:?}");

        let code = app.mailed_code(&client, "ada@example.com", 3).await.code();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let storm = futures::future::join_all(
            (0..20).map(|_| async { client.verify_otp("ada@example.com", wrong).await.status() }),
        )
        .await;
        assert!(storm.iter().all(|s| *s == StatusCode::BAD_REQUEST));
        assert_invalid(
            client.verify_otp("ada@example.com", &code).await,
            "20 parallel wrong tries spent the budget of 5, not more",
        )
        .await;
    }
);

db_test!(at_most_five_codes_are_mailed_per_hour, |db| async move {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    app.signup_verified(&client, &account("ada")).await;
    let mut last = String::new();
    for n in 1..=5 {
        last = app.mailed_code(&client, "ada@example.com", n).await.code();
    }
    let res = client.forgot("email", "ada@example.com").await;
    assert_eq!(
        res.status(),
        StatusCode::ACCEPTED,
        "the same answer beyond the cap"
    );
    let waited = Instant::now();
    while waited.elapsed() < Duration::from_millis(1500) {
        assert_eq!(
            app.mail
                .received_with_subject(subjects::RECOVERY_CODE)
                .len(),
            5,
            "no sixth mail"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        client.verify_otp("ada@example.com", &last).await.status(),
        StatusCode::OK,
        "a capped request does not replace the mailed code"
    );
    client.login_ok("ada", PASSWORD).await;
});

db_test!(steps_cannot_be_skipped, |db| async move {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    app.signup_verified(&client, &account("ada")).await;
    let code = app.mailed_code(&client, "ada@example.com", 1).await.code();
    let flow = client.flow_token_ok("ada@example.com", &code).await;
    assert_invalid(
        client.reset(&flow, NEW_PASSWORD).await,
        "a flow token is not a reset token",
    )
    .await;
    assert_invalid(
        client.reset("deadbeef", NEW_PASSWORD).await,
        "made-up reset token",
    )
    .await;
    assert_invalid(
        client.answer("deadbeef", ANSWER).await,
        "made-up flow token",
    )
    .await;
    let reset_token = client.reset_token_ok(&flow).await;
    assert_invalid(
        client.answer(&reset_token, ANSWER).await,
        "a reset token is not a flow token",
    )
    .await;
    assert_eq!(
        client.reset(&reset_token, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
});

db_test!(
    an_unreachable_mail_server_changes_nothing_visible,
    |db| async move {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let app = TestApp::builder(db)
            .with(|s| {
                s.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
            })
            .spawn()
            .await;
        let client = app.client();
        client.signup_ok(&account("ada")).await;
        // No code can arrive to verify the address: mark it verified directly, so the
        // recovery below really tries to mail.
        let db = sea_orm::Database::connect(app.database_url())
            .await
            .unwrap();
        sea_orm::ConnectionTrait::execute_unprepared(
            &db,
            "UPDATE users SET email_verified_at = created_at",
        )
        .await
        .unwrap();
        let known = client.forgot("email", "ada@example.com").await;
        let unknown = client.forgot("email", "nobody@example.com").await;
        assert_eq!(known.status(), StatusCode::ACCEPTED);
        let known = shape(known).await;
        assert_eq!(known, shape(unknown).await);
        assert!(
            !known.contains("smtp") && !known.contains("127.0.0.1"),
            "{known}"
        );
    }
);

/// The `.eml` files of the development outbox: (subject, text part, file mode).
fn outbox(dir: &std::path::Path) -> Vec<(String, String, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "eml"))
        .filter_map(|path| {
            let raw = std::fs::read(&path).ok()?;
            let mode = std::fs::metadata(&path).ok()?.permissions().mode() & 0o777;
            let parsed = mailparse::parse_mail(&raw).ok()?;
            let subject = parsed
                .headers
                .iter()
                .find(|h| h.get_key() == "Subject")?
                .get_value();
            let text = parsed
                .subparts
                .iter()
                .find(|p| p.ctype.mimetype == "text/plain")?
                .get_body()
                .ok()?;
            Some((subject, text, mode))
        })
        .collect()
}

/// Waits for an outbox mail whose subject contains `subject`; its code and mode.
async fn outbox_code(dir: &std::path::Path, subject: &str) -> (String, u32) {
    let started = Instant::now();
    loop {
        if let Some((_, text, mode)) = outbox(dir).into_iter().find(|(s, ..)| s.contains(subject)) {
            let code = text
                .split(|c: char| !c.is_ascii_digit())
                .find(|r| r.len() == 6)
                .unwrap()
                .to_owned();
            return (code, mode);
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no {subject:?} mail in {}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

db_test!(
    without_smtp_the_dev_mailer_writes_eml_files,
    |db| async move {
        let app = TestApp::builder(db)
            .with(|s| s.mail.smtp_url = None)
            .spawn()
            .await;
        let client = app.client();
        client.signup_ok(&account("ada")).await;
        client.login_ok("ada", PASSWORD).await;
        let dir = app.data_dir.join("outbox");
        let (code, mode) = outbox_code(&dir, subjects::EMAIL_CODE).await;
        assert_eq!(mode, 0o600, "codes on disk are for the server's user only");
        assert_eq!(client.verify_email(&code).await.status(), StatusCode::OK);
        assert_eq!(
            client.forgot("email", "ada@example.com").await.status(),
            StatusCode::ACCEPTED
        );
        let (code, _) = outbox_code(&dir, subjects::RECOVERY_CODE).await;
        assert_eq!(
            client.verify_otp("ada@example.com", &code).await.status(),
            StatusCode::OK
        );
        assert!(app.mail.received().is_empty(), "nothing went over SMTP");
    }
);
