"""Platform adapters: one module per platform behind the small interface in base.py.

Pure Python (no Odoo import): the controller, the processor, the tests and the
simulator (scripts/simulate.py) all use them.
"""
from .base import ADAPTERS, Credentials, InboundRequest, InboxEvent, Rejected, get_adapter  # noqa: F401
from . import generic, douyin_shop, douyin_live, kuaishou_shop, wechat_channels_shop, tiktok_shop  # noqa: F401
