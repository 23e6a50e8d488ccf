#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: builds a release binary, then runs `cairn bench run --spawn` on a fresh
# SQLite file and on a throwaway PostgreSQL cluster (durable settings: fsync and synchronous_commit
# on), which it starts on a free loopback port and stops afterwards.
#
#   scripts/bench.sh [sqlite|postgres|both] [extra `cairn bench run` options…]
#   e.g. scripts/bench.sh both --statements 1000000
#
#   scripts/bench.sh adl <ADL_LRS checkout> [extra `cairn bench run` options…]
# runs the same driver against ADL's open-source LRS (github.com/adlnet/ADL_LRS: Django and
# PostgreSQL) on its own throwaway cluster, for the side-by-side table in BENCHMARKS.md; see
# run_adl for how it is set up. Nothing of ADL_LRS is kept in this repository.
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

# Starts a throwaway PostgreSQL cluster on a free loopback port: sets pg_port and pg_stop (a command
# that stops and removes it, also run when this script exits).
start_cluster() {
  local pgbin
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -x "$pgbin/initdb" ]] || { echo "PostgreSQL binaries not found (apt-get install postgresql)" >&2; exit 1; }
  local dir as_pg=()
  dir=$(mktemp -d /tmp/cairn-bench-pg.XXXXXX)
  pg_port=$(free_port)
  # initdb refuses to run as root: run the cluster as the postgres user then.
  if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$dir"; as_pg=(runuser -u postgres --); fi
  "${as_pg[@]}" "$pgbin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log"
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w \
    -o "-p $pg_port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB" start >/dev/null
  # Stopped however this script ends.
  pg_stop="${as_pg[*]} $pgbin/pg_ctl -D $dir/data -m fast stop >/dev/null; rm -rf $dir"
  trap 'eval "$pg_stop"' EXIT
  echo "== PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on port $pg_port" >&2
}

stop_cluster() {
  eval "$pg_stop"
  trap - EXIT
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

run_postgres() {
  start_cluster
  "$bin" --database "postgres://postgres@127.0.0.1:$pg_port/postgres" bench run --spawn \
    --json bench-results/postgres.json "$@" | tee bench-results/postgres.md
  stop_cluster
}

# ADL_LRS as its Docker image deploys it (uWSGI, 8 processes of 8 threads, DEBUG off, HTTP Basic with
# a Django user, HTTP/1.1 keep-alive as the image's nginx gives clients), on a cluster with the same
# settings as Cairn's. Two departures, both in ADL_LRS's favour: its Celery tasks (fetching each
# activity's metadata from its IRI over the internet, run by a separate worker) go to an in-memory
# broker that no worker reads, as this machine has no internet and no RabbitMQ; and uWSGI's 10 s
# `harakiri` is off, as batches of 1,000 take longer than that. The data set goes without its
# certificate attachments (`--without-attachments`): ADL_LRS drops the last newline of a text/plain
# part before hashing it, and these payloads end in one, so every batch holding one failed; run Cairn
# with the same option for the table. The checkout is copied to target/adl-lrs (with a Python
# virtualenv from PyPI); the original is not touched.
run_adl() {
  local src=${1:?usage: scripts/bench.sh adl <ADL_LRS checkout> [options]}
  shift
  [[ -f "$src/manage.py" && -f "$src/lrs/celery.py" ]] || { echo "$src is not an ADL_LRS checkout" >&2; exit 2; }
  local home=target/adl-lrs
  mkdir -p "$home"
  home=$(cd "$home" && pwd)
  rm -rf "$home/ADL_LRS" "$home/media" "$home/logs"
  mkdir -p "$home/ADL_LRS" "$home/logs/celery"
  (cd "$src" && tar --exclude=.git -cf - .) | (cd "$home/ADL_LRS" && tar -xf -)
  mkdir -p "$home/media/"{agent_profile,activity_profile,activity_state,attachment_payloads}
  sed -i "s|broker='amqp://%s:%s@%s:%s/%s' % (|broker='memory://' or (|" "$home/ADL_LRS/lrs/celery.py"
  grep -q "broker='memory://'" "$home/ADL_LRS/lrs/celery.py" || { echo "could not point Celery at memory://" >&2; exit 1; }
  if [[ ! -x "$home/venv/bin/uwsgi" ]]; then
    python3 -m venv "$home/venv"
    # psycopg2-binary 2.9.3 (pinned) has no wheels for Python 3.11; 2.9.9 is the same API.
    sed 's/^psycopg2-binary==.*/psycopg2-binary==2.9.9/' "$home/ADL_LRS/requirements.txt" >"$home/requirements.txt"
    "$home/venv/bin/pip" install -q -r "$home/requirements.txt" uwsgi==2.0.28
  fi
  start_cluster
  local psql=(psql -h 127.0.0.1 -p "$pg_port" -U postgres -q)
  "${psql[@]}" -c "CREATE USER lrs_owner PASSWORD 'lrs_password'" -c "CREATE DATABASE lrs OWNER lrs_owner"
  sed -e "s/^HOST: postgres/HOST: 127.0.0.1/" -e "s/^PORT: 5432/PORT: $pg_port/" -e "s/^DEBUG: True/DEBUG: False/" \
    -e "s/^OAUTH_ENABLED: True/OAUTH_ENABLED: False/" -e "s/^SECRET_KEY: .*/SECRET_KEY: throwaway-bench-key/" \
    "$home/ADL_LRS/settings.ini.example" >"$home/ADL_LRS/adl_lrs/settings.ini"
  local py="$home/venv/bin/python"
  # As its fabfile's setup_lrs does: the apps' migrations are made on the spot.
  (cd "$home/ADL_LRS" && "$py" manage.py createcachetable && "$py" manage.py migrate -v 0 && "$py" manage.py makemigrations -v 0 adl_lrs lrs oauth_provider \
    && "$py" manage.py migrate -v 0 && "$py" manage.py shell -c \
    "from django.contrib.auth.models import User; User.objects.create_superuser('bench', 'bench@example.com', 'bench-secret')")
  local port
  port=$(free_port)
  (cd "$home/ADL_LRS" && exec "$home/venv/bin/uwsgi" --module adl_lrs.wsgi:application --master --processes 8 \
    --threads 8 --enable-threads --http11-socket "127.0.0.1:$port" --disable-logging --logto "$home/logs/uwsgi.log") &
  local uwsgi=$!
  local up=no status=0
  for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/xapi/about" && { up=yes; break; }; sleep 0.2; done
  if [[ $up == yes ]]; then
    echo "== ADL_LRS $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '(no git)') on port $port" >&2
    "$bin" bench run --target "http://127.0.0.1:$port/xapi" --key bench --secret bench-secret --without-attachments \
      --json bench-results/adl.json "$@" | tee bench-results/adl.md || status=$?
  else
    echo "ADL_LRS did not answer on port $port (log: $home/logs/uwsgi.log)" >&2
    status=1
  fi
  kill -INT "$uwsgi"; wait "$uwsgi" || true
  stop_cluster
  return "$status"
}

case "$which_backend" in
  sqlite) run_sqlite "$@" ;;
  postgres) run_postgres "$@" ;;
  both) run_sqlite "$@"; run_postgres "$@" ;;
  adl) run_adl "$@" ;;
  *) echo "usage: scripts/bench.sh [sqlite|postgres|both] [cairn bench run options]" >&2
     echo "       scripts/bench.sh adl <ADL_LRS checkout> [cairn bench run options]" >&2; exit 2 ;;
esac
