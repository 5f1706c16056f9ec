#!/usr/bin/env bash
# The small-database fairness experiment behind BENCHMARKS.md (2026-12-07): a throwaway
# server with two accounts, a probe alone, then the same probe beside a 32-client login
# storm of the other account; prints the probe's p50/p99 both times, the storm's rate
# and each thread group's CPU ticks (1/100 s) during the storm, and mariadbd's.
# usage: xtask/bench/storm-probe.sh sqlite|mysql [SECONDS]
# env: PROBE=/health (default /api/v1/auth/me); PACED=1 asks 10 ms after each answer
# (wrk's delay()); HOOK='command' runs once the server is up, with $pid set, e.g.
# HOOK='for t in /proc/$pid/task/*; do grep -q argon2 $t/comm && chrt -o -p 0 ${t##*/} &&
# renice -n 10 -p ${t##*/} >/dev/null; done' puts the hashing threads back in the normal
# class at nice 10, as they were before 2026-12-07, for comparison.
set -u
DB=${1:?sqlite or mysql}; S=${2:-20}; BIN=${BIN:-target/release/backend}
dir=$(mktemp -d); port=18182; base=http://127.0.0.1:$port
export DATA_DIR=$dir STATIC_DIR=$dir BIND_ADDR=127.0.0.1:$port RUST_LOG=warn \
  JWT_SECRET=0123456789abcdef0123456789abcdef0123 RATE_LIMIT_BURST=1000000 RATE_LIMIT_PER_MINUTE=1000000
if [ "$DB" = mysql ]; then
  mysql -uroot -e "DROP DATABASE IF EXISTS um_storm_probe; CREATE DATABASE um_storm_probe"
  export DATABASE_URL=mysql://root@127.0.0.1:3306/um_storm_probe
else
  export DATABASE_URL="sqlite://$dir/p.db?mode=rwc"
fi
PASSWORD="violet harbor quantum 4217"
"$BIN" migrate >/dev/null
ADMIN_PASSWORD="$PASSWORD" ADMIN_SECURITY_ANSWER=Rex "$BIN" create-admin --username benchadmin \
  --email benchadmin@example.net --first-name Bench --last-name Admin --mobile +15559990000 \
  --security-question "Pet?" >/dev/null
"$BIN" serve >"$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -sf $base/ready >/dev/null && break; sleep 0.2; done
post() { curl -s -H 'Content-Type: application/json' -H "Origin: $base" "$@"; }
post -o /dev/null -d '{"first_name":"Alan","last_name":"Turing","username":"turing2","email":"turing2@example.net","mobile":"+15559990002","password":"'"$PASSWORD"'","security_question":"Pet?","security_answer":"Rex"}' $base/api/v1/auth/signup
cookie=$(post -D - -o /dev/null -d '{"username":"benchadmin","password":"'"$PASSWORD"'"}' $base/api/v1/auth/login \
  | grep -i '^set-cookie' | grep -v -i device | head -1 | sed 's/^[^:]*: //; s/;.*//')
[ -n "${HOOK:-}" ] && eval "$HOOK"
printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Origin"] = "%s"\n' \
  "'{\"username\":\"turing2\",\"password\":\"$PASSWORD\"}'" "$base" >"$dir/storm.lua"
printf 'function delay()\n  return 10\nend\n' >"$dir/paced.lua"
pace=(); [ -n "${PACED:-}" ] && pace=(-s "$dir/paced.lua")
probe() { wrk -t1 -c1 -d${S}s "${pace[@]}" -H "Cookie: $cookie" --latency $base${PROBE:-/api/v1/auth/me} \
  | grep -E ' 50%| 99%|Requests/sec' | sed "s/^/$1 /"; }
ticks() { for t in /proc/$pid/task/*; do echo "$(tr -d '0-9' <$t/comm) $(sed 's/.*) //' $t/stat | awk '{print $12+$13}')"; done \
  | awk '{a[$1]+=$2} END {for (k in a) print k, a[k]}' | sort; }
db_ticks() { m=$(pgrep -x mariadbd) && awk '{print $14+$15}' /proc/$m/stat || echo 0; }
probe idle
ticks >"$dir/t0"; m0=$(db_ticks)
wrk -t1 -c32 -d$((S + 2))s -s "$dir/storm.lua" $base/api/v1/auth/login >"$dir/storm.out" &
storm=$!
sleep 1; probe storm; wait $storm
ticks >"$dir/t1"; m1=$(db_ticks)
grep -E 'Requests/sec|Non-2xx' "$dir/storm.out" | sed 's/^/logins /'
echo "CPU ticks during the storm: $(join "$dir/t0" "$dir/t1" | awk '{printf "%s %d  ", $1, $3-$2}')mariadbd $((m1 - m0))"
kill $pid; wait $pid 2>/dev/null; rm -rf "$dir"
[ "$DB" = mysql ] && mysql -uroot -e "DROP DATABASE um_storm_probe"
exit 0
