"""Order events used to wait in the inbox (state 'waiting') until orders could be
imported: they are pending now, so the processor imports them."""


def migrate(cr, version):
    cr.execute("UPDATE live_event SET state = 'pending', next_attempt_at = NULL WHERE state = 'waiting'")
