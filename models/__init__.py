from . import live_channel
from . import live_session
from . import live_session_product
from . import live_fan_identity
from . import res_partner
from . import sale_order
