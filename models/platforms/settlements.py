"""Settlement bills as the platforms describe them, normalized: one row per bill line
the platform settles (an order, or a SKU line of it), amounts in the smallest unit of
the currency (fen), fees as positive amounts the platform kept.

Each platform's client maps its own bill rows to these (`ApiClient.list_settlements`);
models/live_settlement.py matches them with what Odoo booked at completion.
"""
from dataclasses import dataclass, field
from typing import Optional

# Fees the order capability does not book at completion, each with an account of its
# own on the channel: talent / affiliate commission, the platform's service fees
# (technical service, 团长 service, transaction fees), promotion fees, anything else.
FEE_KINDS = ("affiliate", "service", "promotion", "other")


@dataclass
class SettlementRow:
    bill_ref: str                       # unique per row on the platform (made of the row's own keys)
    order_ref: str                      # the platform's order id (the shop order, not a SKU line)
    settled_at: Optional[float] = None  # unix seconds
    currency: str = "CNY"
    income: int = 0                     # fen: what the order earns the shop before the platform's cuts
    settle_amount: int = 0              # fen: what the merchant receives
    commission: int = 0                 # fen: the platform's own commission
    fees: dict = field(default_factory=dict)  # {FEE_KINDS entry: fen}
    refund: int = 0                     # fen: refunded to the buyer (before, or after, settlement)
    refund_after_settlement: bool = False  # the row takes back money settled earlier


@dataclass
class SettlementPage:
    rows: list                          # [SettlementRow]
    cursor: Optional[str] = None        # pass back for the next page; None: the window is done
