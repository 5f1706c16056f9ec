//! `/api/v1/users`: listing, search, sorting, and the role matrix.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{Role, User, UserPage};

use harness::*;

fn usernames(page: &UserPage) -> Vec<&str> {
    page.items.iter().map(|u| u.username.as_str()).collect()
}

db_test!(list_paginates_with_totals, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.admin().await;
    let creates = (0..11).map(|i| {
        let admin = admin.clone();
        async move {
            let res = admin.create_user(&account(&format!("user{i:02}"))).await;
            assert_eq!(res.status(), StatusCode::CREATED);
        }
    });
    futures::future::join_all(creates).await;

    let first = admin.list_users_ok("?per_page=5&sort=username").await;
    assert_eq!((first.total, first.page, first.per_page), (12, 1, 5));
    assert_eq!(
        usernames(&first),
        ["admin", "user00", "user01", "user02", "user03"]
    );
    let third = admin
        .list_users_ok("?per_page=5&page=3&sort=username")
        .await;
    assert_eq!(usernames(&third), ["user09", "user10"]);
    let beyond = admin.list_users_ok("?per_page=5&page=9").await;
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total, 12);
    let default = admin.list_users_ok("").await;
    assert_eq!(
        (default.page, default.per_page, default.items.len()),
        (1, 20, 12)
    );
});

/// Follows `next` from the first page to the last, then `prev` back again, checking
/// that the pages tile the whole list in order and number themselves.
async fn walk_cursors(admin: &Client, sort: &str, per_page: usize) -> Vec<i32> {
    let all = admin
        .list_users_ok(&format!("?per_page=100&sort={sort}"))
        .await;
    let expected: Vec<i32> = all.items.iter().map(|u| u.id).collect();
    let mut page = admin
        .list_users_ok(&format!("?per_page={per_page}&sort={sort}"))
        .await;
    assert_eq!(page.prev, None, "{sort}: the first page has no prev");
    let mut pages = vec![page.clone()];
    while let Some(next) = page.next.clone() {
        page = admin
            .list_users_ok(&format!("?per_page={per_page}&sort={sort}&cursor={next}"))
            .await;
        assert_eq!(
            page.page,
            pages.len() as u64 + 1,
            "{sort}: page numbers count up"
        );
        assert!(page.items.len() <= per_page);
        pages.push(page.clone());
        assert!(pages.len() <= expected.len(), "{sort}: the walk never ends");
    }
    let walked: Vec<i32> = pages
        .iter()
        .flat_map(|p| p.items.iter().map(|u| u.id))
        .collect();
    assert_eq!(
        walked, expected,
        "{sort}: next visits every row once, in order"
    );
    // And back: each prev gives the page before, down to the first.
    for before in pages.iter().rev().skip(1) {
        let prev = page
            .prev
            .clone()
            .expect("a page after the first has a prev");
        page = admin
            .list_users_ok(&format!("?per_page={per_page}&sort={sort}&cursor={prev}"))
            .await;
        assert_eq!(page.items, before.items, "{sort}: prev goes back a page");
        assert_eq!(page.page, before.page);
    }
    assert_eq!(page.prev, None, "{sort}: back on the first page");
    walked
}

