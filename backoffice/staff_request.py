"""The request a staff page receives, typed: what the back office's middleware attaches to it.

``security.middleware.StaffMiddleware`` gives every request its ``actor`` (and ``request_id``);
a page behind ``@staff_view`` is only reached by a signed-in staff member, so its ``user`` is a
real account. Views declare ``request: StaffRequest`` instead of reading untyped attributes.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, cast

from django.http import HttpRequest

from backoffice.roles import Actor

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class StaffRequest(HttpRequest):
    """An ``HttpRequest`` as a staff page sees it; declared for type checking, never built."""

    actor: Actor
    request_id: uuid.UUID
    user: User


def as_staff_request(request: HttpRequest) -> StaffRequest:
    """``request`` as the staff request it is, where Django types it as a plain ``HttpRequest``.

    For the admin's hooks (``changelist_view``, actions): the admin site is behind the staff
    sign-in, so ``StaffMiddleware`` has already attached the actor.
    """
    return cast(StaffRequest, request)
