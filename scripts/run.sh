#!/usr/bin/env bash
# `make run`: prepare everything, then serve live_commerce_crm with demo data.
source "$(dirname "$0")/common.sh"
prepare_all

DB=${LCC_DB:-live_commerce}
mkdir -p "$DATA/logs"
CONF=$DATA/odoo-run.conf
write_odoo_conf "$CONF" "$DB"

if [ "${LCC_RESET:-}" = 1 ]; then
  say "LCC_RESET=1: dropping database $DB to create it again"
  db_psql postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)"
fi
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
  # The demo company keeps its books with China's chart of accounts (l10n_cn, installed
  # beside the addon, not one of its dependencies). Chinese is the users' language,
  # English stays available in their preferences.
  say "Creating database $DB and installing $MODULE with its dependencies, demo data, China's chart of accounts (l10n_cn), Chinese and English (a few minutes)"
  odoo_bin -c "$CONF" -d "$DB" -i "$MODULE,l10n_cn" --load-language=zh_CN,en_US --stop-after-init --log-level=warn
fi
echo "$addon_hash" > "$stamp"
if [ "$state" = installed ]; then
  # Databases made when only Chinese was loaded: English comes back as a choice.
  if [ -z "$(db_psql "$DB" -c "SELECT 1 FROM res_lang WHERE code = 'en_US' AND active")" ]; then
    say "Activating English beside Chinese in $DB (each user chooses in their preferences)"
    db_psql "$DB" -c "UPDATE res_lang SET active = true WHERE code = 'en_US'"
  fi
  if [ "$(db_psql "$DB" -c "SELECT demo FROM ir_module_module WHERE name = '$MODULE'")" = t ] \
      && [ -z "$(db_psql "$DB" -c "SELECT 1 FROM ir_model_data WHERE module = '$MODULE' AND name = 'demo_company'")" ]; then
    say "Note: $DB holds the demo of an earlier version (no Chinese company, orders made by hand): LCC_RESET=1 creates it again"
  fi
fi

