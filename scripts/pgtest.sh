#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests, from Debian's postgresql package:
#   scripts/pgtest.sh start DIR PORT [OWNER_PID]
#                                      initdb in DIR, start on 127.0.0.1:PORT, print the URL (also
#                                      written to DIR/url); with OWNER_PID, stop the server when that
#                                      process is gone (test processes cannot clean up at exit);
#                                      PGTEST_LISTEN=ADDR[,ADDR] also listens there (trusting ADDR's /24)
#   scripts/pgtest.sh stop DIR         immediate shutdown
#   scripts/pgtest.sh restart DIR      fast restart (clients see their connections drop)
#   scripts/pgtest.sh outage DIR SECS  fast stop, SECS seconds down, start again (a long outage)
# PostgreSQL refuses to run as root, so as root the server runs as the postgres user.
set -euo pipefail
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$BIN/pg_ctl" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 2; }
# Close every descriptor this script inherited beyond stdin/out/err: the server and the watcher
# would otherwise hold the caller's pipes open (a test runner waiting for EOF would hang).
for fd in $(ls /proc/$$/fd); do
  [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null || true
done
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-}" in
  start)
    dir=$2 port=$3
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_pg "$BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >/dev/null </dev/null
    # PGTEST_LISTEN: further addresses to listen on (a test network namespace's host side),
    # trusted like loopback.
    listen=127.0.0.1
    if [ -n "${PGTEST_LISTEN:-}" ]; then
      listen="127.0.0.1,$PGTEST_LISTEN"
      for address in ${PGTEST_LISTEN//,/ }; do echo "host all all ${address%.*}.0/24 trust" >> "$dir/data/pg_hba.conf"; done
    fi
    # fsync off (unless PGTEST_FSYNC=on): a test server's data is thrown away; benchmarks turn it on.
    options="-p $port -k $dir -c listen_addresses=$listen -c fsync=${PGTEST_FSYNC:-off} -c max_connections=200"
    echo "$options" > "$dir/options"
    as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$options" start >/dev/null 2>&1 </dev/null
    # PostgreSQL starts when it can bind any one of its addresses: another test server on this
    # port at 127.0.0.1 would then take this one's clients there (its databases "do not exist").
    # Every address or none: the caller retries on another port.
    if grep -q "could not bind" "$dir/server.log"; then
      as_pg "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
      echo "port $port is taken on one of $listen" >&2
      exit 1
    fi
    echo "postgresql://postgres@127.0.0.1:$port/postgres" | tee "$dir/url.tmp" >/dev/null
    mv "$dir/url.tmp" "$dir/url" 2>/dev/null || true
    if [ -n "${4:-}" ]; then
      owner=$4
      nohup bash -c "while kill -0 $owner 2>/dev/null; do sleep 1; done; \"$0\" stop \"$dir\"; rm -rf \"$dir\"" \
        </dev/null >/dev/null 2>&1 &
    fi
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
  stop) as_pg "$BIN/pg_ctl" -D "$2/data" -m immediate -w stop >/dev/null 2>&1 || true ;;
  restart) as_pg "$BIN/pg_ctl" -D "$2/data" -m fast -w -t 60 restart >/dev/null ;;
  outage)
    as_pg "$BIN/pg_ctl" -D "$2/data" -m fast -w -t 60 stop >/dev/null
    sleep "$3"
    as_pg "$BIN/pg_ctl" -D "$2/data" -l "$2/server.log" -w -t 60 -o "$(cat "$2/options")" start >/dev/null 2>&1 </dev/null
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR | restart DIR | outage DIR SECONDS" >&2; exit 2 ;;
esac