db_test!(cursors_walk_every_sort_forwards_and_back, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.admin().await;
    // Members log in; created accounts have never (nulls in last_login_at), and on
    // MySQL many share a creation second (ties broken by id).
    for name in ["mia", "bob", "kai"] {
        app.member(&admin, name, "user").await;
    }
    for i in 0..8 {
        let res = admin.create_user(&account(&format!("plain{i}"))).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    for sort in [
        "username",
        "-username",
        "email",
        "-email",
        "created_at",
        "-created_at",
        "last_login_at",
        "-last_login_at",
    ] {
        let walked = walk_cursors(&admin, sort, 3).await;
        assert_eq!(walked.len(), 12, "{sort}");
    }

    // A cursor holds its place while rows are added before it.
    let first = admin.list_users_ok("?per_page=4&sort=username").await;
    let res = admin.create_user(&account("aardvark")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let second = admin
        .list_users_ok(&format!(
            "?per_page=4&sort=username&cursor={}",
            first.next.as_deref().unwrap()
        ))
        .await;
    assert!(
        usernames(&second)[0] > usernames(&first)[3],
        "{:?} then {:?}",
        usernames(&first),
        usernames(&second)
    );

    // A cursor from another sort, or none at all, is a clear 400.
    let by_name = admin.list_users_ok("?per_page=2&sort=username").await;
    for query in [
        format!("?sort=-username&cursor={}", by_name.next.unwrap()),
        "?cursor=n2~1~username~zz".to_owned(),
        "?cursor=garbage".to_owned(),
    ] {
        let (status, error) = error_of(admin.get(&format!("/api/v1/users{query}")).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(error["fields"]["cursor"].is_string(), "{query}: {error}");
    }
    // Page numbers stop where OFFSET would get slow; cursors go on from there.
    let (status, error) = error_of(admin.get("/api/v1/users?page=501&per_page=20").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["fields"]["page"].as_str().unwrap().contains("cursor"),
        "{error}"
    );
    assert_eq!(
        admin
            .get("/api/v1/users?page=500&per_page=20")
            .await
            .status(),
        StatusCode::OK
    );
});

/// Writes `n` accounts straight into the app's table (the API would take minutes).
pub(crate) async fn seed_accounts(
    app: &TestApp,
    db: Backend,
    n: u32,
) -> sea_orm::DatabaseConnection {
    let seed = format!(
        "INSERT INTO users (first_name, last_name, username, email, mobile, \
        password_hash, role, created_at, updated_at, last_login_at, failed_logins) \
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
        SELECT 'Bulk', 'Seeded', CONCAT('bulk', i), CONCAT('bulk', i, '@example.net'), \
        CONCAT('+1444', LPAD(i, 7, '0')), 'x', 'user', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, \
        CURRENT_TIMESTAMP, 0 FROM n"
    );
    let seed = match db {
        Backend::Mysql => seed,
        // SQLite spells it with `||` and printf.
        Backend::Sqlite => seed
            .replace("CONCAT('bulk', i)", "'bulk' || i")
            .replace(
                "CONCAT('bulk', i, '@example.net')",
                "'bulk' || i || '@example.net'",
            )
            .replace("CONCAT('+1444', LPAD(i, 7, '0'))", "printf('+1444%07d', i)"),
    };
    let database = bulk_insert(app, db, "users", &seed).await;
    // Rows written behind the application's back need their search terms, as
    // `backend reindex-search` would build them.
    migration::rebuild_search_terms(&database).await.unwrap();
    database
}

db_test!(
    a_count_beyond_the_cap_stops_there_and_says_so,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        seed_accounts(&app, db, 10_050).await;
        let all = admin.list_users_ok("").await;
        assert_eq!((all.total, all.total_exact), (10_000, false));
        assert_eq!(all.items.len(), 20);
        let few = admin.list_users_ok("?q=bulk1005").await;
        // bulk1005 and bulk10050 begin with it.
        assert_eq!((few.total, few.total_exact), (2, true));
    }
);

db_test!(
    list_searches_every_word_of_names_addresses_and_mobile,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let people = [
            (
                "ada",
                "Ada",
                "Lovelace",
                "ada@analytical.org",
                "+447700900001",
            ),
            (
                "grace",
                "Grace",
                "Hopper",
                "amazing.grace@navy.mil",
                "+15550000002",
            ),
            (
                "alan",
                "Alan",
                "Turing",
                "alan@bletchley.uk",
                "+447700900003",
            ),
            (
                "edsger",
                "Edsger",
                "Dijkstra",
                "ewd@utexas.edu",
                "+31200000004",
            ),
            (
                "under_score",
                "Percent",
                "Sign",
                "pct@example.com",
                "+31200000005",
            ),
        ];
        for (username, first, last, email, mobile) in people {
            let mut req = account(username);
            req.first_name = first.into();
            req.last_name = last.into();
            req.email = email.into();
            req.mobile = mobile.into();
            assert_eq!(admin.create_user(&req).await.status(), StatusCode::CREATED);
        }
        for (q, expected) in [
            ("ada", vec!["ada"]),
            ("LOVE", vec!["ada"]),
            ("hop", vec!["grace"]),
            ("amazing", vec!["grace"]),
            ("%2B4477", vec!["ada", "alan"]),
            ("4477", vec!["ada", "alan"]),
            ("ewd@", vec!["edsger"]),
            ("alan%20tur", vec!["alan"]),
            ("a", vec!["ada", "admin", "alan", "grace"]),
            ("under_", vec!["under_score"]),
            // Words inside a value: a domain, a word of an address or a username.
            ("analytical.org", vec!["ada"]),
            ("navy.mil", vec!["grace"]),
            ("GRACE@navy", vec!["grace"]),
            ("score", vec!["under_score"]),
            ("utexas", vec!["edsger"]),
            // Every word must match, in any order and any field.
            ("lovelace%20ada", vec!["ada"]),
            ("ada%20bletchley", vec![]),
            ("%25", vec![]),
            ("_nder", vec![]),
            ("zzz", vec![]),
        ] {
            let found = admin.list_users_ok(&format!("?q={q}&sort=username")).await;
            assert_eq!(usernames(&found), expected, "q={q}");
            assert_eq!(found.total as usize, expected.len(), "q={q}");
        }
    }
);

