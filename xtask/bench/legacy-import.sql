-- 10,000 accounts in the old app's schema, for timing `backend import-legacy`
-- (README, "Moving from the old app"). MariaDB's Sequence engine makes the rows.
--   mysql -uroot < xtask/bench/legacy-import.sql
-- Every fourth password is plain text (hashed during the import); the rest are
-- passlib bcrypt hashes, kept as they are. Every answer is hashed.
DROP DATABASE IF EXISTS um_legacy_bench;
CREATE DATABASE um_legacy_bench;
USE um_legacy_bench;
CREATE TABLE users (id INT PRIMARY KEY AUTO_INCREMENT,
    first_name VARCHAR(50), last_name VARCHAR(50), username VARCHAR(50) UNIQUE,
    email VARCHAR(100) UNIQUE, mobile VARCHAR(15) UNIQUE, password VARCHAR(100),
    security_question VARCHAR(100), security_answer VARCHAR(100), otp VARCHAR(6) NULL);
INSERT INTO users (first_name, last_name, username, email, mobile, password,
                   security_question, security_answer)
SELECT 'Ada', 'Lovelace', CONCAT('user', seq), CONCAT('user', seq, '@example.com'),
       CONCAT('+1555', LPAD(seq, 7, '0')),
       IF(seq % 4 = 0, CONCAT('plain secret ', seq),
          '$2b$12$waAzHiEhO4k5uubzAXGkY.RnVQL7XLKcaXsAc5oOm33IPhT.caqG2'),
       'Name of your first pet?', CONCAT('Rex ', seq)
FROM seq_1_to_10000;
