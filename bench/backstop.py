"""The per-channel backstop's throughput: orders listed from a local platform API
server, stored as snapshots and imported as confirmed sale orders, beside baselines
measured in the same run.

Usage (bench/run.sh backstop does it): python bench/backstop.py -c ODOO_CONF -d DB [--orders N]

The platform sandbox (scripts/platform_sandbox.py) serves Douyin's API in this
process and holds N paid orders (one SKU found by its merchant code, in stock) that
no push announced, updated over the last hour. Timed:

  * baseline 1, listing alone: the same order.searchList pages (100 orders each)
    read through the client, nothing stored;
  * the backstop job (models/live_channel_backstop.py): list, store the snapshots,
    commit the cursor per page;
  * baseline 2, the processor alone: applying the stored snapshots (what a push of
    the same orders costs once fetched): confirmed sale orders with reserved stock;
  * the backstop end to end: job + processor, in orders per second, and its ratio to
    the processor alone;
  * a second run over the same hour: every order listed again, nothing new.
"""
import os
import sys
import time
from datetime import datetime, timezone

from odoo import SUPERUSER_ID, api

from odoo_bench import bench_parser, open_registry  # bench/, the script's folder

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from platform_sandbox import PlatformSandbox  # noqa: E402

PLATFORM, CODE, SKU, MERCHANT_CODE = "douyin_shop", "backstop-bench", "1790000000007777", "BS-BENCH-SCARF"
BATCH = 100


def utc(unix_seconds):
    return unix_seconds and datetime.fromtimestamp(int(unix_seconds), timezone.utc).replace(tzinfo=None)


def setup(env, sandbox, count, run_id):
    token = sandbox.add_app(PLATFORM, "backstop-bench-app", "backstop-bench-secret")
    vals = {"name": CODE, "code": CODE, "platform": PLATFORM, "app_key": "backstop-bench-app",
            "app_secret": "backstop-bench-secret", "api_base_url": sandbox.url, "backstop_enabled": True,
            "backstop_orders_until": False, "backstop_refunds_until": False, "backstop_cursor": False,
            "api_access_token": token["access_token"], "api_token_expires_at": utc(token["expires_at"]),
            "api_refresh_token": token.get("refresh_token"),
            "api_refresh_expires_at": utc(token.get("refresh_expires_at"))}
    channel = env["live.channel"].with_context(active_test=False).search([("code", "=", CODE)])
    channel = channel.write(vals) and channel if channel else env["live.channel"].create(vals)
    product = env["product.product"].search([("default_code", "=", MERCHANT_CODE)], limit=1) or \
        env["product.product"].create({"name": "Backstop bench scarf", "default_code": MERCHANT_CODE, "type": "consu",
                                       "is_storable": True, "list_price": 19.9})
    env["stock.quant"]._update_available_quantity(product, channel._order_warehouse().lot_stock_id, count * 2)
    now = int(time.time())
    for n in range(count):
        sandbox.add_order(PLATFORM, f"69{run_id}{n:08d}", lines=[{
            "sku": SKU, "merchant_code": MERCHANT_CODE, "name": "Scarf", "quantity": 1, "unit_price": 1990}],
            buyer=f"bench-buyer-{n % 500}", created_at=now - 3600, updated_at=now - 3600 + n * 3000 // count)
    env.cr.commit()
    return channel.id


def process_all(env):
    while env["live.event"]._process_batch(BATCH):
        env.cr.commit()
    env.cr.commit()


def main():
    parser = bench_parser()
    parser.add_argument("--orders", type=int, default=2000)
    args = parser.parse_args()
    registry = open_registry(args)
    sandbox = PlatformSandbox().start()
    run_id = str(int(time.time()))[-6:]
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            process_all(env)  # whatever an earlier run left in the inbox
            channel_id = setup(env, sandbox, args.orders, run_id)
            channel = env["live.channel"].browse(channel_id)
            refs = [f"69{run_id}{n:08d}" for n in range(args.orders)]

            # Baseline 1: the pages alone, through the client, nothing stored.
            client, now = channel._api_client(), int(time.time())
            started, listed, cursor = time.perf_counter(), 0, None
            while True:
                page = client.list_orders_since(now - 86400, now, cursor)
                listed += len(page.orders)
                cursor = page.cursor
                if not cursor:
                    break
            listing = time.perf_counter() - started
            assert listed == args.orders, (listed, args.orders)

            # The backstop job, then the processor on what it stored.
            started = time.perf_counter()
            channel._job_backstop()
            cr.commit()
            job = time.perf_counter() - started
            env.invalidate_all()
            stored = channel.backstop_last_count
            started = time.perf_counter()
            process_all(env)
            processing = time.perf_counter() - started
            imported = env["sale.order"].search_count([("live_channel_id", "=", channel_id),
                                                       ("platform_order_ref", "in", refs), ("state", "=", "sale")])

            # Again over the same hour (the cursor set back): every order listed, each
            # snapshot a duplicate.
            channel.write({"backstop_orders_until": False, "backstop_refunds_until": False})
            cr.commit()
            wall, started = time.time(), time.perf_counter()
            channel._job_backstop()
            cr.commit()
            again = time.perf_counter() - started
            pages = [call for call in sandbox.calls_to(PLATFORM, "list")
                     if call["at"] >= wall and call["path"] == "/order/searchList"]
            env.invalidate_all()
            new_again = channel.backstop_last_count
            process_all(env)
            after = env["sale.order"].search_count([("live_channel_id", "=", channel_id),
                                                    ("platform_order_ref", "in", refs)])
    finally:
        sandbox.stop()

    n = args.orders
    end_to_end = job + processing
    print(f"Backstop, Douyin sandbox, {n:,} orders the pushes missed (pages of 100), one process")
    print(f"{'listing alone (baseline 1)':<52} {n / listing:>9.0f} orders/s  ({listing:.2f} s)")
    print(f"{'backstop job: list + store snapshots + cursor':<52} {n / job:>9.0f} orders/s  ({job:.2f} s, "
          f"{stored:,} stored)")
    print(f"{'processor alone on the snapshots (baseline 2)':<52} {n / processing:>9.0f} orders/s  "
          f"({processing:.2f} s)")
    print(f"{'backstop end to end (job + processor)':<52} {n / end_to_end:>9.0f} orders/s  ({end_to_end:.2f} s, "
          f"{imported:,} confirmed sale orders)")
    print(f"{'ratio end to end / processor alone':<52} {processing / end_to_end:>9.2f}")
    print(f"{'ratio backstop job / listing alone':<52} {listing / job:>9.2f}")
    print(f"{'second run over the same hour (all duplicates)':<52} {n / again:>9.0f} orders/s  ({again:.2f} s, "
          f"{len(pages)} pages, {new_again} new, {after:,} sale orders)")
    ok = imported == n and after == n and new_again == 0 and stored == n and len(pages) * 100 >= n
    if not ok:
        print("FAILED: every order must be imported exactly once", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
