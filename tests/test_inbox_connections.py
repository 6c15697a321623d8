import time

import psycopg2.errors

from odoo.tests import TransactionCase, tagged

from ..models.inbox_connections import InboxConnections
from ..models.live_event import EXECUTE_MANY, EXECUTE_ONE, PREPARE_MANY, PREPARE_ONE


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

    def test_prepared_inbox_statements_store_once(self):
        cr = self.env.cr
        channel = self.env["live.channel"].create({"name": "Prepared", "code": "prepared-test", "platform": "generic"})
        cr.execute(PREPARE_ONE)
        cr.execute(PREPARE_MANY)
        self.addCleanup(cr.execute, "DEALLOCATE lcc_store_one; DEALLOCATE lcc_store_many")
        one = (channel.id, "generic", "p-1", "comment", "room", 1764000000.5, '{"id": "p-1"}', "pending", None)
        cr.execute(EXECUTE_ONE, one)
        self.assertEqual(cr.fetchall(), [("pending",)])
        cr.execute(EXECUTE_ONE, one)
        self.assertEqual(cr.fetchall(), [], "a redelivered message is not stored twice")
        # Arrays whose values are all NULL must still reach their declared types.
        many = (channel.id, "generic", ["p-1", "p-2", "p-3"], ["comment", "order.paid", "mystery"], [None] * 3,
                [None] * 3, ['{"id": "p-1"}', '{"id": "p-2"}', '{"id": "p-3"}'], ["pending", "waiting", "ignored"],
                [None, None, "Unknown event type 'mystery'"])
        cr.execute(EXECUTE_MANY, many)
        self.assertEqual(sorted(state for (state,) in cr.fetchall()), ["ignored", "waiting"])
        events = self.env["live.event"].search([("channel_id", "=", channel.id)])
        self.assertEqual(sorted(events.mapped("message_id")), ["p-1", "p-2", "p-3"])
        self.assertEqual(str(events.filtered(lambda e: e.message_id == "p-1").occurred_at), "2025-11-24 16:00:00.500000")
        self.assertEqual(events.filtered(lambda e: e.message_id == "p-3").error, "Unknown event type 'mystery'")
