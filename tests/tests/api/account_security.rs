//! Account security: re-authentication for one's own contact and recovery fields,
//! verified email, sign-up control and the first admin, the private directory, the
//! public URL's host and origin, and recovery ending with the password.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{DirectoryVisibility, SignupMode, User, UserPage};

use harness::*;

const WRONG: &str = "not the password at all";

db_test!(
    changing_your_own_contact_or_recovery_fields_needs_your_password,
    |db| async move {
        let app = TestApp::builder(db)
            .with(|s| s.lockout.threshold = 3)
            .spawn()
            .await;
        let (admin, admin_user) = app.admin().await;
        let (bob, bob_user) = app.member(&admin, "bob", "user").await;
        for change in [
            json!({"email": "bobby@example.org"}),
            json!({"mobile": "+15550009999"}),
            json!({"username": "bobby"}),
            json!({"security_question": "Street?", "security_answer": "elm"}),
            json!({"security_answer": "elm"}),
        ] {
            let (status, error) = error_of(bob.update_me(&change).await).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{change}");
            assert!(error["fields"]["current_password"].is_string(), "{change}");
        }
        // Names need no password; sending today's values is no change.
        let same =
            json!({"first_name": "Robert", "email": bob_user.email, "mobile": bob_user.mobile});
        assert_eq!(bob.update_me(&same).await.status(), StatusCode::OK);
        let (status, error) = error_of(
            bob.update_user(bob_user.id, &json!({"username": "bobby"}))
                .await,
        )
        .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "the same rule on /users/{{id}}"
        );
        assert!(error["fields"]["current_password"].is_string());

        // A wrong one is refused and counts like a failed login.
        for _ in 0..3 {
            let change = json!({"username": "bobby", "current_password": WRONG});
            let (status, error) = error_of(bob.update_me(&change).await).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(error["fields"]["current_password"], "is incorrect");
        }
        assert_eq!(
            bob.login("bob", PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED,
            "three wrong re-authentications locked the session's device"
        );
        admin.account_action(bob_user.id, "unlock").await;
        let change = json!({"username": "bobby", "current_password": PASSWORD});
        let me: User = json(bob.update_me(&change).await).await;
        assert_eq!(me.username, "bobby");

        // An admin's own password needs the current one; another account's does not.
        let new = json!({"password": "copper kettle morning 77"});
        let (status, error) = error_of(admin.update_user(admin_user.id, &new).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(error["fields"]["current_password"].is_string());
        assert_eq!(
            admin.update_user(bob_user.id, &new).await.status(),
            StatusCode::OK
        );
        let mut with_password = new.clone();
        with_password["current_password"] = json!(PASSWORD);
        assert_eq!(
            admin
                .update_user(admin_user.id, &with_password)
                .await
                .status(),
            StatusCode::OK
        );
    }
);

db_test!(new_addresses_wait_for_their_code, |db| async move {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    let ada = client.signup_ok(&account("ada")).await;
    assert_eq!(
        ada.email_verified,
        Some(false),
        "a new account starts unverified"
    );
    client.login_ok("ada", PASSWORD).await;

    // Until verified, only the code goes there: no recovery code, no notice.
    assert_eq!(
        client.forgot("email", "ada@example.com").await.status(),
        StatusCode::ACCEPTED
    );
    let first = app.email_code("ada@example.com").await;
    let (status, error) = error_of(client.verify_email("000000").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["fields"]["code"].is_string());
    let me: User = json(client.verify_email(&first).await).await;
    assert_eq!(me.email_verified, Some(true));
    assert_eq!(
        error_of(client.verify_email(&first).await).await.0,
        StatusCode::BAD_REQUEST,
        "single use"
    );
    assert_eq!(
        error_of(client.resend_email_code().await).await.0,
        StatusCode::CONFLICT,
        "nothing left to verify"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        app.mail
            .received_with_subject(subjects::RECOVERY_CODE)
            .is_empty(),
        "no recovery code went to the unverified address"
    );

    // A new address: pending, the old one told at once, the new one gets a code.
    let change = json!({"email": "ada@newmail.example", "current_password": PASSWORD});
    let me: User = json(client.update_me(&change).await).await;
    assert_eq!(me.email.as_deref(), Some("ada@example.com"));
    assert_eq!(me.pending_email.as_deref(), Some("ada@newmail.example"));
    let notice = app
        .mail
        .wait_for_subject("ada@example.com", subjects::EMAIL_CHANGE_REQUESTED, 1)
        .await
        .remove(0);
    assert!(
        notice.text.contains("ada@newmail.example") && notice.text.contains("127.0.0.1"),
        "what, and from where: {}",
        notice.text
    );
    // Recovery still goes to the proved address meanwhile.
    app.mailed_code(&app.client(), "ada@example.com", 1).await;
    let resent = client.resend_email_code().await;
    assert_eq!(resent.status(), StatusCode::ACCEPTED);
    let mails = app
        .mail
        .wait_for_subject("ada@newmail.example", subjects::EMAIL_CODE, 2)
        .await;
    let (stale, fresh) = (mails[0].code(), mails[1].code());
    assert_eq!(
        error_of(client.verify_email(&stale).await).await.0,
        StatusCode::BAD_REQUEST,
        "a new code replaces the old one"
    );
    let me: User = json(client.verify_email(&fresh).await).await;
    assert_eq!(me.email.as_deref(), Some("ada@newmail.example"));
    assert_eq!((me.pending_email, me.email_verified), (None, Some(true)));
    app.client().login_ok("ada@newmail.example", PASSWORD).await;
});

db_test!(five_wrong_email_codes_kill_the_code, |db| async move {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    client.signup_ok(&account("ada")).await;
    client.login_ok("ada", PASSWORD).await;
    let code = app.email_code("ada@example.com").await;
    let wrong = if code == "111111" { "222222" } else { "111111" };
    for _ in 0..5 {
        assert_eq!(
            client.verify_email(wrong).await.status(),
            StatusCode::BAD_REQUEST
        );
    }
    assert_eq!(
        client.verify_email(&code).await.status(),
        StatusCode::BAD_REQUEST,
        "the budget is spent"
    );
});

db_test!(
    admin_created_accounts_get_a_code_and_imports_count_as_verified,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let res = admin.create_user(&account("carol")).await;
        let carol: User = json(res).await;
        assert_eq!(carol.email_verified, Some(false));
        app.email_code("carol@example.com").await;
        let listed = admin.user_ok(carol.id).await;
        assert_eq!(listed.email_verified, Some(false), "admins see the state");
    }
);

