"""The ``passkeys/`` endpoints: thin HTTP over :mod:`.passkeys`.

Adding or removing a passkey changes how the account signs in, so both need recent
authentication and are factor changes: a notice, and every other session ended (adding
answers the caller's fresh pair with the new passkey; removing keeps the caller's session,
204). Renaming is not a change of how anyone signs in."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from django_redis_auth.accounts import second_step, users
from django_redis_auth.api import AuthenticatedAPIView, PublicAPIView
from django_redis_auth.clients import client_of
from django_redis_auth.exceptions import (
    AuthUnavailable,
    InvalidCode,
    LastSignInMethod,
    MethodNotAvailable,
    RateLimited,
    TooManyAttempts,
)
from django_redis_auth.mfa import changes, passkeys, reauth
from django_redis_auth.mfa.exceptions import (
    ChallengeExpired,
    InvalidCredential,
    PasskeyLimitReached,
    PasskeyNotFound,
    PasskeysNotEnabled,
)
from django_redis_auth.mfa.models import Passkey
from django_redis_auth.mfa.views import _row
from django_redis_auth.serializers import TOKEN_MAX, EmailField, TokenPairSerializer
from django_redis_auth.tokens import claims, devices, issuing

LAST_PASSKEY = _(
    "This passkey is your only way to sign in. Set a password (password reset) or add another "
    "passkey before removing it."
)

# --- bodies -----------------------------------------------------------------------------------


class CredentialField(serializers.JSONField):
    """The browser's ``PublicKeyCredential.toJSON()``: a JSON object (checked by py_webauthn)."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("Expected the credential as a JSON object."))
        return value


class OptionsSerializer(serializers.Serializer):
    publicKey = serializers.DictField(
        help_text="PublicKeyCredentialCreationOptionsJSON or ...RequestOptionsJSON, for "
        "`PublicKeyCredential.parseCreationOptionsFromJSON()` / `parseRequestOptionsFromJSON()`."
    )


class PasskeySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    name = serializers.CharField(max_length=passkeys.NAME_MAX)
    created = serializers.DateTimeField(read_only=True)
    last_used = serializers.DateTimeField(read_only=True, allow_null=True)
    backed_up = serializers.BooleanField(source="backup_state", read_only=True)


class PasskeyCreateSerializer(serializers.Serializer):
    credential = CredentialField(
        help_text="`credential.toJSON()` of `navigator.credentials.create()`."
    )
    name = serializers.CharField(max_length=passkeys.NAME_MAX, required=False, allow_blank=True)


class PasskeyCreatedSerializer(PasskeySerializer):
    """The new passkey and the caller's fresh pair (every other session ended)."""

    access = serializers.CharField()
    refresh = serializers.CharField()


class PasskeyRenameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=passkeys.NAME_MAX)


