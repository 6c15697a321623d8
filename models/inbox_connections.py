"""The webhook's own connections to the inbox, with the insert prepared once.

Odoo resets a pooled connection with DISCARD ALL each time a cursor borrows it,
which drops prepared statements and cached plans: parsing and planning the inbox
INSERT (and the plan of its foreign-key check) again on every push costs
PostgreSQL about as much as the insert itself (bench/run.sh ingest). The webhook
therefore writes through a few long-lived autocommit connections per server
process, on which the INSERT is prepared once: one round trip per push, and the
push is committed before the answer leaves.
"""
import logging
import os
import threading

import psycopg2
import psycopg2.extensions

from odoo import sql_db

_logger = logging.getLogger(__name__)

MAX_IDLE_CONNECTIONS = 4  # per database and process: the workers' threads rarely exceed it


class InboxConnections:
    """A small pool of autocommit connections to one database, on each of which
    `statements` (the "PREPARE name AS ..." texts) run once, on connect."""

    def __init__(self, dbname, statements):
        self.dbname = dbname
        self.statements = statements
        # list.pop()/append() are atomic: no lock needed between a worker's threads
        self._idle = []

    def execute(self, sql, params):
        """Run `sql` (an EXECUTE of a prepared statement) and return its rows.

        A connection found broken (PostgreSQL restarted since it was last used) is
        dropped and the statement tried once more on a new one; a second failure
        propagates, and the webhook answers 5xx so the platform delivers again.
        """
        for attempt in (1, 2):
            cnx = self._borrow()
            try:
                with cnx.cursor() as cr:
                    cr.execute(sql, params)
                    rows = cr.fetchall() if cr.description else []
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                broken = self._was_broken(cnx)  # before close(), which makes any connection look broken
                cnx.close()
                if attempt == 2 or not broken:
                    raise
                _logger.info("Inbox connection to %s was broken; reconnecting", self.dbname)
                continue
            except Exception:
                cnx.close()
                raise
            self._give_back(cnx)
            return rows

    @staticmethod
    def _was_broken(cnx):
        return cnx.closed or cnx.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_UNKNOWN

    def _borrow(self):
        while True:
            try:
                cnx = self._idle.pop()
            except IndexError:
                return self._connect()
            if not cnx.closed:
                return cnx

    def _give_back(self, cnx):
        if len(self._idle) < MAX_IDLE_CONNECTIONS:
            self._idle.append(cnx)
        else:
            cnx.close()

    def _connect(self):
        _dbname, info = sql_db.connection_info_for(self.dbname)
        cnx = psycopg2.connect(**info)
        cnx.autocommit = True
        with cnx.cursor() as cr:
            for statement in self.statements:
                cr.execute(statement)
        return cnx


_pools = {}
_pools_lock = threading.Lock()


def inbox_connections(dbname, statements):
    """The process's pool for `dbname` with `statements` prepared; keyed by pid too,
    so a forked worker never shares its parent's sockets. (The parent's pools stay referenced in the child:
    a pool the child dropped would close its connections, and closing sends
    PostgreSQL a terminate message on the socket the parent still uses.)"""
    key = (os.getpid(), dbname, statements)
    pool = _pools.get(key)
    if pool is None:
        with _pools_lock:
            pool = _pools.setdefault(key, InboxConnections(dbname, statements))
    return pool