db_test!(signup_follows_the_signup_mode, |db| async move {
    let app = TestApp::builder(db)
        .with(|s| s.accounts.signup = SignupMode::Closed)
        .spawn()
        .await;
    let (admin, _) = app.admin().await;
    let (status, error) = error_of(app.client().signup(&account("eve")).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "closed");
    assert!(error["message"].as_str().unwrap().contains("closed"));
    let options: Value = json(app.client().get("/api/v1/auth/signup-options").await).await;
    assert_eq!(options["mode"], "closed");
    // Admins still create accounts.
    assert_eq!(
        admin.create_user(&account("carol")).await.status(),
        StatusCode::CREATED
    );
});

db_test!(
    by_invitation_only_the_invited_address_signs_up,
    |db| async move {
        let app = TestApp::builder(db)
            .with(|s| s.accounts.signup = SignupMode::Invite)
            .spawn()
            .await;
        // The first account is the operator's, whatever the mode.
        let (admin, _) = app.admin().await;
        let client = app.client();
        let (status, error) = error_of(client.signup(&account("grace")).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(error["message"].as_str().unwrap().contains("invitation"));

        let res = admin
            .post(
                "/api/v1/invitations",
                &json!({"email": "Grace@Example.com"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let invited: Value = json(res).await;
        assert_eq!(invited["email"], "grace@example.com");
        let mail = app
            .mail
            .wait_for_subject("grace@example.com", subjects::INVITATION, 1)
            .await
            .remove(0);
        let code = mail.code();

        let mut wrong_address = account("mallory");
        wrong_address.invitation_code = Some(code.clone());
        assert_eq!(
            error_of(client.signup(&wrong_address).await).await.0,
            StatusCode::FORBIDDEN,
            "the code belongs to the invited address"
        );
        let mut grace = account("grace");
        grace.invitation_code = Some(code.clone());
        let created = client.signup_ok(&grace).await;
        assert_eq!(
            created.email_verified,
            Some(true),
            "the invitation proved the address"
        );
        let live: Vec<Value> = json(admin.get("/api/v1/invitations").await).await;
        assert!(live.is_empty(), "the invitation is used up: {live:?}");
        let mut again = account("grace2");
        again.email = "grace@example.com".into();
        again.invitation_code = Some(code);
        assert_eq!(
            error_of(client.signup(&again).await).await.0,
            StatusCode::FORBIDDEN
        );

        // A withdrawn invitation's code stops working.
        let res = admin
            .post(
                "/api/v1/invitations",
                &json!({"email": "heidi@example.com"}),
            )
            .await;
        let heidi_invite: Value = json(res).await;
        let code = app
            .mail
            .wait_for_subject("heidi@example.com", subjects::INVITATION, 1)
            .await
            .remove(0)
            .code();
        let path = format!("/api/v1/invitations/{}", heidi_invite["id"]);
        assert_eq!(admin.delete(&path).await.status(), StatusCode::NO_CONTENT);
        let mut heidi = account("heidi");
        heidi.invitation_code = Some(code);
        assert_eq!(
            error_of(client.signup(&heidi).await).await.0,
            StatusCode::FORBIDDEN
        );
        let (bob, _) = app.member(&admin, "bob", "user").await;
        assert_eq!(
            error_of(bob.get("/api/v1/invitations").await).await.0,
            StatusCode::FORBIDDEN
        );
    }
);

db_test!(an_email_domain_list_limits_signup, |db| async move {
    let app = TestApp::builder(db)
        .with(|s| s.accounts.email_domains = vec!["example.com".into()])
        .spawn()
        .await;
    let client = app.client();
    client.signup_ok(&account("ada")).await;
    let mut outsider = account("eve");
    outsider.email = "eve@elsewhere.example".into();
    let (status, error) = error_of(client.signup(&outsider).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(error["message"].as_str().unwrap().contains("example.com"));
});

db_test!(
    a_public_instance_cannot_be_claimed_without_the_setup_token,
    |db| async move {
        let app = TestApp::builder(db)
            .with(|s| s.http.bind_addr = "0.0.0.0:0".parse().unwrap())
            .spawn()
            .await;
        let path = app.data_dir.join("setup_token");
        let token = std::fs::read_to_string(&path).expect("the setup token file");
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let client = app.client();
        let options: Value = json(client.get("/api/v1/auth/signup-options").await).await;
        assert_eq!(options["setup_token_required"], true);
        let (status, error) = error_of(client.signup(&account("stranger")).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(error["message"].as_str().unwrap().contains("setup token"));
        let mut bad = account("stranger");
        bad.setup_token = Some("0123456789abcdef".into());
        assert_eq!(
            error_of(client.signup(&bad).await).await.0,
            StatusCode::FORBIDDEN
        );
        let mut operator = account("operator");
        operator.setup_token = Some(token.clone());
        let admin = client.signup_ok(&operator).await;
        assert_eq!(admin.role, shared::Role::Admin);
        let later = client.signup_ok(&account("later")).await;
        assert_eq!(later.role, shared::Role::User, "the token is spent");
        let options: Value = json(client.get("/api/v1/auth/signup-options").await).await;
        assert_eq!(options["setup_token_required"], false);
    }
);

async fn list(client: &Client, query: &str) -> UserPage {
    client.list_users_ok(query).await
}

db_test!(users_see_names_only_of_other_accounts, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.admin().await;
    let (bob, bob_user) = app.member(&admin, "bob", "user").await;
    let (_, carol) = app.member(&admin, "carol", "user").await;
    app.client().login_ok("carol", PASSWORD).await;

    let page = list(&bob, "?per_page=100").await;
    let seen = page.items.iter().find(|u| u.id == carol.id).unwrap();
    assert_eq!(seen.username, "carol");
    assert_eq!(seen.first_name, carol.first_name);
    assert!(
        seen.email.is_none() && seen.mobile.is_none() && seen.last_login_at.is_none(),
        "no contact data or last login: {seen:?}"
    );
    assert!(seen.email_verified.is_none() && seen.pending_email.is_none());
    let me = page.items.iter().find(|u| u.id == bob_user.id).unwrap();
    assert_eq!(me.email, bob_user.email, "your own account is whole");
    let raw: Value = json(bob.get(&format!("/api/v1/users/{}", carol.id)).await).await;
    for hidden in ["email", "mobile", "email_verified", "pending_email"] {
        assert!(raw.get(hidden).is_none(), "{hidden} in {raw}");
    }

    // Search and sort cannot find out what the list does not show.
    assert!(list(&bob, "?q=carol@example").await.items.is_empty());
    assert!(
        list(
            &bob,
            &format!("?q={}", &carol.mobile.as_deref().unwrap()[1..6])
        )
        .await
        .items
        .is_empty()
    );
    assert_eq!(
        list(&bob, "?q=carol").await.items.len(),
        1,
        "names still match"
    );
    let (status, error) = error_of(bob.get("/api/v1/users?sort=email").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["fields"]["sort"].is_string());
    assert_eq!(
        error_of(bob.get("/api/v1/users?sort=-last_login_at").await)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );

    // Admins see everything.
    let admin_view = list(&admin, "?q=carol@example").await;
    assert_eq!(admin_view.items.len(), 1);
    assert_eq!(admin_view.items[0].email, carol.email);
    assert!(admin_view.items[0].last_login_at.is_some());
});

db_test!(
    the_directory_setting_decides_what_users_see,
    |db| async move {
        let hidden = TestApp::builder(db)
            .with(|s| s.accounts.directory = DirectoryVisibility::None)
            .spawn()
            .await;
        let (admin, admin_user) = hidden.admin().await;
        let (bob, bob_user) = hidden.member(&admin, "bob", "user").await;
        let page = list(&bob, "").await;
        assert_eq!(page.total, 1);
        assert_eq!(page.items[0].id, bob_user.id);
        assert_eq!(
            error_of(bob.get_user(admin_user.id).await).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(list(&admin, "").await.total, 2, "admins see everyone");

        let open = TestApp::builder(db)
            .with(|s| s.accounts.directory = DirectoryVisibility::Full)
            .spawn()
            .await;
        let (admin, admin_user) = open.admin().await;
        let (bob, _) = open.member(&admin, "bob", "user").await;
        let seen = bob.user_ok(admin_user.id).await;
        assert_eq!(seen.email, admin_user.email, "everything, as before");
        assert!(seen.email_verified.is_none(), "but not the email state");
        assert_eq!(list(&bob, "?sort=email").await.total, 2);
    }
);

#[tokio::test]
async fn the_public_url_fixes_host_origin_and_https() {
    let app = TestApp::builder(Backend::Sqlite)
        .with(|s| {
            s.http.public_url = Some(url::Url::parse("https://users.example.com").unwrap());
            s.http.cookie_secure = true;
        })
        .spawn()
        .await;
    let public = app.client_at("users.example.com", "https://users.example.com");
    // A public name: the first account needs the setup token.
    let mut ada = account("ada");
    ada.setup_token = Some(std::fs::read_to_string(app.data_dir.join("setup_token")).unwrap());
    public.signup_ok(&ada).await;
    let res = public.login("ada", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-session="))
        .expect("the __Host- cookie over https");
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(res.headers().contains_key("strict-transport-security"));

    let (status, error) = error_of(app.client().get("/api/v1/auth/signup-options").await).await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "another Host");
    assert_eq!(error["code"], "misdirected_request");
    assert_eq!(
        app.client().get("/health").await.status(),
        StatusCode::OK,
        "probes answer any Host"
    );
    let elsewhere = app.client_at("users.example.com", "http://127.0.0.1:1");
    assert_eq!(
        error_of(elsewhere.login("ada", PASSWORD).await).await.0,
        StatusCode::FORBIDDEN,
        "the CSRF check wants the public origin"
    );
}

db_test!(
    a_loopback_instance_answers_only_loopback_names,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let port = app.address.rsplit(':').next().unwrap().to_owned();
        let rebound = app.client_at(&format!("evil.example:{port}"), "http://evil.example");
        assert_eq!(
            error_of(rebound.get("/api/v1/auth/signup-options").await)
                .await
                .0,
            StatusCode::MISDIRECTED_REQUEST,
            "DNS rebinding reaches nothing"
        );
        let local = app.client_at(
            &format!("localhost:{port}"),
            &format!("http://localhost:{port}"),
        );
        assert_eq!(
            local.get("/api/v1/auth/signup-options").await.status(),
            StatusCode::OK
        );
    }
);

db_test!(
    a_password_email_or_answer_change_ends_recovery_in_progress,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let (bob, bob_user) = app.member(&admin, "bob", "user").await;
        let email = bob_user.email.clone().unwrap();
        let cases: [(&str, Value); 3] = [
            (
                "password",
                json!({"current_password": PASSWORD, "new_password": "saffron glacier trombone 58"}),
            ),
            (
                "answer",
                json!({"security_answer": "a new answer", "current_password": "saffron glacier trombone 58"}),
            ),
            (
                "email",
                json!({"email": "bob@elsewhere.example", "current_password": "saffron glacier trombone 58"}),
            ),
        ];
        let mut mailed = 0;
        let mut bob = bob;
        for (what, change) in cases {
            mailed += 1;
            let code = app.mailed_code(&app.client(), &email, mailed).await.code();
            let res = match what {
                "password" => bob.post("/api/v1/auth/password", &change).await,
                _ => bob.update_me(&change).await,
            };
            assert!(res.status().is_success(), "{what}: {}", res.status());
            if what == "password" {
                bob = app.client();
                bob.login_ok("bob", "saffron glacier trombone 58").await;
            }
            assert_eq!(
                error_of(app.client().verify_otp(&email, &code).await)
                    .await
                    .0,
                StatusCode::BAD_REQUEST,
                "a {what} change ended the recovery"
            );
        }
        // An admin setting the password ends it too.
        mailed += 1;
        let code = app.mailed_code(&app.client(), &email, mailed).await.code();
        let reset = json!({"password": "copper kettle morning 77"});
        assert_eq!(
            admin.update_user(bob_user.id, &reset).await.status(),
            StatusCode::OK
        );
        assert_eq!(
            error_of(app.client().verify_otp(&email, &code).await)
                .await
                .0,
            StatusCode::BAD_REQUEST
        );
    }
);
