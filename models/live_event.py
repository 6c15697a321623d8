import json
import logging
import time
from datetime import timedelta

import psycopg2.errors
import psycopg2.extensions
from psycopg2 import errorcodes

from odoo import _, api, fields, models, tools
from odoo.tools import config
from odoo.exceptions import UserError

from .inbox_connections import inbox_connections
from .live_channel import PLATFORM_SELECTION
from .platforms.base import DEFAULT_MAX_BODY_BYTES, KNOWN_EVENT_TYPES, JsonEventsBody, Rejected, state_for

_logger = logging.getLogger(__name__)

EVENT_STATES = [
    ("pending", "Pending"),
    ("waiting", "Waiting for the Platform"),
    ("done", "Done"),
    ("failed", "Failed"),
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
# A processor call ends after this many seconds with work left, and the cron
# framework calls it again (at most 10 times per run, then the job is run again at
# once). A cron worker's pass over the ready jobs must stay within its time limit
# (limit_time_real_cron, else limit_time_real: past it, a prefork cron worker is
# killed and a threaded server restarts): the budget is capped to a fortieth of it,
# ten calls of two processor jobs taking at most half.
DEFAULT_CALL_SECONDS = 2


# The inbox lock (pg_advisory_xact_lock with two int4 keys, a key space of its own):
# every push holds it shared while it stores and arms the processor; a processor
# holds it exclusively for the instant in which it decides that its run may end
# (live.event._end_run). So no push can slip between "the inbox is empty" and
# "nobody is armed": either the processor sees the push's events, or the push sees
# that no processor is armed and arms one.
INBOX_LOCK = (76071, 1)

# Whether a processor run is due or under way is one row, live_event_wakeup: a
# push that finds it unarmed arms it and inserts a trigger of the first processor
# job; a run disarms it when it ends (never deleting triggers, which the cron
# framework removes itself at the end of a run: deleting them under it would make
# its transaction fail to serialize).
REARM_SECONDS = 10
WAKEUP_TABLE = """
CREATE TABLE IF NOT EXISTS live_event_wakeup (
    id int PRIMARY KEY CHECK (id = 1), armed boolean NOT NULL DEFAULT false, armed_at timestamp);
INSERT INTO live_event_wakeup (id) VALUES (1) ON CONFLICT DO NOTHING;
"""

# live_event_store(): the push's one statement. It inserts the events idempotently
# (unique per channel and message id) and, when it stored a pending event and the
# processor is not armed, arms it with a trigger, in the same round trip. `woke` tells the caller to NOTIFY the cron workers, who LISTEN
# on the `postgres` database (ir.cron._notifydb). The insert sets no
# create_uid/write_uid and the row carries no company_id: each foreign key is one
# more lookup and row lock per inserted event. PL/pgSQL, not one SQL statement:
# the trigger check must take its snapshot after the lock is granted, and each
# statement of a function does. The function's plans are cached per connection,
# as a prepared statement's are.
# What the store functions share: the columns a push fills, and the end of a batch
# insert (count what was stored, arm the processor when something is pending).
_INBOX_COLUMNS = ("channel_id, platform, message_id, event_type, room_id, occurred_at, payload, state, error, "
                  "received_at, attempts, create_date, write_date")
_END_OF_STORE = """            ON CONFLICT (channel_id, message_id) DO NOTHING
            RETURNING state
        )
        SELECT count(*), count(*) FILTER (WHERE state = 'pending') INTO accepted, pending FROM stored;
    END IF;
    woke := false;
    IF pending > 0 THEN
        woke := live_event_arm(p_cron);
    END IF;"""
STORE_FUNCTION = r"""
CREATE OR REPLACE FUNCTION live_event_store(
    p_channel int, p_platform varchar, p_cron int,
    p_message_ids varchar[], p_types varchar[], p_rooms varchar[], p_occurred float8[],
    p_payloads text[], p_states varchar[], p_notes text[],
    OUT accepted int, OUT woke boolean)
LANGUAGE plpgsql AS $fn$
DECLARE
    pending int;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(%(lock_class)s, %(lock_object)s);
    IF cardinality(p_message_ids) = 1 THEN
        -- The common single push: plain VALUES costs PostgreSQL half of unnest.
        INSERT INTO live_event (%(columns)s)
        VALUES (p_channel, p_platform, p_message_ids[1], p_types[1], p_rooms[1],
                to_timestamp(p_occurred[1]) AT TIME ZONE 'UTC', p_payloads[1]::jsonb, p_states[1], p_notes[1],
                now() AT TIME ZONE 'UTC', 0, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
        ON CONFLICT (channel_id, message_id) DO NOTHING;
        GET DIAGNOSTICS accepted = ROW_COUNT;
        pending := CASE WHEN accepted = 1 AND p_states[1] = 'pending' THEN 1 ELSE 0 END;
    ELSE
        WITH stored AS (
            INSERT INTO live_event (%(columns)s)
            SELECT p_channel, p_platform, u.message_id, u.event_type, u.room_id,
                   to_timestamp(u.occurred_at) AT TIME ZONE 'UTC', u.payload::jsonb, u.state, u.note,
                   now() AT TIME ZONE 'UTC', 0, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
              FROM unnest(p_message_ids, p_types, p_rooms, p_occurred, p_payloads, p_states, p_notes)
                   AS u(message_id, event_type, room_id, occurred_at, payload, state, note)
%(end_of_store)s
END
$fn$;

-- Arm the processor if it is not armed (called by the store functions, under the
-- inbox lock held shared). Armed already: nothing to write (the row is only read).
-- Armed for longer than a run should take to notice new work: its run died, arm
-- again.
CREATE OR REPLACE FUNCTION live_event_arm(p_cron int) RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
    -- Read first: a plain read costs less than an UPDATE that finds nothing to do, and
    -- this statement's snapshot, taken after the inbox lock, sees the last disarm.
    IF p_cron IS NULL OR EXISTS (
            SELECT FROM live_event_wakeup
             WHERE id = 1 AND armed AND armed_at >= clock_timestamp() AT TIME ZONE 'UTC' - interval '%(rearm)s seconds') THEN
        RETURN false;
    END IF;
    UPDATE live_event_wakeup SET armed = true, armed_at = clock_timestamp() AT TIME ZONE 'UTC'
     WHERE id = 1 AND (NOT armed OR armed_at < clock_timestamp() AT TIME ZONE 'UTC' - interval '%(rearm)s seconds');
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    -- clock_timestamp(): later than the start of any run under way, whose
    -- end-of-run cleanup (triggers older than the run's start) keeps it.
    INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date, write_uid, write_date)
    VALUES (p_cron, clock_timestamp() AT TIME ZONE 'UTC', 1, now() AT TIME ZONE 'UTC', 1, now() AT TIME ZONE 'UTC');
    RETURN true;
END
$fn$;

-- live_event_store_json(): the same for a generic push, from its body as received
-- ({"events": [...]}, checked by the adapter): each element of `events` is stored as
-- it is, parsed once by PostgreSQL, with no event re-serialized and quoted in Python.
-- A type the inbox does not know (KNOWN_EVENT_TYPES) is stored as ignored, with the
-- reason.
CREATE OR REPLACE FUNCTION live_event_store_json(
    p_channel int, p_platform varchar, p_cron int, p_body text,
    OUT accepted int, OUT woke boolean)
LANGUAGE plpgsql AS $fn$
DECLARE
    events jsonb := p_body::jsonb -> 'events';
    known CONSTANT varchar[] := '%(known)s';
    one jsonb;
    pending int;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(%(lock_class)s, %(lock_object)s);
    IF jsonb_array_length(events) = 1 THEN
        -- The common single push: plain VALUES, as in live_event_store().
        one := events -> 0;
        INSERT INTO live_event (%(columns)s)
        VALUES (p_channel, p_platform, one ->> 'id', one ->> 'type', one ->> 'room_id',
                to_timestamp((one ->> 'occurred_at')::float8) AT TIME ZONE 'UTC', one,
                CASE WHEN one ->> 'type' = ANY(known) THEN 'pending' ELSE 'ignored' END,
                CASE WHEN one ->> 'type' = ANY(known) THEN NULL
                     ELSE format('Unknown event type %%L', one ->> 'type') END,
                now() AT TIME ZONE 'UTC', 0, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
        ON CONFLICT (channel_id, message_id) DO NOTHING;
        GET DIAGNOSTICS accepted = ROW_COUNT;
        pending := CASE WHEN accepted = 1 AND one ->> 'type' = ANY(known) THEN 1 ELSE 0 END;
    ELSE
        WITH stored AS (
            INSERT INTO live_event (%(columns)s)
            SELECT p_channel, p_platform, e ->> 'id', e ->> 'type', e ->> 'room_id',
                   to_timestamp((e ->> 'occurred_at')::float8) AT TIME ZONE 'UTC', e,
                   CASE WHEN e ->> 'type' = ANY(known) THEN 'pending' ELSE 'ignored' END,
                   CASE WHEN e ->> 'type' = ANY(known) THEN NULL
                        ELSE format('Unknown event type %%L', e ->> 'type') END,
                   now() AT TIME ZONE 'UTC', 0, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
              FROM jsonb_array_elements(events) AS e
%(end_of_store)s
END
$fn$
""" % {"lock_class": INBOX_LOCK[0], "lock_object": INBOX_LOCK[1], "rearm": REARM_SECONDS,
       "known": "{" + ",".join(KNOWN_EVENT_TYPES) + "}", "columns": _INBOX_COLUMNS, "end_of_store": _END_OF_STORE}

_STORE_TYPES = ("int", "varchar", "int", "varchar[]", "varchar[]", "varchar[]", "float8[]", "text[]", "varchar[]",
                "text[]")
# On the webhook's own connections: prepared once per connection (inbox_connections).
PREPARE_STORE = (f"PREPARE lcc_store ({', '.join(_STORE_TYPES)}) AS "
                 f"SELECT accepted, woke FROM live_event_store({', '.join(f'${n}' for n in range(1, 11))})")
EXECUTE_STORE = f"EXECUTE lcc_store ({', '.join(f'%s::{t}' for t in _STORE_TYPES)})"
# On Odoo's cursor (tests share one transaction across requests).
STORE = f"SELECT accepted, woke FROM live_event_store({', '.join(f'%s::{t}' for t in _STORE_TYPES)})"
_STORE_JSON_TYPES = ("int", "varchar", "int", "text")
PREPARE_STORE_JSON = (f"PREPARE lcc_store_json ({', '.join(_STORE_JSON_TYPES)}) AS "
                      f"SELECT accepted, woke FROM live_event_store_json($1, $2, $3, $4)")
EXECUTE_STORE_JSON = f"EXECUTE lcc_store_json ({', '.join(f'%s::{t}' for t in _STORE_JSON_TYPES)})"
STORE_JSON = ("SELECT accepted, woke FROM live_event_store_json("
              f"{', '.join(f'%s::{t}' for t in _STORE_JSON_TYPES)})")
INBOX_STATEMENTS = (PREPARE_STORE, PREPARE_STORE_JSON)
PROCESSOR_CODE = "model._cron_process_events()"


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
    # Buyers' ids, nicknames and addresses: managers only (groups=, so the values are
    # not even sent to other users' browsers); everyone sees type, state and error.
    payload = fields.Json(string="Raw Payload", readonly=True, groups="live_commerce_crm.group_live_manager")
    payload_purged = fields.Boolean(readonly=True, help="The raw payload was removed after the retention period.")
    payload_display = fields.Text(string="Payload", compute="_compute_payload_display",
                                  groups="live_commerce_crm.group_live_manager")
    state = fields.Selection(EVENT_STATES, required=True, default="pending", readonly=True)
    attempts = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(string="Next Attempt", readonly=True)
    error = fields.Text(readonly=True)
    order_ref = fields.Char(string="Platform Order", readonly=True,
                            help="The platform order the event is about, once the processor has read it.")
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
            CREATE INDEX IF NOT EXISTS live_event_order_idx ON live_event (channel_id, order_ref)
                WHERE order_ref IS NOT NULL;
            -- The channel's health (live_channel_health.py): its last push, an
            -- index-only max, and its recent windows. Narrow, for the insert's sake.
            CREATE INDEX IF NOT EXISTS live_event_channel_received_idx ON live_event (channel_id, received_at);
        """)
        self.env.cr.execute(WAKEUP_TABLE)
        self.env.cr.execute(STORE_FUNCTION)

    @api.depends("payload")
    def _compute_payload_display(self):
        for event in self:
            event.payload_display = json.dumps(event.payload, indent=2, ensure_ascii=False) if event.payload else False

    # ------------------------------------------------------------------
    # Reception (called by the controller: plain SQL, nothing else)
    # ------------------------------------------------------------------
    @api.model
    def _store(self, creds, events, committed=False):
        """Insert the events idempotently and arm the processor; returns (accepted,
        duplicates). One round trip (live_event_store, or live_event_store_json for a
        JsonEventsBody), plus the NOTIFY that wakes the cron workers when this push
        armed the processor: once per processor run, not per push.

        `committed` (the webhook): stored and committed on the webhook's own
        connections before this returns, whatever the caller's transaction does
        next; else in the caller's transaction.
        """
        as_received = isinstance(events, JsonEventsBody)
        if as_received:  # the generic format: PostgreSQL stores each event as it is
            count, prepared, query, data = events.count, EXECUTE_STORE_JSON, STORE_JSON, (events.text,)
        else:
            count, prepared, query = len(events), EXECUTE_STORE, STORE
            data = ([e.message_id for e in events], [e.event_type for e in events], [e.room_id for e in events],
                    [e.occurred_at for e in events], [json.dumps(e.payload, ensure_ascii=False) for e in events],
                    [e.state for e in events], [e.note for e in events])
        if not count:
            return 0, 0
        crons = self._processor_cron_ids()
        params = (creds.id, creds.platform, crons[0] if crons else None, *data)
        if committed:
            try:
                [(accepted, woke)] = self._execute_committed(prepared, params, test_query=query)
            except psycopg2.errors.DataError as exc:
                if not as_received:
                    raise
                # JSON that Python reads and PostgreSQL refuses (a \u0000 in a string).
                raise Rejected(400, f"Malformed JSON body: {exc.diag.message_primary}") from None
            if woke:
                self._notify_cron_workers()
        else:
            self.env.cr.execute(query, params)
            accepted, woke = self.env.cr.fetchone()
            if woke:
                self.env.cr.postcommit.add(self._notify_cron_workers)
        return accepted, count - accepted

    @api.model
    def _execute_committed(self, query, params, test_query=None):
        """Run `query` on the webhook's own connections, committed on its own before
        the answer leaves whatever the request's transaction does next. Tests share
        one transaction across requests and roll it back: there it joins that
        transaction (`test_query`, for a prepared `query`). Returns its rows."""
        if self.env.registry.in_test_mode():
            self.env.cr.execute(test_query or query, params)
            return self.env.cr.fetchall() if self.env.cr.description else []
        return inbox_connections(self.env.cr.dbname, INBOX_STATEMENTS).execute(query, params)

    def _in_caller_transaction(self):
        """Whether the insert must join the cursor's transaction: one is open
        already, or tests share one cursor across requests."""
        cnx = getattr(self.env.cr, "_cnx", None)
        return (cnx is None or self.env.registry.in_test_mode()
                or cnx.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE)

    @api.model
    def _notify_cron_workers(self):
        # The cron workers LISTEN on the `postgres` database; ir.cron._notifydb
        # notifies there. Sent once the trigger is committed, so a woken worker finds it.
        if not self.env.registry.in_test_mode():
            self.env["ir.cron"].sudo()._notifydb()

    @api.model
    @tools.ormcache()
    def _processor_cron_ids(self):
        """The active processor jobs, the one pushes arm first (duplicates of the
        shipped job included: they share the inbox). Cached; ir.cron changes clear it."""
        return tuple(self.env["ir.cron"].sudo().search(
            [("model_id.model", "=", self._name), ("code", "=", PROCESSOR_CODE), ("active", "=", True)],
            order="priority, id").ids)

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
    def _process_batch(self, limit=DEFAULT_BATCH_SIZE, ids=None, defer_fans=False):
        """Claim and apply one batch; returns the number of events claimed. The
        fans it touched are recomputed in the batch, or queued (`defer_fans`)."""
        self._read_committed()
        events = self._claim(limit, ids)
        if events:
            self.env["live.event.processor"]._process(events, defer_fans=defer_fans)
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
    def _cron_process_events(self, batch_size=None, time_budget=None):
        """One processor call: claim and apply batches, committing after each, until
        nothing is left to claim, then end the run (_end_run).

        How a processor is woken (README, "Processing"): a push that stores a
        pending event while the processor is not armed arms it (live_event_wakeup),
        inserts a trigger of the first processor job and notifies the cron
        workers; the pushes in between cost nothing more. A run ends only after it
        has seen, under the inbox lock, that nothing is left to claim, and disarms
        the processor then: the next push arms it again. No push is left waiting
        for the cron's one-minute interval, and an idle inbox costs nothing but
        that interval.
        """
        # The cron framework has already queried in this transaction: end it, so the
        # first batch runs in a fresh READ COMMITTED transaction like the others.
        self.env.cr.commit()
        batch_size = batch_size or int(self._param("live_commerce_crm.processor_batch_size", DEFAULT_BATCH_SIZE))
        if time_budget is None:
            time_budget = self._call_budget()
        cron_id = self.env.context.get("cron_id")
        deadline = time.monotonic() + time_budget
        done = remaining = 0
        helpers_called = False
        while True:
            claimed = self._process_batch(batch_size, defer_fans=True)
            self.env.cr.commit()
            done += claimed
            if claimed >= batch_size and not helpers_called:
                helpers_called = self._call_helpers(cron_id)
            if not claimed:
                self._read_committed()
                ended = self._end_run(cron_id)
                self.env.cr.commit()
                if ended:
                    self._drain_fans()
                    break
            if time.monotonic() >= deadline:
                self._drain_fans()
                # Work is left: the cron framework calls again ("partially done"),
                # and after its tenth call the workers must be told the job is
                # still due, since no push will (the processor is still armed).
                remaining = self._count_due()
                if remaining:
                    self.env.cr.postcommit.add(self._notify_cron_workers)
                break
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done

    def _drain_fans(self):
        """The fans this call's batches touched: recomputed after the batches, in
        transactions of their own (live.fan.rfm._drain_queue), for at most a
        quarter of a call (what is left waits for the next call, or the night)."""
        self.env["live.fan.rfm"]._drain_queue(time_budget=self._call_budget() / 4)

    def _end_run(self, cron_id):
        """End the run if nothing is left to claim; returns whether it ended. The
        caller commits at once (the lock is held until then).

        Decided under the inbox lock held exclusively, in a READ COMMITTED
        transaction of its own: every push that stored before has committed, and
        every push after will find the processor unarmed and arm it again. Rows
        locked by another processor are its business: it ends its run the same way.
        """
        cr = self.env.cr
        cr.execute("SELECT pg_advisory_xact_lock(%s, %s)", INBOX_LOCK)
        cr.execute("""
            SELECT 1 FROM live_event
             WHERE state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= now() AT TIME ZONE 'UTC')
             LIMIT 1 FOR UPDATE SKIP LOCKED
        """)
        if cr.fetchone():
            return False
        cr.execute("UPDATE live_event_wakeup SET armed = false WHERE id = 1")
        # Events waiting for their backoff: a trigger at the first of them (the
        # cron workers poll due triggers at least every minute).
        cron = cron_id or next(iter(self._processor_cron_ids()), None)
        if cron:
            cr.execute("""
                INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date, write_uid, write_date)
                SELECT %(cron)s, r.at, 1, now() AT TIME ZONE 'UTC', 1, now() AT TIME ZONE 'UTC'
                  FROM (SELECT min(next_attempt_at) AS at FROM live_event WHERE state = 'pending') r
                 WHERE r.at IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM ir_cron_trigger t WHERE t.cron_id = %(cron)s AND t.call_at = r.at)
            """, {"cron": cron})
        return True

    def _call_helpers(self, cron_id):
        """A full batch means a backlog: wake the other processor jobs too, so that
        several cron workers drain it together. Returns True once asked."""
        helpers = self.env["ir.cron"].sudo().browse(
            [cron for cron in self._processor_cron_ids() if cron != cron_id])
        if helpers:
            helpers._trigger()
            self.env.cr.commit()  # the trigger, then its NOTIFY (postcommit)
        return True

    def _count_due(self):
        self.env.cr.execute("""
            SELECT count(*) FROM (SELECT 1 FROM live_event
                                   WHERE state = 'pending'
                                     AND (next_attempt_at IS NULL OR next_attempt_at <= now() AT TIME ZONE 'UTC')
                                   LIMIT 1000) p
        """)
        return self.env.cr.fetchone()[0]

    def _call_budget(self):
        budget = self._param("live_commerce_crm.processor_call_seconds", DEFAULT_CALL_SECONDS)
        limit = config["limit_time_real_cron"] if config["limit_time_real_cron"] > 0 else config["limit_time_real"]
        return min(budget, limit / 40) if limit and limit > 0 else budget

    def _param(self, key, default):
        """A positive number from the system parameters, else `default`."""
        try:
            value = float(self.env["ir.config_parameter"].sudo().get_param(key) or "nan")
        except ValueError:
            return default
        return value if value > 0 else default

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
        """Count an attempt; retry later with backoff, or give up as Failed."""
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
        to_run = self.filtered(lambda e: e.state in ("failed", "ignored", "pending", "waiting"))
        if not to_run:
            raise UserError(_("Only events that failed, were ignored, are pending or wait for the platform can be "
                              "re-run."))
        for event in to_run.filtered(lambda e: e.state == "ignored"):
            # The type may be known now (a newer version of the addon): classify again.
            state, note = state_for(event.event_type)
            event.write({"state": state, "error": note})
        to_run.filtered(lambda e: e.state != "ignored").write(
            {"state": "pending", "attempts": 0, "next_attempt_at": False, "error": False})
        pending = to_run.filtered(lambda e: e.state == "pending")
        if pending:
            self._process_batch(limit=len(pending), ids=pending.ids)
        done = to_run.filtered(lambda e: e.state in ("done", "waiting"))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if len(done) == len(to_run) else "warning",
                "message": _("%(done)s of %(total)s events applied or handed to the platform's order API.",
                             done=len(done), total=len(to_run)),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
