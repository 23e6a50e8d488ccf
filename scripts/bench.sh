#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: builds a release binary, then runs `cairn bench run --spawn` on a fresh
# SQLite file and on a throwaway PostgreSQL cluster (durable settings: fsync and synchronous_commit
# on), which it starts on a free loopback port and stops afterwards.
#
#   scripts/bench.sh [sqlite|postgres|both] [extra `cairn bench run` options…]
#   e.g. scripts/bench.sh both --statements 1000000
#
# Results go to bench-results/<backend>.md (the table) and .json; progress goes to the terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
which_backend=${1:-both}
shift || true
cargo build --release --quiet
bin=target/release/cairn
mkdir -p bench-results

run_sqlite() {
  echo "== SQLite" >&2
  "$bin" bench run --spawn --json bench-results/sqlite.json "$@" | tee bench-results/sqlite.md
}

run_postgres() {
  local pgbin
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -x "$pgbin/initdb" ]] || { echo "PostgreSQL binaries not found (apt-get install postgresql)" >&2; exit 1; }
  local dir port as_pg=()
  dir=$(mktemp -d /tmp/cairn-bench-pg.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # initdb refuses to run as root: run the cluster as the postgres user then.
  if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$dir"; as_pg=(runuser -u postgres --); fi
  "${as_pg[@]}" "$pgbin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log"
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB" start >/dev/null
  # Stopped however this script ends.
  pg_stop="${as_pg[*]} $pgbin/pg_ctl -D $dir/data -m fast stop >/dev/null; rm -rf $dir"
  trap 'eval "$pg_stop"' EXIT
  echo "== PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on port $port" >&2
  "$bin" --database "postgres://postgres@127.0.0.1:$port/postgres" bench run --spawn \
    --json bench-results/postgres.json "$@" | tee bench-results/postgres.md
  eval "$pg_stop"
  trap - EXIT
}

case "$which_backend" in
  sqlite) run_sqlite "$@" ;;
  postgres) run_postgres "$@" ;;
  both) run_sqlite "$@"; run_postgres "$@" ;;
  *) echo "usage: scripts/bench.sh [sqlite|postgres|both] [cairn bench run options]" >&2; exit 2 ;;
esac