db_test!(list_sorts_and_filters_by_role, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.admin().await;
    for (name, role) in [("carol", "user"), ("bob", "admin"), ("dave", "user")] {
        app.member(&admin, name, role).await;
    }
    assert_eq!(
        usernames(&admin.list_users_ok("?sort=username").await),
        ["admin", "bob", "carol", "dave"]
    );
    assert_eq!(
        usernames(&admin.list_users_ok("?sort=-username").await),
        ["dave", "carol", "bob", "admin"]
    );
    assert_eq!(
        usernames(&admin.list_users_ok("?sort=-email").await),
        ["dave", "carol", "bob", "admin"]
    );
    let by_creation = admin.list_users_ok("?sort=created_at").await;
    let ids: Vec<i32> = by_creation.items.iter().map(|u| u.id).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "oldest first, ties by id: {ids:?}"
    );
    let newest_first = admin.list_users_ok("?sort=-created_at").await;
    assert_eq!(newest_first.items.first().unwrap().username, "dave");
    let logins = admin.list_users_ok("?sort=-last_login_at").await;
    assert!(
        logins.items.iter().all(|u| u.last_login_at.is_some()),
        "every member logged in"
    );

    let admins = admin.list_users_ok("?role=admin&sort=username").await;
    assert_eq!(usernames(&admins), ["admin", "bob"]);
    assert_eq!(admins.total, 2);
    let users = admin.list_users_ok("?role=user&sort=username").await;
    assert_eq!(usernames(&users), ["carol", "dave"]);
});

db_test!(list_rejects_bad_parameters, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.admin().await;
    for (query, field) in [
        ("?per_page=101", "per_page"),
        ("?per_page=0", "per_page"),
        ("?page=0", "page"),
        ("?page=two", "page"),
        ("?sort=password_hash", "sort"),
        ("?role=root", "role"),
    ] {
        let (status, error) = error_of(admin.get(&format!("/api/v1/users{query}")).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(error["fields"][field].is_string(), "{query}: {error}");
    }
});

