"""The one check of an API key's allowed IP ranges, whichever way the key is made (API, dashboard, admin, command)."""

from __future__ import annotations

import ipaddress

from django.core.exceptions import ValidationError

MAX_ALLOWED_IP_RANGES = 50


def ip_range(value: str) -> str:
    """``value`` as a canonical CIDR range (``203.0.113.0/24``, ``2001:db8::/32``); a bare address is a range of one.

    A range with host bits set (``10.0.0.1/8``) is refused, never quietly widened to its network: whoever typed it
    may have meant the one address, or another prefix length. The message names the network it would be.
    """
    text = str(value).strip()
    try:
        return str(ipaddress.ip_network(text))
    except ValueError:
        pass
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValidationError(f"{text!r} is not an IP address or CIDR range.") from None
    raise ValidationError(f"{text!r} has host bits set: did you mean {network}?")


def allowed_ip_ranges(values: list[str] | None) -> list[str]:
    """Every range checked by ``ip_range``, duplicates dropped; the errors of all of them at once."""
    cleaned: list[str] = []
    errors: list[str] = []
    for value in values or []:
        try:
            cleaned.append(ip_range(value))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    if len(cleaned) > MAX_ALLOWED_IP_RANGES:
        raise ValidationError(f"Give at most {MAX_ALLOWED_IP_RANGES} ranges.")
    return list(dict.fromkeys(cleaned))
