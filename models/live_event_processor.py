import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone

from odoo import _, api, models

from .live_channel import PLATFORM_SELECTION
from .fan_phone import mask_phone, normalize_phone, phone_hash, phone_salt
from .live_fan_identity import CHANNEL_SCOPED_TYPES, IDENTITY_TYPES
from .live_fan_rfm import touched_fans
from .platforms import get_adapter
from .platforms.base import ORDER_TYPES, SNAPSHOT_TYPES, FetchOrder
from .platforms.orders import PlatformOrder, snapshot_event

_logger = logging.getLogger(__name__)

FAN_EVENTS = frozenset({"fan.entered", "fan.left", "comment", "like", "gift", "follow", "share"})
SESSION_EVENTS = frozenset({"session.started", "session.ended", "session.stats"})
ORDER_EVENTS = ORDER_TYPES | SNAPSHOT_TYPES  # applied by live.order.importer
# The counters of live.interaction.counters, added up by both upserts.
SHARED_COUNTER_COLUMNS = [("watch_seconds", "int"), ("comment_count", "int"), ("like_count", "int"),
                          ("gift_count", "int"), ("gift_value", "numeric"), ("follow_count", "int"),
                          ("share_count", "int")]
COUNTERS = ("enter_count", *(name for name, _type in SHARED_COUNTER_COLUMNS))
# What makes a viewer an interacting viewer (metrics.md: commented, liked, gifted, shared or followed).
INTERACTION_COUNTERS = ("comment_count", "like_count", "gift_count", "follow_count", "share_count")
PLATFORM_KEYS = frozenset(key for key, _label in PLATFORM_SELECTION)
IDENTITY_TYPE_KEYS = frozenset(key for key, _label in IDENTITY_TYPES)
# Context for the partners and sessions the processor creates: no chatter message,
# no follower, no tracking for records created by the thousand.
QUIET = {"tracking_disable": True, "mail_create_nolog": True, "mail_create_nosubscribe": True,
         "mail_notrack": True}


@dataclass
class Work:
    """One claimed event, normalized, with what it resolved to."""
    event_id: int
    channel: object          # live.channel record (sudo)
    event: object            # platforms.base.NormalizedEvent
    occurred: datetime
    partner_id: int = None
    session_id: int = None


def _to_datetime(value, fallback):
    if value is None:
        return fallback
    return datetime.fromtimestamp(float(value), tz=timezone.utc).replace(tzinfo=None)


def _int(value, name):
    try:
        number = int(value or 0)
    except (TypeError, ValueError):
        raise ValueError(f"'{name}' must be an integer") from None
    if number < 0:
        raise ValueError(f"'{name}' cannot be negative")
    return number