db_test!(users_read_but_only_admins_manage, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, admin_user) = app.admin().await;
    let (bob, bob_user) = app.member(&admin, "bob", "user").await;
    let (_, carol) = app.member(&admin, "carol", "user").await;

    assert_eq!(bob.list_users_ok("").await.total, 3, "users can list");
    let one: User = json(bob.get_user(carol.id).await).await;
    assert_eq!(one.username, "carol", "users can read one");

    let forbidden = [
        bob.create_user(&account("mallory")).await,
        bob.update_user(carol.id, &json!({"first_name": "X"})).await,
        bob.delete_user(carol.id).await,
        bob.delete_user(bob_user.id).await,
        bob.update_user(bob_user.id, &json!({"role": "admin"}))
            .await,
        bob.update_user(admin_user.id, &json!({"role": "user"}))
            .await,
        bob.update_user(bob_user.id, &json!({"password": "a brand new passphrase"}))
            .await,
    ];
    for (i, res) in forbidden.into_iter().enumerate() {
        let (status, error) = error_of(res).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "case {i}");
        assert_eq!(error["code"], "forbidden");
    }
    let me: User = json(bob.get("/api/v1/auth/me").await).await;
    assert_eq!(me.role, Role::User);

    let res = bob
        .update_user(
            bob_user.id,
            &json!({"last_name": "Builder", "role": "user"}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "own profile through /users/{{id}}, same role"
    );
    assert_eq!(json::<User>(res).await.last_name, "Builder");

    let res = admin
        .update_user(
            carol.id,
            &json!({"first_name": "Caroline", "role": "admin"}),
        )
        .await;
    let updated: User = json(res).await;
    assert_eq!(
        (updated.first_name.as_str(), updated.role),
        ("Caroline", Role::Admin)
    );

    let created: User = json(admin.create_user(&account("erin")).await).await;
    assert_eq!(
        created.role,
        Role::User,
        "default role for admin-created accounts"
    );
    let res = admin.delete_user(created.id).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, _) = error_of(admin.get_user(created.id).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = error_of(admin.delete_user(created.id).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = error_of(
        admin
            .put("/api/v1/users/999999", &json!({"first_name": "Nobody"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = error_of(admin.get("/api/v1/users/not-a-number").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

db_test!(
    admin_updates_validate_and_detect_duplicates,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let (_, bob) = app.member(&admin, "bob", "user").await;
        let path = format!("/api/v1/users/{}", bob.id);
        let (status, error) = error_of(admin.put(&path, &json!({"username": "Admin"})).await).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(error["fields"]["username"].is_string());
        let (status, error) = error_of(
            admin
                .put(&path, &json!({"email": "nope", "password": "short"}))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(error["fields"]["email"].is_string() && error["fields"]["password"].is_string());
        let (status, error) = error_of(admin.put(&path, &json!({"role": "superuser"})).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
        let unchanged: User = json(admin.get(&path).await).await;
        assert_eq!(
            unchanged.username, "bob",
            "a refused update changes nothing"
        );
    }
);

db_test!(
    the_last_admin_cannot_be_deleted_or_demoted,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, admin_user) = app.admin().await;
        let path = format!("/api/v1/users/{}", admin_user.id);
        let (status, _) = error_of(admin.delete(&path).await).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, _) = error_of(admin.put(&path, &json!({"role": "user"})).await).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let me: User = json(admin.me().await).await;
        assert_eq!(me.role, Role::Admin);

        let (second, second_user) = app.member(&admin, "second", "admin").await;
        let res = second.put(&path, &json!({"role": "user"})).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "with another admin, demotion works"
        );
        assert_eq!(
            admin.me().await.status(),
            StatusCode::UNAUTHORIZED,
            "demotion ends the sessions"
        );
        let (status, _) = error_of(second.delete_user(second_user.id).await).await;
        assert_eq!(status, StatusCode::CONFLICT, "second is now the last admin");
    }
);

db_test!(deleting_a_user_ends_their_sessions, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.admin().await;
    let (bob, bob_user) = app.member(&admin, "bob", "user").await;
    let token = app.client_without_origin().token("bob", PASSWORD).await;
    assert_eq!(bob.me().await.status(), StatusCode::OK);
    let res = admin.delete_user(bob_user.id).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(bob.me().await.status(), StatusCode::UNAUTHORIZED);
    let bearer = app.client_without_origin().with_bearer(&token);
    assert_eq!(bearer.me().await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.client().login("bob", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
});

db_test!(
    admin_password_reset_ends_the_users_sessions,
    |db| async move {
        let app = TestApp::spawn(db).await;
        let (admin, _) = app.admin().await;
        let (bob, bob_user) = app.member(&admin, "bob", "user").await;
        let new_password = "copper canyon meridian 77";
        let res = admin
            .update_user(bob_user.id, &json!({"password": new_password}))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert!(body.get("password").is_none() && body.get("password_hash").is_none());
        assert_eq!(bob.me().await.status(), StatusCode::UNAUTHORIZED);
        app.client().login_ok("bob", new_password).await;
    }
);

db_test!(admins_demoting_each_other_keep_one_admin, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, admin_user) = app.admin().await;
    let (second, second_user) = app.member(&admin, "second", "admin").await;
    let demote = json!({"role": "user"});
    let (second_path, admin_path) = (
        format!("/api/v1/users/{}", second_user.id),
        format!("/api/v1/users/{}", admin_user.id),
    );
    let (a, b) = tokio::join!(
        admin.put(&second_path, &demote),
        second.put(&admin_path, &demote),
    );
    let statuses = [a.status(), b.status()];
    assert!(
        statuses.iter().all(|s| [
            StatusCode::OK,
            StatusCode::CONFLICT,
            StatusCode::UNAUTHORIZED,
            StatusCode::SERVICE_UNAVAILABLE
        ]
        .contains(s)),
        "a lost race is a clean refusal, never a 500: {statuses:?}"
    );
    let api = app.client_without_origin();
    let mut admins = 0;
    for name in ["admin", "second"] {
        let body: Value = json(
            api.post(
                "/api/v1/auth/token",
                &json!({"username": name, "password": PASSWORD}),
            )
            .await,
        )
        .await;
        let me: User = json(
            api.with_bearer(body["access_token"].as_str().unwrap())
                .me()
                .await,
        )
        .await;
        admins += usize::from(me.role == Role::Admin);
    }
    assert_eq!(
        admins, 1,
        "exactly one of them is still admin: {statuses:?}"
    );
});

db_test!(demotion_ends_bearer_tokens_too, |db| async move {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.admin().await;
    let (_, second) = app.member(&admin, "second", "admin").await;
    let token = app.client_without_origin().token("second", PASSWORD).await;
    let api = app.client_without_origin().with_bearer(&token);
    assert_eq!(api.me().await.status(), StatusCode::OK);
    let res = admin.update_user(second.id, &json!({"role": "user"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(api.me().await.status(), StatusCode::UNAUTHORIZED);
});

db_test!(every_list_order_is_served_by_an_index, |db| async move {
    use backend::accounts::{ListScope, list_queries};
    use sea_orm::{DbBackend, QueryTrait};
    let app = TestApp::spawn(db).await;
    let database = seed_accounts(&app, db, 10_050).await;
    let backend = match db {
        Backend::Mysql => DbBackend::MySql,
        Backend::Sqlite => DbBackend::Sqlite,
    };
    for sort in [
        None,
        Some("username"),
        Some("-username"),
        Some("email"),
        Some("created_at"),
        Some("-last_login_at"),
        Some("last_login_at"),
    ] {
        let query = shared::ListUsersQuery {
            sort: sort.map(str::to_owned),
            ..Default::default()
        };
        let params = query.validate().unwrap();
        // The count reads at most 10,001 ids whatever plan it gets (see the cap
        // test); the page must come off an index in its order, never a sort.
        let (page, _count) = list_queries(&params, ListScope::default(), &Default::default());
        {
            let (what, sql) = ("page", page.build(backend).to_string());
            let plan = query_plan(&database, db, &sql).await;
            let on_users: Vec<&String> =
                plan.iter().filter(|line| line.contains("users")).collect();
            assert!(!on_users.is_empty(), "{sort:?} {what}: {plan:?}");
            for line in on_users {
                let indexed = match db {
                    Backend::Mysql => !line.contains("key=None") && !line.contains("filesort"),
                    Backend::Sqlite => line.contains("USING") && !line.contains("TEMP B-TREE"),
                };
                assert!(indexed, "{sort:?} {what}: {plan:?}\n{sql}");
            }
        }
    }
});

db_test!(every_search_shape_is_served_by_indexes, |db| async move {
    use backend::accounts::{ListScope, SearchPlan, list_queries};
    use sea_orm::{DbBackend, QueryTrait};
    let app = TestApp::spawn(db).await;
    let database = seed_accounts(&app, db, 10_050).await;
    let backend = match db {
        Backend::Mysql => DbBackend::MySql,
        Backend::Sqlite => DbBackend::Sqlite,
    };
    let words = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    // A rare word drives (its matches, at most the cap, then sorted); common words
    // are checked per account along the sort index; both at once; names only.
    let shapes = [
        (Some("bulk1005"), words(&[]), false),
        (None, words(&["bulk"]), false),
        (Some("bulk1005"), words(&["example.net"]), false),
        (None, words(&["bulk", "seeded"]), true),
    ];
    for (drive, check, names_only) in shapes {
        for sort in ["-created_at", "username", "-last_login_at"] {
            let params = shared::ListUsersQuery {
                sort: Some(sort.to_owned()),
                ..Default::default()
            }
            .validate()
            .unwrap();
            let plan = SearchPlan {
                drive: drive.map(str::to_owned),
                estimated: drive.is_none(),
                check: check.clone(),
                walk_until: None,
                matches: None,
            };
            let scope = ListScope {
                names_only,
                only: None,
            };
            let (page, count) = list_queries(&params, scope, &plan);
            let mut statements = vec![page.build(backend).to_string()];
            statements.extend(count.map(|c| backend.build(&c).to_string()));
            for sql in statements {
                let plan = query_plan(&database, db, &sql).await;
                let what = format!("{drive:?} {check:?} {sort}: {plan:#?}\n{sql}");
                for line in &plan {
                    let indexed = match db {
                        Backend::Mysql => {
                            line.starts_with("None")
                                || line.contains("<subquery")
                                || line.contains("<derived")
                                || !line.contains("key=None")
                        }
                        Backend::Sqlite => {
                            !line.starts_with("SCAN")
                                || line.contains("USING")
                                || line.starts_with("SCAN capped")
                        }
                    };
                    assert!(indexed, "a table is read whole: {what}");
                    // Sorting is only for a rare word's matches (at most the cap).
                    let sorts = line.contains("filesort") || line.contains("TEMP B-TREE");
                    assert!(!sorts || drive.is_some(), "sorts the table: {what}");
                }
            }
        }
    }
});
