from werkzeug.datastructures import ImmutableMultiDict

from odoo import models
from odoo.http import request


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _pre_dispatch(cls, rule, args):
        # The webhook reads its body itself, bounded (controllers/webhook.py). Odoo
        # would otherwise parse a form-encoded body into memory or temporary files
        # before the controller runs, chunked ones without any size limit.
        if rule.endpoint.routing.get("live_commerce_raw_body"):
            request.httprequest.form = ImmutableMultiDict()
            request.httprequest.files = ImmutableMultiDict()
        super()._pre_dispatch(rule, args)
