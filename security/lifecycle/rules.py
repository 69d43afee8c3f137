"""What the account lifecycle accepts as input, as Better-Auth accepts it, and who may do it.

Better-Auth's email-and-password defaults: a password of 8 to 128 characters; emails are stored
lower-cased. The policy itself (who may act on whom, which roles whom may grant) is
``backoffice.roles.person_refusal``; these functions apply it in the lifecycle's terms.
"""

from __future__ import annotations

import re

from backoffice.operations import Invalid
from backoffice.roles import Actor, Operation, Role, parse_roles, person_refusal
from security.models import GatewayUser

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254
# One "@", something on each side, a dot in the domain, no spaces: what Better-Auth's zod
# ``email()`` accepts in practice, without claiming to be RFC 5322.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def clean_email(email: str) -> str:
    """The email as Better-Auth stores it (trimmed, lower-cased), or ``Invalid``."""
    email = (email or "").strip().lower()
    if not email:
        raise Invalid("Enter an email address.")
    if "\x00" in email or len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        raise Invalid(f"“{email[:80]}” is not an email address.")
    return email


def clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid("Enter the user's name.")
    if "\x00" in name or len(name) > MAX_NAME_LENGTH:
        raise Invalid(f"The name must be at most {MAX_NAME_LENGTH} characters, without NULs.")
    return name


def password_problem(password: str) -> str | None:
    """Why Better-Auth would refuse this password, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password is too short: at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"The password is too long: at most {MAX_PASSWORD_LENGTH} characters."
    if "\x00" in password:
        return "The password cannot contain NUL characters."
    return None


def creation_refusal(actor: Actor, email: str, roles: frozenset[Role]) -> str | None:
    """Why ``actor`` may not create an account with these roles (each must be grantable)."""
    return person_refusal(
        actor,
        Operation.CREATE_USER,
        target_id=None,
        target_roles=frozenset(),
        target_label=email,
        roles_after=roles,
    )


def lifecycle_refusal(actor: Actor, user: GatewayUser, operation: Operation) -> str | None:
    """Why ``actor`` may not do ``operation`` to ``user``, or None when they may."""
    return person_refusal(
        actor,
        operation,
        target_id=user.pk,
        target_roles=parse_roles(user.role),
        target_label=user.email,
    )
