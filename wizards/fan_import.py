"""Import existing fans from a platform's or a shop's export (.xlsx or .csv).

Every row is checked first, then the rows that are the same person are grouped:
in the file and against the database, by platform id (channel, type, value; or
company, platform, type, value for union ids) and by phone key (salted hash of the
normalized number, models/fan_phone.py). A group that meets an existing fan fills
that fan's empty fields and adds its identities; any other group is one new fan.
The dry run stops there and shows the counts; the import then writes the same plan.

Rejected rows (no platform id and no valid phone, a bad date or amount) are never
written, and are listed with the reason in an error workbook; the user sees their
count in the dry run before choosing to import the rest. Anything that fails while
writing (a database constraint, an identity created meanwhile by a webhook) undoes
the whole file: the writes run in one savepoint of one transaction.
"""
import base64
import datetime
import io
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field

import xlsxwriter

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tools import SQL, email_normalize

from ..models.fan_phone import mask_phone, normalize_phone, phone_hash, phone_salt
from ..models.live_fan_identity import CHANNEL_SCOPED_TYPES, IDENTITY_TYPES
from ..models.live_fan_import_preset import IMPORT_TARGETS
from .fan_import_file import cell_text, read_table

_logger = logging.getLogger(__name__)

# Context of the partners the import creates by the thousand (as the processor's).
QUIET = {"tracking_disable": True, "mail_create_nolog": True, "mail_create_nosubscribe": True,
         "mail_notrack": True}
CREATE_BATCH = 2000
# Files with more rows are imported by a background job (queue_job), which reports
# its progress on the wizard; smaller ones while the user waits.
SYNC_ROWS_PARAM = "live_commerce_crm.fan_import_sync_rows"
SYNC_ROWS_DEFAULT = 5000
# The columns of a new fan's row that are its own (wizards' _insert_partners); the
# others are the same for every fan of an import.
OWN_COLUMN_TYPES = [("name", "varchar"), ("complete_name", "varchar"), ("email", "varchar"),
                    ("email_normalized", "varchar"), ("city", "varchar"), ("fan_phone_hash", "varchar"),
                    ("fan_phone_masked", "varchar"), ("fan_birthday", "date"), ("fan_gender", "varchar"),
                    ("fan_external_spend", "numeric")]
OWN_COLUMNS = [column for column, _type in OWN_COLUMN_TYPES]
KEY_TARGETS = ("identity", "union_id", "phone")
# Filled on an existing fan only where it is empty.
FILL_FIELDS = ("email", "city", "fan_birthday", "fan_gender", "fan_external_spend")
GENDER_WORDS = {"男": "male", "male": "male", "m": "male", "1": "male", "先生": "male",
                "女": "female", "female": "female", "f": "female", "2": "female", "女士": "female"}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S",
                "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")
_MONEY_NOISE = re.compile(r"[¥￥,，元\s]|RMB|CNY", re.IGNORECASE)


@dataclass
class Row:
    number: int
    cells: list
    keys: list = field(default_factory=list)  # identity keys (tuples) then ("phone", hash)
    vals: dict = field(default_factory=dict)
    nickname: str = None
    level: str = None


@dataclass
class Plan:
    rows: list                      # accepted Row, in file order
    rejected: list                  # (row number, reason, cells)
    groups: list                    # [(existing partner id or None, [Row, ...])]
    existing_identities: set        # identity keys already in the database
    headers: list

    @property
    def new_count(self):
        return sum(1 for partner_id, _rows in self.groups if not partner_id)

    @property
    def merged_count(self):
        return len(self.rows) - self.new_count


