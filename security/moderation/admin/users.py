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

from audit.history import AuditHistoryMixin
from audit.models import AuditLog
from backoffice import presentation
from backoffice.access import staff_action
from backoffice.admin_base import ScopedModelAdmin, actor_of, tenant_filter
from backoffice.audit_actions import AuditAction
from backoffice.confirmation import Attempt
from backoffice.roles import Capability, unknown_roles
from security.lifecycle import views as lifecycle_views
from security.models import ApiKey, GatewayUser, ImpersonationRecord
from security.moderation import confirm_pages, filters, rules, selectors, services
from security.moderation.admin import bulk, cells
from security.moderation.admin.story import story_context
from security.moderation.blast_radius import still_alive
from security.moderation.forms import BanAndContainForm, ConfirmForm
from security.moderation.onward_links import admin_page_url
from security.moderation.reports import report_ban
from security.second_factor import services as second_factor
from security.second_factor.step_up import step_up_action
from tenants.models import Tenant

# --- Gateway users ----------------------------------------------------------------------------


@admin.register(GatewayUser)
class GatewayUserAdmin(AuditHistoryMixin, ScopedModelAdmin):
    capability = Capability.MODERATE_USERS
    # "Add gateway user" is the account lifecycle's create page (Better-Auth's createUser).
    add_capability = Capability.MANAGE_ACCOUNTS
    history_resource_type = "user"
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
            tooltip = confirm_pages.ban_label(user) + (
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
        return confirm_pages.ban_label(user)

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
            "moderation_links": [
                *_moderation_links(actor, user),
                *lifecycle_views.links_for(actor, user),
            ],
            "ban_label": confirm_pages.ban_label(user),
            **story_context(request, actor, user, api_keys),
        }
        return super().change_view(request, object_id, form_url, context)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        actor = actor_of(request)
        return actor is not None and actor.can(Capability.MANAGE_ACCOUNTS)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise self.deny(request, "add")
        return lifecycle_views.create_user(request)

    # --- bulk actions: a confirmation page first, then one service call in one transaction ---

    def response_action(
        self, request: HttpRequest, queryset: QuerySet[GatewayUser]
    ) -> HttpResponse | None:
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        if any("\x00" in pk or len(pk) > 200 for pk in selected):
            messages.error(request, "The selection held an id no user can have: nothing changed.")
            return HttpResponseRedirect(request.get_full_path())
        response: HttpResponse | None = super().response_action(request, queryset)
        return response

    @staff_action(capability=Capability.MODERATE_USERS, description="Ban selected users")
    @step_up_action(AuditAction.USER_BAN)
    def ban_selected(
        self, request: HttpRequest, queryset: QuerySet[GatewayUser]
    ) -> HttpResponse | None:
        users = self._selection(request, queryset)
        if users is None:
            return None
        actor = actor_of(request)
        assert actor is not None
        confirmed = request.POST.get("post") == "yes"
        alive = still_alive(actor, users)
        form = BanAndContainForm(
            request.POST if confirmed else None,
            offer_keys=any(one.keys for one in alive.values()),
        )
        refusals = bulk.refusals(actor, users, AuditAction.USER_BAN)
        attempt = Attempt[Any](form, not_found_on_form=True)
        title = f"Ban {len(users)} users" if len(users) > 1 else f"Ban {users[0].email}"
        why = bulk.why(AuditAction.USER_BAN, users)
        if confirmed and form.is_valid() and why:
            expires = form.ban_expires()
            params = {"reason": form.cleaned_data["reason"]}
            params["expires_at"] = expires.isoformat() if expires else None
            sent = bulk.ask(request, attempt, AuditAction.USER_BAN, users, params, title, why)
            if sent is not None:
                return sent
        elif confirmed and form.is_valid():
            outcome = attempt(
                lambda: services.ban_users(
                    actor=actor,
                    user_ids=[user.pk for user in users],
                    reason=form.cleaned_data["reason"],
                    expires_at=form.ban_expires(),
                    revoke_keys=form.revokes_keys(),
                )
            )
            if outcome is not None:
                report_ban(request, outcome)
                return None
        return confirm_pages.confirmation_page(
            request,
            title=title,
            users=users,
            consequences=confirm_pages.ban_consequences(users),
            form=form,
            submit_label="Ban",
            refusal=refusals,
            status=attempt.status,
            hidden=bulk.hidden("ban_selected", users),
            cancel_url=request.get_full_path(),
            why=why,
            subjects_template=confirm_pages.BAN_SUBJECTS_TEMPLATE,
            alive=alive,
        )

    @staff_action(
        capability=Capability.MODERATE_USERS, description="Lift the ban of selected users"
    )
    @step_up_action(AuditAction.USER_UNBAN)
    def unban_selected(
        self, request: HttpRequest, queryset: QuerySet[GatewayUser]
    ) -> HttpResponse | None:
        return self._confirm_then(
            request,
            queryset,
            action="unban_selected",
            title="Lift the ban of",
            consequences=confirm_pages.unban_consequences,
            submit_label="Lift the bans",
            operation=services.unban_users,
            audit_action=AuditAction.USER_UNBAN,
            verbs=("Lifted the ban of", "not banned"),
        )

    @staff_action(
        capability=Capability.MODERATE_USERS, description="Revoke all sessions of selected users"
    )
    @step_up_action(AuditAction.SESSION_REVOKE_ALL)
    def revoke_sessions_selected(
        self, request: HttpRequest, queryset: QuerySet[GatewayUser]
    ) -> HttpResponse | None:
        return self._confirm_then(
            request,
            queryset,
            action="revoke_sessions_selected",
            title="Revoke all sessions of",
            consequences=confirm_pages.revoke_consequences,
            submit_label="Revoke all sessions",
            operation=services.revoke_sessions_of_users,
            audit_action=AuditAction.SESSION_REVOKE_ALL,
            verbs=("Signed out", "without sessions"),
        )

    def _confirm_then(
        self,
        request: HttpRequest,
        queryset: QuerySet[GatewayUser],
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
        attempt = Attempt[Any](form, not_found_on_form=True)
        full_title = (
            f"{title} {len(users)} users" if len(users) > 1 else f"{title} {users[0].email}"
        )
        why = bulk.why(audit_action, users)
        if confirmed and form.is_valid() and why:
            sent = bulk.ask(request, attempt, audit_action, users, {}, full_title, why)
            if sent is not None:
                return sent
        elif confirmed and form.is_valid():
            outcome = attempt(lambda: operation(actor=actor, user_ids=[u.pk for u in users]))
            if outcome is not None:
                bulk.report(request, outcome, *verbs)
                return None
        return confirm_pages.confirmation_page(
            request,
            title=full_title,
            users=users,
            consequences=consequences(users),
            form=form,
            submit_label=submit_label,
            refusal=bulk.refusals(actor, users, audit_action),
            status=attempt.status,
            hidden=bulk.hidden(action, users),
            cancel_url=request.get_full_path(),
            why=why,
        )

    def _selection(
        self, request: HttpRequest, queryset: QuerySet[GatewayUser]
    ) -> list[GatewayUser] | None:
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
    if actor.can(Capability.RESET_SECOND_FACTOR) and second_factor.has_staff_account(user):
        links.append(
            {
                "label": "Reset second factor",
                "url": reverse("security:second_factor_reset", args=[user.pk]),
                "refusal": second_factor.reset_refusal(actor, user),
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
