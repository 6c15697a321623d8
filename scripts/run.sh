#!/usr/bin/env bash
# `make run`: prepare everything, then serve live_commerce_crm with demo data.
source "$(dirname "$0")/common.sh"
prepare_all

DB=${LCC_DB:-live_commerce}
mkdir -p "$DATA/logs"
CONF=$DATA/odoo-run.conf
write_odoo_conf "$CONF" "$DB"

state=$(db_psql postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")
if [ -n "$state" ]; then
  state=$(db_psql "$DB" -c "SELECT state FROM ir_module_module WHERE name = '$MODULE'" 2>/dev/null || true)
fi
# What the addon's files hash to: a changed checkout is upgraded before serving.
addon_hash=$(cd "$ROOT" && find . -path ./.data -prune -o -path ./.git -prune -o -type f \
  \( -name '*.py' -o -name '*.xml' -o -name '*.csv' -o -name '*.po' -o -name '*.js' \) -print0 \
  | sort -z | xargs -0 sha1sum | sha1sum | cut -c1-40)
stamp=$DATA/$DB.addon-hash
if [ "$state" = installed ]; then
  if [ "${LCC_UPGRADE:-}" = 1 ] || [ "$(cat "$stamp" 2>/dev/null)" != "$addon_hash" ]; then
    say "Database $DB exists; the addon changed since it was installed: upgrading $MODULE"
    odoo_bin -c "$CONF" -d "$DB" -u "$MODULE" --stop-after-init --log-level=warn
  else
    say "Database $DB already has this version of $MODULE installed: reusing it"
  fi
else
  say "Creating database $DB and installing $MODULE with its dependencies and demo data (a few minutes)"
  odoo_bin -c "$CONF" -d "$DB" -i "$MODULE" --load-language=zh_CN --stop-after-init --log-level=warn
fi
echo "$addon_hash" > "$stamp"

if [ "${SIMULATE:-}" = 1 ]; then
  # Every active channel with credentials gets a simulated live room (the demo's
  # live session is room 7301002), signed with the channel's own secrets.
  channels=$(db_psql "$DB" -c "SELECT json_agg(json_build_object('code', code, 'platform', platform,
      'app_key', app_key, 'app_secret', app_secret, 'token', token, 'encoding_aes_key', encoding_aes_key,
      'message_secret', message_secret, 'shop_id', shop_id)) FROM live_channel
      WHERE active AND coalesce(app_secret, message_secret, encoding_aes_key) IS NOT NULL")
  [ -n "$channels" ] || die "SIMULATE=1: no channel with credentials in $DB"
  (
    for _ in $(seq 120); do curl -sf "http://127.0.0.1:$HTTP_PORT/web/health" >/dev/null && break; sleep 1; done
    exec "$VENV/bin/python" "$ROOT/scripts/simulate.py" --url "http://127.0.0.1:$HTTP_PORT" \
      --channels-json "$channels" --room "${SIMULATE_ROOM:-7301002}" --rate "${SIMULATE_RATE:-2}"
  ) > "$DATA/logs/simulator.log" 2>&1 &
  simulator=$!
  trap 'kill $simulator 2>/dev/null' EXIT
  say "Simulator started (SIMULATE=1): pushes to every channel with credentials, log in $DATA/logs/simulator.log"
fi

say "Serving Odoo at http://localhost:$HTTP_PORT  (login: admin  password: admin; Ctrl-C stops)"
say "The app is under the 'Live Commerce' menu. PostgreSQL keeps running: 'make stop' stops it."
"$VENV/bin/python" "$ODOO_SRC/odoo-bin" -c "$CONF" -d "$DB" "$@"
