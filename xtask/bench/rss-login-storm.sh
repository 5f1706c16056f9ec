#!/usr/bin/env bash
# Until `cargo xtask bench` (issue 12): usage xtask/bench/rss-login-storm.sh [BINARY] [N].
# One account, then N logins from 32 parallel clients; peak RSS after.
set -u
BIN=${1:-target/release/backend}; N=${2:-400}
dir=$(mktemp -d); port=18182
DATA_DIR=$dir DATABASE_URL="sqlite://$dir/u.db?mode=rwc" BIND_ADDR=127.0.0.1:$port RUST_LOG=warn \
  JWT_SECRET=0123456789abcdef0123456789abcdef0123 RATE_LIMIT_BURST=100000 RATE_LIMIT_PER_MINUTE=100000 \
  STATIC_DIR=$dir "$BIN" serve >${TMPDIR:-/tmp}/um-bench-server.log 2>&1 &
pid=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 0.2; done
rss() { awk '/VmRSS|VmHWM/{printf "%s %s MiB  ", $1, int($2/1024)}' /proc/$pid/status; echo; }
curl -s -o /dev/null -H 'Origin: http://127.0.0.1:'$port -H 'Content-Type: application/json' \
  -d '{"first_name":"Ada","last_name":"Lovelace","username":"ada","email":"ada@example.com","mobile":"+15550001234","password":"violet harbor quantum 4217","security_question":"Pet?","security_answer":"Rex the dog"}' \
  http://127.0.0.1:$port/api/v1/auth/signup
echo "idle: $(rss)"
start=$(date +%s.%N)
seq $N | xargs -P 32 -I{} curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
  -d '{"username":"ada","password":"violet harbor quantum 4217"}' http://127.0.0.1:$port/api/v1/auth/token | sort | uniq -c
end=$(date +%s.%N)
echo "storm: $(rss) $(echo "$N / ($end - $start)" | bc -l | cut -c1-6) logins/s"
kill $pid; wait $pid 2>/dev/null; rm -rf "$dir"
