from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

SUGGESTION_REASONS = [
    ("nickname_avatar", "Same nickname and avatar on two channels"),
    ("nickname", "Same nickname on two channels, no avatar"),
    ("address", "Same delivery address"),
]
SUGGESTION_STATES = [
    ("pending", "To Review"),
    ("accepted", "Merged"),
    ("rejected", "Not the Same Person"),
]
SERVICE_GROUP = "live_commerce_crm.group_live_service"
# A nickname or address that more fans share than this is a common one, not a
# sign that two of them are one person (and would flood the queue at scale).
MAX_FANS_PER_SIGNAL = 5


class LiveFanMergeSuggestion(models.Model):
    """Two fans that may be one person, from a weak signal (strong keys, a shared
    union id or phone, merge on their own). Customer service accepts (Odoo's
    partner merge) or rejects; a rejected pair is never suggested again."""
    _name = "live.fan.merge.suggestion"
    _description = "Fan Merge Suggestion"
    _order = "state, score desc, id desc"
    _rec_name = "partner_a_id"
    _check_company_auto = True

    # partner_a_id < partner_b_id: one row per pair. Once merged, partner_a_id is
    # the surviving fan and partner_b_id is empty (the other one is gone).
    partner_a_id = fields.Many2one("res.partner", string="Fan", required=True, ondelete="cascade", index=True,
                                   readonly=True, check_company=True)
    partner_b_id = fields.Many2one("res.partner", string="Maybe the Same As", ondelete="cascade", index=True,
                                   readonly=True, check_company=True)
    merged_name = fields.Char(string="Merged Fan", readonly=True, help="The fan merged into the first one.")
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    reason = fields.Selection(SUGGESTION_REASONS, required=True, readonly=True)
    score = fields.Integer(readonly=True, help="How likely the two are one person, out of 100.")
    state = fields.Selection(SUGGESTION_STATES, required=True, default="pending", readonly=True, index=True)
    decided_by_id = fields.Many2one("res.users", string="Decided By", readonly=True)
    decided_on = fields.Datetime(readonly=True)

    def init(self):
        # NULLs are distinct: merged rows (partner_b_id empty) never collide.
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS live_fan_merge_suggestion_pair_uniq
                ON live_fan_merge_suggestion (partner_a_id, partner_b_id)
        """)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_accept(self):
        self._check_decider()
        for suggestion in self:
            # An earlier merge of this loop may have decided or moved this one.
            if not suggestion.exists() or suggestion.state != "pending":
                continue
            fans = suggestion.partner_a_id | suggestion.partner_b_id
            fans.check_access("write")  # the user looks after both fans (their companies, our rules)
            self.env["res.partner"]._live_merge_fans({suggestion.partner_a_id.id: suggestion.partner_b_id.ids})
            suggestion.sudo().write({"decided_by_id": self.env.uid, "decided_on": fields.Datetime.now()})
        return True

    def action_reject(self):
        self._check_decider()
        pending = self.filtered(lambda s: s.state == "pending")
        if pending != self:
            raise UserError(_("Only suggestions still to review can be rejected."))
        self.sudo().write({"state": "rejected", "decided_by_id": self.env.uid, "decided_on": fields.Datetime.now()})
        return True

    def _check_decider(self):
        """Merging people is customer service's job (managers included); the merge
        itself runs as superuser, so the check is ours, whatever the caller."""
        if not (self.env.su or self.env.user.has_group(SERVICE_GROUP)):
            raise AccessError(_("Only customer service and managers decide whether two fans are one person."))
        self.check_access("write")

    # ------------------------------------------------------------------
    # Finding them (set-based: nightly over every fan)
    # ------------------------------------------------------------------
    @api.model
    def _cron_suggest_merges(self):
        return self._suggest_merges()

    @api.model
    def _suggest_merges(self):
        """Insert a pending suggestion for every pair of fans with a weak signal in
        common that no suggestion names yet (pending, or decided: a rejected pair
        stays rejected). Returns how many were added."""
        self.env.flush_all()
        self.env.cr.execute("""
            WITH names AS (
                SELECT company_id, nickname
                  FROM live_fan_identity
                 WHERE nickname IS NOT NULL AND nickname <> ''
                 GROUP BY company_id, nickname
                HAVING count(DISTINCT partner_id) BETWEEN 2 AND %(max)s
            ), named AS (
                SELECT i.partner_id, i.company_id, i.channel_id, i.nickname, coalesce(i.avatar_url, '') AS avatar
                  FROM live_fan_identity i
                  JOIN names n ON n.company_id = i.company_id AND n.nickname = i.nickname
            ), addresses AS (
                SELECT a.parent_id AS partner_id, f.company_id,
                       md5(lower(concat_ws('|', a.street, a.street2, a.city, a.state_id, a.zip))) AS address_hash
                  FROM res_partner a
                  JOIN res_partner f ON f.id = a.parent_id AND f.is_live_fan AND f.active
                 WHERE a.type = 'delivery' AND a.active AND a.street IS NOT NULL
                   AND a.street NOT LIKE '%%*%%'  -- a masked street names no one
            ), shared_addresses AS (
                SELECT company_id, address_hash FROM addresses
                 GROUP BY company_id, address_hash
                HAVING count(DISTINCT partner_id) BETWEEN 2 AND %(max)s
            ), pairs AS (
                SELECT n1.partner_id AS a, n2.partner_id AS b, n1.company_id,
                       CASE WHEN n1.avatar <> '' THEN 'nickname_avatar' ELSE 'nickname' END AS reason,
                       CASE WHEN n1.avatar <> '' THEN 80 ELSE 50 END AS score
                  FROM named n1
                  JOIN named n2 ON n2.company_id = n1.company_id AND n2.nickname = n1.nickname
                               AND n2.avatar = n1.avatar AND n2.partner_id > n1.partner_id
                               AND n2.channel_id IS DISTINCT FROM n1.channel_id
                UNION ALL
                SELECT a1.partner_id, a2.partner_id, a1.company_id, 'address', 60
                  FROM addresses a1
                  JOIN shared_addresses s ON s.company_id = a1.company_id AND s.address_hash = a1.address_hash
                  JOIN addresses a2 ON a2.company_id = a1.company_id AND a2.address_hash = a1.address_hash
                                   AND a2.partner_id > a1.partner_id
            )
            INSERT INTO live_fan_merge_suggestion (partner_a_id, partner_b_id, company_id, reason, score, state,
                                                   create_uid, create_date, write_uid, write_date)
            SELECT DISTINCT ON (a, b) a, b, company_id, reason, score, 'pending',
                   %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC'
              FROM pairs
             ORDER BY a, b, score DESC
            ON CONFLICT (partner_a_id, partner_b_id) DO NOTHING
        """, {"max": MAX_FANS_PER_SIGNAL, "uid": self.env.uid})
        added = self.env.cr.rowcount
        self.invalidate_model()
        return added

    # ------------------------------------------------------------------
    # Merges (wizards/base_partner_merge.py): suggestions follow the survivor
    # ------------------------------------------------------------------
    def _follow_merge(self, src_partners, dst_partner):
        """Before Odoo moves the references: a suggestion between the merged fans is
        decided (merged), one with another fan moves to the survivor (a rejection
        wins over a pending twin), so no row is left on a merged-away fan."""
        cr = self.env.cr
        merged = set((src_partners | dst_partner).ids)
        cr.execute("""
            SELECT s.id, s.partner_a_id, s.partner_b_id, s.state
              FROM live_fan_merge_suggestion s
             WHERE (s.partner_a_id = ANY(%(ids)s) OR s.partner_b_id = ANY(%(ids)s)) AND s.partner_b_id IS NOT NULL
             ORDER BY s.id
        """, {"ids": list(merged)})
        inside, by_pair = [], {}
        for suggestion_id, a, b, state in cr.fetchall():
            if a in merged and b in merged:
                inside.append((suggestion_id, b if a == dst_partner.id else a))
                continue
            other = b if a in merged else a
            by_pair.setdefault((min(dst_partner.id, other), max(dst_partner.id, other)), []).append(
                (state != "rejected", suggestion_id))
        names = dict(zip(src_partners.ids, src_partners.mapped("name")))
        for suggestion_id, gone in inside:
            cr.execute("""
                UPDATE live_fan_merge_suggestion
                   SET state = 'accepted', partner_a_id = %s, partner_b_id = NULL, merged_name = %s,
                       decided_on = coalesce(decided_on, now() AT TIME ZONE 'UTC')
                 WHERE id = %s
            """, [dst_partner.id, names.get(gone), suggestion_id])
        keepers, dropped = [], []
        for pair, rows in by_pair.items():
            rows.sort()
            keepers.append((rows[0][1], *pair))
            dropped += [suggestion_id for _pending, suggestion_id in rows[1:]]
        if dropped:
            cr.execute("DELETE FROM live_fan_merge_suggestion WHERE id = ANY(%s)", [dropped])
        if keepers:
            cr.execute("""
                UPDATE live_fan_merge_suggestion s SET partner_a_id = u.a, partner_b_id = u.b
                  FROM unnest(%s::int[], %s::int[], %s::int[]) AS u(id, a, b)
                 WHERE s.id = u.id
            """, [list(column) for column in zip(*keepers)])
        self.invalidate_model()
