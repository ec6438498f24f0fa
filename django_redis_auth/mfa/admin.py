"""Admin support for factors: a changelist action that resets a user's factors, for the
support desk helping someone who lost their phone *and* their recovery codes. Mix
:class:`FactorsAdminMixin` into your own user admin (the package's ``UserAdmin`` has it)::

    @admin.register(MyUser)
    class MyUserAdmin(FactorsAdminMixin, SessionsAdminMixin, UserAdmin): ...

Each reset is recorded in the admin's history of the user (a ``LogEntry``: who, when) and
sends ``signals.factor_changed`` with ``change="factors_reset"``; the user is mailed a notice
and signed out everywhere.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from django_redis_auth.exceptions import AuthUnavailable
from django_redis_auth.mfa import changes

__all__ = ["FactorsAdminMixin"]


class FactorsAdminMixin:
    def get_actions(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # Added here rather than in ``actions``, which the mixins would override in each other.
        # Extra arguments pass through (Django 6.1 adds ``action_location``), and the entry is
        # stored as ``get_action`` gives it: a tuple before 6.1, an ``Action`` from then on.
        found = super().get_actions(request, *args, **kwargs)  # type: ignore[misc]
        if "reset_factors" in found or not self.has_change_permission(request):  # type: ignore[attr-defined]
            return found
        found["reset_factors"] = self.get_action("reset_factors")  # type: ignore[attr-defined]
        return found

    @admin.action(
        description=_("Reset sign-in factors (authenticator, recovery codes, passkeys)"),
        permissions=["change"],
    )
    def reset_factors(self, request: HttpRequest, queryset: Any) -> None:
        count = 0
        try:
            for user in queryset:
                if changes.reset_factors(user):
                    self.log_change(  # type: ignore[attr-defined]
                        request, user, _("Reset the sign-in factors (support).")
                    )
                    count += 1
        except AuthUnavailable:
            messages.error(request, _("Redis is unreachable: nothing more was reset."))
        self.message_user(  # type: ignore[attr-defined]
            request,
            ngettext("Reset the factors of %d user.", "Reset the factors of %d users.", count)
            % count,
            messages.SUCCESS,
        )
