#!/usr/bin/env bash
# The sequential-signup memory check (the leak issue 12 measured; `cargo xtask bench`
# covers the concurrent loads): a throwaway server on a temporary SQLite file;
# usage: xtask/bench/rss-signups.sh [BINARY] [N].
# Sequential signups against a fresh server; prints VmRSS/VmHWM every 10.
set -u
BIN=${1:-target/release/backend}; N=${2:-60}
dir=$(mktemp -d); port=18181
DATA_DIR=$dir DATABASE_URL="sqlite://$dir/u.db?mode=rwc" BIND_ADDR=127.0.0.1:$port RUST_LOG=warn \
  JWT_SECRET=0123456789abcdef0123456789abcdef0123 RATE_LIMIT_BURST=100000 RATE_LIMIT_PER_MINUTE=100000 \
  STATIC_DIR=$dir "$BIN" serve >${TMPDIR:-/tmp}/um-bench-server.log 2>&1 &
pid=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 0.2; done
rss() { awk '/VmRSS|VmHWM/{printf "%s %s MiB  ", $1, int($2/1024)}' /proc/$pid/status; echo; }
echo "idle: $(rss)"
for i in $(seq 1 $N); do
  curl -s -o /dev/null -w '' -H 'Origin: http://127.0.0.1:'$port -H 'Content-Type: application/json' \
    -d '{"first_name":"Ada","last_name":"Lovelace","username":"user'$i'","email":"user'$i'@example.com","mobile":"+1555000'$(printf %04d $i)'","password":"violet harbor quantum 4217","security_question":"Pet?","security_answer":"Rex the dog"}' \
    http://127.0.0.1:$port/api/v1/auth/signup
  [ $((i % 10)) -eq 0 ] && echo "$i signups: $(rss)"
done
kill $pid; wait $pid 2>/dev/null; rm -rf "$dir"
