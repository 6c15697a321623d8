"""Order import benchmark: from stored order event to confirmed sale order with
reserved stock, against Odoo's own batched create + action_confirm of the same
orders, in the same run.

Usage (bench/run.sh orders does it): python bench/orders.py -c ODOO_CONF -d DB [--orders N]

  * baseline: sale.order.create() of 100 orders at a time, then action_confirm()
    of those 100, one commit per 100 (the fastest way Odoo itself takes orders);
  * ours, one processor: the same orders as generic order.paid events, stored
    before the clock starts, claimed and applied by the processor 100 at a time;
  * ours, two processors: twice as many orders, two processes at once.
Every order has 1 to 3 lines of 40 products with stock, from buyers already known
(the fans of the warm-up), so both sides do the same work. The CPU time of the
processes (Python) and of their PostgreSQL backends is read from /proc, for the
split. Targets: one processor >= 0.80 of the baseline; two >= 1.5 x one.
"""
import multiprocessing
import os
import sys
import time
import uuid

import odoo
from odoo import SUPERUSER_ID, api

from odoo_bench import bench_parser, open_registry  # bench/, the script's folder

BATCH = 100
PRODUCTS = 40
BUYERS = 500


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_pid(cr):
    cr.execute("SELECT pg_backend_pid()")
    return cr.fetchone()[0]


def order_lines(n):
    return [{"sku": f"BENCH-{(n * 7 + k * 13) % PRODUCTS:02d}", "quantity": 1 + (n + k) % 2,
             "unit_price": 1990 + 100 * ((n + k) % PRODUCTS)} for k in range(1 + n % 3)]


def paid_event(run_id, n):
    lines = order_lines(n)
    return {"id": f"{run_id}-{n}", "type": "order.paid", "occurred_at": time.time(), "room_id": "bench-orders-room",
            "fan": {"platform": "douyin_shop", "id_type": "open_id", "id": f"bench-buyer-{n % BUYERS}"},
            "data": {"order_ref": f"{run_id}-{n}", "total": sum(line["quantity"] * line["unit_price"] for line in lines),
                     "lines": lines}}


def setup(env):
    """The channel, 40 products with stock, and the buyers (warm-up orders)."""
    channel = env["live.channel"].search([("code", "=", "bench-orders")]) or env["live.channel"].create(
        {"name": "bench-orders", "code": "bench-orders", "platform": "generic", "app_secret": "x"})
    warehouse = channel._order_warehouse()
    Product = env["product.product"]
    for k in range(PRODUCTS):
        code = f"BENCH-{k:02d}"
        if not Product.search([("default_code", "=", code)]):
            product = Product.create({"name": f"Bench product {k}", "default_code": code, "type": "consu",
                                      "is_storable": True, "list_price": 19.9})
            env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 1_000_000)
    env.cr.commit()
    store(env, channel, [paid_event("warm" + uuid.uuid4().hex[:6], n) for n in range(BUYERS)])
    while env["live.event"]._process_batch(BATCH):
        env.cr.commit()
    return channel


def store(env, channel, events):
    from odoo.addons.live_commerce_crm.models.platforms import Credentials
    from odoo.addons.live_commerce_crm.models.platforms.base import InboxEvent
    creds = Credentials(channel.id, channel.code, "generic", channel.company_id.id, app_secret="x")
    for start in range(0, len(events), 1000):
        env["live.event"]._store(creds, [InboxEvent.make(e["id"], e["type"], e, e["room_id"], e["occurred_at"])
                                         for e in events[start:start + 1000]])
    env.cr.commit()


def run_baseline(env, channel, count):
    """Odoo's own batched create + action_confirm of the same orders."""
    buyers = {identity.value: identity.partner_id.id for identity in env["live.fan.identity"].search(
        [("value", "like", "bench-buyer-%")])}
    products = {p.default_code: p.id for p in env["product.product"].search([("default_code", "like", "BENCH-%")])}
    run_id = uuid.uuid4().hex[:8]
    vals_list = [{
        "partner_id": buyers[f"bench-buyer-{n % BUYERS}"], "live_channel_id": channel.id,
        "platform_order_ref": f"base-{run_id}-{n}", "warehouse_id": channel._order_warehouse().id,
        "order_line": [(0, 0, {"product_id": products[line["sku"]], "product_uom_qty": line["quantity"],
                               "price_unit": line["unit_price"] / 100}) for line in order_lines(n)],
    } for n in range(count)]
    python, backend = os.getpid(), backend_pid(env.cr)
    cpu = cpu_seconds(python), cpu_seconds(backend)
    start = time.perf_counter()
    for first in range(0, count, BATCH):
        env["sale.order"].create(vals_list[first:first + BATCH]).action_confirm()
        env.cr.commit()
    elapsed = time.perf_counter() - start
    return count / elapsed, cpu_seconds(python) - cpu[0], cpu_seconds(backend) - cpu[1]


