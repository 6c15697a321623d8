from . import controllers
from . import models
from . import wizards
from . import report


def uninstall_hook(env):
    """What the addon made in the database outside the ORM: the inbox insert
    functions, the processor's wake-up row and the rejected-push counters."""
    env.cr.execute("DROP FUNCTION IF EXISTS live_event_store, live_event_store_json, live_event_arm CASCADE")
    env.cr.execute("DROP TABLE IF EXISTS live_event_wakeup")
    env.cr.execute("SELECT sequencename FROM pg_sequences WHERE sequencename LIKE 'live\\_channel\\_rejected\\_%'")
    for (name,) in env.cr.fetchall():
        env.cr.execute(f'DROP SEQUENCE IF EXISTS "{name}"')
