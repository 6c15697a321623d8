"""The review PDF of a session, rendered by wkhtmltopdf as users get it, and read
back: its first page as an image, its text with pdftotext."""
import base64
import io
import shutil
import subprocess
import tempfile
import zipfile

from lxml import etree
from PIL import Image

from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestSessionReview(TransactionCase):
    # Not an HttpCase: there, wkhtmltopdf's requests for the report's styles go to a
    # server in test mode, sharing the test's cursor, and the PDF came out as two
    # blank pages.

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel = cls.env["live.channel"].create({
            "name": "Review", "code": "review", "platform": "generic", "app_secret": "s"})
        cls.product = cls.env["product.product"].create({"name": "Cashmere Scarf", "list_price": 10.0})
        cls.host = cls.env.ref("base.user_admin")
        cls.earlier = cls.env["live.session"].create({
            "name": "Autumn Warm-up", "channel_id": cls.channel.id, "host_id": cls.host.id,
            "date_scheduled_start": "2026-11-01 12:00:00"})
        cls.session = cls.env["live.session"].create({
            "name": "Review Night Special", "channel_id": cls.channel.id, "host_id": cls.host.id,
            "date_scheduled_start": "2026-11-20 12:00:00", "ad_spend": 100.0})
        buyer = cls.env["res.partner"].create({"name": "Reviewed Buyer"})
        for ref, session, qty in (("RV1", cls.session, 3), ("RV2", cls.session, 2), ("RV0", cls.earlier, 1)):
            order = cls.env["sale.order"].create({
                "partner_id": buyer.id, "live_channel_id": cls.channel.id, "live_session_id": session.id,
                "platform_order_ref": ref,
                "order_line": [(0, 0, {"product_id": cls.product.id, "product_uom_qty": qty, "price_unit": 123.45,
                                       "tax_id": False})]})
            order.platform_paid_at = "2026-11-20 12:30:00"

    def _pdftool(self, *args):
        return subprocess.run(args, check=True, capture_output=True, timeout=120).stdout

    def test_review_pdf_renders_with_figures_and_its_first_page_is_an_a4_image(self):
        for tool in ("wkhtmltopdf", "pdftoppm", "pdftotext"):
            self.assertTrue(shutil.which(tool), f"{tool} is needed (apt-get install wkhtmltopdf poppler-utils)")
        # 5 units x 123.45 = 617.25 of GMV in this session; the host's earlier one sold 123.45.
        self.assertAlmostEqual(self.session.gmv, 617.25)
        pdf, kind = self.env["ir.actions.report"].with_context(force_report_rendering=True)._render_qweb_pdf(
            "live_commerce_crm.action_report_live_session_review", self.session.ids)
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        with tempfile.TemporaryDirectory() as tmp:
            path = f"{tmp}/review.pdf"
            with open(path, "wb") as file:
                file.write(pdf)
            text = self._pdftool("pdftotext", "-layout", path, "-").decode()
            png = self._pdftool("pdftoppm", "-f", "1", "-l", "1", "-r", "50", "-png", path)
        self.assertIn("Review Night Special", text)
        self.assertIn("617.25", text)                 # GMV
        self.assertIn("Cashmere Scarf", text)         # top products
        self.assertIn("Reviewed Buyer", text)         # top fans
        self.assertIn("Autumn Warm-up", text)         # the host's last sessions
        self.assertIn("Conversion (buyers / UV)", text)
        image = Image.open(io.BytesIO(png)).convert("L")
        # A4 at 50 dpi: 8.27 x 11.69 inches = 413 x 584 pixels (pdftoppm rounds up).
        self.assertLessEqual(abs(image.width - 414), 2)
        self.assertLessEqual(abs(image.height - 585), 2)
        inked = sum(1 for pixel in image.getdata() if pixel < 200)
        self.assertGreater(inked, image.width * image.height // 100, "the first page is not blank: 1% inked at least")

    def test_review_xlsx_has_one_sheet_each_and_the_orders_add_up_to_the_gmv(self):
        wizard = self.env["live.session.export.wizard"].with_context(
            active_model="live.session", active_ids=self.session.ids).create({})
        self.assertEqual(wizard.session_ids, self.session)
        wizard.action_export()
        book = zipfile.ZipFile(io.BytesIO(base64.b64decode(wizard.data)))
        ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
        workbook = etree.fromstring(book.read("xl/workbook.xml"))
        self.assertEqual([s.get("name") for s in workbook.iterfind("m:sheets/m:sheet", ns)],
                         ["Figures", "Orders", "Products", "Fans"])
        strings = [si.findtext("m:t", namespaces=ns) for si in
                   etree.fromstring(book.read("xl/sharedStrings.xml")).iterfind("m:si", ns)]

        def cells(number):
            rows = {}
            for cell in etree.fromstring(book.read(f"xl/worksheets/sheet{number}.xml")).iterfind(".//m:c", ns):
                value = cell.findtext("m:v", namespaces=ns)
                if value is not None:
                    rows[cell.get("r")] = strings[int(value)] if cell.get("t") == "s" else float(value)
            return rows

        figures, orders, products = cells(1), cells(2), cells(3)
        self.assertEqual((figures["A2"], figures["I1"], figures["I2"]), ("Review Night Special", "GMV", 617.25))
        self.assertEqual(figures["P1"], "Conversion (buyers / UV)")
        # Orders: RV1 (3 x 123.45 = 370.35) and RV2 (2 x 123.45 = 246.90): 617.25, the session's GMV.
        self.assertEqual(orders["F1"], "GMV")
        self.assertAlmostEqual(sum(value for ref, value in orders.items() if ref.startswith("F") and ref != "F1"),
                               617.25)
        self.assertNotIn("F4", orders)  # two paid orders, not the earlier session's
        self.assertEqual((products["A2"], products["B2"], products["C2"]), ("Cashmere Scarf", 5.0, 617.25))

    def test_review_xlsx_of_a_period_holds_the_sessions_scheduled_in_it(self):
        wizard = self.env["live.session.export.wizard"].create({
            "scope": "period", "date_from": "2026-11-15", "date_to": "2026-11-20", "channel_ids": self.channel.ids})
        self.assertEqual(wizard._sessions(), self.session)  # the Autumn Warm-up (Nov 1st) is before
        wizard.date_from = "2026-11-01"
        self.assertEqual(wizard._sessions(), self.earlier | self.session)
        wizard.action_export()
        self.assertTrue(wizard.filename.endswith(".xlsx"))