class LiveEventProcessor(models.AbstractModel):
    """Applies claimed interaction events: fans, sessions, audience and totals.

    A batch is applied set-based inside one savepoint: identities and sessions are
    looked up with one query each, missing ones created in one batch, per-session-
    per-fan activity upserted in one statement and the fans' running totals
    upserted once per fan per batch in live.fan.stats (never per event, and not on
    the partner rows users edit: hot fans are not locked event by event). If the
    batch fails, each event is applied again in its own savepoint so that only the
    faulty ones are retried or set aside.
    """
    _name = "live.event.processor"
    _description = "Webhook Event Processor"

    @api.model
    def _process(self, events, defer_fans=False):
        """Apply claimed events. The fans they touched are recomputed (live.fan.rfm)
        at once, or, with `defer_fans` (the processor's cron calls), queued when the
        batch commits, for the recompute at the end of the call."""
        # Either way the fans are the processor's to recompute: no queue job to wake.
        self = self.sudo().with_context(live_fans_drained_by_processor=True)
        works = self._normalize(events)
        self._process_works(works)
        self._notify_sessions(events)
        Figures = self.env["live.fan.rfm"]
        Figures._touch(touched_fans(works))
        if not defer_fans:
            try:
                with self.env.cr.savepoint():
                    Figures._recompute_touched()
            except Exception:  # noqa: BLE001
                _logger.exception("Recomputing the fans of a processed batch failed; the nightly run will")

    def _notify_sessions(self, events):
        """One bus notification per session the batch touched (fan, session and
        order events alike): open workbenches re-read the session. Sent when the
        batch commits (bus.bus notifies after commit)."""
        self.env.cr.execute(
            "SELECT DISTINCT session_id FROM live_event WHERE id = ANY(%s) AND session_id IS NOT NULL",
            [events.ids])
        self.env["live.session"]._workbench_notify_ids([row[0] for row in self.env.cr.fetchall()])

    def _process_works(self, works):
        orders = [work for work in works if work.event.type in ORDER_EVENTS]
        if orders:
            works = [work for work in works if work.event.type not in ORDER_EVENTS]
            self.env["live.order.importer"]._import(orders)
        if not works:
            return
        try:
            with self.env.cr.savepoint():
                self._apply(works)
        except Exception as exc:  # noqa: BLE001 - isolate the faulty events below
            _logger.info("Batch of %s events failed (%s); applying them one by one", len(works), exc)
            if len(works) == 1:
                self._fail(works, exc)
                return
            for work in works:
                try:
                    with self.env.cr.savepoint():
                        self._apply([work])
                except Exception as exc_one:  # noqa: BLE001
                    self._fail([work], exc_one)

    def _fail(self, works, exc):
        self.env.invalidate_all()
        events = self.env["live.event"].browse(work.event_id for work in works)
        events._mark_error(f"{type(exc).__name__}: {exc}", transient=events._is_transient(exc))

    def _normalize(self, events):
        self.env.cr.execute("""
            SELECT id, channel_id, platform, event_type, payload, room_id,
                   extract(epoch FROM occurred_at), received_at
              FROM live_event WHERE id = ANY(%s) ORDER BY id
        """, [events.ids])
        rows = self.env.cr.fetchall()
        channels = self.env["live.channel"].browse({row[1] for row in rows}).with_context(active_test=False)
        channels = {channel.id: channel for channel in channels}
        works = []
        for event_id, channel_id, platform, event_type, payload, room_id, occurred, received in rows:
            try:
                adapter = get_adapter(platform)
                if event_type in SNAPSHOT_TYPES:
                    event = snapshot_event(event_type, payload, room_id, occurred)
                else:
                    event = adapter.normalize(event_type, payload or {}, room_id, occurred)
                if event.type in ORDER_TYPES and not isinstance(event.data, PlatformOrder):
                    # A push that carries only ids: the order is fetched from the platform.
                    order_ref, refund_ref = adapter.order_reference(event.type, payload or {})
                    event.data = order_ref and FetchOrder(order_ref, refund_ref)
                if event.type in FAN_EVENTS and not event.fan:
                    raise ValueError(_("A %s event needs a fan.", event.type))
                if event.fan:
                    self._check_fan(event.fan)
                    for other in event.fan.others:
                        self._check_fan(other)
                if isinstance(event.data, PlatformOrder):
                    for other in event.data.other_identities:
                        self._check_fan(other)
                if event.type in SESSION_EVENTS and not event.room_id:
                    raise ValueError(_("A %s event needs a room id.", event.type))
                works.append(Work(event_id, channels[channel_id], event, _to_datetime(occurred, received)))
            except Exception as exc:  # noqa: BLE001 - a bad payload only fails its own event
                self.env["live.event"].browse(event_id)._mark_error(f"{type(exc).__name__}: {exc}")
        return works

    def _check_fan(self, fan):
        """The fan's platform and identity type are written as they come (plain SQL,
        no selection check): only our keys may pass, whatever the adapter read."""
        if not isinstance(fan.platform, str) or fan.platform not in PLATFORM_KEYS:
            raise ValueError(self.env._(
                "Unknown fan platform %(platform)s: expected one of %(keys)s.",
                platform=repr(fan.platform)[:60], keys=", ".join(sorted(PLATFORM_KEYS))))
        if not isinstance(fan.id_type, str) or fan.id_type not in IDENTITY_TYPE_KEYS:
            raise ValueError(self.env._(
                "Unknown fan identity type %(id_type)s: expected one of %(keys)s.",
                id_type=repr(fan.id_type)[:60], keys=", ".join(sorted(IDENTITY_TYPE_KEYS))))
        if not all(isinstance(value, (str, type(None))) for value in (fan.nickname, fan.avatar)):
            raise ValueError(self.env._("The fan's nickname and avatar must be text."))

    # ------------------------------------------------------------------
    def _apply(self, works):
        self._resolve_fans([w for w in works if w.event.fan])
        self._resolve_sessions([w for w in works if w.event.room_id])
        self._apply_session_events([w for w in works if w.event.type in SESSION_EVENTS and w.session_id])
        fan_works = [w for w in works if w.event.type in FAN_EVENTS]
        audience_works = [w for w in fan_works if w.session_id]
        new_sessions_by_partner, firsts = self._upsert_audience(audience_works)
        self._upsert_minutes(audience_works, firsts)
        self._insert_comments([w for w in fan_works if w.event.type == "comment"])
        self._update_fan_stats(fan_works, new_sessions_by_partner)
        self.env.cr.execute("""
            UPDATE live_event e
               SET state = 'done', processed_at = now() AT TIME ZONE 'UTC', error = NULL, next_attempt_at = NULL,
                   session_id = u.session_id, partner_id = u.partner_id
              FROM unnest(%s::int[], %s::int[], %s::int[]) AS u(id, session_id, partner_id)
             WHERE e.id = u.id
        """, [[w.event_id for w in works], [w.session_id for w in works], [w.partner_id for w in works]])
        self.env["live.event"].invalidate_model()
        self.env["live.session.fan"].invalidate_model()
        self.env["live.session.minute"].invalidate_model()
        self.env["live.fan.stats"].invalidate_model()

    def _find_or_lock(self, keys, lookup, namespace):
        """Look `keys` up; lock the missing ones and look again.

        Returns (found, missing): the caller creates the missing ones while it holds
        their locks, so two processors meeting the same new fan or room create it
        once. Advisory locks, per transaction, taken in sorted order (no deadlock);
        the processing transaction is READ COMMITTED, so the second look sees what
        the other processor committed.
        """
        found = lookup(keys)
        missing = sorted(set(keys) - set(found), key=repr)
        if missing:
            self.env.cr.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(k, %s)) FROM unnest(%s::text[]) AS k ORDER BY k",
                [namespace, [repr(k) for k in missing]])
            found.update(lookup(missing))
            missing = [key for key in missing if key not in found]
        return found, missing

    # -- fans ------------------------------------------------------------
    @staticmethod
    def _identity_key(work):
        fan = work.event.fan
        if fan.id_type in CHANNEL_SCOPED_TYPES:
            return ("channel", work.channel.id, fan.id_type, fan.id)
        return ("platform", work.channel.company_id.id, fan.platform, fan.id_type, fan.id)

    def _lookup_identities(self, keys):
        channel_keys = [k for k in keys if k[0] == "channel"]
        platform_keys = [k for k in keys if k[0] == "platform"]
        self.env.cr.execute("""
            SELECT i.channel_id, NULL::int, NULL::varchar, i.identity_type, i.value, i.partner_id, i.id, i.nickname,
                   i.avatar_url
              FROM live_fan_identity i
              JOIN unnest(%s::int[], %s::varchar[], %s::varchar[]) AS k(channel_id, identity_type, value)
                ON i.channel_id = k.channel_id AND i.identity_type = k.identity_type AND i.value = k.value
            UNION ALL
            SELECT NULL::int, i.company_id, i.platform, i.identity_type, i.value, i.partner_id, i.id, i.nickname,
                   i.avatar_url
              FROM live_fan_identity i
              JOIN unnest(%s::int[], %s::varchar[], %s::varchar[], %s::varchar[])
                   AS k(company_id, platform, identity_type, value)
                ON i.channel_id IS NULL AND i.company_id = k.company_id AND i.platform = k.platform
               AND i.identity_type = k.identity_type AND i.value = k.value
        """, [[k[1] for k in channel_keys], [k[2] for k in channel_keys], [k[3] for k in channel_keys],
              [k[1] for k in platform_keys], [k[2] for k in platform_keys], [k[3] for k in platform_keys],
              [k[4] for k in platform_keys]])
        found = {}
        for channel_id, company_id, platform, id_type, value, *profile in self.env.cr.fetchall():
            key = ("channel", channel_id, id_type, value) if channel_id else ("platform", company_id, platform, id_type, value)
            found[key] = tuple(profile)  # partner id, identity id, nickname, avatar URL
        return found

    def _strong_keys(self, work, salt):
        """The keys that name the event's person across channels, beside its own id:
        union ids (and platform phone hashes) pushed with it, and the phone of an
        order's address as our salted hash. Yields (key, what to store): a Fan for
        identities, the masked number for a phone."""
        company_id = work.channel.company_id.id
        data = work.event.data
        others = list(work.event.fan.others)
        if isinstance(data, PlatformOrder):
            others += data.other_identities
        for other in others:
            # A channel-scoped id of another app means nothing on this channel.
            if other.id and other.id_type not in CHANNEL_SCOPED_TYPES:
                yield ("platform", company_id, other.platform, other.id_type, str(other.id)), other
        phone = isinstance(data, PlatformOrder) and data.address and data.address.phone
        normalized = phone and normalize_phone(phone)
        if normalized:
            yield ("phone", company_id, phone_hash(normalized, salt)), mask_phone(normalized)

    def _lookup_keys(self, keys):
        identity_keys = [k for k in keys if k[0] != "phone"]
        found = self._lookup_identities(identity_keys) if identity_keys else {}
        phone_keys = [k for k in keys if k[0] == "phone"]
        if phone_keys:
            self.env.cr.execute("""
                SELECT p.company_id, p.fan_phone_hash, min(p.id)
                  FROM res_partner p
                  JOIN unnest(%s::int[], %s::varchar[]) AS k(company_id, phone_hash)
                    ON p.company_id = k.company_id AND p.fan_phone_hash = k.phone_hash
                 WHERE p.active
                 GROUP BY p.company_id, p.fan_phone_hash
            """, [[k[1] for k in phone_keys], [k[2] for k in phone_keys]])
            for company_id, key_hash, partner_id in self.env.cr.fetchall():
                found[("phone", company_id, key_hash)] = (partner_id, None, None, None)
        return found

    def _resolve_fans(self, works):
        if not works:
            return
        by_key = defaultdict(list)
        strong, links = {}, []
        salt = None
        for work in works:
            key = self._identity_key(work)
            by_key[key].append(work)
            if work.event.fan.others or isinstance(work.event.data, PlatformOrder):
                salt = salt or phone_salt(self.env)
                for strong_key, value in self._strong_keys(work, salt):
                    strong.setdefault(strong_key, (value, work))
                    links.append((key, strong_key))
        keys = list(by_key) + [key for key in strong if key not in by_key]
        found, missing = self._find_or_lock(keys, self._lookup_keys, namespace=0)
        if missing or links:
            self._join_and_create(by_key, strong, links, found, missing)
        changed = []
        for key, key_works in by_key.items():
            partner_id, identity_id, nickname, avatar_url = found[key]
            for work in key_works:
                work.partner_id = partner_id
            # The platform's latest word, whatever the identity's scope.
            fans = [work.event.fan for work in reversed(key_works)]
            new_nickname = next((fan.nickname for fan in fans if fan.nickname), None)
            new_avatar = next((fan.avatar for fan in fans if fan.avatar), None)
            new_nickname = new_nickname if new_nickname != nickname else None
            new_avatar = new_avatar if new_avatar != avatar_url else None
            if new_nickname or new_avatar:
                changed.append((identity_id, new_nickname, new_avatar))
        if changed:
            self._update_profiles(sorted(changed))

    def _join_and_create(self, by_key, strong, links, found, missing):
        """One person per strong key: the keys an event names together (its own id,
        a union id, a phone) are one fan. A group of keys nobody knows yet is a new
        fan; its missing keys are attached to the fan that holds one of them; two
        fans holding keys of one group are merged into the older one (the merge
        service moves what they own). `found` is updated in place."""
        parent = {key: key for key in list(by_key) + list(strong)}

        def root(key):
            while parent[key] != key:
                parent[key] = parent[parent[key]]
                key = parent[key]
            return key
        for primary, other in links:
            parent[root(other)] = root(primary)
        groups = defaultdict(list)
        for key in parent:
            groups[root(key)].append(key)
        new_groups, attach, merges, phones = [], [], {}, []
        for group in groups.values():
            partner_ids = sorted({found[key][0] for key in group if key in found})
            if not partner_ids:
                new_groups.append(group)
                continue
            survivor = partner_ids[0]
            if len(partner_ids) > 1:
                merges[survivor] = partner_ids[1:]
            for key in group:
                if key not in found:
                    (phones if key[0] == "phone" else attach).append((survivor, key))
                elif found[key][0] != survivor:
                    found[key] = (survivor, *found[key][1:])
        if merges:
            self.env.flush_all()
            self.env["res.partner"]._live_merge_fans(merges)
        if new_groups:
            leaders = [next(key for key in group if key in by_key) for group in new_groups]
            partner_ids = self._create_partners(leaders, by_key)
            for group, partner_id in zip(new_groups, partner_ids):
                for key in group:
                    (phones if key[0] == "phone" else attach).append((partner_id, key))
        if attach:
            rows = []
            for partner_id, key in attach:
                if key in by_key:
                    work = by_key[key][0]
                    fan = work.event.fan
                else:
                    fan, work = strong[key]
                rows.append((partner_id, key, fan, work))
            self._insert_identities(rows, found)
        if phones:
            # The fan's phone key, as the first order with a full number gave it.
            self.env.cr.execute("""
                UPDATE res_partner p SET fan_phone_hash = u.phone_hash, fan_phone_masked = u.masked
                  FROM unnest(%s::int[], %s::varchar[], %s::varchar[]) AS u(id, phone_hash, masked)
                 WHERE p.id = u.id AND p.fan_phone_hash IS NULL
            """, [[partner_id for partner_id, _key in phones], [key[2] for _partner_id, key in phones],
                  [strong[key][0] for _partner_id, key in phones]])
            self.env["res.partner"].invalidate_model(["fan_phone_hash", "fan_phone_masked"])
            for partner_id, key in phones:
                found[key] = (partner_id, None, None, None)

    def _create_partners(self, keys, by_key):
        """One new fan per key (the first event's name and company); returns their ids."""
        partner_vals = []
        for key in keys:
            first = by_key[key][0]
            fan, channel = first.event.fan, first.channel
            name = fan.nickname or _("Fan %s", fan.id[-6:])
            partner_vals.append({
                "name": name, "company_id": channel.company_id.id, "is_live_fan": True,
                "fan_lifecycle_stage": "passerby", "fan_lifecycle_date": first.occurred.date(),
                "fan_since": first.occurred,
            })
        Partner = self.env["res.partner"].with_context(**QUIET)
        self.env.cr.cache["live_commerce_partner_defaults"] = Partner.default_get(list(Partner._fields))
        try:
            partners = Partner.with_context(live_commerce_cached_defaults=True).create(partner_vals)
        finally:
            del self.env.cr.cache["live_commerce_partner_defaults"]
        return partners.ids

    def _insert_identities(self, rows, found):
        """Insert identities: (partner id, key, Fan, work) rows; sets found[key]."""
        identity_vals = []
        for partner_id, key, fan, work in rows:
            identity_vals.append({
                "partner_id": partner_id,
                "channel_id": work.channel.id if key[0] == "channel" else False,
                "platform": work.channel.platform if key[0] == "channel" else fan.platform,
                "company_id": work.channel.company_id.id, "identity_type": fan.id_type, "value": str(fan.id),
                "nickname": fan.nickname, "avatar_url": fan.avatar, "first_seen": work.occurred,
            })
        # Plain INSERT: the values satisfy the model's constraints by construction
        # (scope from the identity type, platform from the channel), the unique
        # indexes still guard the data, and the ORM would cost more than the partner.
        self.env.cr.execute("""
            INSERT INTO live_fan_identity (partner_id, channel_id, platform, company_id, identity_type, value,
                                           nickname, avatar_url, avatar_state, first_seen, create_uid, create_date,
                                           write_uid, write_date)
            SELECT u.partner_id, u.channel_id, u.platform, u.company_id, u.identity_type, u.value, u.nickname,
                   u.avatar_url, CASE WHEN u.avatar_url IS NOT NULL THEN 'pending' END,
                   u.first_seen, %s, now() AT TIME ZONE 'UTC', %s, now() AT TIME ZONE 'UTC'
              FROM unnest(%s::int[], %s::int[], %s::varchar[], %s::int[], %s::varchar[], %s::varchar[],
                          %s::varchar[], %s::varchar[], %s::timestamp[])
                   AS u(partner_id, channel_id, platform, company_id, identity_type, value, nickname, avatar_url,
                        first_seen)
            RETURNING channel_id, company_id, platform, identity_type, value, id
        """, [self.env.uid, self.env.uid] + [[vals[name] or None for vals in identity_vals] for name in (
            "partner_id", "channel_id", "platform", "company_id", "identity_type", "value", "nickname",
            "avatar_url", "first_seen")])
        ids = {}
        for channel_id, company_id, platform, id_type, value, identity_id in self.env.cr.fetchall():
            key = ("channel", channel_id, id_type, value) if channel_id else ("platform", company_id, platform, id_type, value)
            ids[key] = identity_id
        self.env["live.fan.identity"].invalidate_model()
        self.env["res.partner"].browse({vals["partner_id"] for vals in identity_vals}).invalidate_recordset(
            ["live_identity_ids"])
        if any(vals["avatar_url"] for vals in identity_vals):
            self.env["live.fan.identity"]._wake_avatar_job()  # downloads are not the processor's job
        for (partner_id, key, _fan, _work), vals in zip(rows, identity_vals):
            found[key] = (partner_id, ids[key], vals["nickname"], vals["avatar_url"])

    def _update_profiles(self, changes):
        """Apply renamed fans and new avatar URLs: (identity id, nickname or None,
        avatar URL or None) sorted by id; None keeps the current value. A new avatar
        URL is downloaded again."""
        self.env.cr.execute("""
            UPDATE live_fan_identity i
               SET nickname = coalesce(u.nickname, i.nickname),
                   avatar_url = coalesce(u.avatar_url, i.avatar_url),
                   avatar_state = CASE WHEN u.avatar_url IS NULL THEN i.avatar_state ELSE 'pending' END,
                   avatar_attempts = CASE WHEN u.avatar_url IS NULL THEN i.avatar_attempts ELSE 0 END,
                   avatar_error = CASE WHEN u.avatar_url IS NULL THEN i.avatar_error END,
                   write_uid = %s, write_date = now() AT TIME ZONE 'UTC'
              FROM unnest(%s::int[], %s::varchar[], %s::varchar[]) AS u(id, nickname, avatar_url)
             WHERE i.id = u.id
        """, [self.env.uid, *(list(column) for column in zip(*changes))])
        self.env["live.fan.identity"].invalidate_model(
            ["nickname", "avatar_url", "avatar_state", "avatar_attempts", "avatar_error", "write_uid", "write_date"])
        if any(avatar for _id, _nickname, avatar in changes):
            self.env["live.fan.identity"]._wake_avatar_job()

    # -- sessions ---------------------------------------------------------
    def _resolve_sessions(self, works):
        if not works:
            return
        by_key = defaultdict(list)
        for work in works:
            channel = work.channel.session_channel_id or work.channel
            by_key[(channel.id, work.event.room_id)].append(work)
        found, missing = self._find_or_lock(list(by_key), self._lookup_sessions, namespace=1)
        if missing:
            # The platform started a stream nobody scheduled: create its session.
            channels = self.env["live.channel"].browse({channel_id for channel_id, _room in missing})
            names = {channel.id: channel.name for channel in channels}
            vals_list = []
            for channel_id, room_id in missing:
                first = min(by_key[(channel_id, room_id)], key=lambda w: w.occurred).occurred
                vals_list.append({
                    "name": _("%(channel)s live %(room)s", channel=names[channel_id], room=room_id),
                    "channel_id": channel_id, "room_id": room_id, "state": "live",
                    "date_scheduled_start": first, "date_start": first,
                })
            sessions = self.env["live.session"].with_context(**QUIET).create(vals_list)
            found.update(zip(missing, sessions.ids))
        for key, key_works in by_key.items():
            for work in key_works:
                work.session_id = found[key]

    def _lookup_sessions(self, keys):
        self.env.cr.execute("""
            SELECT s.channel_id, s.room_id, s.id
              FROM live_session s
              JOIN unnest(%s::int[], %s::varchar[]) AS k(channel_id, room_id)
                ON s.channel_id = k.channel_id AND s.room_id = k.room_id
        """, [[k[0] for k in keys], [k[1] for k in keys]])
        return {(channel_id, room_id): session_id for channel_id, room_id, session_id in self.env.cr.fetchall()}

    def _apply_session_events(self, works):
        # Few per stream: plain ORM writes. Events may arrive out of order, so times
        # only widen (earliest start, latest end) and states only move forward.
        for work in sorted(works, key=lambda w: w.occurred):
            session = self.env["live.session"].browse(work.session_id)
            when, data = work.occurred, work.event.data
            if work.event.type == "session.started":
                vals = {"date_start": min(filter(None, [session.date_start, when]))}
                if session.state == "scheduled":
                    vals["state"] = "live"
            elif work.event.type == "session.ended":
                vals = {"date_end": max(filter(None, [session.date_end, when])),
                        "date_start": session.date_start or when}
                if session.state in ("scheduled", "live"):
                    vals["state"] = "ended"
            else:
                if session.stat_updated_at and session.stat_updated_at > when:
                    continue
                vals = {"stat_updated_at": when}
                for field, key in (("stat_view_count", "pv"), ("stat_viewer_count", "uv"),
                                   ("stat_peak_viewers", "pcu"), ("stat_like_count", "likes")):
                    if key in data:
                        vals[field] = _int(data[key], key)
            session.with_context(**QUIET).write(vals)

    # -- audience, comments, totals ----------------------------------------
    @staticmethod
    def _counters(work):
        event, data = work.event, work.event.data
        counts = dict.fromkeys(COUNTERS, 0)
        if event.type == "fan.entered":
            counts["enter_count"] = 1
        elif event.type == "fan.left":
            counts["watch_seconds"] = _int(data.get("watch_seconds"), "watch_seconds")
        elif event.type == "comment":
            counts["comment_count"] = 1
        elif event.type == "like":
            counts["like_count"] = _int(data.get("count", 1), "count")
        elif event.type == "gift":
            counts["gift_count"] = _int(data.get("count", 1), "count")
            counts["gift_value"] = _int(data.get("value"), "value") / 100.0  # fen
        elif event.type == "follow":
            counts["follow_count"] = 1
        elif event.type == "share":
            counts["share_count"] = 1
        return counts

    def _aggregate(self, works, key):
        totals = {}
        for work in works:
            counts = self._counters(work)
            k = key(work)
            if k not in totals:
                totals[k] = dict(counts, first=work.occurred, last=work.occurred, company=work.channel.company_id.id,
                                 entered=None, left=None)
            else:
                row = totals[k]
                for name in COUNTERS:
                    row[name] += counts[name]
                row["first"] = min(row["first"], work.occurred)
                row["last"] = max(row["last"], work.occurred)
            row = totals[k]
            if work.event.type == "fan.entered":
                row["entered"] = max(filter(None, [row["entered"], work.occurred]))
            elif work.event.type == "fan.left":
                row["left"] = max(filter(None, [row["left"], work.occurred]))
        return totals

    def _upsert_counters(self, table, conflict, columns, values, merge, returning=""):
        """INSERT rows given column-wise, or add them to the existing row.

        `columns` are (name, SQL type) pairs after the conflict key, `values` one list
        per column, `merge` the SET expressions beyond the shared counters (which are
        added). Rows must come sorted by the conflict key: one lock order for every
        processor. Table and column names are this module's constants, not input.
        """
        names = [name for name, _type in columns]
        shared = [name for name, _type in SHARED_COUNTER_COLUMNS]
        self.env.cr.execute(f"""
            INSERT INTO {table} AS t ({", ".join(names + shared)}, create_uid, create_date, write_uid, write_date)
            SELECT {", ".join(f"u.{n}" for n in names + shared)},
                   %s, now() AT TIME ZONE 'UTC', %s, now() AT TIME ZONE 'UTC'
              FROM unnest({", ".join(f"%s::{sql_type}[]" for _n, sql_type in columns + SHARED_COUNTER_COLUMNS)})
                   AS u({", ".join(names + shared)})
            ON CONFLICT ({conflict}) DO UPDATE SET
                   {", ".join(merge + [f"{n} = t.{n} + EXCLUDED.{n}" for n in shared])},
                   write_date = EXCLUDED.write_date
            {returning}
        """, [self.env.uid, self.env.uid, *values])

    def _counter_values(self, rows):
        return [[row[name] for row in rows] for name, _type in SHARED_COUNTER_COLUMNS]

    def _upsert_audience(self, works):
        """Returns ({partner_id: number of sessions this batch added to the fan},
        {(session_id, partner_id): (new viewer, new interacting viewer, first event)}):
        who this batch made a viewer, or an interacting viewer, of a session for the
        first time, and when the fan's first event of the batch occurred."""
        if not works:
            return {}, {}
        totals = self._aggregate(works, key=lambda w: (w.session_id, w.partner_id))
        keys = sorted(totals)
        rows = [totals[k] for k in keys]
        self._upsert_counters(
            "live_session_fan", "session_id, partner_id",
            [("session_id", "int"), ("partner_id", "int"), ("company_id", "int"), ("first_seen_at", "timestamp"),
             ("last_seen_at", "timestamp"), ("enter_count", "int"), ("last_entered_at", "timestamp"),
             ("last_left_at", "timestamp")],
            [[k[0] for k in keys], [k[1] for k in keys], [r["company"] for r in rows], [r["first"] for r in rows],
             [r["last"] for r in rows], [r["enter_count"] for r in rows], [r["entered"] for r in rows],
             [r["left"] for r in rows], *self._counter_values(rows)],
            merge=["first_seen_at = LEAST(t.first_seen_at, EXCLUDED.first_seen_at)",
                   "last_seen_at = GREATEST(t.last_seen_at, EXCLUDED.last_seen_at)",
                   "enter_count = t.enter_count + EXCLUDED.enter_count",
                   # GREATEST ignores NULLs: a batch without an entry keeps the last one.
                   "last_entered_at = GREATEST(t.last_entered_at, EXCLUDED.last_entered_at)",
                   "last_left_at = GREATEST(t.last_left_at, EXCLUDED.last_left_at)"],
            returning="RETURNING session_id, partner_id, (xmax = 0) AS inserted, "
                      "comment_count + like_count + gift_count + follow_count + share_count")
        new_sessions = defaultdict(int)
        firsts = {}
        for session_id, partner_id, inserted, interactions in self.env.cr.fetchall():
            if inserted:
                new_sessions[partner_id] += 1
            row = totals[(session_id, partner_id)]
            in_batch = sum(row[name] for name in INTERACTION_COUNTERS)
            # The row's interactions after the upsert less this batch's: none before.
            firsts[(session_id, partner_id)] = (inserted, in_batch > 0 and interactions == in_batch, row["first"])
        return new_sessions, firsts

    def _upsert_minutes(self, works, firsts):
        """Add the batch to the sessions' per-minute figures (live.session.minute): one
        statement per batch. A fan's first appearance (and first interaction) in a
        session counts in the minute of the fan's first event of the batch."""
        if not works:
            return
        totals = self._aggregate(works, key=lambda w: (w.session_id, w.occurred.replace(second=0, microsecond=0)))
        leaves = defaultdict(int)
        for work in works:
            if work.event.type == "fan.left":
                leaves[(work.session_id, work.occurred.replace(second=0, microsecond=0))] += 1
        new_viewers, new_interacting = defaultdict(int), defaultdict(int)
        for (session_id, _partner_id), (viewer, interacting, first) in firsts.items():
            minute = (session_id, first.replace(second=0, microsecond=0))
            new_viewers[minute] += viewer
            new_interacting[minute] += interacting
        keys = sorted(totals)
        rows = [totals[k] for k in keys]
        self._upsert_counters(
            "live_session_minute", "session_id, minute",
            [("session_id", "int"), ("minute", "timestamp"), ("company_id", "int"), ("enter_count", "int"),
             ("leave_count", "int"), ("new_viewer_count", "int"), ("new_interacting_count", "int")],
            [[k[0] for k in keys], [k[1] for k in keys], [r["company"] for r in rows],
             [r["enter_count"] for r in rows], [leaves[k] for k in keys], [new_viewers[k] for k in keys],
             [new_interacting[k] for k in keys], *self._counter_values(rows)],
            merge=[f"{name} = t.{name} + EXCLUDED.{name}"
                   for name in ("enter_count", "leave_count", "new_viewer_count", "new_interacting_count")])

    def _insert_comments(self, works):
        if not works:
            return
        self.env.cr.execute("""
            INSERT INTO live_comment (session_id, partner_id, channel_id, company_id, content, occurred_at,
                                      event_id, create_uid, create_date, write_uid, write_date)
            SELECT u.session_id, u.partner_id, u.channel_id, u.company_id, u.content, u.occurred_at, u.event_id,
                   %s, now() AT TIME ZONE 'UTC', %s, now() AT TIME ZONE 'UTC'
              FROM unnest(%s::int[], %s::int[], %s::int[], %s::int[], %s::text[], %s::timestamp[], %s::int[])
                   AS u(session_id, partner_id, channel_id, company_id, content, occurred_at, event_id)
        """, [self.env.uid, self.env.uid,
              [w.session_id for w in works], [w.partner_id for w in works], [w.channel.id for w in works],
              [w.channel.company_id.id for w in works], [str(w.event.data.get("content") or "") for w in works],
              [w.occurred for w in works], [w.event_id for w in works]])

    def _update_fan_stats(self, works, new_sessions_by_partner):
        if not works:
            return
        totals = self._aggregate(works, key=lambda w: w.partner_id)
        ids = sorted(totals)
        rows = [totals[i] for i in ids]
        self._upsert_counters(
            "live_fan_stats", "partner_id",
            [("partner_id", "int"), ("company_id", "int"), ("session_count", "int"),
             ("last_interaction_at", "timestamp")],
            [ids, [r["company"] for r in rows], [new_sessions_by_partner.get(i, 0) for i in ids],
             [r["last"] for r in rows], *self._counter_values(rows)],
            merge=["session_count = t.session_count + EXCLUDED.session_count",
                   "last_interaction_at = GREATEST(t.last_interaction_at, EXCLUDED.last_interaction_at)"])
