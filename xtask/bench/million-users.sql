-- 1,000,000 accounts in the app's schema, for timing the user list on MariaDB
-- (xtask/bench/list-latency.sh). Migrate the database first, then:
--   mysql -uroot um_bench < xtask/bench/million-users.sql
-- One precomputed argon2id hash for all (nobody logs in as them). Names repeat in a
-- few patterns so searches have many matches: "ada" about 250k usernames, "Ada"
-- about 143k first names, three mail domains.
SET unique_checks = 0;
INSERT INTO users (first_name, last_name, username, email, mobile, password_hash,
                   security_question, security_answer_hash, role, created_at, updated_at,
                   last_login_at, failed_logins, email_verified_at)
SELECT ELT(1 + seq % 7, 'Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances'),
       ELT(1 + seq % 5, 'Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov'),
       CONCAT(ELT(1 + seq % 4, 'ada', 'hopper', 'turing', 'liskov'), seq),
       CONCAT('user', seq, '@', ELT(1 + seq % 3, 'example.org', 'example.com', 'mail.test')),
       CONCAT('+1555', LPAD(seq, 7, '0')),
       '$argon2id$v=19$m=19456,t=2,p=1$1knYRyyS+D4eO8MuUYhzlg$I7BATZe35293MzMc92MFAUWdDB1qZomdZoM+UfKw5ag',
       'Pet?', NULL, 'user', NOW() - INTERVAL seq SECOND, NOW(),
       IF(seq % 3 = 0, NULL, NOW() - INTERVAL seq MINUTE), 0, NOW()
FROM seq_1_to_1000000;
