"""The gateway user list and user page, with the bulk ban, unban and revoke actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from audit.models import AuditLog
from backoffice import presentation
from backoffice.access import staff_action
from backoffice.admin_base import ScopedModelAdmin, actor_of, tenant_filter
from backoffice.audit_actions import AuditAction
from backoffice.confirmation import Attempt
from backoffice.roles import Capability, unknown_roles
from security.models import ApiKey, GatewayUser, ImpersonationRecord
from security.moderation import filters, rules, selectors, services, views
from security.moderation.admin import cells
from security.moderation.forms import BanForm, ConfirmForm
from security.moderation.onward_links import admin_page_url
from tenants.models import Tenant

# --- Gateway users ----------------------------------------------------------------------------


@admin.register(GatewayUser)
class GatewayUserAdmin(ScopedModelAdmin):
    capability = Capability.MODERATE_USERS
    # Six columns fit a 1400px screen beside the admin's sidebar: who, in what state, with what
    # roles, where, how they sign in, since when. Name, username, last sign-in and the ban's
    # reason ride along in small print or a tooltip instead of a column each.
    list_display = (
        "user_summary",
        "status_badges",
        "roles",
        "tenant_name",
        "provider",
        "created",
    )
    list_display_links = ("user_summary",)
    list_select_related = ("tenant",)
    # Uses index: idx_users_created_at (created_at DESC)
    ordering = ("-created_at",)
    search_fields = ("email", "name", "username", "=id")
    search_help_text = "Search by email, name, username or exact user id."
    list_filter = (
        tenant_filter("tenant_id"),
        filters.RoleFilter,
        filters.BanFilter,
        filters.EmailVerifiedFilter,
        filters.ActiveFilter,
        filters.AuthProviderFilter,
        filters.CreatedFilter,
    )
    list_per_page = 50
    actions = ["ban_selected", "unban_selected", "revoke_sessions_selected"]
    change_form_template = "security/moderation/user_change_form.html"
    fieldsets = (
        (None, {"fields": ("id", "email", "name", "username", "display_username", "image")}),
        (
            "Access",
            {"fields": ("roles", "tenant_name", "is_active", "email_verified", "auth_provider")},
        ),
        ("Ban", {"fields": ("ban_status", "ban_reason")}),
        ("Dates", {"fields": ("created_at", "updated_at", "last_login_at")}),
        ("Metadata", {"fields": ("user_metadata",)}),
    )
    readonly_fields = ("roles", "tenant_name", "ban_status")

    class Media:
        css = {"all": ("security/moderation.css",)}

    @admin.display(description="user", ordering="email")
    def user_summary(self, user: GatewayUser) -> str:
        aka = " · ".join(
            part for part in (user.name, f"@{user.username}" if user.username else "") if part
        )
        return format_html(
            '<span class="moderation-primary">{}</span>'
            '<span class="moderation-secondary">{}</span>',
            presentation.breakable(user.email),
            aka,
        )

    @admin.display(description="status")
    def status_badges(self, user: GatewayUser) -> str:
        badges: list[tuple[str, str, str]] = []  # (css modifier, text, tooltip)
        if user.banned:
            tooltip = views.ban_label(user) + (
                f". Reason: {user.ban_reason}" if user.ban_reason else ""
            )
            if user.ban_expires is None:
                badges.append(("danger", "Banned", tooltip))
            elif user.ban_in_force():
                badges.append(
                    ("danger", f"Banned until {presentation.when(user.ban_expires)}", tooltip)
                )
            else:
                badges.append(
                    ("muted", f"Ban expired {presentation.when(user.ban_expires)}", tooltip)
                )
        if not user.is_active:
            badges.append(("warning", "Inactive", "The account is switched off."))
        if not user.email_verified:
            badges.append(("muted", "Unverified", "The email address was never verified."))
        if not badges:
            return format_html('<span class="moderation-quiet">{}</span>', "OK")
        return format_html_join(
            "",
            '<span class="moderation-badge moderation-badge-{}" title="{}">{}</span>',
            ((kind, tooltip, text) for kind, text, tooltip in badges),
        )

    @admin.display(description="sign-in", ordering="auth_provider")
    def provider(self, user: GatewayUser) -> str:
        return user.auth_provider or "—"

    @admin.display(description="created", ordering="created_at")
    def created(self, user: GatewayUser) -> str:
        last = presentation.ago(user.last_login_at) if user.last_login_at else "never"
        return format_html(
            '<span class="moderation-date">{}</span>'
            '<span class="moderation-secondary" title="Last sign-in">seen {}</span>',
            presentation.when_html(user.created_at),
            last,
        )

    @admin.display(description="tenant", ordering="tenant__name")
    def tenant_name(self, user: GatewayUser) -> str:
        # ``tenant`` came with the scoped user (select_related); a dangling id has no row.
        tenant = user.tenant if user.tenant_id else None
        if tenant is None:
            return "—" if user.tenant_id is None else f"missing tenant {user.tenant_id}"
        return tenant.name

    @admin.display(description="roles", ordering="role")
    def roles(self, user: GatewayUser) -> str:
        # Stored as "support,auditor"; a space lets two roles share a narrow column. A role of
        # the gateway's own is kept by every change here, and said to be unknown.
        unknown = set(unknown_roles(user.role))
        return format_html_join(
            ", ",
            "{}",
            (
                (
                    format_html(
                        '<span class="moderation-unknown-role" title="{}">{} (unknown)</span>',
                        "Not a role the back office knows: kept as it is by every change here.",
                        part,
                    )
                    if part in unknown
                    else part,
                )
                for part in (p.strip() for p in (user.role or "user").split(","))
                if part
            ),
        )

    @admin.display(description="ban")
    def ban_status(self, user: GatewayUser) -> str:
        return views.ban_label(user)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):  # type: ignore[no-untyped-def]
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and obj.tenant_id is not None:
            # Read the tenant once, tolerating an id with no tenant row (no FK in some databases).
            obj.tenant = Tenant.unscoped.filter(pk=obj.tenant_id).first()
        return obj

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        actor = actor_of(request)
        if actor is None or not actor.can(self.capability):
            raise self.deny(request, "view")
        user = selectors.access_user(actor, unquote(object_id))
        sessions = selectors.user_sessions(actor, user)
        for session in sessions:
            session["revoke_url"] = reverse(
                "security:session_revoke", args=[user.pk, session["id"]]
            )
            session["impersonation_url"] = _impersonation_url(request, session)
        api_keys = selectors.user_api_keys(actor, user)
        for key in api_keys:
            key["url"] = admin_page_url(request, ApiKey, key["id"])
        audit_entries = selectors.user_audit_entries(actor, user)
        for entry in audit_entries:
            entry["url"] = admin_page_url(request, AuditLog, entry["id"])
        cells.name_people(actor, self.capability, audit_entries)
        context = {
            **(extra_context or {}),
            "sessions": sessions,
            "sign_in_methods": selectors.user_sign_in_methods(user),
            "api_keys": api_keys,
            "audit_entries": audit_entries,
            "tenant_url": (
                admin_page_url(request, Tenant, user.tenant_id) if user.tenant_id else None
            ),
            "moderation_links": _moderation_links(actor, user),
            "ban_label": views.ban_label(user),
        }
        return super().change_view(request, object_id, form_url, context)

    # --- bulk actions: a confirmation page first, then one service call in one transaction ---

    def response_action(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        if any("\x00" in pk or len(pk) > 200 for pk in selected):
            messages.error(request, "The selection held an id no user can have: nothing changed.")
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    @staff_action(capability=Capability.MODERATE_USERS, description="Ban selected users")
    def ban_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        users = self._selection(request, queryset)
        if users is None:
            return None
        actor = actor_of(request)
        assert actor is not None
        confirmed = request.POST.get("post") == "yes"
        form = BanForm(request.POST if confirmed else None)
        refusals = _refusals(actor, users, AuditAction.USER_BAN)
        attempt = Attempt[services.Outcome](form, not_found_on_form=True)
        if confirmed and form.is_valid():
            outcome = attempt(
                lambda: services.ban_users(
                    actor=actor,
                    user_ids=[user.pk for user in users],
                    reason=form.cleaned_data["reason"],
                    expires_at=form.ban_expires(),
                )
            )
            if outcome is not None:
                _report(request, outcome, "Banned", "already banned like this")
                return None
        return views.confirmation_page(
            request,
            title=f"Ban {len(users)} users" if len(users) > 1 else f"Ban {users[0].email}",
            users=users,
            consequences=views.ban_consequences(users),
            form=form,
            submit_label="Ban",
            refusal=refusals,
            status=attempt.status,
            hidden=_hidden("ban_selected", users),
            cancel_url=request.get_full_path(),
        )

    @staff_action(
        capability=Capability.MODERATE_USERS, description="Lift the ban of selected users"
    )
    def unban_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._confirm_then(
            request,
            queryset,
            action="unban_selected",
            title="Lift the ban of",
            consequences=views.unban_consequences,
            submit_label="Lift the bans",
            operation=services.unban_users,
            audit_action=AuditAction.USER_UNBAN,
            verbs=("Lifted the ban of", "not banned"),
        )

    @staff_action(
        capability=Capability.MODERATE_USERS, description="Revoke all sessions of selected users"
    )
    def revoke_sessions_selected(
        self, request: HttpRequest, queryset: QuerySet
    ) -> HttpResponse | None:
        return self._confirm_then(
            request,
            queryset,
            action="revoke_sessions_selected",
            title="Revoke all sessions of",
            consequences=views.revoke_consequences,
            submit_label="Revoke all sessions",
            operation=services.revoke_sessions_of_users,
            audit_action=AuditAction.SESSION_REVOKE_ALL,
            verbs=("Signed out", "without sessions"),
        )

    def _confirm_then(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        *,
        action: str,
        title: str,
        consequences: Any,
        submit_label: str,
        operation: Any,
        audit_action: AuditAction,
        verbs: tuple[str, str],
    ) -> HttpResponse | None:
        users = self._selection(request, queryset)
        if users is None:
            return None
        actor = actor_of(request)
        assert actor is not None
        confirmed = request.POST.get("post") == "yes"
        form = ConfirmForm(request.POST if confirmed else None)
        attempt = Attempt[services.Outcome](form, not_found_on_form=True)
        if confirmed and form.is_valid():
            outcome = attempt(lambda: operation(actor=actor, user_ids=[u.pk for u in users]))
            if outcome is not None:
                _report(request, outcome, *verbs)
                return None
        return views.confirmation_page(
            request,
            title=f"{title} {len(users)} users" if len(users) > 1 else f"{title} {users[0].email}",
            users=users,
            consequences=consequences(users),
            form=form,
            submit_label=submit_label,
            refusal=_refusals(actor, users, audit_action),
            status=attempt.status,
            hidden=_hidden(action, users),
            cancel_url=request.get_full_path(),
        )

    def _selection(self, request: HttpRequest, queryset: QuerySet) -> list[GatewayUser] | None:
        users = list(queryset.order_by("email")[: rules.MAX_BULK_USERS + 1])
        if len(users) > rules.MAX_BULK_USERS:
            messages.error(
                request,
                f"Select at most {rules.MAX_BULK_USERS} users at a time: nothing changed.",
            )
            return None
        if not users:
            messages.warning(request, "None of the selected users exist any more.")
            return None
        return users


def _refusals(actor: Any, users: list[GatewayUser], action: AuditAction) -> str | None:
    """Why the selection may not be acted on, said before the form: one refused user stops all."""
    refusals = [
        refusal
        for user in users
        if (refusal := rules.moderation_refusal(actor, user, action)) is not None
    ]
    return " ".join(refusals) or None


def _hidden(action: str, users: list[GatewayUser]) -> list[tuple[str, str]]:
    return [
        ("action", action),
        ("post", "yes"),
        *((ACTION_CHECKBOX_NAME, str(user.pk)) for user in users),
    ]


def _report(request: HttpRequest, outcome: services.Outcome, done: str, already: str) -> None:
    if outcome.changed:
        text = f"{done} {len(outcome.changed)} user(s): {', '.join(outcome.changed[:10])}"
        if len(outcome.changed) > 10:
            text += ", …"
        if outcome.sessions_deleted:
            text += f"; {outcome.sessions_deleted} session(s) deleted"
        messages.success(request, text + ".")
    if outcome.amended:
        messages.success(
            request,
            f"Changed the ban of {len(outcome.amended)} user(s), still in force: "
            f"{', '.join(outcome.amended[:10])}"
            + (", …" if len(outcome.amended) > 10 else "")
            + ".",
        )
    if outcome.unchanged:
        messages.info(
            request,
            f"Left alone, {already}: {', '.join(outcome.unchanged[:10])}"
            + (", …" if len(outcome.unchanged) > 10 else "")
            + ".",
        )


def _moderation_links(actor: Any, user: GatewayUser) -> list[dict[str, Any]]:
    """The actions offered on a user page, each saying why not when it is refused."""
    links: list[dict[str, Any]] = []
    if user.ban_in_force():
        links.append(
            {
                "label": "Change the ban",
                "url": reverse("security:user_ban", args=[user.pk]),
                "refusal": rules.moderation_refusal(actor, user, AuditAction.USER_BAN),
            }
        )
        links.append(
            {
                "label": "Lift the ban",
                "url": reverse("security:user_unban", args=[user.pk]),
                "refusal": rules.moderation_refusal(actor, user, AuditAction.USER_UNBAN),
            }
        )
    else:
        links.append(
            {
                "label": "Ban",
                "url": reverse("security:user_ban", args=[user.pk]),
                "refusal": rules.moderation_refusal(actor, user, AuditAction.USER_BAN),
            }
        )
        if user.banned:
            links.append(
                {
                    "label": "Clear expired ban",
                    "url": reverse("security:user_unban", args=[user.pk]),
                    "refusal": rules.moderation_refusal(actor, user, AuditAction.USER_UNBAN),
                }
            )
    links.append(
        {
            "label": "Revoke all sessions",
            "url": reverse("security:user_revoke_sessions", args=[user.pk]),
            "refusal": rules.moderation_refusal(actor, user, AuditAction.SESSION_REVOKE_ALL),
        }
    )
    links.append(
        {
            "label": "Change roles",
            "url": reverse("security:user_roles", args=[user.pk]),
            "refusal": rules.moderation_refusal(actor, user, AuditAction.USER_ROLE_CHANGE),
        }
    )
    return links


def _impersonation_url(request: HttpRequest, session: dict[str, Any]) -> str | None:
    if not session["impersonated_by"]:
        return None
    record_id = (
        selectors.impersonations_visible_to(actor_of(request))
        .filter(session_id=session["id"])
        .values_list("pk", flat=True)
        .first()
    )
    return None if record_id is None else admin_page_url(request, ImpersonationRecord, record_id)
