# Shared by the project scripts: where Odoo, the virtualenv, PostgreSQL and the
# addons path are. Sourced, never run. Every decision is announced with `say`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODULE=live_commerce_crm
# Everything that is not the project's own files lives outside the checkout: Odoo
# scans the addon folder recursively (translations export follows symlinks), so a
# virtualenv or the addons-path symlink inside it would be read as addon code.
CACHE=${LCC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/live_commerce_crm}
# The PostgreSQL cluster and the filestore stay with the checkout (ignored by git).
DATA=${LCC_DATA:-$ROOT/.data}
PYTHON=${PYTHON:-python3}
HTTP_PORT=${LCC_HTTP_PORT:-8069}

say() { printf '\033[1m[live_commerce_crm]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[live_commerce_crm] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }

# --- Odoo source -------------------------------------------------------------
odoo_series() {  # prints the major.minor series of the Odoo tree in $1
  "$PYTHON" - "$1" <<'PY'
import re, sys
text = open(sys.argv[1] + "/odoo/release.py").read()
m = re.search(r"version_info\s*=\s*\((\d+),\s*(\d+)", text)
print(f"{m.group(1)}.{m.group(2)}" if m else "unknown")
PY
}

find_odoo() {
  if [ -n "${ODOO_SRC:-}" ]; then
    [ -f "$ODOO_SRC/odoo/release.py" ] || die "ODOO_SRC=$ODOO_SRC is not an Odoo source tree (no odoo/release.py)."
    say "Odoo source: \$ODOO_SRC=$ODOO_SRC"
  elif [ -f /opt/odoo/18.0/odoo/release.py ]; then
    ODOO_SRC=/opt/odoo/18.0
    say "Odoo source: $ODOO_SRC (ODOO_SRC not set)"
  elif [ -f "$CACHE/odoo-18.0/odoo/release.py" ]; then
    ODOO_SRC=$CACHE/odoo-18.0
    say "Odoo source: $ODOO_SRC (cloned earlier by these scripts)"
  elif [ "${LCC_NO_CLONE:-}" = 1 ]; then
    die "Odoo 18.0 not found: set ODOO_SRC or put it in /opt/odoo/18.0 (cloning disabled by LCC_NO_CLONE=1)."
  else
    say "Odoo not found in \$ODOO_SRC or /opt/odoo/18.0: cloning the official 18.0 branch (depth 1) into $CACHE/odoo-18.0"
    mkdir -p "$CACHE"
    git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo.git "$CACHE/odoo-18.0.partial" \
      || die "Could not clone https://github.com/odoo/odoo (branch 18.0). Set ODOO_SRC to an Odoo 18.0 source tree."
    mv "$CACHE/odoo-18.0.partial" "$CACHE/odoo-18.0"
    ODOO_SRC=$CACHE/odoo-18.0
  fi
  local series
  series=$(odoo_series "$ODOO_SRC")
  [ "$series" = "18.0" ] || die "Odoo at $ODOO_SRC is version $series; live_commerce_crm needs Odoo 18.0."
  export ODOO_SRC
}

# --- Python virtualenv -------------------------------------------------------
VENV=${LCC_VENV:-$CACHE/venv}
ensure_venv() {
  local stamp="$VENV/.lcc-requirements" want
  want=$( (cat "$ROOT/requirements.txt"; echo "$ODOO_SRC") | sha1sum | cut -c1-40)
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    say "Python virtualenv: $VENV (up to date)"
  else
    say "Python virtualenv: installing Odoo's and the project's pinned requirements into $VENV (a few minutes the first time)"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -qq --upgrade "pip<25" "setuptools<70" wheel
    # Odoo first, from its source tree, editable and without its dependencies (ours
    # are pinned below): the OCA addons from PyPI depend on the `odoo` distribution,
    # which no package index serves.
    "$VENV/bin/pip" install -qq --no-deps --no-build-isolation -e "$ODOO_SRC"
    "$VENV/bin/pip" install -qq -r "$ROOT/requirements.txt"
    echo "$want" > "$stamp"
  fi
  "$VENV/bin/python" -c "import odoo.release as r; assert r.version_info[:2] == (18, 0), r.version" \
    || die "The virtualenv $VENV does not import Odoo 18.0 from $ODOO_SRC."
}

# --- Addons path: the checkout is exposed as `live_commerce_crm` -------------
ADDONS_LINKS=$CACHE/addons/$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)
ensure_addons_link() {
  mkdir -p "$ADDONS_LINKS"
  ln -sfn "$ROOT" "$ADDONS_LINKS/$MODULE"
  ADDONS_PATH="$ODOO_SRC/odoo/addons,$ODOO_SRC/addons,$ADDONS_LINKS"
  MODULE_DIR=$ADDONS_LINKS/$MODULE
}

