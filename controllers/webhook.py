import logging
import time

from odoo import http
from odoo.http import request

from ..models.platforms import InboundRequest, Rejected, get_adapter

_logger = logging.getLogger(__name__)

READ_CHUNK = 64 * 1024
LOG_EVERY = 60  # seconds: one log line per channel and status, with the count since
_log_state = {}  # (database, code, status) -> [last logged (monotonic), refused since]


class LiveCommerceWebhook(http.Controller):
    """Platform pushes: authenticate, store, answer. Nothing else happens here.

    Business logic runs later in the processors (live.event.processor); the
    request does one idempotent INSERT into the inbox, so a redelivered push, or a
    request Odoo retries after a serialization failure, changes nothing.

    What an unauthenticated caller costs (README, "Security"): an unknown code one
    indexed lookup, not cached; a bad signature the lookup (cached per known
    code), at most the body limit in memory, and one lock-free counter increment;
    never a retried transaction, never a log line per request.
    """

    @http.route(["/live_commerce/webhook/<string:code>"], type="http", auth="none", methods=["GET", "POST"],
                csrf=False, save_session=False, readonly=False, live_commerce_raw_body=True)
    def webhook(self, code, **_kwargs):
        if not request.db:
            # Reached through the server-wide routing while the database is down:
            # 503 makes the platform retry instead of dropping the push.
            return request.make_response("database unavailable, retry later", status=503,
                                         headers=[("Retry-After", "5"), ("Content-Type", "text/plain")])
        env = request.env(su=True)
        creds = env["live.channel"]._webhook_credentials(code)
        if creds is None:
            _log_refusal(code, None, 404, "unknown channel")
            return request.make_json_response({"error": "unknown channel"}, status=404,
                                              headers=[("Connection", "close")])
        adapter = get_adapter(creds.platform)
        httprequest = request.httprequest
        try:
            body = _read_body(httprequest, creds.max_body_bytes) if httprequest.method == "POST" else b""
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
                accepted, duplicates = env["live.event"]._store(creds, adapter.parse(creds, inbound), committed=True)
                reply = adapter.ack(accepted, duplicates)
        except Rejected as rejected:
            if rejected.status == 401:
                env["live.channel"]._count_rejected_push(creds.id)
            _log_refusal(code, creds.platform, rejected.status, rejected.message)
            reply = adapter.reject(rejected)
            # The rest of a refused body is never read: the connection cannot carry
            # another request after it.
            return request.make_response(reply.body, status=reply.status, headers=[
                ("Content-Type", reply.content_type), ("Connection", "close")])
        return request.make_response(reply.body, status=reply.status, headers=[("Content-Type", reply.content_type)])


def _read_body(httprequest, limit):
    """The body, read up to `limit` bytes: one byte more and the push is refused.

    Chunked bodies announce no length, and werkzeug's get_data() reads them whole
    whatever the limit. Odoo's HTTPRequest does not expose werkzeug's stream, hence
    the wrapped request (never parsed as a form for this route: see ir.http).
    """
    if (httprequest.content_length or 0) > limit:
        raise Rejected(413, f"Body larger than {limit} bytes")
    stream = httprequest._HTTPRequest__wrapped.stream
    parts, size = [], 0
    while part := stream.read(min(READ_CHUNK, limit + 1 - size)):
        parts.append(part)
        size += len(part)
        if size > limit:
            raise Rejected(413, f"Body larger than {limit} bytes")
    return b"".join(parts)


def _log_refusal(code, platform, status, message):
    """Log refusals without letting a flood fill the log: the first one, then one
    line per minute with the number refused since, per channel and status."""
    key = (request.db, code if platform else None, status)
    now = time.monotonic()
    state = _log_state.setdefault(key, [now - LOG_EVERY, 0])
    state[1] += 1
    if now - state[0] >= LOG_EVERY:
        _logger.info("Webhook %s (%s): %s %s (%s refused since the last line)",
                     code, platform or "unknown channel", status, message, state[1])
        state[0], state[1] = now, 0