class LiveFanImport(models.TransientModel):
    _name = "live.fan.import"
    _description = "Import Fans"

    file = fields.Binary(string="File", attachment=False, required=True)
    filename = fields.Char()
    channel_id = fields.Many2one(
        "live.channel", string="Channel",
        help="The shop or account the platform ids of the file belong to. Not needed for lists matched by phone "
             "only.")
    company_id = fields.Many2one("res.company", compute="_compute_company_id")
    preset_id = fields.Many2one(
        "live.fan.import.preset", string="Preset",
        domain="['|', ('company_id', '=', False), ('company_id', '=', company_id)]",
        help="A remembered column mapping; found from the file's header row when it matches one.")
    identity_type = fields.Selection(IDENTITY_TYPES, string="ID Type", default="open_id", required=True)
    column_ids = fields.One2many("live.fan.import.column", "wizard_id", string="Columns")
    preset_name = fields.Char(string="Save Mapping As")
    state = fields.Selection(
        [("draft", "Map Columns"), ("checked", "Checked"), ("queued", "Importing"), ("done", "Imported")],
        default="draft", readonly=True)
    row_count = fields.Integer(string="Rows", readonly=True)
    new_count = fields.Integer(string="New Fans", readonly=True)
    merged_count = fields.Integer(string="Merged", readonly=True,
                                  help="Rows that are a fan already known, or a row above in the file.")
    rejected_count = fields.Integer(string="Rejected", readonly=True)
    progress = fields.Integer(readonly=True)
    error_file = fields.Binary(string="Rejected Rows", attachment=False, readonly=True)
    error_filename = fields.Char(readonly=True)

    @api.depends("channel_id")
    def _compute_company_id(self):
        for wizard in self:
            wizard.company_id = wizard.channel_id.company_id or self.env.company

    @api.onchange("file")
    def _onchange_file(self):
        self.state, self.error_file = "draft", False
        if not self.file:
            self.column_ids = [Command.clear()]
            return
        headers, _rows = read_table(self.env, base64.b64decode(self.file), self.filename, header_only=True)
        self.preset_id = self.env["live.fan.import.preset"]._detect(headers)
        self.column_ids = [Command.clear()] + [
            Command.create({"column_index": index, "header": header}) for index, header in enumerate(headers)]
        self._apply_preset()

    @api.onchange("preset_id")
    def _onchange_preset_id(self):
        self._apply_preset()

    def _apply_preset(self):
        if not self.preset_id:
            return
        mapping = self.preset_id._mapping()
        self.identity_type = self.preset_id.identity_type or self.identity_type
        for column in self.column_ids:
            column.target = mapping.get((column.header or "").strip(), False)
        if self.preset_id.platform and not self.channel_id:
            self.channel_id = self.env["live.channel"].search(
                [("platform", "=", self.preset_id.platform), ("company_id", "=", self.env.company.id)], limit=1)

    # -- actions -----------------------------------------------------------------
    def action_dry_run(self):
        self.ensure_one()
        self._check_import_rights()
        plan = self._plan()
        self._show(plan, "checked")
        return self._reopen()

    def action_import(self):
        self.ensure_one()
        self._check_import_rights()
        sync_rows = int(self.env["ir.config_parameter"].sudo().get_param(SYNC_ROWS_PARAM, SYNC_ROWS_DEFAULT))
        if self.row_count > sync_rows:
            self.write({"state": "queued", "progress": 0})
            self.with_delay(
                channel="root.live_commerce", max_retries=1,
                description=self.env._("Import fans from %s", self.filename or "?"),
            )._job_import()
            return self._reopen()
        plan = self._import()
        self._show(plan, "done")
        return self._reopen()

    def action_save_preset(self):
        self.ensure_one()
        if not self.preset_name:
            raise UserError(self.env._("Name the mapping first."))
        mapping = {column.header: column.target for column in self.column_ids if column.target and column.header}
        if not mapping:
            raise UserError(self.env._("Map at least one column first."))
        self.preset_id = self.env["live.fan.import.preset"].create({
            "name": self.preset_name, "mapping": mapping, "identity_type": self.identity_type,
            "platform": self.channel_id.platform or self.preset_id.platform or False,
            "company_id": self.company_id.id,
        })
        self.preset_name = False
        return self._reopen()

    def _reopen(self):
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
                "target": "new", "name": self.env._("Import Fans")}

    def _show(self, plan, state):
        self.write({
            "state": state, "row_count": len(plan.rows) + len(plan.rejected), "new_count": plan.new_count,
            "merged_count": plan.merged_count, "rejected_count": len(plan.rejected),
            "error_file": base64.b64encode(self._error_workbook(plan)) if plan.rejected else False,
            "error_filename": self.env._("rejected-fans.xlsx") if plan.rejected else False,
        })

    def _check_import_rights(self):
        # The identities and merges are written in SQL below: the ORM's access
        # check is done here, once (customer service and managers edit fans).
        self.env["res.partner"].check_access("create")
        self.env["live.fan.identity"].check_access("create")
        if self.channel_id:
            self.channel_id.check_access("read")

    def _job_import(self):
        """The background import of a long file: one transaction, so a failure
        leaves nothing behind (the job fails and says why)."""
        self._check_import_rights()
        plan = self._import(report_progress=True)
        self.env["bus.bus"]._sendone(self.env.user.partner_id, "simple_notification", {
            "type": "success", "title": self.env._("Fans imported"),
            "message": self.env._("%(file)s: %(new)s new fans, %(merged)s merged, %(rejected)s rejected.",
                                  file=self.filename or "", new=plan.new_count, merged=plan.merged_count,
                                  rejected=len(plan.rejected)),
        })
        return f"{plan.new_count} new, {plan.merged_count} merged, {len(plan.rejected)} rejected"

    # -- the plan ----------------------------------------------------------------
    def _mapping(self):
        """{column index: target}; the first column of a target wins."""
        mapping = {}
        for column in self.column_ids.sorted("column_index"):
            if column.target and column.target not in mapping.values():
                mapping[column.column_index] = column.target
        targets = set(mapping.values())
        if not targets & set(KEY_TARGETS):
            raise UserError(self.env._("Map a column to a platform user id, a union id or a phone: "
                                       "without one, no row can be told apart from another fan."))
        if targets & {"identity", "union_id"} and not self.channel_id:
            raise UserError(self.env._("Choose the channel the platform ids of this file belong to."))
        return mapping

    def _plan(self):
        mapping = self._mapping()
        headers, data = read_table(self.env, base64.b64decode(self.file or b""), self.filename)
        salt = phone_salt(self.env)
        rows, rejected = [], []
        for number, cells in data:
            row = Row(number, cells)
            reason = self._parse_row(row, mapping, salt)
            if reason:
                rejected.append((number, reason, cells))
            else:
                rows.append(row)
        groups = self._group(rows)
        existing_partner, existing_identities = self._match(groups)
        plan_groups = [(existing_partner.get(index), group_rows) for index, group_rows in enumerate(groups)]
        return Plan(rows, rejected, plan_groups, existing_identities, headers)

    def _parse_row(self, row, mapping, salt):
        """Fill `row` from its cells; the reason it is rejected, or None."""
        _ = self.env._
        values = {}
        for index, target in mapping.items():
            values[target] = row.cells[index] if index < len(row.cells) else None
        channel = self.channel_id
        identity = cell_text(values.get("identity"))
        if identity:
            if len(identity) > 255:
                return _("The platform user id is longer than 255 characters.")
            if self.identity_type in CHANNEL_SCOPED_TYPES:
                row.keys.append(("channel", channel.id, self.identity_type, identity))
            else:
                row.keys.append(("platform", channel.company_id.id, channel.platform, self.identity_type, identity))
        union_id = cell_text(values.get("union_id"))
        if union_id:
            row.keys.append(("platform", channel.company_id.id, channel.platform, "union_id", union_id))
        raw_phone = cell_text(values.get("phone"))
        normalized = normalize_phone(raw_phone)
        if normalized:
            row.keys.append(("phone", phone_hash(normalized, salt)))
            row.vals["fan_phone_masked"] = mask_phone(normalized)
        elif not row.keys:
            # A masked number (138****8000, what most exports give) is no key.
            return _("No platform user id, and no phone number that can be used (%s).", raw_phone) if raw_phone \
                else _("No platform user id and no phone number.")
        birthday = values.get("birthday")
        if birthday not in (None, ""):
            parsed = _parse_date(birthday)
            if not parsed:
                return _("The birthday %s is not a date.", cell_text(birthday))
            row.vals["fan_birthday"] = parsed
        spend = values.get("spend")
        if spend not in (None, ""):
            amount = _parse_amount(spend)
            if amount is None:
                return _("The total spend %s is not an amount.", cell_text(spend))
            row.vals["fan_external_spend"] = amount
        gender = GENDER_WORDS.get(cell_text(values.get("gender")).lower())
        if gender:
            row.vals["fan_gender"] = gender
        email = cell_text(values.get("email"))
        if "@" in email:
            row.vals["email"] = email
        region = cell_text(values.get("region"))
        if region:
            row.vals["city"] = region
        row.nickname = cell_text(values.get("nickname")) or None
        name = cell_text(values.get("name")) or row.nickname
        if name:
            row.vals["name"] = name
        row.level = cell_text(values.get("level")) or None
        return None

    @staticmethod
    def _group(rows):
        """Rows sharing any key are one person: connected components (union-find)."""
        parent = list(range(len(rows)))

        def root(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        first_row_of_key = {}
        for i, row in enumerate(rows):
            for key in row.keys:
                j = first_row_of_key.setdefault(key, i)
                if j != i:
                    ri, rj = root(i), root(j)
                    if ri != rj:
                        parent[max(ri, rj)] = min(ri, rj)  # the earliest row stays the root
        members = defaultdict(list)
        for i, row in enumerate(rows):
            members[root(i)].append(row)
        return [members[i] for i in sorted(members)]

    def _match(self, groups):
        """({group index: existing partner id}, identity keys already stored). A
        platform id decides before a phone; among several, the file's first."""
        identity_keys = {key for group in groups for row in group for key in row.keys if key[0] != "phone"}
        phone_keys = {key[1] for group in groups for row in group for key in row.keys if key[0] == "phone"}
        by_identity = self._lookup_identities(identity_keys)
        by_phone = self._lookup_phones(phone_keys)
        found = {}
        for index, group in enumerate(groups):
            keys = [key for row in group for key in row.keys]
            partner_id = next((by_identity[key] for key in keys if key in by_identity), None) \
                or next((by_phone[key[1]] for key in keys if key[0] == "phone" and key[1] in by_phone), None)
            if partner_id:
                found[index] = partner_id
        return found, set(by_identity)

    def _lookup_identities(self, keys):
        channel_keys = [k for k in keys if k[0] == "channel"]
        platform_keys = [k for k in keys if k[0] == "platform"]
        cr = self.env.cr
        cr.execute("""
            SELECT i.channel_id, i.identity_type, i.value, i.partner_id
              FROM live_fan_identity i
              JOIN unnest(%s::int[], %s::varchar[], %s::varchar[]) AS k(channel_id, identity_type, value)
                ON i.channel_id = k.channel_id AND i.identity_type = k.identity_type AND i.value = k.value
        """, [[k[1] for k in channel_keys], [k[2] for k in channel_keys], [k[3] for k in channel_keys]])
        found = {("channel", c, t, v): p for c, t, v, p in cr.fetchall()}
        cr.execute("""
            SELECT i.company_id, i.platform, i.identity_type, i.value, i.partner_id
              FROM live_fan_identity i
              JOIN unnest(%s::int[], %s::varchar[], %s::varchar[], %s::varchar[])
                   AS k(company_id, platform, identity_type, value)
                ON i.channel_id IS NULL AND i.company_id = k.company_id AND i.platform = k.platform
               AND i.identity_type = k.identity_type AND i.value = k.value
        """, [[k[1] for k in platform_keys], [k[2] for k in platform_keys], [k[3] for k in platform_keys],
              [k[4] for k in platform_keys]])
        found.update({("platform", c, pl, t, v): p for c, pl, t, v, p in cr.fetchall()})
        return found

    def _lookup_phones(self, hashes):
        """{phone hash: fan} among the import company's contacts and the shared ones
        (another company's fan with the same number is another company's business)."""
        self.env.cr.execute("""
            SELECT fan_phone_hash, id FROM res_partner
             WHERE fan_phone_hash = ANY(%s) AND active AND (company_id = %s OR company_id IS NULL)
             ORDER BY COALESCE(is_live_fan, false), id DESC
        """, [list(hashes), self.company_id.id])
        return dict(self.env.cr.fetchall())  # the last one wins: the oldest fan

    # -- writing -----------------------------------------------------------------
    def _import(self, report_progress=False):
        plan = self._plan()
        try:
            with self.env.cr.savepoint():
                self._write(plan, report_progress)
        except Exception:
            _logger.exception("Fan import of %s undone", self.filename)
            raise
        return plan

    def _write(self, plan, report_progress):
        company = self.company_id
        levels = self._level_tags({row.level for row in plan.rows if row.level})
        new_groups = [rows for partner_id, rows in plan.groups if not partner_id]
        merged_groups = [(partner_id, rows) for partner_id, rows in plan.groups if partner_id]
        total, done = len(plan.groups), 0
        now = fields.Datetime.now()
        identities = []  # (partner id, key, nickname)
        template_id = None
        for start in range(0, len(new_groups), CREATE_BATCH):
            batch = new_groups[start:start + CREATE_BATCH]
            vals_list = [self._new_fan_vals(rows, company, levels, now) for rows in batch]
            if template_id is None:
                first = dict(vals_list.pop(0))
                first.pop("category_ids", None)
                template_id = self._quiet_partners().create(first).id
                partner_ids = [template_id] + self._insert_partners(template_id, vals_list)
            else:
                partner_ids = self._insert_partners(template_id, vals_list)
            for partner_id, rows in zip(partner_ids, batch):
                identities += self._identities_of(partner_id, rows, plan.existing_identities)
            done += len(batch)
            if report_progress:
                self._report_progress(done, total)
        self._merge_into(merged_groups, levels, identities, plan.existing_identities, now)
        self._insert_identities(identities, now)
        if report_progress:
            self._report_progress(total, total)

    def _quiet_partners(self):
        # Not the defaults of the screen the wizard was opened from (default_* keys).
        context = {key: value for key, value in self.env.context.items() if not key.startswith("default_")}
        return self.env["res.partner"].with_context(context, **QUIET)

    def _insert_partners(self, template_id, vals_list):
        """New fans in one INSERT per batch: the ORM made the first one (defaults,
        computed columns, access rights), the others copy its row but for their own
        values. The ORM's create costs about 10 ms a contact here (defaults, the
        computed fields, the chatter's machinery): 100,000 contacts would take
        minutes, this takes seconds. The columns that depend on a fan's own values
        are set here: complete_name is the name (a person with no company or
        parent), email_normalized the normalized e-mail."""
        if not vals_list:
            return []
        cr = self.env.cr
        cr.execute("SELECT nextval('res_partner_id_seq') FROM generate_series(1, %s)", [len(vals_list)])
        ids = [row[0] for row in cr.fetchall()]
        own = {column: [vals.get(column) for vals in vals_list] for column in OWN_COLUMNS}
        own["complete_name"] = own["name"]
        own["email_normalized"] = [email_normalize(email) if email else None for email in own["email"]]
        cr.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'res_partner' "
                   "AND table_schema = current_schema()")
        copied = sorted({row[0] for row in cr.fetchall()} - set(own) - {"id", "commercial_partner_id"})
        types = dict(OWN_COLUMN_TYPES)
        query = SQL(
            """INSERT INTO res_partner (id, commercial_partner_id, %(own)s, %(copied)s)
               SELECT u.id, u.id, %(own_values)s, %(copied_values)s
                 FROM unnest(%(id_array)s::int[], %(arrays)s) AS u(id, %(own)s), res_partner t
                WHERE t.id = %(template)s""",
            own=SQL(", ").join(SQL.identifier(column) for column in own),
            copied=SQL(", ").join(SQL.identifier(column) for column in copied),
            own_values=SQL(", ").join(SQL.identifier("u", column) for column in own),
            copied_values=SQL(", ").join(SQL.identifier("t", column) for column in copied),
            id_array=ids,
            arrays=SQL(", ").join(SQL("%s::" + types[column] + "[]", values) for column, values in own.items()),
            template=template_id,
        )
        cr.execute(query)
        categories = [(category_id, partner_id) for partner_id, vals in zip(ids, vals_list)
                      for category_id in vals.get("category_ids", ())]
        if categories:
            cr.execute("""
                INSERT INTO res_partner_res_partner_category_rel (category_id, partner_id)
                SELECT * FROM unnest(%s::int[], %s::int[])
            """, [[c for c, _p in categories], [p for _c, p in categories]])
        self.env["res.partner"].invalidate_model()
        return ids

    def _new_fan_vals(self, rows, company, levels, now):
        vals = _first_values(rows)
        phone = next((key[1] for row in rows for key in row.keys if key[0] == "phone"), None)
        name = vals.pop("name", None) or vals.get("fan_phone_masked") or self.env._(
            "Fan %s", next(key[-1] for key in rows[0].keys)[-6:])
        vals.update({"name": name, "company_id": company.id, "is_live_fan": True, "fan_since": now,
                     "fan_lifecycle_stage": "passerby", "fan_phone_hash": phone})
        if not phone:
            vals.pop("fan_phone_masked", None)
        tags = _level_tag(rows, levels)
        if tags:
            vals["category_id"] = [Command.set(tags)]
            vals["category_ids"] = tags  # for _insert_partners
        return vals

    @staticmethod
    def _identities_of(partner_id, rows, existing):
        seen, result = set(), []
        for row in rows:
            for key in row.keys:
                if key[0] != "phone" and key not in existing and key not in seen:
                    seen.add(key)
                    result.append((partner_id, key, row.nickname))
        return result

    def _merge_into(self, merged_groups, levels, identities, existing, now):
        """Existing fans: fill what is empty, add the tags and identities. Written
        per set of equal values (most merges only add an identity or a tag)."""
        if not merged_groups:
            return
        Partner = self._quiet_partners()
        partners = Partner.browse({partner_id for partner_id, _rows in merged_groups})
        partners.fetch(["fan_phone_hash", "fan_since", "is_live_fan", *FILL_FIELDS])
        by_vals = defaultdict(list)
        rows_by_partner = defaultdict(list)
        for partner_id, rows in merged_groups:
            rows_by_partner[partner_id] += rows
        for partner_id, rows in rows_by_partner.items():
            partner = partners.browse(partner_id)
            vals = {name: value for name, value in _first_values(rows).items()
                    if name in FILL_FIELDS and not partner[name]}
            phone = next((key[1] for row in rows for key in row.keys if key[0] == "phone"), None)
            if phone and not partner.fan_phone_hash:
                vals.update(fan_phone_hash=phone, fan_phone_masked=_first_values(rows).get("fan_phone_masked"))
            if not partner.is_live_fan:
                vals["is_live_fan"] = True
            if not partner.fan_since:
                vals["fan_since"] = now
            tags = _level_tag(rows, levels)
            if tags:
                vals["category_id"] = tuple(Command.link(tag) for tag in tags)
            if vals:
                by_vals[tuple(sorted(vals.items()))].append(partner_id)
            identities += self._identities_of(partner_id, rows, existing)
        for vals, partner_ids in by_vals.items():
            vals = dict(vals)
            if "category_id" in vals:
                vals["category_id"] = list(vals["category_id"])
            Partner.browse(partner_ids).write(vals)

    def _insert_identities(self, identities, now):
        """One INSERT: the values satisfy the model's constraints by construction
        (scope from the identity type, platform and company from the channel), as in
        the event processor. No ON CONFLICT: an identity stored meanwhile by a
        webhook makes the unique index fail the whole file, which is imported again."""
        if not identities:
            return
        channel = self.channel_id
        columns = defaultdict(list)
        for partner_id, key, nickname in identities:
            scoped = key[0] == "channel"
            columns["partner_id"].append(partner_id)
            columns["channel_id"].append(channel.id if scoped else None)
            columns["platform"].append(channel.platform if scoped else key[2])
            columns["company_id"].append(channel.company_id.id)
            columns["identity_type"].append(key[2] if scoped else key[3])
            columns["value"].append(key[-1])
            columns["nickname"].append(nickname)
        self.env.cr.execute("""
            INSERT INTO live_fan_identity (partner_id, channel_id, platform, company_id, identity_type, value,
                                           nickname, first_seen, create_uid, create_date, write_uid, write_date)
            SELECT u.partner_id, u.channel_id, u.platform, u.company_id, u.identity_type, u.value, u.nickname,
                   %s, %s, now() AT TIME ZONE 'UTC', %s, now() AT TIME ZONE 'UTC'
              FROM unnest(%s::int[], %s::int[], %s::varchar[], %s::int[], %s::varchar[], %s::varchar[],
                          %s::varchar[]) AS u(partner_id, channel_id, platform, company_id, identity_type, value,
                                              nickname)
        """, [now, self.env.uid, self.env.uid] + [columns[name] for name in (
            "partner_id", "channel_id", "platform", "company_id", "identity_type", "value", "nickname")])
        self.env["live.fan.identity"].invalidate_model()
        self.env["res.partner"].invalidate_model(["live_identity_ids"])

    def _level_tags(self, levels):
        """{member level: tag id}: one tag per level under *Member Level*, made once."""
        if not levels:
            return {}
        parent = self.env.ref("live_commerce_crm.res_partner_category_member_level")
        Category = self.env["res.partner.category"].sudo()
        tags = {tag.name: tag.id for tag in Category.search([("parent_id", "=", parent.id), ("name", "in", list(levels))])}
        for level in sorted(levels - set(tags)):
            tags[level] = Category.create({"name": level, "parent_id": parent.id}).id
        return tags

    def _report_progress(self, done, total):
        """Written and committed apart from the import's own transaction, which is
        not committed before the end."""
        percent = int(done * 100 / total) if total else 100
        with self.env.registry.cursor() as cr:
            cr.execute("UPDATE live_fan_import SET progress = %s WHERE id = %s", [percent, self.id])

    def _error_workbook(self, plan):
        """The rejected rows: the file's row number, why, then the row as it was."""
        output = io.BytesIO()
        book = xlsxwriter.Workbook(output, {"in_memory": True})
        sheet = book.add_worksheet(self.env._("Rejected"))
        bold = book.add_format({"bold": True})
        sheet.write_row(0, 0, [self.env._("Row"), self.env._("Reason"), *plan.headers], bold)
        for line, (number, reason, cells) in enumerate(plan.rejected, start=1):
            sheet.write_number(line, 0, number)
            sheet.write_string(line, 1, reason)
            sheet.write_row(line, 2, [cell_text(cell) for cell in cells])
        sheet.set_column(1, 1, 50)
        book.close()
        return output.getvalue()


class LiveFanImportColumn(models.TransientModel):
    _name = "live.fan.import.column"
    _description = "Fan Import Column"
    _order = "column_index"

    wizard_id = fields.Many2one("live.fan.import", required=True, ondelete="cascade")
    column_index = fields.Integer(readonly=True)
    header = fields.Char(readonly=True)
    target = fields.Selection(IMPORT_TARGETS, string="Fills")


def _first_values(rows):
    """The fan's values: for each field, the first row of the group that has one."""
    vals = {}
    for row in rows:
        for name, value in row.vals.items():
            vals.setdefault(name, value)
    return vals


def _level_tag(rows, levels):
    """[tag id] of the person's member level (the first row that gives one), or []."""
    level = next((row.level for row in rows if row.level), None)
    return [levels[level]] if level else []


def _parse_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = cell_text(value)
    for fmt in DATE_FORMATS:
        try:
            parsed = datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if 1900 <= parsed.year <= datetime.date.today().year:
            return parsed
    return None


def _parse_amount(value):
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(_MONEY_NOISE.sub("", str(value)))
    except ValueError:
        return None
