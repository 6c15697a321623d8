"""Deliveries validated in Odoo uploaded to the platform, as jobs, against the
platform sandbox (scripts/platform_sandbox.py): a whole order, a partial shipment
with its SKU lines, an answer lost after the platform recorded the parcel (the retry
makes no second parcel), a carrier without a company code (Needs Attention, then the
Retry Upload button), and an open refund refused in the platform's own words."""
from odoo.tests import tagged

from odoo.addons.queue_job.job import Job

from ..models.stock_picking import MAX_ATTEMPTS
from .common import ApiSandboxCase

ORDER = "6919412345670000001"


class ShipmentCase(ApiSandboxCase):
    platform = "douyin_shop"
    company_code, company_name = "shunfeng", "顺丰速运"
    # The platform's SKU ids and sub-order ids of the order's two lines.
    lines = [{"sku": "1768300000001", "quantity": 2, "unit_price": 31900, "name": "Scarf", "line_ref": ORDER + "1",
              "product_id": "3700000001"},
             {"sku": "1768300000002", "quantity": 1, "unit_price": 9900, "name": "Cup", "line_ref": ORDER + "2",
              "product_id": "3700000002"}]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel.ship_mode = "odoo"
        Product = cls.env["product.product"]
        cls.scarf = Product.create({"name": "Ship Scarf", "default_code": "S-SCARF", "type": "consu",
                                    "is_storable": True, "list_price": 319.0})
        cls.cup = Product.create({"name": "Ship Cup", "default_code": "S-CUP", "type": "consu", "is_storable": True,
                                  "list_price": 99.0})
        warehouse = cls.channel._order_warehouse()
        for product in cls.scarf | cls.cup:
            cls.env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 10)
        service = Product.create({"name": "Ship Service", "type": "service"})
        cls.carrier = cls.env["delivery.carrier"].create({"name": "SF Express", "product_id": service.id})
        cls.code = cls.env["live.carrier.code"].create({
            "platform": cls.platform, "code": cls.company_code, "name": cls.company_name,
            "carrier_id": cls.carrier.id})
        cls.buyer = cls.env["res.partner"].create({"name": "Ship Buyer"})

    def setUp(self):
        super().setUp()
        with self.sandbox.lock:
            self.sandbox.parcels.clear()
            self.sandbox._answers.clear()
            self.sandbox.refunds.clear()
        self.sandbox.add_order(self.platform, ORDER, status="paid", lines=self.lines)

    # -- helpers --------------------------------------------------------------------
    def order(self):
        order = self.env["sale.order"].create({
            "partner_id": self.buyer.id, "live_channel_id": self.channel.id, "platform_order_ref": ORDER,
            "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": line["quantity"],
                                   "platform_sku": line["sku"]})
                           for product, line in zip(self.scarf | self.cup, self.lines)]})
        order.action_confirm()
        return order

    def validate(self, picking, tracking_ref, quantities=None):
        """Validate `picking` as a user does, with `quantities` {product: qty} (all by
        default); what is left goes to a backorder."""
        for move in picking.move_ids:
            move.quantity = (quantities or {}).get(move.product_id, move.product_uom_qty)
            move.picked = True
        picking.write({"carrier_id": self.carrier.id, "carrier_tracking_ref": tracking_ref})
        picking.with_context(skip_backorder=True, picking_ids_not_to_backorder=[], skip_sms=True).button_validate()
        self.assertEqual(picking.state, "done")

    def upload_jobs(self):
        return self.env["queue.job"].search([("model_name", "=", "stock.picking"),
                                             ("method_name", "=", "_job_upload_shipments"),
                                             ("state", "=", "pending")], order="id")

    def run_upload_jobs(self):
        """Run the waiting upload jobs as the runner would (their eta included)."""
        jobs = self.upload_jobs()
        self.assertTrue(jobs, "an upload job waits")
        for record in jobs:
            self.env.flush_all()
            job = Job.load(self.env, record.uuid)
            job.set_started()
            job.perform()
            job.set_done()
            job.store()
        self.env.flush_all()
        self.env.invalidate_all()
        return jobs

    def ship_calls(self):
        return self.sandbox.calls_to(self.platform, "ship")

    def parcels(self):
        return [(parcel["tracking_ref"], parcel["company_code"], sorted(map(tuple, parcel["lines"])))
                for parcel in self.sandbox.parcels_of(self.platform, ORDER)]


