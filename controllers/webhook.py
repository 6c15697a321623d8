import logging

from odoo import http
from odoo.http import request

from ..models.platforms import InboundRequest, Rejected, get_adapter

_logger = logging.getLogger(__name__)


class LiveCommerceWebhook(http.Controller):
    """Platform pushes: authenticate, store, answer. Nothing else happens here.

    Business logic runs later in the processors (live.event.processor); the
    request does one idempotent INSERT into the inbox, so a redelivered push, or a
    request Odoo retries after a serialization failure, changes nothing.
    """

    @http.route(["/live_commerce/webhook/<string:code>"], type="http", auth="none", methods=["GET", "POST"],
                csrf=False, save_session=False, readonly=False)
    def webhook(self, code, **_kwargs):
        if not request.db:
            # Reached through the server-wide routing while the database is down:
            # 503 makes the platform retry instead of dropping the push.
            return request.make_response("database unavailable, retry later", status=503,
                                         headers=[("Retry-After", "5"), ("Content-Type", "text/plain")])
        env = request.env(su=True)
        creds = env["live.channel"]._webhook_credentials(code)
        if creds is None:
            return request.make_json_response({"error": "unknown channel"}, status=404)
        adapter = get_adapter(creds.platform)
        httprequest = request.httprequest
        limit = creds.max_body_bytes
        try:
            # Refused before reading when announced; chunked bodies carry no length.
            if (httprequest.content_length or 0) > limit:
                raise Rejected(413, f"Body larger than {limit} bytes")
            body = httprequest.get_data(cache=True) if httprequest.method == "POST" else b""
            if len(body) > limit:
                raise Rejected(413, f"Body larger than {limit} bytes")
            inbound = InboundRequest(
                method=httprequest.method,
                headers={name.lower(): value for name, value in httprequest.headers.items()},
                query=httprequest.args.to_dict(),
                body=body,
            )
            if httprequest.method == "GET":
                reply = adapter.challenge(creds, inbound)
                if reply is None:
                    raise Rejected(405, "This platform does not verify its URL with GET")
            else:
                accepted, duplicates = env["live.event"]._store(creds, adapter.parse(creds, inbound))
                reply = adapter.ack(accepted, duplicates)
        except Rejected as rejected:
            if rejected.status == 401:
                env["live.channel"]._count_rejected_push(creds.id)
            _logger.info("Webhook %s (%s): %s %s", code, creds.platform, rejected.status, rejected.message)
            reply = adapter.reject(rejected)
        return request.make_response(reply.body, status=reply.status, headers=[("Content-Type", reply.content_type)])
