"""Figures behind the segments, lifecycle stages and value layers the pre-migration
mapped: the full recompute of every company (live.fan.rfm), as the nightly job."""
from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    for company in env["res.company"].search([]):
        env["live.fan.rfm"]._recompute(company)