@tagged("post_install", "-at_install")
class TestShipmentUploadDouyin(ShipmentCase):

    def test_validated_delivery_uploaded_by_a_job_not_in_the_click(self):
        order = self.order()
        picking = order.picking_ids
        self.validate(picking, "SF100001")
        self.assertEqual(picking.live_upload_state, "pending")
        self.assertFalse(self.ship_calls(), "nothing is sent inside the user's click")
        jobs = self.upload_jobs()
        self.assertEqual(len(jobs), 1)
        self.assertEqual(jobs.channel, "root.live_commerce.douyin_shop")
        self.run_upload_jobs()
        self.assertEqual(self.parcels(), [("SF100001", "shunfeng", [("1768300000001", 2), ("1768300000002", 1)])])
        parcel = self.sandbox.parcels_of(self.platform, ORDER)[0]
        self.assertEqual((picking.live_upload_state, picking.live_parcel_ref, picking.live_upload_attempts),
                         ("done", parcel["parcel_ref"], 1))
        self.assertTrue(parcel["request_id"], "the platform's idempotency key is sent")
        self.assertEqual(self.sandbox.orders[(self.platform, ORDER)]["status"], "shipped")

    def test_platform_shipped_channel_uploads_nothing(self):
        self.channel.ship_mode = "platform"
        order = self.order()
        self.validate(order.picking_ids, "SF100002")
        self.assertFalse(order.picking_ids.live_upload_state)
        self.assertFalse(self.upload_jobs())

    def test_partial_delivery_uploads_its_own_lines(self):
        order = self.order()
        first = order.picking_ids
        self.validate(first, "SF200001", {self.scarf: 1, self.cup: 0})
        self.run_upload_jobs()
        self.assertEqual(self.parcels(), [("SF200001", "shunfeng", [("1768300000001", 1)])])
        self.assertEqual(self.sandbox.orders[(self.platform, ORDER)]["platform_status"], 101, "partly shipped")
        backorder = order.picking_ids - first
        self.assertEqual(len(backorder), 1)
        self.validate(backorder, "SF200002")
        self.run_upload_jobs()
        self.assertEqual(self.parcels()[1], ("SF200002", "shunfeng", [("1768300000001", 1), ("1768300000002", 1)]))
        self.assertEqual((first | backorder).mapped("live_upload_state"), ["done", "done"])
        self.assertEqual(self.sandbox.orders[(self.platform, ORDER)]["status"], "shipped")

    def test_answer_lost_after_upload_makes_no_second_parcel(self):
        order = self.order()
        picking = order.picking_ids
        self.validate(picking, "SF300001")
        # The platform records the parcel, then the connection drops: we never hear it.
        self.sandbox.fail(f"ship:{ORDER}", "lost")
        self.run_upload_jobs()
        self.assertEqual(len(self.parcels()), 1, "the platform has the parcel")
        self.assertEqual((picking.live_upload_state, picking.live_upload_attempts), ("retrying", 1))
        self.assertIn("服务不可用", picking.live_upload_error, "the platform's own message")
        self.run_upload_jobs()  # the retry, after its backoff
        self.assertEqual(len(self.parcels()), 1, "the retry does not make a second parcel")
        self.assertEqual(picking.live_upload_state, "done")
        self.assertEqual(picking.live_parcel_ref, self.sandbox.parcels_of(self.platform, ORDER)[0]["parcel_ref"])

    def test_missing_mapping_needs_attention_then_retry_button(self):
        self.code.carrier_id = False
        order = self.order()
        picking = order.picking_ids
        self.validate(picking, "SF400001")
        for _attempt in range(MAX_ATTEMPTS):
            self.run_upload_jobs()
        self.assertEqual((picking.live_upload_state, picking.live_upload_attempts), ("failed", MAX_ATTEMPTS))
        self.assertIn("SF Express", picking.live_upload_error)
        self.assertFalse(self.ship_calls(), "nothing to send without a company code")
        self.assertFalse(self.upload_jobs(), "given up: no more retries")
        attention = self.env["ir.actions.act_window"]._for_xml_id("live_commerce_crm.action_live_orders_attention")
        self.assertTrue(order.live_upload_failed)
        self.assertIn(order, self.env["sale.order"].search([("live_attention", "=", True)]),
                      "the order is in Orders Needing Attention")
        self.assertIn("live_attention", attention["context"])
        # Mapped now: the user clicks Retry Upload on the delivery.
        self.code.carrier_id = self.carrier
        picking.action_live_retry_upload()
        self.assertEqual(picking.live_upload_state, "pending")
        self.run_upload_jobs()
        self.assertEqual(picking.live_upload_state, "done")
        self.assertEqual(len(self.parcels()), 1)
        self.assertFalse(order.live_upload_failed or order.live_attention)

    def test_open_refund_refused_with_the_platform_message(self):
        self.sandbox.add_refund(self.platform, "7260540000000000001", ORDER, 9900, state="requested",
                                lines=[["1768300000002", 1]])
        order = self.order()
        picking = order.picking_ids
        self.validate(picking, "SF500001")
        self.run_upload_jobs()
        self.assertEqual(picking.live_upload_state, "retrying")
        self.assertIn("售后", picking.live_upload_error)
        self.assertFalse(self.parcels())

    def test_carrier_codes_loaded_from_the_platform_list(self):
        self.code.unlink()
        self.carrier.name = "顺丰速运"
        self.channel.action_load_carrier_codes()
        mine = [("platform", "=", self.platform), ("company_id", "=", self.channel.company_id.id)]
        codes = self.env["live.carrier.code"].search(mine)
        self.assertIn("zhongtong", codes.mapped("code"))
        self.assertEqual(codes.filtered(lambda c: c.code == "shunfeng").carrier_id, self.carrier,
                         "matched to the Odoo carrier of the same name")
        self.channel.action_load_carrier_codes()
        self.assertEqual(self.env["live.carrier.code"].search_count(mine), len(codes), "listed once")


