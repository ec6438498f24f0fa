from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from django_redis_auth.mfa.admin import FactorsAdminMixin
from django_redis_auth.mfa.models import Passkey
from django_redis_auth.models import User
from django_redis_auth.tokens.admin import SessionsAdminMixin


class EmailUserCreationForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("email",)


class EmailUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


def _social_inlines() -> tuple[type, ...]:
    """The Google (social-auth) links of a user, when social_django is installed."""
    if not apps.is_installed("social_django"):
        return ()
    from social_django.models import UserSocialAuth

    class SocialAuthInline(admin.TabularInline):
        model = UserSocialAuth
        fields = ("provider", "uid", "created", "modified")
        readonly_fields = fields
        extra = 0
        can_delete = True  # unlinking here skips the "last way in" check of DELETE google/
        verbose_name = _("sign-in provider link")

        def has_add_permission(self, request: Any, obj: Any = None) -> bool:
            return False

    return (SocialAuthInline,)


class UserAdmin(FactorsAdminMixin, SessionsAdminMixin, DjangoUserAdmin):
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    list_display = (
        "email",
        "email_verified",
        "otp_required",
        "sign_in_providers",
        "is_active",
        "is_staff",
        "date_joined",
        "last_login",
    )
    list_filter = ("email_verified", "otp_required", "is_active", "is_staff", "is_superuser")
    search_fields = ("email", "first_name", "last_name")
    ordering = ("-date_joined",)
    readonly_fields = ("date_joined", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Verification"), {"fields": ("email_verified", "otp_required")}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_inlines(self, request: Any, obj: Any) -> Any:
        return (*super().get_inlines(request, obj), *(_social_inlines() if obj else ()))

    def get_queryset(self, request: Any) -> Any:
        queryset = super().get_queryset(request)
        if apps.is_installed("social_django"):
            queryset = queryset.prefetch_related("social_auth")
        return queryset

    @admin.display(description=_("providers"))
    def sign_in_providers(self, user: Any) -> str:
        if not apps.is_installed("social_django"):
            return ""
        return ", ".join(sorted({link.provider for link in user.social_auth.all()}))


# Registered only where this model is the project's user model (it has no table otherwise).
if settings.AUTH_USER_MODEL == "django_redis_auth.User":
    admin.site.register(User, UserAdmin)


@admin.register(Passkey)
class PasskeyAdmin(admin.ModelAdmin):
    """Read-only: support sees which passkeys an account has; removing them goes through the
    user's "Reset sign-in factors" action (or the user's own DELETE passkeys/<id>/), which
    mails the notice and ends the sessions a bare row delete would leave alive."""

    list_display = ("name", "user", "created", "last_used", "backup_state")
    list_filter = ("backup_eligible", "backup_state")
    list_select_related = ("user",)
    exclude = ("public_key",)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
