"""How pushes wake the processor and how a processor run ends (live.event._store,
_end_run): armed once per run, never left unarmed with work waiting, failed events
retried after their backoff. The same protocol under a real server's cron workers
is tests/test_freshness.py."""
from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import TransactionCase, tagged

from ..models.platforms import Credentials
from ..models.platforms.base import InboxEvent
from .common import generic_event


@tagged("post_install", "-at_install")
class TestProcessorWakeup(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel = cls.env["live.channel"].create({
            "name": "Wake", "code": "wake", "platform": "generic", "app_secret": "s"})
        cls.creds = Credentials(cls.channel.id, "wake", "generic", cls.channel.company_id.id, app_secret="s")
        cls.Event = cls.env["live.event"]
        cls.cron_id = cls.Event._processor_cron_ids()[0]

    def setUp(self):
        super().setUp()
        self.env.cr.execute("DELETE FROM ir_cron_trigger")
        self.env.cr.execute("UPDATE live_event_wakeup SET armed = false")
        self.env.cr.execute("UPDATE live_event SET state = 'done' WHERE state = 'pending'")  # demo leftovers

    def _receive(self, *events):
        inbox = [InboxEvent.make(e["id"], e["type"], e, e.get("room_id"), e.get("occurred_at")) for e in events]
        return self.Event._store(self.creds, inbox)

    def _triggers(self):
        self.env.cr.execute("SELECT cron_id, call_at FROM ir_cron_trigger ORDER BY call_at")
        return self.env.cr.fetchall()

    def _armed(self):
        self.env.cr.execute("SELECT armed FROM live_event_wakeup")
        return self.env.cr.fetchone()[0]

    def test_the_first_push_arms_the_first_processor_and_later_pushes_do_not(self):
        self._receive(generic_event("o-1", "poll.voted", "f-1"))
        self.assertFalse(self._armed(), "an event the processor does not apply (ignored) wakes nobody")
        self._receive(generic_event("w-1", "like", "f-1", count=1))
        self.assertTrue(self._armed())
        self._receive(generic_event("w-2", "like", "f-1", count=1), generic_event("w-3", "share", "f-2"))
        self.assertEqual([cron for cron, _at in self._triggers()], [self.cron_id])

    def test_an_armed_processor_whose_run_died_is_armed_again(self):
        self._receive(generic_event("d-1", "like", "f-1", count=1))
        self.env.cr.execute("UPDATE live_event_wakeup SET armed_at = armed_at - interval '11 seconds'")
        self._receive(generic_event("d-2", "like", "f-1", count=1))
        self.assertEqual(len(self._triggers()), 2)

    def test_a_run_ends_only_when_nothing_is_left_to_claim_then_the_next_push_arms_again(self):
        self._receive(generic_event("r-1", "like", "f-1", count=1))
        self.assertFalse(self.Event._end_run(self.cron_id), "a pending event keeps the run going")
        self.assertTrue(self._armed())
        self.assertEqual(self.Event._process_batch(), 1)
        self.assertTrue(self.Event._end_run(self.cron_id))
        self.assertFalse(self._armed(), "a finished run disarms")
        self.assertEqual(len(self._triggers()), 1, "its trigger is the cron framework's to remove")
        self._receive(generic_event("r-2", "like", "f-1", count=1))
        self.assertTrue(self._armed())
        self.assertEqual([cron for cron, _at in self._triggers()], [self.cron_id] * 2, "the next push arms again")

    def test_the_first_processor_is_the_first_active_one(self):
        first, second = self.Event._processor_cron_ids()[:2]
        self.env["ir.cron"].browse(first).active = False
        self.assertEqual(self.Event._processor_cron_ids()[0], second)
        self._receive(generic_event("a-1", "like", "f-1", count=1))
        self.assertEqual([cron for cron, _at in self._triggers()], [second])
        duplicate = self.env["ir.cron"].browse(second).copy({"priority": 0})
        self.assertEqual(self.Event._processor_cron_ids()[0], duplicate.id, "a duplicated job processes too")

    def test_a_failed_event_is_retried_after_its_backoff_and_the_run_schedules_it(self):
        # An hour ahead: the database's own clock (which freezegun does not move)
        # stays before every backoff below.
        now = fields.Datetime.now().replace(microsecond=0) + timedelta(hours=1)
        with freeze_time(now):
            self._receive(generic_event("b-1", "comment", None, content="no fan"))  # a comment needs a fan
            self.assertEqual(self.Event._process_batch(), 1)
            event = self.Event.search([("message_id", "=", "b-1")])
            self.assertEqual((event.state, event.attempts), ("pending", 1))
            self.assertEqual(event.next_attempt_at, now + timedelta(seconds=2))
            self.assertEqual(self.Event._process_batch(), 0, "not before its backoff")
            self.assertTrue(self.Event._end_run(self.cron_id), "an event in backoff does not keep a run going")
            self.assertEqual(self._triggers()[-1], (self.cron_id, now + timedelta(seconds=2)),
                             "the run leaves a trigger for when the backoff ends")
        with freeze_time(now + timedelta(seconds=1)):
            self.assertEqual(self.Event._process_batch(), 0)
        with freeze_time(now + timedelta(seconds=2)):
            self.assertEqual(self.Event._process_batch(), 1)
            self.assertEqual((event.attempts, event.next_attempt_at), (2, now + timedelta(seconds=2 + 4)))
        with freeze_time(now + timedelta(seconds=6)):
            self.assertEqual(self.Event._process_batch(), 1)
            self.assertEqual((event.state, event.attempts, event.next_attempt_at), ("failed", 3, False))
