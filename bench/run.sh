#!/usr/bin/env bash
# Benchmarks of the webhook pipeline. Every figure is printed beside a baseline
# measured in the same run on the same machine:
#   bench/run.sh ingest     HTTP ingestion (wrk) vs an empty Odoo route and raw PostgreSQL
#   bench/run.sh process    set-based processing vs the naive ORM path
#   bench/run.sh freshness  push-to-processed lag under paced pushes at 30% and 80% of
#                           the processing rate (LCC_BENCH_MODES=all: prefork and
#                           threaded, one and two cron workers)
#   bench/run.sh orders     order import (events to confirmed orders with reserved stock)
#                           vs Odoo's batched create + action_confirm, one and two processors
#   bench/run.sh rfm        the full recompute of RFM, lifecycle and value layer over
#                           1,000,000 fans (LCC_BENCH_FANS) vs one read_group of their orders
#   bench/run.sh import     fan import wizard (100,000-row .xlsx) vs Odoo's batched ORM create
#   bench/run.sh views      the fans' list and kanban over 100,000 fans (LCC_BENCH_VIEW_FANS) through
#                           HTTP vs Odoo's contacts views on the same fans and a bare search_read
#   bench/run.sh automation the dormant rule over 1,000,000 fans (LCC_BENCH_FANS) vs one search_count,
#                           coupons for 100,000 of them vs the loyalty module's generation wizard
#   bench/run.sh sla        the first-contact SLA escalation job over 1,000 breached clocks
#                           (LCC_BENCH_SLA_CLOCKS) vs a search_count of the due clocks
#   bench/run.sh board      the figures, board and review of a session with 1,000,000 interaction
#                           events and 10,000 orders (LCC_BENCH_BOARD_EVENTS, LCC_BENCH_BOARD_ORDERS)
#                           vs one read_group of the same orders
#   bench/run.sh latency    push-to-tile: a websocket client as the host reads workbench_data on each
#                           bus notification while signed pushes bring 1,000 events/s
#                           (LCC_BENCH_LATENCY_RATE, LCC_BENCH_LATENCY_SECONDS) vs push-to-processed
#   bench/run.sh stock      stock levels to the platform: validated move to platform call (p95) and
#                           calls per 1,000 sales of one SKU (LCC_BENCH_STOCK_SALES) vs a direct
#                           call and one call per sale
#   bench/run.sh backstop   the per-channel backstop: orders per second listed from the Douyin sandbox,
#                           stored and imported (LCC_BENCH_BACKSTOP_ORDERS, 2,000) vs listing alone and
#                           the processor alone on the same snapshots
#   bench/run.sh            all of them
# Uses a fresh database `lcc_bench` (no demo data) and Odoo servers on port 8269:
# prefork with 2 workers and no cron for ingestion (measured alone), with cron
# workers for freshness.
source "$(dirname "$0")/../scripts/common.sh"
prepare_all
what=${1:-all}
command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } \
  || die "wrk is needed (Debian: apt-get install wrk)"

DB=${LCC_BENCH_DB:-lcc_bench}
PORT=${LCC_BENCH_PORT:-8269}
CONF=$DATA/odoo-bench.conf
# bench/addons holds the ingestion baselines: routes shaped like the webhook that do
# nothing, or one database round trip.
ADDONS_PATH="$ADDONS_PATH,$ROOT/bench/addons" HTTP_PORT=$PORT write_odoo_conf "$CONF" "$DB" 0
if [ "${LCC_BENCH_REUSE:-}" = 1 ] && [ -n "$(db_psql postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
  say "Reusing benchmark database $DB (LCC_BENCH_REUSE=1): upgrading the addon"
  odoo_bin -c "$CONF" -d "$DB" -u "$MODULE" --stop-after-init --log-level=warn
else
  say "Fresh benchmark database $DB"
  db_psql postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)"
  odoo_bin -c "$CONF" -d "$DB" -i "$MODULE,live_commerce_bench" --without-demo=all --stop-after-init --log-level=warn
fi

status=0
if [ "$what" = all ] || [ "$what" = process ]; then
  "$VENV/bin/python" "$ROOT/bench/processing.py" -c "$CONF" -d "$DB" || status=1
fi
if [ "$what" = all ] || [ "$what" = orders ]; then
  "$VENV/bin/python" "$ROOT/bench/orders.py" -c "$CONF" -d "$DB" ${LCC_BENCH_ORDERS:+--orders "$LCC_BENCH_ORDERS"} \
    || status=1
fi
if [ "$what" = all ] || [ "$what" = import ]; then
  "$VENV/bin/python" "$ROOT/bench/fan_import.py" -c "$CONF" -d "$DB" ${LCC_BENCH_IMPORT_ROWS:+--rows "$LCC_BENCH_IMPORT_ROWS"} \
    || status=1
fi
if [ "$what" = all ] || [ "$what" = freshness ]; then
  curl -sf "http://127.0.0.1:$PORT/web/health" >/dev/null && die "Port $PORT is taken: stop what listens there first."
  mkdir -p "$DATA/logs"
  "$VENV/bin/python" "$ROOT/bench/freshness.py" -c "$CONF" -d "$DB" --odoo-bin "$ODOO_SRC/odoo-bin" --port "$PORT" \
    --dsn "host=$DB_HOST port=$DB_PORT user=$DB_USER dbname=$DB" --logfile "$DATA/logs/bench-freshness.log" \
    ${LCC_BENCH_MODES:+--modes "$LCC_BENCH_MODES"} ${LCC_BENCH_FRESH_SECONDS:+--seconds "$LCC_BENCH_FRESH_SECONDS"} \
    || status=1
