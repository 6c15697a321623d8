"""A fan's phone as the merge key: normalized, then kept as a salted hash and a
masked form. The clear number is never stored unless a user typed it.

Import, ingestion and the merge rules share these functions, so that one number
written three ways ("138 0013 8000", "+86 13800138000", "008613800138000") is one
key.
"""
import hashlib
import hmac
import re
import secrets

SALT_PARAM = "live_commerce_crm.phone_salt"
_NOT_DIGITS = re.compile(r"[^\d+]")


def normalize_phone(raw, default_country_code="86"):
    """E.164 ("+8613800138000"), or None when `raw` is not a full number (masked
    numbers such as 138****8000, platform virtual numbers with an extension, too
    short or too long)."""
    if not raw:
        return None
    text = str(raw).strip()
    if "*" in text or "#" in text or "," in text:  # masked, or a virtual number's extension
        return None
    text = _NOT_DIGITS.sub("", text)
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+"):
        if default_country_code == "86" and len(text) == 13 and text.startswith("86") and text[2] == "1":
            text = "+" + text
        elif default_country_code == "86" and len(text) == 11 and text.startswith("1"):
            text = "+86" + text
        elif default_country_code != "86" and text.startswith(default_country_code) and len(text) > 10:
            text = "+" + text
        else:
            text = "+" + default_country_code + text.lstrip("0")
    digits = text[1:]
    if not digits.isdigit() or not 8 <= len(digits) <= 15:
        return None
    return text


def mask_phone(normalized):
    """138****8000: enough for a service agent to confirm a number with the buyer."""
    if not normalized:
        return None
    digits = normalized[1:]
    national = digits[2:] if digits.startswith("86") else digits
    if len(national) <= 7:
        return national[:2] + "*" * (len(national) - 4) + national[-2:]
    return national[:3] + "*" * (len(national) - 7) + national[-4:]


def phone_hash(normalized, salt):
    """HMAC-SHA256 of the normalized number under the database's salt: equal
    numbers give equal keys in one database, and a leaked column cannot be
    reversed by hashing the 10^10 possible mobile numbers without the salt."""
    if not normalized:
        return None
    return hmac.new(salt.encode(), normalized.encode(), hashlib.sha256).hexdigest()


def phone_salt(env):
    """The database's salt, created on first use (readable by the superuser only,
    like every ir.config_parameter)."""
    params = env["ir.config_parameter"].sudo()
    salt = params.get_param(SALT_PARAM)
    if not salt:
        salt = secrets.token_hex(32)
        params.set_param(SALT_PARAM, salt)
    return salt


def phone_key(env, raw, default_country_code="86"):
    """(hash, masked) of a raw number, or (None, None)."""
    normalized = normalize_phone(raw, default_country_code)
    if not normalized:
        return None, None
    return phone_hash(normalized, phone_salt(env)), mask_phone(normalized)
