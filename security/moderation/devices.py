"""What a user agent string says in a few words ("Firefox on Android"), for narrow columns.

The full string stays on the page in a tooltip; this is only the glance. Order matters: most
browsers also claim to be the ones they descend from (Edge says Chrome, Chrome says Safari).
"""

from __future__ import annotations

import re

# (pattern, name), first match wins.
BROWSERS = (
    (re.compile(r"Edg(e|A|iOS)?/"), "Edge"),
    (re.compile(r"OPR/|Opera"), "Opera"),
    (re.compile(r"FxiOS/|Firefox/"), "Firefox"),
    (re.compile(r"CriOS/|Chrome/|Chromium/"), "Chrome"),
    (re.compile(r"MSIE |Trident/"), "Internet Explorer"),
    (re.compile(r"Safari/"), "Safari"),
    (re.compile(r"^curl/"), "curl"),
    (re.compile(r"python-requests|python-httpx|aiohttp|Python-urllib"), "Python script"),
    (re.compile(r"node-fetch|undici|axios|Node\.js"), "Node.js script"),
    (re.compile(r"^Go-http-client"), "Go script"),
)
SYSTEMS = (
    (re.compile(r"iPhone|iPad|iPod|iOS"), "iOS"),
    (re.compile(r"Android"), "Android"),
    (re.compile(r"Windows"), "Windows"),
    (re.compile(r"Mac OS X|Macintosh"), "macOS"),
    (re.compile(r"CrOS"), "ChromeOS"),
    (re.compile(r"Linux|X11"), "Linux"),
)


def device_summary(user_agent: str | None) -> str:
    """ "Chrome on Windows", "curl", or "unknown device" when there is nothing to go on."""
    agent = (user_agent or "").strip()
    if not agent:
        return "unknown device"
    browser = next((name for pattern, name in BROWSERS if pattern.search(agent)), None)
    system = next((name for pattern, name in SYSTEMS if pattern.search(agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or f"a browser on {system}"
    # Something we do not know: its first word (product/version) is the best short name.
    return agent.split()[0][:40]
