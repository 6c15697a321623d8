import json
import logging
import re
import time
from datetime import timedelta

import psycopg2.extensions
from psycopg2 import errorcodes

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .inbox_connections import inbox_connections
from .live_channel import PLATFORM_SELECTION
from .platforms.base import DEFAULT_MAX_BODY_BYTES, state_for

_logger = logging.getLogger(__name__)

EVENT_STATES = [
    ("pending", "Pending"),
    ("waiting", "Waiting for Order Import"),
    ("done", "Done"),
    ("failed", "Needs Attention"),
    ("ignored", "Ignored"),
]
# Errors that say "try again later", not "this event is wrong".
TRANSIENT_PGCODES = {
    errorcodes.SERIALIZATION_FAILURE, errorcodes.DEADLOCK_DETECTED, errorcodes.LOCK_NOT_AVAILABLE,
    errorcodes.QUERY_CANCELED,
}
MAX_ATTEMPTS = 3
MAX_TRANSIENT_ATTEMPTS = 10
DEFAULT_RETENTION_DAYS = 30
DEFAULT_BATCH_SIZE = 500
WAKEUP_RECHECK = 0.05  # seconds
_last_wakeup = {}  # database name -> time.monotonic() of this process's last wake-up check


# The insert sets no create_uid/write_uid and the row carries no company_id: each
# foreign key is one more lookup and row lock per inserted event.
_STORE_COLUMNS = """
    INSERT INTO live_event (channel_id, platform, message_id, event_type, room_id, occurred_at, payload, state,
                            error, received_at, attempts, create_date, write_date)
"""
# Parameters, in order: channel, platform, then one value (STORE_ONE) or one array
# (STORE_MANY) per column: message id, type, room, occurred at (unix seconds),
# payload (JSON text), state, note.
_STORE_ONE = _STORE_COLUMNS + """
    VALUES ($1, $2, $3, $4, $5, to_timestamp($6) AT TIME ZONE 'UTC', $7::jsonb, $8, $9,
            now() AT TIME ZONE 'UTC', 0, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
    ON CONFLICT (channel_id, message_id) DO NOTHING
    RETURNING state
"""
_STORE_MANY = _STORE_COLUMNS + """
    SELECT $1, $2, u.message_id, u.event_type, u.room_id,
           to_timestamp(u.occurred_at) AT TIME ZONE 'UTC', u.payload::jsonb, u.state, u.note,
           now() AT TIME ZONE 'UTC', 0, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
      FROM unnest($3, $4, $5, $6, $7, $8, $9) AS u(message_id, event_type, room_id, occurred_at, payload, state, note)
    ON CONFLICT (channel_id, message_id) DO NOTHING
    RETURNING state
"""


def _statement(name, types, body):
    """The PREPARE text, its EXECUTE with psycopg2 placeholders, and the plain
    statement with psycopg2 placeholders for Odoo's own cursors. `body` uses
    $1..$n once each, in order."""
    prepare = f"PREPARE {name} ({', '.join(types)}) AS {body}"
    execute = f"EXECUTE {name} ({', '.join(f'%s::{t}' for t in types)})"
    plain = re.sub(r"\$(\d+)", lambda match: f"%s::{types[int(match.group(1)) - 1]}", body)
    return prepare, execute, plain


PREPARE_ONE, EXECUTE_ONE, STORE_ONE = _statement(
    "lcc_store_one", ("int", "varchar", "varchar", "varchar", "varchar", "float8", "text", "varchar", "text"),
    _STORE_ONE)
PREPARE_MANY, EXECUTE_MANY, STORE_MANY = _statement(
    "lcc_store_many",
    ("int", "varchar", "varchar[]", "varchar[]", "varchar[]", "float8[]", "text[]", "varchar[]", "text[]"),
    _STORE_MANY)


class _UncheckedMany2one(fields.Many2one):
    """A Many2one without a foreign key in the database.

    For the inbox's channel: a foreign key makes every inserted push lock the
    channel's row (FOR KEY SHARE, written to the WAL, a MultiXact when two pushes
    overlap), and all pushes of a live room hit the same channel. The webhook only
    inserts ids of channels it has just looked up; deleting a channel deletes its
    inbox rows explicitly (live.channel.unlink).
    """

    def update_db_foreign_key(self, model, column):
        return