fi
if [ "$what" = all ] || [ "$what" = latency ]; then
  curl -sf "http://127.0.0.1:$PORT/web/health" >/dev/null && die "Port $PORT is taken: stop what listens there first."
  mkdir -p "$DATA/logs"
  "$VENV/bin/python" "$ROOT/bench/workbench_latency.py" -c "$CONF" -d "$DB" --odoo-bin "$ODOO_SRC/odoo-bin" \
    --port "$PORT" --dsn "host=$DB_HOST port=$DB_PORT user=$DB_USER dbname=$DB" \
    --logfile "$DATA/logs/bench-latency.log" ${LCC_BENCH_LATENCY_SECONDS:+--seconds "$LCC_BENCH_LATENCY_SECONDS"} \
    ${LCC_BENCH_LATENCY_RATE:+--rate "$LCC_BENCH_LATENCY_RATE"} || status=1
fi
if [ "$what" = all ] || [ "$what" = ingest ]; then
  read -r CHANNEL_ID < <(db_psql "$DB" -c "
    INSERT INTO live_channel (name, code, platform, ship_mode, company_id, app_secret, active, sequence)
    VALUES ('bench', 'bench', 'generic', 'platform', 1, 'bench-secret', true, 10)
    ON CONFLICT (code) DO UPDATE SET app_secret = EXCLUDED.app_secret RETURNING id")
  curl -sf "http://127.0.0.1:$PORT/web/health" >/dev/null && die "Port $PORT is taken: stop what listens there first."
  "$VENV/bin/python" "$ODOO_SRC/odoo-bin" -c "$CONF" -d "$DB" --workers=${LCC_BENCH_WORKERS:-2} --max-cron-threads=0 --gevent-port=$((PORT + 3)) \
    --log-level=warn --logfile="$DATA/logs/bench-server.log" &
  server=$!
  trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
  for _ in $(seq 60); do curl -sf "http://127.0.0.1:$PORT/web/health" >/dev/null && break; sleep 1; done
  "$VENV/bin/python" "$ROOT/bench/ingest.py" --url "http://127.0.0.1:$PORT" --code bench --secret bench-secret \
    --dsn "host=$DB_HOST port=$DB_PORT user=$DB_USER dbname=$DB" --channel-id "$CHANNEL_ID" \
    ${LCC_BENCH_SECONDS:+--seconds "$LCC_BENCH_SECONDS"} || status=1
fi
if [ "$what" = all ] || [ "$what" = rfm ]; then
  # LCC_BENCH_REUSE=1 also keeps the fans and orders of the last run (their figures reset).
  reuse=; [ "${LCC_BENCH_REUSE:-}" = 1 ] && reuse=--reuse
  "$VENV/bin/python" "$ROOT/bench/rfm.py" -c "$CONF" -d "$DB" ${LCC_BENCH_FANS:+--fans "$LCC_BENCH_FANS"} $reuse \
    || status=1
fi
if [ "$what" = all ] || [ "$what" = automation ]; then
  reuse=; [ "${LCC_BENCH_REUSE:-}" = 1 ] && reuse=--reuse
  "$VENV/bin/python" "$ROOT/bench/automation.py" -c "$CONF" -d "$DB" ${LCC_BENCH_FANS:+--fans "$LCC_BENCH_FANS"} \
    ${LCC_BENCH_HIT:+--hit "$LCC_BENCH_HIT"} ${LCC_BENCH_STEP_FANS:+--step-fans "$LCC_BENCH_STEP_FANS"} $reuse \
    || status=1
fi
if [ "$what" = all ] || [ "$what" = views ]; then
  curl -sf "http://127.0.0.1:$PORT/web/health" >/dev/null && die "Port $PORT is taken: stop what listens there first."
  mkdir -p "$DATA/logs"
  "$VENV/bin/python" "$ROOT/bench/fan_views.py" -c "$CONF" -d "$DB" --odoo-bin "$ODOO_SRC/odoo-bin" --port "$PORT" \
    --logfile "$DATA/logs/bench-views.log" ${LCC_BENCH_VIEW_FANS:+--fans "$LCC_BENCH_VIEW_FANS"} || status=1
fi
if [ "$what" = all ] || [ "$what" = sla ]; then
  "$VENV/bin/python" "$ROOT/bench/sla.py" -c "$CONF" -d "$DB" ${LCC_BENCH_SLA_CLOCKS:+--clocks "$LCC_BENCH_SLA_CLOCKS"} \
    || status=1
fi
if [ "$what" = all ] || [ "$what" = stock ]; then
  "$VENV/bin/python" "$ROOT/bench/stock_sync.py" -c "$CONF" -d "$DB" ${LCC_BENCH_STOCK_SALES:+--sales "$LCC_BENCH_STOCK_SALES"} \
    || status=1
fi
if [ "$what" = all ] || [ "$what" = board ]; then
  "$VENV/bin/python" "$ROOT/bench/board.py" -c "$CONF" -d "$DB" ${LCC_BENCH_BOARD_EVENTS:+--events "$LCC_BENCH_BOARD_EVENTS"} \
    ${LCC_BENCH_BOARD_ORDERS:+--orders "$LCC_BENCH_BOARD_ORDERS"} || status=1
fi
if [ "$what" = all ] || [ "$what" = backstop ]; then
  "$VENV/bin/python" "$ROOT/bench/backstop.py" -c "$CONF" -d "$DB" \
    ${LCC_BENCH_BACKSTOP_ORDERS:+--orders "$LCC_BENCH_BACKSTOP_ORDERS"} || status=1
fi
exit $status
