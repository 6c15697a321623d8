import re

from odoo import models

SESSION_CHANNEL = re.compile(r"^live_commerce_crm\.session_(\d+)$")


class IrWebsocket(models.AbstractModel):
    """A workbench asks for "live_commerce_crm.session_<id>"; it is subscribed to
    the session's record channel only if its user may read the session (record
    rules: one company's screens never hear of another's sessions), as discuss
    does with its channels."""
    _inherit = "ir.websocket"

    def _build_bus_channel_list(self, channels):
        return super()._build_bus_channel_list(self._live_session_channels(channels))

    def _live_session_channels(self, channels):
        channels = list(channels)  # do not alter the caller's list
        session_ids = []
        for channel in list(channels):
            match = isinstance(channel, str) and SESSION_CHANNEL.match(channel)
            if match:
                channels.remove(channel)
                session_ids.append(int(match[1]))
        if session_ids and self.env.uid and not self.env.user._is_public():
            channels.extend(self.env["live.session"].search([("id", "in", session_ids)]))
        return channels
