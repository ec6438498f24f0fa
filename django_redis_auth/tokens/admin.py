"""Admin support for signed-in sessions: the user's change page lists the live sessions
(from Redis) with a button to sign each out, and the changelist gets a "sign out
everywhere" action. Mix :class:`SessionsAdminMixin` into your own user admin::

    @admin.register(MyUser)
    class MyUserAdmin(SessionsAdminMixin, UserAdmin): ...
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from django_redis_auth import activity
from django_redis_auth.accounts import users
from django_redis_auth.exceptions import AuthUnavailable, SessionNotFound
from django_redis_auth.tokens import devices, revocation

__all__ = ["SessionsAdminMixin"]


class SessionsAdminMixin:
    change_form_template = "django_redis_auth/admin/user_change_form.html"
    actions = ["sign_out_everywhere"]

    def get_urls(self) -> list[Any]:
        opts = self.model._meta  # type: ignore[attr-defined]
        name = f"{opts.app_label}_{opts.model_name}_revoke_session"
        view = self.admin_site.admin_view(self.revoke_session_view)  # type: ignore[attr-defined]
        own = [path("<path:object_id>/sessions/<str:session_id>/revoke/", view, name=name)]
        return own + super().get_urls()  # type: ignore[misc]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = dict(extra_context or {})
        user = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if user is not None:
            opts = self.model._meta  # type: ignore[attr-defined]
            context["revoke_session_url"] = (
                f"admin:{opts.app_label}_{opts.model_name}_revoke_session"
            )
            try:
                context["live_sessions"] = devices.list_devices(users.user_id_of(user))
                # Read-only: the account's security activity (activity.py), newest first.
                context["security_activity"] = activity.recent(users.user_id_of(user), limit=50)[0]
            except AuthUnavailable:
                context["live_sessions_unavailable"] = True
        return super().change_view(request, object_id, form_url, context)  # type: ignore[misc]

    def revoke_session_view(
        self, request: HttpRequest, object_id: str, session_id: str
    ) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        user = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if user is None or not self.has_change_permission(request, user):  # type: ignore[attr-defined]
            raise PermissionDenied
        try:
            devices.revoke_device(users.user_id_of(user), session_id, reason="admin")
        except SessionNotFound:
            messages.warning(request, _("That session had already ended."))
        except AuthUnavailable:
            messages.error(request, _("Redis is unreachable: nothing was signed out."))
        else:
            messages.success(request, _("The session was signed out."))
        opts = self.model._meta  # type: ignore[attr-defined]
        return HttpResponseRedirect(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[user.pk])
        )

    @admin.action(description=_("Sign out everywhere"), permissions=["change"])
    def sign_out_everywhere(self, request: HttpRequest, queryset: Any) -> None:
        count = 0
        try:
            for user in queryset:
                revocation.revoke_user(user, reason="admin")
                count += 1
        except AuthUnavailable:
            messages.error(request, _("Redis is unreachable: nothing more was signed out."))
        self.message_user(  # type: ignore[attr-defined]
            request,
            ngettext(
                "Signed %d user out of every device.", "Signed %d users out of every device.", count
            )
            % count,
            messages.SUCCESS,
        )
