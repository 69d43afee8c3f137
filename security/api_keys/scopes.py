"""The documented catalog of API key scopes: what a key may do at the gateway.

A key carries a list of these in ``api_keys.scopes``; the gateway refuses a call whose scope the
key lacks. The back office only offers scopes from this catalog when it creates or edits a key.
Keys made elsewhere may hold other scopes: they are shown as they are and kept unless removed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """One scope a key may hold, with what it lets a caller do, in the users' words."""

    value: str
    description: str


CATALOG: tuple[Scope, ...] = (
    Scope("servers:read", "List the tenant's MCP servers and read their details and health."),
    Scope("servers:write", "Register, change and deactivate the tenant's MCP servers."),
    Scope("tools:call", "Call the tools of the tenant's MCP servers (MCP tools/call)."),
    Scope("resources:read", "Read the resources of the tenant's MCP servers (resources/read)."),
    Scope("audit:read", "Read the tenant's audit log and request log."),
)

SCOPE_VALUES: frozenset[str] = frozenset(scope.value for scope in CATALOG)
DESCRIPTIONS: dict[str, str] = {scope.value: scope.description for scope in CATALOG}


def catalog_choices() -> list[tuple[str, str]]:
    """The catalog as form choices: ``servers:read — List the tenant's MCP servers...``."""
    return [(scope.value, f"{scope.value} — {scope.description}") for scope in CATALOG]


def unknown_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    """The scopes in ``scopes`` the catalog does not document (set by the gateway or by hand)."""
    return [scope for scope in scopes if scope not in SCOPE_VALUES]
