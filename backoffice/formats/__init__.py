"""Django's format overrides: every datetime a template or the admin writes without an explicit
format (``{{ key.expires_at }}``, a read-only field of a detail page) says its zone."""