def run_processor(args, queue, run_id, count, start_at):
    """One processor process (forked: Odoo's configuration and registry come with
    it, its connections do not), claiming batches of 100 until none is left."""
    registry = odoo.modules.registry.Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        python, backend = os.getpid(), backend_pid(cr)
        cr.commit()
        while time.time() < start_at:
            time.sleep(0.001)
        cpu = cpu_seconds(python), cpu_seconds(backend)
        start = time.perf_counter()
        done = 0
        while claimed := env["live.event"]._process_batch(BATCH):
            cr.commit()
            done += claimed
        elapsed = time.perf_counter() - start
        queue.put((done, elapsed, cpu_seconds(python) - cpu[0], cpu_seconds(backend) - cpu[1]))


def run_ours(args, env, channel, count, processors):
    run_id = uuid.uuid4().hex[:8]
    store(env, channel, [paid_event(run_id, n) for n in range(count)])
    queue = multiprocessing.get_context("fork").Queue()
    start_at = time.time() + 2
    procs = [multiprocessing.get_context("fork").Process(target=run_processor,
                                                         args=(args, queue, run_id, count, start_at))
             for _ in range(processors)]
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    for proc in procs:
        proc.join()
    done = sum(r[0] for r in results)
    env.cr.execute("""SELECT count(*) FILTER (WHERE state = 'sale'), count(*) FROM sale_order
                       WHERE platform_order_ref LIKE %s""", [f"{run_id}-%"])
    confirmed, total = env.cr.fetchone()
    assert done >= count and (confirmed, total) == (count, count), (done, confirmed, total, count)
    elapsed = max(r[1] for r in results)
    return count / elapsed, sum(r[2] for r in results), sum(r[3] for r in results)


def main():
    parser = bench_parser()
    parser.add_argument("--orders", type=int, default=1000)
    args = parser.parse_args()
    registry = open_registry(args)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        channel = setup(env)
        cr.commit()
    odoo.sql_db.close_all()  # the processor processes fork: no shared connection
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        channel = env["live.channel"].browse(channel.id)
        base, base_py, base_pg = run_baseline(env, channel, args.orders)
        cr.commit()
    odoo.sql_db.close_all()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        one, one_py, one_pg = run_ours(args, env, env["live.channel"].browse(channel.id), args.orders, 1)
        cr.commit()
    odoo.sql_db.close_all()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        two, two_py, two_pg = run_ours(args, env, env["live.channel"].browse(channel.id), 2 * args.orders, 2)
    ok_one, ok_two = one / base >= 0.8, two / one >= 1.5

    def split(py, pg):
        return f"CPU {py:6.1f} s Python + {pg:6.1f} s PostgreSQL ({py / (py + pg):.0%} Python)"

    print(f"Order import, {args.orders:,} orders of 1-3 lines (2x for two processors), {BATCH} per batch")
    print(f"{'Odoo batched create + action_confirm':<44} {base:>8,.1f} orders/s  {split(base_py, base_pg)}")
    print(f"{'events -> confirmed orders, one processor':<44} {one:>8,.1f} orders/s  {split(one_py, one_pg)}  "
          f"ratio {one / base:.2f} (target >= 0.80)  {'PASS' if ok_one else 'FAIL'}")
    print(f"{'events -> confirmed orders, two processors':<44} {two:>8,.1f} orders/s  {split(two_py, two_pg)}  "
          f"ratio {two / one:.2f} x one (target >= 1.5)  {'PASS' if ok_two else 'FAIL'}")
    return 0 if ok_one and ok_two else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # The processes' queue and Odoo's connection pool can keep the interpreter
    # waiting at exit once everything is printed.
    os._exit(code)