class LiveEvent(models.Model):
    """The webhook inbox: every accepted push, stored before anything else happens.

    Rows are written by the webhook controller with one idempotent INSERT
    (unique per channel and platform message id) and applied later by processors
    that claim them with FOR UPDATE SKIP LOCKED.
    """
    _name = "live.event"
    _description = "Webhook Event"
    _order = "id desc"
    _rec_name = "message_id"

    # Few indexes on purpose: every one costs the webhook insert and the processor's
    # update. unique(channel_id, message_id) serves lookups by channel.
    channel_id = _UncheckedMany2one("live.channel", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one(related="channel_id.company_id")
    platform = fields.Selection(PLATFORM_SELECTION, required=True, readonly=True)
    message_id = fields.Char(string="Message ID", required=True, readonly=True,
                             help="The platform's id of the message; a redelivery with the same id is a duplicate.")
    event_type = fields.Char(string="Type", required=True, readonly=True)
    room_id = fields.Char(string="Room ID", readonly=True)
    occurred_at = fields.Datetime(string="Occurred At", readonly=True)
    received_at = fields.Datetime(string="Received At", required=True, readonly=True, default=fields.Datetime.now)
    processed_at = fields.Datetime(string="Processed At", readonly=True)
    payload = fields.Json(string="Raw Payload", readonly=True)
    payload_purged = fields.Boolean(readonly=True, help="The raw payload was removed after the retention period.")
    payload_display = fields.Text(string="Payload", compute="_compute_payload_display")
    state = fields.Selection(EVENT_STATES, required=True, default="pending", readonly=True)
    attempts = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(string="Next Attempt", readonly=True)
    error = fields.Text(readonly=True)
    session_id = fields.Many2one("live.session", readonly=True, ondelete="set null")
    partner_id = fields.Many2one("res.partner", string="Fan", readonly=True, ondelete="set null")

    _sql_constraints = [
        ("message_unique", "unique(channel_id, message_id)", "This message was already received on the channel."),
    ]

    def init(self):
        # Databases created before the channel lost its foreign key.
        self.env.cr.execute("ALTER TABLE live_event DROP CONSTRAINT IF EXISTS live_event_channel_id_fkey")
        # The processors' claim query (pending rows in arrival order) and the lists
        # users watch; done rows, the bulk of the table, are in neither index.
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS live_event_pending_idx ON live_event (id) WHERE state = 'pending';
            CREATE INDEX IF NOT EXISTS live_event_attention_idx ON live_event (state, id)
                WHERE state IN ('failed', 'waiting', 'ignored');
        """)

    @api.depends("payload")
    def _compute_payload_display(self):
        for event in self:
            event.payload_display = json.dumps(event.payload, indent=2, ensure_ascii=False) if event.payload else False

    # ------------------------------------------------------------------
    # Reception (called by the controller: plain SQL, nothing else)
    # ------------------------------------------------------------------
    @api.model
    def _store(self, creds, events):
        """Insert the events idempotently, then wake the processor. Returns
        (accepted, duplicates). One INSERT ... ON CONFLICT DO NOTHING RETURNING; the
        wake-up is a second small statement, at most every WAKEUP_RECHECK seconds.
        """
        if not events:
            return 0, 0
        states = self._insert(creds, events)
        if any(state == "pending" for (state,) in states):
            self._wake_processor()
        return len(states), len(events) - len(states)

    def _insert(self, creds, events):
        if len(events) == 1:
            # The common single push: plain VALUES costs PostgreSQL half of unnest.
            event = events[0]
            params = (creds.id, creds.platform, event.message_id, event.event_type, event.room_id,
                      event.occurred_at, json.dumps(event.payload, ensure_ascii=False), event.state, event.note)
        else:
            params = (creds.id, creds.platform, [e.message_id for e in events], [e.event_type for e in events],
                      [e.room_id for e in events], [e.occurred_at for e in events],
                      [json.dumps(e.payload, ensure_ascii=False) for e in events],
                      [e.state for e in events], [e.note for e in events])
        if self._in_caller_transaction():
            self.env.cr.execute(STORE_ONE if len(events) == 1 else STORE_MANY, params)
            return self.env.cr.fetchall()
        # The request's first statement: committed on its own, before the answer.
        pool = inbox_connections(self.env.cr.dbname, (PREPARE_ONE, PREPARE_MANY))
        return pool.execute(EXECUTE_ONE if len(events) == 1 else EXECUTE_MANY, params)

    def _in_caller_transaction(self):
        """Whether the insert must join the cursor's transaction: one is open
        already, or tests share one cursor across requests."""
        cnx = getattr(self.env.cr, "_cnx", None)
        return (cnx is None or self.env.registry.in_test_mode()
                or cnx.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE)

    @api.model
    def _wake_processor(self):
        # A wake-up found pending less than WAKEUP_RECHECK seconds ago still covers
        # this push: the job it wakes claims rows until none is pending, and checks
        # once more before it ends. Skipping the check spares one statement per push.
        key = self.env.cr.dbname
        now = time.monotonic()
        if now - _last_wakeup.get(key, -WAKEUP_RECHECK) < WAKEUP_RECHECK:
            return
        _last_wakeup[key] = now
        # _xmlid_to_res_id is cached: env.ref() would query the cron's existence per push.
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id("live_commerce_crm.ir_cron_process_events",
                                                              raise_if_not_found=False)
        if not cron_id:
            return
        self.env.cr.execute("""
            INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date, write_uid, write_date)
            SELECT %(cron)s, now() AT TIME ZONE 'UTC', 1, now() AT TIME ZONE 'UTC', 1, now() AT TIME ZONE 'UTC'
             WHERE NOT EXISTS (SELECT 1 FROM ir_cron_trigger
                                WHERE cron_id = %(cron)s AND call_at <= now() AT TIME ZONE 'UTC')
            RETURNING id
        """, {"cron": cron_id})
        if self.env.cr.rowcount:
            self.env.cr.postcommit.add(self.env["ir.cron"].browse(cron_id)._notifydb)

    @api.model
    def _max_body_bytes(self):
        value = self.env["ir.config_parameter"].sudo().get_param("live_commerce_crm.webhook_max_body_bytes")
        return int(value) if value and value.isdigit() else DEFAULT_MAX_BODY_BYTES

    # ------------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------------
    @api.model
    def _claim(self, limit=DEFAULT_BATCH_SIZE, ids=None):
        """Lock a batch of due pending events for this transaction.

        SKIP LOCKED lets any number of processors (cron workers, servers) share the
        inbox: a row is in at most one batch, and a processor that dies releases its
        batch with its transaction.
        """
        self.flush_model()  # attempts and backoff written through the ORM
        self.env.cr.execute("""
            SELECT id FROM live_event
             WHERE state = 'pending'
               AND (next_attempt_at IS NULL OR next_attempt_at <= %(now)s)
               AND (%(ids)s::int[] IS NULL OR id = ANY(%(ids)s::int[]))
             ORDER BY id
             LIMIT %(limit)s
               FOR UPDATE SKIP LOCKED
        """, {"limit": limit, "ids": ids, "now": fields.Datetime.now()})
        return self.browse(row[0] for row in self.env.cr.fetchall())

    @api.model
    def _process_batch(self, limit=DEFAULT_BATCH_SIZE, ids=None):
        """Claim and apply one batch; returns the number of events claimed."""
        self._read_committed()
        events = self._claim(limit, ids)
        if events:
            self.env["live.event.processor"]._process(events)
        return len(events)

    def _read_committed(self):
        """Run a fresh processing transaction in READ COMMITTED, not Odoo's
        REPEATABLE READ: processors that meet on the same new fan wait for each
        other's advisory lock and must then see the row the other committed, and
        counters upserted by both must add up instead of failing to serialize.
        """
        if not self._in_caller_transaction():
            self.env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")

    @api.model
    def _cron_process_events(self, batch_size=DEFAULT_BATCH_SIZE, time_budget=50):
        """Work through the inbox, committing after each batch."""
        # The cron framework has already queried in this transaction: end it, so the
        # first batch runs in a fresh READ COMMITTED transaction like the others.
        self.env.cr.commit()
        deadline = time.monotonic() + time_budget
        done = 0
        while time.monotonic() < deadline:
            claimed = self._process_batch(batch_size)
            self.env.cr.commit()
            done += claimed
            if claimed < batch_size:
                break
        # Pushes committed after the last claim would wait for the next interval: any
        # pending row left makes Odoo run the job again at once (partially done).
        self.env.cr.execute("SELECT count(*) FROM (SELECT 1 FROM live_event WHERE state = 'pending' LIMIT 1000) p")
        remaining = self.env.cr.fetchone()[0]
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done

    @api.model
    def _cron_purge_payloads(self, batch_size=10000):
        """Drop the raw payload of processed events after the retention period.

        The rows stay: they are what makes a late redelivery a duplicate.
        """
        value = self.env["ir.config_parameter"].sudo().get_param("live_commerce_crm.event_retention_days")
        days = int(value) if value and value.isdigit() else DEFAULT_RETENTION_DAYS
        cutoff = fields.Datetime.now() - timedelta(days=days)
        total = 0
        while True:
            self.env.cr.execute("""
                UPDATE live_event SET payload = NULL, payload_purged = TRUE
                 WHERE id IN (SELECT id FROM live_event
                               WHERE state IN ('done', 'ignored') AND payload IS NOT NULL
                                 AND coalesce(processed_at, received_at) < %s
                               LIMIT %s)
            """, (cutoff, batch_size))
            total += self.env.cr.rowcount
            if self.env.cr.rowcount < batch_size:
                break
        self.invalidate_model(["payload", "payload_purged"])
        return total

    def _mark_done(self, extra_by_id=None):
        self.env.cr.execute("""
            UPDATE live_event SET state = 'done', processed_at = now() AT TIME ZONE 'UTC', error = NULL,
                   next_attempt_at = NULL
             WHERE id = ANY(%s)
        """, [self.ids])
        self.invalidate_recordset(["state", "processed_at", "error", "next_attempt_at"])

    def _mark_error(self, message, transient=False):
        """Count an attempt; retry later with backoff, or give up into Needs Attention."""
        for event in self:
            attempts = event.attempts + 1
            give_up = attempts >= (MAX_TRANSIENT_ATTEMPTS if transient else MAX_ATTEMPTS)
            event.write({
                "attempts": attempts,
                "error": message,
                "state": "failed" if give_up else "pending",
                "next_attempt_at": False if give_up else fields.Datetime.now() + timedelta(seconds=2 ** attempts),
            })
            _logger.info("Webhook event %s (%s) failed, attempt %s: %s", event.id, event.event_type, attempts, message)

    @staticmethod
    def _is_transient(exc):
        return getattr(exc, "pgcode", None) in TRANSIENT_PGCODES

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_rerun(self):
        """Re-run events after their cause was fixed: reset them and apply them now."""
        # Re-running rewrites the events and applies them as superuser: only those
        # who may write the inbox (managers, ir.model.access.csv) may, and the
        # check comes before anything runs.
        self.check_access("write")
        to_run = self.filtered(lambda e: e.state in ("failed", "ignored", "pending"))
        if not to_run:
            raise UserError(_("Only events that failed, were ignored or are pending can be re-run."))
        for event in to_run.filtered(lambda e: e.state == "ignored"):
            # The type may be known now (a newer version of the addon): classify again.
            state, note = state_for(event.event_type)
            event.write({"state": state, "error": note})
        to_run.filtered(lambda e: e.state != "ignored").write(
            {"state": "pending", "attempts": 0, "next_attempt_at": False, "error": False})
        pending = to_run.filtered(lambda e: e.state == "pending")
        if pending:
            self._process_batch(limit=len(pending), ids=pending.ids)
        done = to_run.filtered(lambda e: e.state == "done")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if len(done) == len(to_run) else "warning",
                "message": _("%(done)s of %(total)s events applied.", done=len(done), total=len(to_run)),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
