from . import fan_tag
from . import fan_forget
from . import fan_export
from . import fan_import
from . import fan_split
from . import base_partner_merge
from . import session_export
