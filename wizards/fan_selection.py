from odoo.fields import Command


def with_selected_fans(env, fields_list, values):
    """`values` (a wizard's defaults) with the contacts it was opened on, from the
    contacts list or a fan's form, as its `partner_ids`."""
    if "partner_ids" in fields_list and env.context.get("active_model") == "res.partner":
        values["partner_ids"] = [Command.set(env.context.get("active_ids") or [])]
    return values
