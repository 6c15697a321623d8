#!/usr/bin/env bash
# `make run`: prepare everything, then serve live_commerce_crm with demo data.
source "$(dirname "$0")/common.sh"
prepare_all

DB=${LCC_DB:-live_commerce}
CONF=$DATA/odoo-run.conf
write_odoo_conf "$CONF" "$DB"

state=$(db_psql postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")
if [ -n "$state" ]; then
  state=$(db_psql "$DB" -c "SELECT state FROM ir_module_module WHERE name = '$MODULE'" 2>/dev/null || true)
fi
if [ "$state" = installed ]; then
  say "Database $DB already has $MODULE installed: reusing it (LCC_UPGRADE=1 upgrades the addon first)"
  if [ "${LCC_UPGRADE:-}" = 1 ]; then
    odoo_bin -c "$CONF" -d "$DB" -u "$MODULE" --stop-after-init --log-level=warn
  fi
else
  say "Creating database $DB and installing $MODULE with its dependencies and demo data (a few minutes)"
  odoo_bin -c "$CONF" -d "$DB" -i "$MODULE" --load-language=zh_CN --stop-after-init --log-level=warn
fi

say "Serving Odoo at http://localhost:$HTTP_PORT  (login: admin  password: admin; Ctrl-C stops)"
say "The app is under the 'Live Commerce' menu. PostgreSQL keeps running: 'make stop' stops it."
exec "$VENV/bin/python" "$ODOO_SRC/odoo-bin" -c "$CONF" -d "$DB" "$@"