if [ "${SIMULATE:-}" = 1 ]; then
  # Douyin shop, Kuaishou, WeChat Channels and TikTok push only ids: the job runner
  # fetches their orders from the platform's API, here a local stand-in speaking each
  # platform's order API (scripts/platform_sandbox.py). The demo channels of those
  # platforms get its URL as their API Base URL, their backstop (off in the demo data:
  # fake credentials) and order API tokens if they have none; the simulator registers each app with its channel's tokens and each order
  # it sells before it pushes the order's id.
  SANDBOX_PORT=${LCC_SANDBOX_PORT:-8290}
  SANDBOX_URL=http://127.0.0.1:$SANDBOX_PORT
  db_psql "$DB" -c "UPDATE live_channel SET api_base_url = '$SANDBOX_URL', backstop_enabled = TRUE,
      api_access_token = coalesce(api_access_token, 'sandbox-at-' || md5(random()::text)),
      api_token_expires_at = coalesce(api_token_expires_at, now() AT TIME ZONE 'UTC' + interval '2 hours'),
      api_refresh_token = CASE WHEN platform = 'wechat_channels_shop' THEN api_refresh_token
                               ELSE coalesce(api_refresh_token, 'sandbox-rt-' || md5(random()::text)) END,
      api_refresh_expires_at = CASE WHEN platform = 'wechat_channels_shop' THEN api_refresh_expires_at
                               ELSE coalesce(api_refresh_expires_at, now() AT TIME ZONE 'UTC' + interval '30 days') END,
      api_sign_secret = CASE WHEN platform = 'kuaishou_shop' THEN coalesce(api_sign_secret, 'sandbox-sign-secret')
                             ELSE api_sign_secret END,
      api_shop_cipher = CASE WHEN platform = 'tiktok_shop' THEN coalesce(api_shop_cipher, 'GCP_sandbox')
                             ELSE api_shop_cipher END
    WHERE active AND platform IN ('douyin_shop', 'kuaishou_shop', 'wechat_channels_shop', 'tiktok_shop')
      AND id IN (SELECT res_id FROM ir_model_data WHERE module = '$MODULE' AND model = 'live.channel')"
  # Every active channel with credentials gets a simulated live room: the room of its
  # live session (or of the channel it attaches its sessions to), signed with the
  # channel's own secrets.
  channels=$(db_psql "$DB" -c "SELECT json_agg(json_build_object('code', c.code, 'platform', c.platform,
      'app_key', c.app_key, 'app_secret', c.app_secret, 'token', c.token, 'encoding_aes_key', c.encoding_aes_key,
      'message_secret', c.message_secret, 'shop_id', c.shop_id, 'sign_secret', c.api_sign_secret,
      'shop_cipher', c.api_shop_cipher, 'access_token', c.api_access_token, 'refresh_token', c.api_refresh_token,
      'api', c.api_base_url = '$SANDBOX_URL', 'ship_mode', c.ship_mode,
      'viewer_platform', (SELECT CASE sc.platform WHEN 'wechat_channels_shop' THEN 'wechat_channels_shop' END
                            FROM live_channel sc WHERE sc.id = c.session_channel_id),
      'room', (SELECT s.room_id FROM live_session s WHERE s.channel_id = coalesce(c.session_channel_id, c.id)
                  AND s.state = 'live' AND s.room_id IS NOT NULL ORDER BY s.date_start DESC NULLS LAST LIMIT 1))
      ORDER BY c.sequence, c.id) FROM live_channel c
      WHERE c.active AND coalesce(c.app_secret, c.message_secret, c.encoding_aes_key) IS NOT NULL")
  [ -n "$channels" ] || die "SIMULATE=1: no channel with credentials in $DB"
  ! curl -s -o /dev/null "$SANDBOX_URL" \
    || die "SIMULATE=1: port $SANDBOX_PORT is in use; give the platform sandbox another one with LCC_SANDBOX_PORT"
  "$VENV/bin/python" "$ROOT/scripts/platform_sandbox.py" --port "$SANDBOX_PORT" > "$DATA/logs/sandbox.log" 2>&1 &
  sandbox=$!
  trap 'kill $sandbox 2>/dev/null' EXIT
  for _ in $(seq 50); do curl -sf "$SANDBOX_URL/_sandbox/calls" >/dev/null && break; sleep 0.2; done
  kill -0 "$sandbox" 2>/dev/null || die "SIMULATE=1: the platform sandbox did not start; see $DATA/logs/sandbox.log"
  (
    for _ in $(seq 120); do curl -sf "http://127.0.0.1:$HTTP_PORT/web/health" >/dev/null && break; sleep 1; done
    exec "$VENV/bin/python" "$ROOT/scripts/simulate.py" --url "http://127.0.0.1:$HTTP_PORT" \
      --channels-json "$channels" --sandbox-url "$SANDBOX_URL" --rate "${SIMULATE_RATE:-2}" \
      ${SIMULATE_ROOM:+--room "$SIMULATE_ROOM"} ${SIMULATE_ORDER_EVERY:+--order-every "$SIMULATE_ORDER_EVERY"}
  ) > "$DATA/logs/simulator.log" 2>&1 &
  simulator=$!
  trap 'kill $simulator $sandbox 2>/dev/null' EXIT
  say "Simulator started (SIMULATE=1): pushes to every channel with credentials, log in $DATA/logs/simulator.log"
  say "Platform order APIs: the sandbox on $SANDBOX_URL (LCC_SANDBOX_PORT), log in $DATA/logs/sandbox.log"
fi

say "Serving Odoo at http://localhost:$HTTP_PORT  (login: admin  password: admin; Ctrl-C stops)"
say "The app is under the 'Live Commerce' menu. PostgreSQL keeps running: 'make stop' stops it."
"$VENV/bin/python" "$ODOO_SRC/odoo-bin" -c "$CONF" -d "$DB" "$@"
