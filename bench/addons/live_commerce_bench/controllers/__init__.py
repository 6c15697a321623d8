from odoo import http
from odoo.http import request


class EmptyRoute(http.Controller):
    """The baseline of the ingestion benchmark: same routing options as the webhook
    (POST, auth none, no CSRF, no session, read/write transaction), and no work."""

    @http.route("/live_commerce_bench/empty/<string:code>", type="http", auth="none", methods=["POST"],
                csrf=False, save_session=False, readonly=False)
    def empty(self, code, **_kwargs):
        return request.make_response(b'{"accepted":0,"duplicates":0}', headers=[("Content-Type", "application/json")])
