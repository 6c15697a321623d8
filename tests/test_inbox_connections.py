import time

import psycopg2.errors

from odoo.tests import TransactionCase, tagged

from ..models.inbox_connections import InboxConnections
from ..models.live_event import EXECUTE_STORE, PREPARE_STORE


@tagged("post_install", "-at_install")
class TestInboxConnections(TransactionCase):
    """The webhook's own connections (used outside tests, where a request's insert
    commits on its own) and the prepared inbox statements they run."""

    def test_broken_connection_is_replaced_and_the_statement_retried(self):
        pool = InboxConnections(self.env.cr.dbname, ("PREPARE lcc_probe AS SELECT pg_backend_pid()",))
        self.addCleanup(lambda: [cnx.close() for cnx in list(pool._idle)])
        [(first_pid,)] = pool.execute("EXECUTE lcc_probe", ())
        # What a PostgreSQL restart does to an idle pooled connection.
        self.env.cr.execute("SELECT pg_terminate_backend(%s)", [first_pid])
        for _ in range(50):
            self.env.cr.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [first_pid])
            if not self.env.cr.fetchone()[0]:
                break
            time.sleep(0.05)
        [(second_pid,)] = pool.execute("EXECUTE lcc_probe", ())
        self.assertNotEqual(first_pid, second_pid)
        [(third_pid,)] = pool.execute("EXECUTE lcc_probe", ())
        self.assertEqual(third_pid, second_pid, "a healthy connection is reused, statements still prepared")

    def test_statement_timeout_is_not_taken_for_a_broken_connection(self):
        connected = []

        class CountingConnections(InboxConnections):
            def _connect(self):
                connected.append(super()._connect())
                return connected[-1]

        pool = CountingConnections(self.env.cr.dbname, (
            "SET statement_timeout = 50", "PREPARE lcc_probe_slow AS SELECT pg_sleep(1)"))
        self.addCleanup(lambda: [cnx.close() for cnx in connected])
        with self.assertRaises(psycopg2.errors.QueryCanceled):
            pool.execute("EXECUTE lcc_probe_slow", ())
        self.assertEqual(len(connected), 1, "a canceled statement is not retried on a new connection")

    def test_error_in_the_statement_propagates_and_the_connection_is_not_kept(self):
        pool = InboxConnections(self.env.cr.dbname, ("PREPARE lcc_probe_fail AS SELECT 1 / $1",))
        self.addCleanup(lambda: [cnx.close() for cnx in list(pool._idle)])
        with self.assertRaises(Exception):
            pool.execute("EXECUTE lcc_probe_fail (%s::int)", (0,))
        self.assertEqual(len(pool._idle), 0)
        self.assertEqual(pool.execute("EXECUTE lcc_probe_fail (%s::int)", (1,)), [(1,)])

    def test_prepared_store_keeps_each_message_once_and_arms_the_processor_once(self):
        cr = self.env.cr
        Event = self.env["live.event"]
        channel = self.env["live.channel"].create({"name": "Prepared", "code": "prepared-test", "platform": "generic"})
        cron_id = Event._processor_cron_ids()[0]
        cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s", [cron_id])
        cr.execute("UPDATE live_event_wakeup SET armed = false")
        cr.execute(PREPARE_STORE)
        self.addCleanup(cr.execute, "DEALLOCATE lcc_store")

        def store(ids, types, states, notes=None, rooms=None, occurred=None):
            cr.execute(EXECUTE_STORE, (channel.id, "generic", cron_id, ids, types, rooms or [None] * len(ids),
                                       occurred or [None] * len(ids), [f'{{"id": "{i}"}}' for i in ids], states,
                                       notes or [None] * len(ids)))
            return cr.fetchone()

        def triggers():
            cr.execute("SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s", [cron_id])
            return cr.fetchone()[0]

        self.assertEqual(store(["p-0"], ["order.paid"], ["waiting"]), (1, False),
                         "an event the processor does not apply wakes nobody")
        self.assertEqual(triggers(), 0)
        self.assertEqual(store(["p-1"], ["comment"], ["pending"], occurred=[1764000000.5]), (1, True))
        self.assertEqual(triggers(), 1)
        self.assertEqual(store(["p-1"], ["comment"], ["pending"]), (0, False), "a redelivered message is not stored twice")
        self.assertEqual(store(["p-4"], ["like"], ["pending"]), (1, False), "armed already: no second trigger")
        self.assertEqual(triggers(), 1)
        # Arrays whose values are all NULL must still reach their declared types.
        self.assertEqual(store(["p-1", "p-2", "p-3"], ["comment", "order.paid", "mystery"],
                               ["pending", "waiting", "ignored"], notes=[None, None, "Unknown event type 'mystery'"]),
                         (2, False))
        events = Event.search([("channel_id", "=", channel.id)])
        self.assertEqual(sorted(events.mapped("message_id")), ["p-0", "p-1", "p-2", "p-3", "p-4"])
        self.assertEqual(str(events.filtered(lambda e: e.message_id == "p-1").occurred_at), "2025-11-24 16:00:00.500000")
        self.assertEqual(events.filtered(lambda e: e.message_id == "p-3").error, "Unknown event type 'mystery'")
        cr.execute("UPDATE live_event_wakeup SET armed = false")  # what the end of a run does
        self.assertEqual(store(["p-5", "p-6"], ["like", "like"], ["pending", "pending"]), (2, True),
                         "a batch arms the processor once disarmed")
        self.assertEqual(triggers(), 2)
