from . import live_session_board
from . import live_session_review