@tagged("post_install", "-at_install")
class TestShipmentUploadWechat(ShipmentCase):
    platform = "wechat_channels_shop"
    company_code, company_name = "SF", "顺丰速运"

    def test_partial_delivery_uploads_its_product_infos(self):
        order = self.order()
        first = order.picking_ids
        self.validate(first, "SF600001", {self.scarf: 0, self.cup: 1})
        self.run_upload_jobs()
        self.assertEqual(self.parcels(), [("SF600001", "SF", [("1768300000002", 1)])])
        self.assertEqual(first.live_upload_state, "done")
        self.assertEqual(self.sandbox.orders[(self.platform, ORDER)]["platform_status"], 21, "partly shipped")

    def test_answer_lost_after_upload_checked_before_sending_again(self):
        order = self.order()
        picking = order.picking_ids
        self.validate(picking, "SF700001")
        self.sandbox.fail(f"ship:{ORDER}", "lost")
        self.run_upload_jobs()
        self.assertEqual((picking.live_upload_state, len(self.parcels())), ("retrying", 1))
        self.run_upload_jobs()
        self.assertEqual(len(self.ship_calls()), 1, "WeChat has no idempotency key: the order is read, not re-sent")
        self.assertEqual(len(self.parcels()), 1)
        self.assertEqual((picking.live_upload_state, picking.live_parcel_ref), ("done", "SF700001"))

    def test_unknown_company_code_refused_with_the_platform_message(self):
        self.code.code = "NOPE"
        order = self.order()
        picking = order.picking_ids
        self.validate(picking, "SF800001")
        self.run_upload_jobs()
        self.assertEqual(picking.live_upload_state, "retrying")
        self.assertIn("delivery_id invalid", picking.live_upload_error)


@tagged("post_install", "-at_install")
class TestShipmentUploadKuaishou(ShipmentCase):
    platform = "kuaishou_shop"
    company_code, company_name = "4", "顺丰速运"
    lines = [{"sku": "1768300000001", "quantity": 2, "unit_price": 31900, "name": "Scarf"}]

    def order(self):
        order = self.env["sale.order"].create({
            "partner_id": self.buyer.id, "live_channel_id": self.channel.id, "platform_order_ref": ORDER,
            "order_line": [(0, 0, {"product_id": self.scarf.id, "product_uom_qty": 2,
                                   "platform_sku": "1768300000001"})]})
        order.action_confirm()
        return order

    def test_whole_order_uploaded_with_its_express_code(self):
        order = self.order()
        self.validate(order.picking_ids, "SF900001")
        self.run_upload_jobs()
        self.assertEqual(self.parcels(), [("SF900001", "4", [("1768300000001", 2)])])
        self.assertEqual(order.picking_ids.live_upload_state, "done")

    def test_partial_delivery_refused_whole_orders_only(self):
        order = self.order()
        first = order.picking_ids
        self.validate(first, "SF900002", {self.scarf: 1})
        self.run_upload_jobs()
        self.assertEqual(first.live_upload_state, "retrying")
        self.assertIn("whole orders only", first.live_upload_error)
        self.assertFalse(self.ship_calls(), "nothing sent")


