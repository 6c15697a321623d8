"""Order and refund events of the generic format: checked against the published
JSON Schema (static/schema/generic_webhook.schema.json) and turned into
orders.PlatformOrder. The schema is the contract the README documents: the events
are checked by it, not by a copy of its rules."""
import functools
import json
import os

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from .orders import Address, OrderLine, PlatformOrder, Refund, Shipment

SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "static", "schema", "generic_webhook.schema.json")
STATUS_BY_TYPE = {
    "order.created": "created", "order.paid": "paid", "order.shipped": "shipped",
    "order.completed": "completed", "order.cancelled": "cancelled",
}
REFUND_STATE_BY_TYPE = {"refund.requested": "requested", "refund.succeeded": "succeeded", "refund.updated": "requested"}


@functools.lru_cache(maxsize=1)
def _validator():
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        schema = json.load(handle)
    # Events are checked one by one: validate against the event definition.
    return Draft202012Validator(dict(schema["$defs"]["event"], **{"$defs": schema["$defs"]}))


def check_order_event(payload):
    """Raise ValueError with what is wrong and where (e.g. "data.lines[0].unit_price:
    '19.9' is not of type 'integer'") when the event breaks the schema."""
    error = best_match(_validator().iter_errors(payload))
    if error is not None:
        path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
        raise ValueError(f"{path.lstrip('.') or 'event'}: {error.message}")


def _items(lines):
    return [(str(line["sku"]), line["quantity"]) for line in lines or ()]


def order_from_event(event_type, data, fan, room_id, occurred_at):
    """What one checked generic event says of its order."""
    order_ref = str(data["order_ref"])
    if event_type in ("order.created", "order.paid", "order.updated"):
        address = data.get("address")
        return PlatformOrder(
            order_ref=order_ref, status=STATUS_BY_TYPE.get(event_type),
            lines=[OrderLine(sku=str(line["sku"]), quantity=line["quantity"], unit_price=line["unit_price"],
                             name=line.get("name") or "", discount=line.get("discount") or 0)
                   for line in data["lines"]],
            currency=data.get("currency"), shipping_fee=data.get("shipping_fee") or 0,
            discount=data.get("discount") or 0, platform_discount=data.get("platform_discount") or 0,
            paid=data.get("total"), created_at=occurred_at,
            paid_at=data.get("paid_at") or (occurred_at if event_type == "order.paid" else None),
            updated_at=occurred_at, buyer=fan, room_id=room_id,
            address=Address(**{key: address.get(key) for key in Address.__dataclass_fields__}) if address else None)
    if event_type == "order.shipped":
        return PlatformOrder(order_ref=order_ref, status="shipped", updated_at=occurred_at, buyer=fan, shipments=[
            Shipment(tracking_ref=str(data["tracking_ref"]), carrier=data.get("carrier"),
                     lines=_items(data.get("lines")), shipped_at=occurred_at)])
    if event_type in ("order.completed", "order.cancelled"):
        return PlatformOrder(order_ref=order_ref, status=STATUS_BY_TYPE[event_type], updated_at=occurred_at,
                             buyer=fan, cancel_reason=data.get("reason"))
    return PlatformOrder(order_ref=order_ref, updated_at=occurred_at, buyer=fan, refunds=[
        Refund(refund_ref=str(data["refund_ref"]), amount=data.get("amount") or 0,
               state=REFUND_STATE_BY_TYPE[event_type], return_goods=bool(data.get("return_goods")),
               lines=_items(data.get("lines")), reason=data.get("reason"), kind=data.get("kind"),
               platform_status=data.get("status"), stage=data.get("stage"),
               requested_at=None if event_type == "refund.updated" else occurred_at,
               updated_at=occurred_at, deadline=data.get("deadline"), return_carrier=data.get("return_carrier"),
               return_tracking_ref=data.get("return_tracking_ref"))])
