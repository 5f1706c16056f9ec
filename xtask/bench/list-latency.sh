#!/usr/bin/env bash
# Until `cargo xtask bench` (issue 12): median and max of 15 calls of each list query
# against a server already running on $PORT, e.g.
#   mysql -uroot -e 'CREATE DATABASE um_bench'
#   export DATABASE_URL=mysql://root@127.0.0.1:3306/um_bench JWT_SECRET=$(openssl rand -hex 32)
#   target/release/backend migrate && mysql -uroot um_bench < xtask/bench/million-users.sql
#   ADMIN_PASSWORD='violet harbor quantum 4217' ADMIN_SECURITY_ANSWER=x target/release/backend \
#     create-admin --username benchadmin --email benchadmin@example.net --first-name Bench \
#     --last-name Admin --mobile +15559990000 --security-question 'Pet?'
#   BIND_ADDR=127.0.0.1:18190 target/release/backend serve &
PORT=${PORT:-18190}; B=http://127.0.0.1:$PORT
jar=$(mktemp)
curl -s -c $jar -o /dev/null -H "Origin: $B" -H 'Content-Type: application/json' -d '{"username":"benchadmin","password":"violet harbor quantum 4217"}' $B/api/v1/auth/login
for q in "page=1&per_page=20" "sort=username" "sort=-last_login_at" "q=ada" "q=a" "page=50001" "q=example.org" "q=hopper123"; do
  for i in $(seq 15); do curl -s -b $jar -o /dev/null -w '%{time_total}\n' "$B/api/v1/users?$q"; done | sort -n | awk -v q="$q" '{a[NR]=$1} END {printf "%-22s p50 %6.1f ms  max %6.1f ms\n", q, a[8]*1000, a[15]*1000}'
done
curl -s -b $jar "$B/api/v1/users?q=example.org&per_page=1" | head -c 200; echo