class LoginOptionsSerializer(serializers.Serializer):
    email = EmailField(
        required=False, help_text="Email-first sign-in; without it, discoverable credentials."
    )
    challenge = serializers.CharField(
        required=False,
        max_length=TOKEN_MAX,
        help_text="The `challenge` of login/'s 202: new options for its passkey step (the "
        "first ones expired, or a failed answer spent them). Not with `email`.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "email" in attrs and "challenge" in attrs:
            raise serializers.ValidationError(
                {"challenge": [_("Give an email or a challenge, not both.")]},
                code="invalid_input",
            )
        return attrs


class AssertionSerializer(serializers.Serializer):
    credential = CredentialField(
        help_text="`credential.toJSON()` of `navigator.credentials.get()`."
    )


# --- views ------------------------------------------------------------------------------------

PASSKEY_ERRORS = (PasskeysNotEnabled, AuthUnavailable)
REAUTH_ERRORS = tuple(reauth.ERRORS)


class RegisterOptionsView(AuthenticatedAPIView):
    """→ creation options; the challenge lives ``PASSKEY_CHALLENGE_TTL`` (single use)."""

    serializer_class = None
    response_serializer_class = OptionsSerializer
    errors = (PasskeyLimitReached, *REAUTH_ERRORS, *PASSKEY_ERRORS)

    def post(self, request: Request) -> Response:
        passkeys.require_enabled()
        reauth.require_recent_authentication(request)
        return Response(passkeys.registration_options(_row(request)))


class PasskeyListView(AuthenticatedAPIView):
    """GET → the caller's passkeys. POST credential (+ name) → 201 the new passkey + a fresh
    pair: a factor change (notice, every other session ended)."""

    serializer_class = PasskeyCreateSerializer
    response_serializer_class = PasskeyCreatedSerializer
    success_status = 201
    errors = (
        InvalidCredential,
        ChallengeExpired,
        PasskeyLimitReached,
        *REAUTH_ERRORS,
        *PASSKEY_ERRORS,
    )
    get_response_serializer_class = PasskeySerializer(many=True)
    get_success_status = 200
    get_errors = PASSKEY_ERRORS

    def get(self, request: Request) -> Response:
        passkeys.require_enabled()
        found = Passkey.objects.filter(user_id=request.user.pk).order_by("created", "pk")
        return Response(PasskeySerializer(found, many=True).data)

    def post(self, request: Request) -> Response:
        passkeys.require_enabled()
        reauth.require_recent_authentication(request)
        data = self.validated()
        user = _row(request)
        with users.atomic():
            passkey = passkeys.register(user, data["credential"], data.get("name") or "")
            pair = changes.factor_changed(
                user, client=client_of(request), current_session=request.auth, kind="passkey_added"
            )
        body = {**PasskeySerializer(passkey).data, **pair.as_dict()}
        return Response(body, status=status.HTTP_201_CREATED)


class PasskeyView(AuthenticatedAPIView):
    """PATCH name → the renamed passkey. DELETE → 204 (recent authentication; 409 while it
    is the only way in): a factor change, every other session ended."""

    serializer_class = PasskeyRenameSerializer
    response_serializer_class = PasskeySerializer
    errors = (PasskeyNotFound, *PASSKEY_ERRORS)
    delete_response_serializer_class = None
    delete_success_status = 204
    delete_errors = (PasskeyNotFound, LastSignInMethod, *REAUTH_ERRORS, *PASSKEY_ERRORS)

    def _passkey(self, request: Request, passkey_id: str) -> Passkey:
        passkeys.require_enabled()
        found = None
        if passkey_id.isdigit() and len(passkey_id) < 19:
            found = Passkey.objects.filter(pk=int(passkey_id), user_id=request.user.pk).first()
        if found is None:
            raise PasskeyNotFound()
        return found

    def patch(self, request: Request, passkey_id: str) -> Response:
        passkey = self._passkey(request, passkey_id)
        passkey.name = passkeys.clean_name(self.validated()["name"])
        passkey.save(update_fields=["name"])
        return Response(PasskeySerializer(passkey).data)

    def delete(self, request: Request, passkey_id: str) -> Response:
        passkey = self._passkey(request, passkey_id)
        reauth.require_recent_authentication(request)
        user = _row(request)
        with users.atomic():
            others = Passkey.objects.select_for_update().filter(user_id=user.pk)
            if len(others) <= 1 and not _other_way_in(user):
                raise LastSignInMethod(LAST_PASSKEY)
            passkey.delete()
            from django_redis_auth.mfa import factors, recovery

            if not factors.of(user).strong:
                recovery.delete_codes(user)  # nothing left for them to back up
            devices.revoke_other_devices(
                users.user_id_of(user), claims.of(request.auth).family, reason="passkey_removed"
            )
            changes.notify(user, "passkey_removed")
        return Response(status=status.HTTP_204_NO_CONTENT)


def _other_way_in(user: Any) -> bool:
    """A usable password or a linked Google account (the passkeys aside)."""
    if user.has_usable_password():
        return True
    from django_redis_auth.google import service as google

    return google.installed() and google.is_linked(user)


class LoginOptionsView(PublicAPIView):
    """(email) → request options: ``allowCredentials`` for an email-first sign-in, none
    (discoverable credentials) without one; (challenge) → options for the passkey step of
    that login challenge."""

    serializer_class = LoginOptionsSerializer
    response_serializer_class = OptionsSerializer
    errors = (RateLimited, InvalidCode, TooManyAttempts, MethodNotAvailable, *PASSKEY_ERRORS)

    def post(self, request: Request) -> Response:
        passkeys.require_enabled()
        data = self.validated()
        client = client_of(request)
        if "challenge" in data:
            return Response(second_step.passkey_step_options(data["challenge"], client))
        return Response(passkeys.request_options(email=data.get("email"), client_ip=client.ip))


class LoginView(PublicAPIView):
    """credential → a token pair; ``amr`` ``hwk``/``swk`` + ``user`` + ``mfa``."""

    serializer_class = AssertionSerializer
    response_serializer_class = TokenPairSerializer
    errors = (InvalidCredential, ChallengeExpired, *PASSKEY_ERRORS)

    def post(self, request: Request) -> Response:
        passkeys.require_enabled()
        credential = self.validated()["credential"]
        with users.atomic():  # the sign count moves only if the pair is issued
            asserted = passkeys.authenticate(credential)
            pair = issuing.issue_token_pair(
                asserted.user, client_of(request), amr=asserted.amr, method="passkey"
            )
        return Response(pair.as_dict())


class ReauthOptionsView(AuthenticatedAPIView):
    """→ request options for ``reauth/`` with ``credential``: the caller's passkeys, the
    challenge bound to this session."""

    serializer_class = None
    response_serializer_class = OptionsSerializer
    errors = PASSKEY_ERRORS

    def post(self, request: Request) -> Response:
        passkeys.require_enabled()
        return Response(
            passkeys.request_options(
                user=request.user,
                kind=passkeys.REAUTH,
                binding=passkeys.reauth_binding(claims.of(request.auth).family),
            )
        )
