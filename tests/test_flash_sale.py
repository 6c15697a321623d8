"""A flash sale through the real pipeline: 1,000 paid orders for one SKU, pushed in
bursts over HTTP and processed by two processors at once (tests/private_server.py).
Every order exists once, reservations never exceed the stock, the rest is short,
and conflicts between the processors are retried, not failed."""
import time
import uuid

import pytest

from .private_server import shared_private_odoo

ORDERS = 1000
STOCK = 300


@pytest.fixture(scope="module")
def private_odoo(request):
    return shared_private_odoo(request.config)


def _paid(prefix, n):
    return {"id": f"{prefix}-paid-{n}", "type": "order.paid", "occurred_at": int(time.time()), "room_id": "flash-room",
            "fan": {"platform": "douyin_shop", "id_type": "open_id", "id": f"{prefix}-buyer-{n % 400}"},
            "data": {"order_ref": f"{prefix}-{n}", "total": 9900,
                     "lines": [{"sku": f"{prefix}-SKU", "quantity": 1, "unit_price": 9900}]}}


def test_a_flash_sale_never_reserves_more_than_the_stock(private_odoo):
    odoo_ = private_odoo
    prefix = f"flash{uuid.uuid4().hex[:6]}"
    odoo_.run_odoo(f"""
        product = env["product.product"].create({{"name": "Flash scarf", "default_code": "{prefix}-SKU",
                                                  "type": "consu", "is_storable": True}})
        warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, {STOCK})
        cr.commit()
    """)
    events = [_paid(prefix, n) for n in range(ORDERS)]
    for start in range(0, ORDERS, 100):  # bursts, each delivered twice
        for _delivery in range(2):
            assert odoo_.push(events[start:start + 100], timeout=60).status_code == 200
    deadline = time.monotonic() + 900
    while True:
        processors = [odoo_.processor(batch=50) for _ in range(2)]
        for proc in processors:
            _out, err = proc.communicate(timeout=900)
            assert proc.returncode == 0, err[-3000:]
        [(pending,)] = odoo_.sql("""SELECT count(*) FROM live_event WHERE message_id LIKE %s
                                     AND state NOT IN ('done', 'failed')""", [f"{prefix}-%"])
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(2)  # events retried after a conflict wait for their backoff
    states = dict(odoo_.sql("SELECT state, count(*) FROM live_event WHERE message_id LIKE %s GROUP BY state",
                            [f"{prefix}-%"]))
    assert states == {"done": ORDERS}, states
    [(orders, refs, confirmed, short)] = odoo_.sql("""
        SELECT count(*), count(DISTINCT platform_order_ref), count(*) FILTER (WHERE state = 'sale'),
               count(*) FILTER (WHERE live_stock_short)
          FROM sale_order WHERE platform_order_ref LIKE %s""", [f"{prefix}-%"])
    assert (orders, refs, confirmed) == (ORDERS, ORDERS, ORDERS), "every order once, confirmed even when short"
    [(on_hand, reserved)] = odoo_.sql("""
        SELECT sum(q.quantity), sum(q.reserved_quantity)
          FROM stock_quant q JOIN product_product p ON p.id = q.product_id
          JOIN stock_location l ON l.id = q.location_id
         WHERE p.default_code = %s AND l.usage = 'internal'""", [f"{prefix}-SKU"])
    assert (on_hand, reserved) == (STOCK, STOCK), "reserved up to the stock, never beyond"
    assert short == ORDERS - STOCK
