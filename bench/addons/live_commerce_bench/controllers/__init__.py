from odoo import http
from odoo.http import request

from odoo.addons.live_commerce_crm.models.inbox_connections import inbox_connections


class EmptyRoute(http.Controller):
    """The baselines of the ingestion benchmark: same routing options as the webhook
    (POST, auth none, no CSRF, no session, read/write transaction)."""

    @http.route("/live_commerce_bench/empty/<string:code>", type="http", auth="none", methods=["POST"],
                csrf=False, save_session=False, readonly=False)
    def empty(self, code, **_kwargs):
        """No work at all: the ceiling of any route."""
        return request.make_response(b'{"accepted":0,"duplicates":0}', headers=[("Content-Type", "application/json")])

    @http.route("/live_commerce_bench/round_trip/<string:code>", type="http", auth="none", methods=["POST"],
                csrf=False, save_session=False, readonly=False)
    def round_trip(self, code, **_kwargs):
        """One prepared `SELECT 1` on the webhook's kind of connection, then the same
        answer: the ceiling of any route that writes to the database before it answers."""
        pool = inbox_connections(request.env.cr.dbname, ("PREPARE lcc_bench_round_trip AS SELECT 1",))
        pool.execute("EXECUTE lcc_bench_round_trip", ())
        return request.make_response(b'{"accepted":0,"duplicates":0}', headers=[("Content-Type", "application/json")])
