"""Every audit action code the back office writes, registered once and never renamed.

Codes are dotted (``<resource>.<verb>``) like the gateway's own (``user.ban``). Renaming one would
split an auditor's history in two: add a new code instead and leave the old one here.
"""

import enum


class AuditAction(enum.StrEnum):
    # Staff sign-in to the back office.
    STAFF_SIGN_IN = "staff.sign_in"
    STAFF_ACCESS = "staff.access"  # a denied page or action (outcome "denied")
    # The staff second factor: a code checked (sign-in or step-up), an enrolment, a reset.
    STAFF_SECOND_FACTOR = "staff.second_factor"
    STAFF_SECOND_FACTOR_ENROL = "staff.second_factor_enrol"
    STAFF_SECOND_FACTOR_RESET = "staff.second_factor_reset"
    STAFF_LOCKOUT = "staff.lockout"  # too many wrong passwords for one person from one address
    STAFF_SIGN_IN_RATE_LIMITED = "staff.sign_in_rate_limited"  # one address, too many attempts
    STAFF_SIGN_OUT_SESSIONS = "staff.sign_out_sessions"  # "sign out everywhere" on one's own
    STAFF_TIME_ZONE = "staff.time_zone"  # a staff member chose the zone their pages use
    # User moderation.
    USER_BAN = "user.ban"
    USER_UNBAN = "user.unban"
    USER_ROLE_CHANGE = "user.role_change"
    SESSION_REVOKE = "session.revoke"
    SESSION_REVOKE_ALL = "session.revoke_all"
    # The account lifecycle (Better-Auth's admin plugin, from the back office).
    USER_CREATE = "user.create"
    USER_SET_PASSWORD = "user.set_password"  # noqa: S105 (an action code, not a password)
    USER_VERIFY_EMAIL = "user.verify_email"
    USER_REMOVE = "user.remove"  # the tombstone: who they were, never a password hash
    ACCOUNT_UNLINK = "account.unlink"
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
    # Tenant lifecycle and settings.
    TENANT_SUSPEND = "tenant.suspend"
    TENANT_REACTIVATE = "tenant.reactivate"
    TENANT_ARCHIVE = "tenant.archive"
    TENANT_UPDATE = "tenant.update"  # plan, limits, settings: before and after in the row
    # Exports of logs.
    AUDIT_LOG_EXPORT = "audit_log.export"
    REQUEST_LOG_EXPORT = "request_log.export"
    ANALYTICS_EXPORT = "analytics.export"
    # Four-eyes requests (approvals/): asked, carried out on approval, refused, withdrawn, expired.
    APPROVAL_REQUEST = "approval.request"
    APPROVAL_APPROVE = "approval.approve"
    APPROVAL_REFUSE = "approval.refuse"
    APPROVAL_WITHDRAW = "approval.withdraw"
    APPROVAL_EXPIRE = "approval.expire"