# --- PostgreSQL --------------------------------------------------------------
# PGHOST/PGPORT/PGUSER/PGPASSWORD point at an existing server; otherwise the
# project runs its own cluster under $DATA/postgres, as an unprivileged user.
PG_BIN=${LCC_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
# A port per checkout (55000-55899), so two checkouts' clusters do not collide.
PG_PORT_OWN=${LCC_PG_PORT:-$((55000 + 0x$(printf '%s' "$ROOT" | sha1sum | cut -c1-4) % 900))}

as_pg_owner() {  # run a command as the unprivileged cluster owner
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

ensure_postgres() {
  if [ -n "${PGHOST:-}${PGPORT:-}${PGUSER:-}" ]; then
    DB_HOST=${PGHOST:-localhost}; DB_PORT=${PGPORT:-5432}
    DB_USER=${PGUSER:-$(id -un)}; DB_PASSWORD=${PGPASSWORD:-}
    say "PostgreSQL: existing server at $DB_HOST:$DB_PORT as $DB_USER (from PG* variables)"
    PGPASSWORD=$DB_PASSWORD psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d postgres -Atqc 'select 1' >/dev/null \
      || die "Cannot connect to PostgreSQL at $DB_HOST:$DB_PORT as $DB_USER."
    return
  fi
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin; set LCC_PG_BIN). Install PostgreSQL 15 or set PGHOST/PGPORT/PGUSER/PGPASSWORD."
  local pgdata
  pgdata=$(pg_data_dir)
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    say "PostgreSQL: creating the project's own cluster in $pgdata (port $PG_PORT_OWN, loopback only)"
    mkdir -p "$pgdata"
    [ "$(id -u)" = 0 ] && { id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres; chown postgres: "$pgdata"; }
    chmod 700 "$pgdata"
    as_pg_owner "$PG_BIN/initdb" -D "$pgdata" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT_OWN
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 256MB
CONF
  fi
  # An existing cluster keeps the port it was created with.
  PG_PORT_OWN=$(awk '/^port = /{port=$3} END{print port}' "$pgdata/postgresql.conf")
  if as_pg_owner "$PG_BIN/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    say "PostgreSQL: the project's cluster is running on 127.0.0.1:$PG_PORT_OWN"
  else
    say "PostgreSQL: starting the project's cluster on 127.0.0.1:$PG_PORT_OWN"
    as_pg_owner "$PG_BIN/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t 60 start >/dev/null \
      || die "PostgreSQL did not start; see $pgdata/server.log"
  fi
  DB_HOST=127.0.0.1; DB_PORT=$PG_PORT_OWN; DB_USER=odoo; DB_PASSWORD=
  # Odoo refuses to connect as `postgres`: it gets its own role.
  psql -h "$DB_HOST" -p "$DB_PORT" -U postgres -d postgres -Atqc \
    "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='odoo') THEN CREATE ROLE odoo LOGIN SUPERUSER; END IF; END\$\$;" >/dev/null
}

pg_data_dir() {
  # Under root the cluster belongs to `postgres`, which must be able to reach it:
  # a checkout in a private folder gets its cluster under /var/tmp instead.
  mkdir -p "$DATA"
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$DATA" 2>/dev/null; then
    local alt=/var/tmp/live_commerce_crm/$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)
    mkdir -p "$alt" && chmod 755 /var/tmp/live_commerce_crm "$alt"
    [ -f "$alt/postgres/PG_VERSION" ] || say "PostgreSQL: $DATA is not reachable by the postgres user; the cluster goes to $alt/postgres"
    echo "$alt/postgres"
  else
    echo "$DATA/postgres"
  fi
}

stop_postgres() {
  local pgdata
  pgdata=$(pg_data_dir)
  [ -f "$pgdata/PG_VERSION" ] && as_pg_owner "$PG_BIN/pg_ctl" -D "$pgdata" -m fast stop || true
}

db_psql() {  # psql against the configured server: db_psql DB [psql args...]
  local db=$1; shift
  PGPASSWORD=$DB_PASSWORD psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$db" -v ON_ERROR_STOP=1 -Atq "$@"
}

# --- Odoo configuration file ---------------------------------------------------
write_odoo_conf() {  # write_odoo_conf PATH DBNAME [JOB_CAPACITY]
  mkdir -p "$(dirname "$1")" "$DATA/odoo"
  cat > "$1" <<CONF
[options]
addons_path = $ADDONS_PATH
data_dir = $DATA/odoo
db_host = $DB_HOST
db_port = $DB_PORT
db_user = $DB_USER
db_password = ${DB_PASSWORD:-False}
; db_name without dbfilter: Odoo serves this one database without listing the
; server's databases on every request.
db_name = $2
list_db = False
http_port = $HTTP_PORT
admin_passwd = ${LCC_ADMIN_PASSWD:-admin}
; Loaded with the server: the webhook route then answers 503 instead of 404
; while the database is unreachable, so platforms retry; queue_job's runner
; (in the server's process) runs the jobs that call the platforms' order APIs.
server_wide_modules = base,web,queue_job,$MODULE

[queue_job]
; Jobs at once, all channels together; each platform's channel caps its own
; (Job Queue > Channels). 0: no runner in this process.
max_capacity = ${3:-4}
CONF
}

odoo_bin() { "$VENV/bin/python" "$ODOO_SRC/odoo-bin" "$@"; }

prepare_all() {
  find_odoo
  ensure_venv
  ensure_addons_link
  ensure_postgres
}
