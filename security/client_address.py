"""The address a request came from, as the sign-in throttles and the audit trail record it.

Behind a reverse proxy ``REMOTE_ADDR`` is the proxy, so every client would share one counter.
Only the header the operator names (``TRUSTED_PROXY_HEADER``) is believed, and only the entry
the last of ``TRUSTED_PROXY_COUNT`` proxies wrote: entries further left were sent by the client
and can say anything. Without the setting the header is ignored, whatever a client sends.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: from the trusted proxy header when configured, else ``REMOTE_ADDR``.

    Also ``AXES_CLIENT_IP_CALLABLE``, so lockouts count per real client address.
    """
    if request is None:
        return None
    remote = _valid(request.META.get("REMOTE_ADDR"))
    header = getattr(settings, "TRUSTED_PROXY_HEADER", "")
    if not header:
        return remote
    hops = [hop.strip() for hop in request.META.get(header, "").split(",") if hop.strip()]
    count = max(getattr(settings, "TRUSTED_PROXY_COUNT", 1), 1)
    if len(hops) < count:
        # Not through all the trusted proxies (a direct request, or a proxy that was skipped).
        return remote
    return _valid(hops[-count]) or remote


def _valid(value: str | None) -> str | None:
    if not value:
        return None
    candidate = value.strip()
    # "[::1]:443" and "1.2.3.4:5678" are written by some proxies.
    if candidate.startswith("[") and "]" in candidate:
        candidate = candidate[1 : candidate.index("]")]
    elif candidate.count(":") == 1:
        candidate = candidate.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None
