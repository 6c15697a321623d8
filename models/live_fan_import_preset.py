from odoo import api, fields, models

from .live_channel import PLATFORM_SELECTION
from .live_fan_identity import IDENTITY_TYPES

# What a column of a fan list can fill (wizards/fan_import.py reads them).
IMPORT_TARGETS = [
    ("identity", "Platform User ID"),
    ("union_id", "Union ID (WeChat)"),
    ("nickname", "Nickname"),
    ("name", "Name"),
    ("phone", "Phone"),
    ("email", "Email"),
    ("level", "Member Level"),
    ("spend", "Total Spend"),
    ("birthday", "Birthday"),
    ("gender", "Gender"),
    ("region", "Region"),
]


class LiveFanImportPreset(models.Model):
    """A remembered column mapping of a fan list: the header a platform's export
    uses for each piece of a fan. Shipped for the common exports; users save their
    own from the import wizard (per company)."""
    _name = "live.fan.import.preset"
    _description = "Fan Import Preset"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    platform = fields.Selection(
        PLATFORM_SELECTION, help="The platform whose export this is; empty for lists that carry no platform id "
                                 "(e.g. a Youzan member list, matched by phone).")
    identity_type = fields.Selection(
        IDENTITY_TYPES, string="ID Type", default="open_id",
        help="What the Platform User ID column holds.")
    company_id = fields.Many2one("res.company", help="Empty: offered to every company.")
    # {header in the file: target}, targets from IMPORT_TARGETS; several headers may
    # fill one target (an export's old and new header names).
    mapping = fields.Json(required=True, default=dict)
    mapping_summary = fields.Text(string="Columns", compute="_compute_mapping_summary")

    @api.depends("mapping")
    def _compute_mapping_summary(self):
        # The targets' labels in the user's language: the wizard's column field holds them.
        labels = dict(self.env["live.fan.import.column"]._fields["target"]._description_selection(self.env))
        for preset in self:
            preset.mapping_summary = "\n".join(
                f"{header} → {labels.get(target, target)}" for header, target in (preset.mapping or {}).items())

    def _mapping(self):
        """{header: target} of the preset, targets known to this version only."""
        self.ensure_one()
        known = dict(IMPORT_TARGETS)
        return {header.strip(): target for header, target in (self.mapping or {}).items() if target in known}

    @api.model
    def _detect(self, headers):
        """The preset whose headers the file's header row shows most of (at least
        two, and at least half of the preset's own), or an empty recordset."""
        present = {header.strip() for header in headers if header}
        best, best_score = self.browse(), (0, 0)
        for preset in self.search([]):
            mapping = preset._mapping()
            matched = len(present & set(mapping))
            if matched < 2 or matched * 2 < len(mapping):
                continue
            score = (matched, -len(mapping))  # ties: the tighter preset
            if score > best_score:
                best, best_score = preset, score
        return best
