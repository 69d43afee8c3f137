"""The admin's reset of another staff member's second factor: one audited operation.

Used by the reset page and ``manage.py reset_second_factor`` alike. Nobody resets their own
(it would let a stolen password replace the app it was meant to be checked against).
"""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.audit_actions import AuditAction
from backoffice.operations import Invalid, audited_change, refuse, require
from backoffice.roles import Actor, Capability
from backoffice.staff_audit import record_staff_action
from backoffice.tenancy import access
from security.models import GatewayUser, RecoveryCodeDevice, SecondFactorThrottle, StaffAccount

RESET_ACTION = AuditAction.STAFF_SECOND_FACTOR_RESET
NOT_ONESELF = "Nobody can reset their own second factor: ask another admin."


def access_staff_member(actor: Actor, user_id: str) -> GatewayUser:
    """The gateway user whose second factor ``actor`` may reset, or 404."""
    return access(GatewayUser.objects, actor, Capability.RESET_SECOND_FACTOR, user_id)


def has_staff_account(user: GatewayUser) -> bool:
    """True when ``user`` has signed in to the back office (there may be a factor to reset)."""
    return StaffAccount.objects.filter(gateway_user_id=user.pk).exists()


def reset_refusal(actor: Actor, user: GatewayUser) -> str | None:
    """Why ``actor`` may not reset ``user``'s second factor, or None."""
    if actor.gateway_user_id is not None and actor.gateway_user_id == user.pk:
        return NOT_ONESELF
    return None


def reset_second_factor(*, actor: Actor, user_id: str) -> bool:
    """Delete the staff member's TOTP devices and recovery codes; False when there were none.

    Their sessions lose their verified state at the next request (django-otp finds no device),
    so they are sent to enrol again.
    """
    require(actor, Capability.RESET_SECOND_FACTOR, RESET_ACTION, resource_type="staff")
    with audited_change():
        user = GatewayUser.unscoped.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise Invalid("No such staff member.")
        if reset_refusal(actor, user) is not None:
            raise refuse(
                actor, RESET_ACTION, NOT_ONESELF, resource_type="staff", resource_id=user.pk
            )
        django_user_id = (
            StaffAccount.objects.filter(gateway_user_id=user.pk)
            .values_list("django_user_id", flat=True)
            .first()
        )
        if django_user_id is None:
            return False
        totp, _ = TOTPDevice.objects.filter(user_id=django_user_id).delete()
        recovery, _ = RecoveryCodeDevice.objects.filter(user_id=django_user_id).delete()
        SecondFactorThrottle.objects.filter(django_user_id=django_user_id).delete()
        if not (totp or recovery):
            return False
        record_staff_action(
            actor=actor,
            action=RESET_ACTION,
            resource_type="staff",
            resource_id=user.pk,
            tenant_id=user.tenant_id,
            details={"email": user.email},
        )
        return True
