"""Every audit action code the back office writes, registered once and never renamed.

Codes are dotted (``<resource>.<verb>``) like the gateway's own (``user.ban``). Renaming one would
split an auditor's history in two: add a new code instead and leave the old one here.
"""

import enum


class AuditAction(enum.StrEnum):
    # Staff sign-in to the back office.
    STAFF_SIGN_IN = "staff.sign_in"
    STAFF_ACCESS = "staff.access"  # a denied page or action (outcome "denied")
    STAFF_TIME_ZONE = "staff.time_zone"  # a staff member chose the zone their pages use
    # User moderation.
    USER_BAN = "user.ban"
    USER_UNBAN = "user.unban"
    USER_ROLE_CHANGE = "user.role_change"
    SESSION_REVOKE = "session.revoke"
    SESSION_REVOKE_ALL = "session.revoke_all"
    # Impersonation review (the gateway writes impersonation.start / impersonation.stop).
    IMPERSONATION_END = "impersonation.end"
    IMPERSONATION_REVIEW = "impersonation.review"
    # API keys.
    API_KEY_CREATE = "api_key.create"
    API_KEY_REVOKE = "api_key.revoke"
    API_KEY_ROTATE = "api_key.rotate"
    API_KEY_UPDATE = "api_key.update"
    # Registry.
    SERVER_DEACTIVATE = "server.deactivate"
    SERVER_REACTIVATE = "server.reactivate"
    # Exports of logs.
    AUDIT_LOG_EXPORT = "audit_log.export"
    REQUEST_LOG_EXPORT = "request_log.export"
    ANALYTICS_EXPORT = "analytics.export"