@tagged("post_install", "-at_install")
class TestShipmentUploadTiktok(ShipmentCase):
    """TikTok Shop: a package names the order's line items, one per unit; no idempotency key."""
    platform = "tiktok_shop"
    company_code, company_name = "6617675021119438849", "USPS"

    def packaged_items(self):
        """{line item id: (sku_id, package_id)} of the order as the platform renders it."""
        platform = self.sandbox.platforms[self.platform]
        with self.sandbox.lock:
            document = platform.order_document(self.sandbox.orders[(self.platform, ORDER)])
        return {item["id"]: (item["sku_id"], item.get("package_id")) for item in document["line_items"]}

    def test_validated_delivery_uploaded_with_every_unit(self):
        order = self.order()
        picking = order.picking_ids
        self.validate(picking, "TT100001")
        self.assertFalse(self.ship_calls(), "nothing is sent inside the user's click")
        self.sandbox.expire_access_tokens(self.platform)  # the job refreshes the token
        self.run_upload_jobs()
        self.assertEqual(self.parcels(), [("TT100001", self.company_code,
                                           [("1768300000001", 2), ("1768300000002", 1)])])
        self.assertTrue(all(package for _sku, package in self.packaged_items().values()), "every unit shipped")
        parcel = self.sandbox.parcels_of(self.platform, ORDER)[0]
        self.assertEqual((picking.live_upload_state, picking.live_parcel_ref), ("done", parcel["parcel_ref"]),
                         "the platform's package_id")
        self.assertEqual(self.sandbox.orders[(self.platform, ORDER)]["status"], "shipped")

    def test_partial_shipment_names_a_subset_of_the_units(self):
        order = self.order()
        first = order.picking_ids
        self.validate(first, "TT200001", {self.scarf: 1, self.cup: 0})
        self.run_upload_jobs()
        self.assertEqual(self.parcels(), [("TT200001", self.company_code, [("1768300000001", 1)])])
        packaged = [sku for sku, package in self.packaged_items().values() if package]
        self.assertEqual(packaged, ["1768300000001"], "one unit of the scarf, not the line")
        self.assertEqual(self.sandbox.orders[(self.platform, ORDER)]["status"], "paid", "partly shipped")
        backorder = order.picking_ids - first
        self.validate(backorder, "TT200002")
        self.run_upload_jobs()
        self.assertEqual(self.parcels()[1], ("TT200002", self.company_code,
                                             [("1768300000001", 1), ("1768300000002", 1)]),
                         "the units not in a package yet")
        self.assertEqual((first | backorder).mapped("live_upload_state"), ["done", "done"])
        self.assertEqual(self.sandbox.orders[(self.platform, ORDER)]["status"], "shipped")

    def test_answer_lost_after_upload_makes_no_second_package(self):
        order = self.order()
        picking = order.picking_ids
        self.validate(picking, "TT300001")
        self.sandbox.fail(f"ship:{ORDER}", "lost")
        self.run_upload_jobs()
        self.assertEqual((picking.live_upload_state, len(self.parcels())), ("retrying", 1))
        self.assertIn("Internal error", picking.live_upload_error, "the platform's own message")
        self.run_upload_jobs()
        self.assertEqual(len(self.ship_calls()), 1, "no idempotency key: the order's packages are read, not re-sent")
        self.assertEqual(len(self.parcels()), 1)
        self.assertEqual((picking.live_upload_state, picking.live_parcel_ref), ("done", "TT300001"))

    def test_open_return_refused_with_the_platform_message(self):
        self.sandbox.add_refund(self.platform, "4035000000000001", ORDER, 9900, state="requested",
                                lines=[["1768300000002", 1]])
        order = self.order()
        self.validate(order.picking_ids, "TT400001")
        self.run_upload_jobs()
        self.assertEqual(order.picking_ids.live_upload_state, "retrying")
        self.assertIn("pending cancellation or return", order.picking_ids.live_upload_error)
        self.assertFalse(self.parcels())

    def test_carrier_codes_loaded_from_the_shipping_providers(self):
        self.code.unlink()
        self.carrier.name = "USPS"
        self.channel.action_load_carrier_codes()
        mine = [("platform", "=", self.platform), ("company_id", "=", self.channel.company_id.id)]
        codes = self.env["live.carrier.code"].search(mine)
        self.assertEqual(sorted(codes.mapped("name")), ["FedEx", "UPS", "USPS"],
                         "every delivery option's providers, each once")
        self.assertEqual(codes.filtered(lambda c: c.name == "USPS").code, "6617675021119438849")
        self.assertEqual(codes.filtered(lambda c: c.name == "USPS").carrier_id, self.carrier)
