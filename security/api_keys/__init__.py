"""Tenant API keys: create, scope, expire, rotate, revoke (tenant admins)."""
