"""The ``DJANGO_REDIS_AUTH`` settings object.

Values are read from ``django.conf.settings`` on first use and cached until Django's
``setting_changed`` signal says otherwise, so ``override_settings`` works in tests and
nothing touches settings at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

SETTINGS_NAME = "DJANGO_REDIS_AUTH"

DEFAULTS: dict[str, Any] = {
    # Django cache alias whose django-redis client holds every key of this package.
    "CACHE_ALIAS": "default",
    # Prepended to every Redis key; must not contain "{" or "}" (they delimit hash tags).
    "KEY_PREFIX": "dra",
    # Dotted path to a zero-argument callable returning a redis-py client (e.g. RedisCluster).
    # ``None`` uses ``django_redis.get_redis_connection(CACHE_ALIAS)``.
    "REDIS_CLIENT_FACTORY": None,
    # Dotted path to a zero-argument callable returning a redis.asyncio client, for the async
    # authentication path (async_auth). ``None`` derives one from the synchronous client's
    # connection settings (standalone Redis; required for Sentinel and Cluster).
    "ASYNC_REDIS_CLIENT_FACTORY": None,
    # One-time codes.
    "CODE_LENGTH": 6,
    "CODE_TTL": 600,  # seconds
    "CODE_MAX_ATTEMPTS": 3,
    "RESEND_COOLDOWN": 60,  # seconds, per email and purpose
    "HOURLY_CAP_PER_EMAIL": 10,  # codes per email per hour and budget (Purpose.budget)
    "HOURLY_CAP_PER_IP": 30,  # codes per client IP per hour
    # Wrong codes per client IP per hour at the code-checking endpoints (email/verify/,
    # password/reset/confirm/, login/verify/), then 429: one client cannot destroy other
    # people's codes at scale. 0 = no limit.
    "CODE_GUESSES_PER_IP": 30,
    # Password guessing (password_guard.py). Per address + client IP: after this many
    # failures each further one starts a delay (429 login_throttled, even for the right
    # password) of LOGIN_DELAY seconds, doubling per failure up to LOGIN_DELAY_MAX.
    "LOGIN_FAILURES_BEFORE_DELAY": 5,
    "LOGIN_DELAY": 2,  # seconds
    "LOGIN_DELAY_MAX": 900,  # seconds
    "LOGIN_FAILURE_TTL": 86400,  # seconds an address + client's failures are remembered
    # Per address across every client: after this many consecutive failures a right
    # password also needs an emailed code (step-up), never a lock (NIST SP 800-63B: <= 100).
    "LOGIN_STEP_UP_AFTER": 100,
    "LOGIN_STEP_UP_TTL": 30 * 86400,  # seconds the consecutive failures are remembered
    # Failed passwords per client IP per hour across addresses (spraying), then 429. 0 = off.
    "LOGIN_FAILURES_PER_IP": 100,
    # Key for the HMAC of codes at rest; ``None`` derives one from SECRET_KEY.
    "OTP_HMAC_KEY": None,
    # "off": never; "optional": users whose ``otp_required`` is true; "required": everyone.
    "SECOND_FACTOR": "optional",
    # Accept addresses whose local part (before the @) is not ASCII. Off: such addresses
    # are refused with 400 email_not_allowed (see docs/security.md for why).
    "ALLOW_UNICODE_LOCAL_PART": False,
    # Refuse login until the email is verified.
    "REQUIRE_VERIFIED_EMAIL": True,
    # How login/ refuses an unverified account: "conceal" answers like a wrong password;
    # "reveal" answers 403 email_not_verified, which tells a fresh sign-up from a taken
    # address.
    "UNVERIFIED_LOGIN": "conceal",
    # Dotted path to a callable(AuthEmail) that delivers mail; the default does it off the
    # request path in a background thread.
    "EMAIL_SENDER": "django_redis_auth.codes.senders.send_in_background",
    # Django 6.1+ with MAILERS: the alias the app's mail goes through (ignored when the project
    # configures EMAIL_BACKEND instead).
    "MAILER": "default",
    # Seconds an SMTP server gets per connection for the package's mail when Django's
    # EMAIL_TIMEOUT is unset (a peer that accepts and never answers must not hang a thread).
    "EMAIL_SEND_TIMEOUT": 10,
    # Background sender only: seconds the process waits at exit for queued mail, and a
    # dotted path to callable(list[AuthEmail]) receiving what is still unsent then.
    "EMAIL_SHUTDOWN_TIMEOUT": 5,
    "EMAIL_UNSENT_HANDLER": None,
    # Dotted path to a callable(request) -> str | None giving the client IP that per-client
    # limits count. The default reads REMOTE_ADDR, or with TRUSTED_PROXIES the forwarding
    # header (clients.py). None (unknown client) skips the per-IP limits for that request.
    "CLIENT_IP_RESOLVER": "django_redis_auth.clients.resolve_ip",
    # Reverse proxies in front of the app that append to FORWARDED_HEADER. 0 = the header
    # is not trusted (a client can write it); set it to the number of proxy hops you run.
    "TRUSTED_PROXIES": 0,
    # "X-Forwarded-For" (or any header of that comma-separated form) or "Forwarded" (RFC 7239).
    "FORWARDED_HEADER": "X-Forwarded-For",
    # IPv6 clients are counted per network of this prefix length: one host usually holds a
    # whole /64, so counting single addresses would give it 2^64 fresh budgets.
    "IPV6_LIMIT_PREFIX": 64,
    # Dotted path to the serializer of the user that me/ shows.
    "USER_SERIALIZER": "django_redis_auth.accounts.serializers.UserSerializer",
    # Seconds a user stays in the cache-aside user cache.
    "USER_CACHE_TTL": 300,
    # Access tokens per process whose signature check is remembered (verified_tokens.py);
    # revocation is still checked in Redis on every request. 0 = check every time.
    "VERIFIED_TOKEN_MEMO": 4096,
    # Seconds during which presenting the immediate predecessor of a family's live refresh
    # token returns the same successor pair again (two tabs refreshing at once) instead of
    # counting as reuse. 0 = any second use of a refresh token revokes its family.
    "REFRESH_REUSE_INTERVAL": 0,
    # The device list stores client IPs coarsened to these prefix lengths (32 / 128 = the
    # full address, 0 = none) and user agents cut to SESSION_USER_AGENT_MAX characters.
    "SESSION_IPV4_PREFIX": 24,
    "SESSION_IPV6_PREFIX": 48,
    "SESSION_USER_AGENT_MAX": 64,
    # What account/delete/ does: "delete" the user row, or "deactivate" it (is_active=False).
    "ACCOUNT_DELETION": "delete",
    # Accept tokens unchecked (logged) when Redis is down. Unsafe; off by default.
    "FAIL_OPEN": False,
    # Replicas that must acknowledge a revocation (Redis WAIT) before logout & co. return;
    # if fewer do within REPLICA_ACK_TIMEOUT ms the request answers 503. Makes a revocation
    # survive a failover to a replica. 0 = do not wait (standalone Redis, or Cluster).
    "REPLICA_ACKS": 0,
    "REPLICA_ACK_TIMEOUT": 100,
    # After this many consecutive Redis timeouts a process answers 503 at once for
    # CIRCUIT_BREAKER_SECONDS instead of waiting out each timeout (store.py). 0 = off.
    "CIRCUIT_BREAKER_TIMEOUTS": 3,
    "CIRCUIT_BREAKER_SECONDS": 2,
    # Google sign-in (docs/google.md). The web client's id and secret are social-auth's own
    # settings, SOCIAL_AUTH_GOOGLE_OAUTH2_KEY and SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET.
    # More client ids an ID token may be issued to (the iOS and Android clients).
    "GOOGLE_EXTRA_AUDIENCES": (),
    # Where google/start/'s ``next`` may send the browser back to, and the redirect_uri an
    # SPA may use in the code flow: absolute URLs or paths; a trailing "/" allows the subtree.
    "GOOGLE_REDIRECT_ALLOWED": (),
    # Create an account when a Google address has none (off: 403 signup_closed).
    "GOOGLE_CREATE_USERS": True,
    # Let a Google sign-in stand in for the emailed second factor (off: the same 202
    # challenge as login/).
    "GOOGLE_SATISFIES_SECOND_FACTOR": False,
    # Absolute URL of google/callback/ as registered with Google; None builds it from the
    # request (set it behind a proxy that changes the scheme or host).
    "GOOGLE_CALLBACK_URL": None,
    # Seconds to wait for each request to Google (tokens, user info, signing keys).
    "GOOGLE_TIMEOUT": 5,
    # social-auth pipeline of the Google sign-in (dotted paths);
    # None = social_pipeline.DEFAULT_PIPELINE.
    "GOOGLE_PIPELINE": None,
    # Multi-factor authentication (docs/mfa.md). The issuer an authenticator app shows next
    # to the account's address (the otpauth:// URI's issuer and label prefix).
    "TOTP_ISSUER": "django-redis-auth",
    # Seconds a pending authenticator enrolment (2fa/totp/setup/) waits for its first code.
    "TOTP_SETUP_TTL": 600,
    # Secrets (str or bytes) keying the encryption of TOTP secrets and the hash of recovery
    # codes: the first encrypts, every one decrypts (rotation: put the new key first, run
    # `manage.py mfa_rekey`, then drop the old). None derives them from SECRET_KEY and
    # SECRET_KEY_FALLBACKS. Never stored in the database.
    "MFA_ENCRYPTION_KEYS": None,
    # Wrong second-step codes (authenticator or recovery code) one login challenge takes
    # before it dies (then: sign in again).
    "MFA_ATTEMPTS_PER_CHALLENGE": 5,
    # Wrong authenticator codes per account over the sliding hour, then 429 totp_throttled
    # (recovery codes still work: they are not counted here). 0 = no limit.
    "TOTP_FAILURES_PER_HOUR": 10,
    # Seconds a sign-in or a reauth/ counts as recent: changing how the user signs in
    # (2fa/, passkeys, Google unlink) needs one within this window (docs/mfa.md).
    "REAUTH_WINDOW": 300,
    # Live sessions (devices) one user may hold; signing in once more ends the least
    # recently used. Bounds what one account can keep in Redis. 0 = no cap.
    "MAX_SESSIONS_PER_USER": 50,
    # The per-user security activity (account/activity/): most entries, and days kept.
    "ACTIVITY_MAX_ENTRIES": 100,
    "ACTIVITY_DAYS": 90,
    # Mail a notice on a sign-in from a device (user agent family + network) the account
    # has not used within ACTIVITY_DAYS.
    "NEW_DEVICE_NOTICE": True,
    # Passwordless sign-in by emailed code (login/code/). Off: those endpoints answer 404
    # login_code_disabled.
    "LOGIN_BY_CODE": True,
    # "Trust this device" (mfa/trust.py): days a device that passed the second step may
    # skip it (login/verify/ with trust_device). 0 = off.
    "MFA_TRUST_DAYS": 0,
    "MFA_TRUST_MAX_DEVICES": 10,  # trusted devices per user; the oldest go first
    # Passkeys (WebAuthn, docs/passkeys.md). Off: every passkeys/ endpoint answers 404.
    "PASSKEYS": True,
    # The relying party: its id (a registrable domain, never an IP address: browsers refuse
    # one), the name authenticators show, and every origin an assertion may come from (web
    # origins "https://app.example.com", Android apps "android:apk-key-hash:<hash>").
    "PASSKEY_RP_ID": "localhost",
    "PASSKEY_RP_NAME": "django-redis-auth",
    "PASSKEY_ORIGINS": ("http://localhost:8000",),
    # Seconds a WebAuthn challenge (registration or sign-in options) lives; single use.
    "PASSKEY_CHALLENGE_TTL": 300,
    # Passkeys one user may register.
    "PASSKEYS_PER_USER": 20,
    # Sign-in options (passkeys/login/options/, unauthenticated: each stores a challenge)
    # per client IP over the sliding hour, then 429. 0 = no limit.
    "PASSKEY_OPTIONS_PER_IP": 300,
    # Other services (docs/other-services.md). Public keys that still verify tokens besides
    # SIMPLE_JWT["VERIFYING_KEY"] (key rotation: the previous keys, until their last token
    # expires): PEM strings, or dicts {"key": PEM, "algorithm": ..., "kid": ...}. Needs an
    # asymmetric SIMPLE_JWT["ALGORITHM"]; every key is published at .well-known/jwks.json.
    "JWT_VERIFYING_KEYS": (),
    # Seconds other services may cache .well-known/jwks.json (Cache-Control max-age).
    "JWKS_MAX_AGE": 300,
    # Clients of token/introspect/ (RFC 7662) and their secrets, {client_id: secret}, sent
    # as HTTP Basic. Empty: the endpoint answers 404.
    "INTROSPECTION_CLIENTS": {},
    # Introspection requests per client per INTROSPECTION_RATE_WINDOW seconds, then 429.
    # 0 = no limit.
    "INTROSPECTION_RATE_LIMIT": 6000,
    "INTROSPECTION_RATE_WINDOW": 60,
    # token/verify/ (forward-auth): response headers for the gateway to pass upstream, by
    # claim, {header: claim}, besides X-User-Id (the user id claim).
    "FORWARD_AUTH_HEADERS": {},
}

SEQUENCES = frozenset(
    {"GOOGLE_EXTRA_AUDIENCES", "GOOGLE_REDIRECT_ALLOWED", "JWT_VERIFYING_KEYS", "PASSKEY_ORIGINS"}
)
MAPPINGS = frozenset({"INTROSPECTION_CLIENTS", "FORWARD_AUTH_HEADERS"})
IMPORT_STRINGS = frozenset(
    {
        "REDIS_CLIENT_FACTORY",
        "ASYNC_REDIS_CLIENT_FACTORY",
        "EMAIL_SENDER",
        "CLIENT_IP_RESOLVER",
        "USER_SERIALIZER",
        "EMAIL_UNSENT_HANDLER",
    }
)
SECOND_FACTOR_CHOICES = ("off", "optional", "required")
CHOICES = {
    "SECOND_FACTOR": SECOND_FACTOR_CHOICES,
    "UNVERIFIED_LOGIN": ("conceal", "reveal"),
    "ACCOUNT_DELETION": ("delete", "deactivate"),
}
# Integer settings and their allowed ranges.
RANGES = {
    "SESSION_IPV4_PREFIX": (0, 32),
    "SESSION_IPV6_PREFIX": (0, 128),
    "SESSION_USER_AGENT_MAX": (0, 512),
    "TOTP_SETUP_TTL": (60, 3600),
    "MFA_ATTEMPTS_PER_CHALLENGE": (1, 100),
    "TOTP_FAILURES_PER_HOUR": (0, 100000),
    "REAUTH_WINDOW": (1, 86400),
    "MAX_SESSIONS_PER_USER": (0, 100000),
    "ACTIVITY_MAX_ENTRIES": (1, 10000),
    "ACTIVITY_DAYS": (1, 3650),
    "MFA_TRUST_DAYS": (0, 365),
    "MFA_TRUST_MAX_DEVICES": (1, 100),
    "PASSKEY_CHALLENGE_TTL": (30, 3600),
    "PASSKEYS_PER_USER": (1, 100),
    "PASSKEY_OPTIONS_PER_IP": (0, 10**6),
    "JWKS_MAX_AGE": (0, 86400),
    "INTROSPECTION_RATE_LIMIT": (0, 10**9),
    "INTROSPECTION_RATE_WINDOW": (1, 86400),
}


class AuthSettings:
    """Attribute access over ``settings.DJANGO_REDIS_AUTH`` with defaults, cached per value."""

    def __init__(self, defaults: dict[str, Any] | None = None) -> None:
        self.defaults = defaults if defaults is not None else DEFAULTS
        self._cache: dict[str, Any] = {}
        self._user: dict[str, Any] | None = None

    @property
    def user_settings(self) -> dict[str, Any]:
        if self._user is None:
            user = getattr(django_settings, SETTINGS_NAME, {}) or {}
            if not isinstance(user, dict):
                raise ImproperlyConfigured(f"{SETTINGS_NAME} must be a dict.")
            unknown = sorted(set(user) - set(self.defaults))
            if unknown:
                raise ImproperlyConfigured(
                    f"Unknown {SETTINGS_NAME} setting(s): {', '.join(unknown)}. "
                    f"Valid keys: {', '.join(sorted(self.defaults))}."
                )
            self._user = user
        return self._user

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self.defaults:
            raise AttributeError(f"Invalid {SETTINGS_NAME} setting: {name!r}")
        value = self.user_settings.get(name, self.defaults[name])
        value = self._validate(name, value)
        if name in IMPORT_STRINGS and isinstance(value, str):
            try:
                value = import_string(value)
            except ImportError as exc:
                raise ImproperlyConfigured(
                    f"{SETTINGS_NAME}[{name!r}] = {value!r} could not be imported: {exc}"
                ) from exc
        # Stored as a plain attribute (as DRF's APISettings does): the next read is an
        # ordinary attribute lookup, which matters on the per-request path.
        self._cache[name] = value
        setattr(self, name, value)
        return value

    def _validate(self, name: str, value: Any) -> Any:
        if name == "KEY_PREFIX" and ("{" in value or "}" in value):
            raise ImproperlyConfigured(f"{SETTINGS_NAME}['KEY_PREFIX'] must not contain braces.")
        if name in CHOICES and value not in CHOICES[name]:
            raise ImproperlyConfigured(f"{SETTINGS_NAME}[{name!r}] must be one of {CHOICES[name]}.")
        if name == "CODE_LENGTH" and not (4 <= int(value) <= 12):
            raise ImproperlyConfigured(f"{SETTINGS_NAME}['CODE_LENGTH'] must be 4..12.")
        if name in RANGES and not (RANGES[name][0] <= int(value) <= RANGES[name][1]):
            low, high = RANGES[name]
            raise ImproperlyConfigured(f"{SETTINGS_NAME}[{name!r}] must be {low}..{high}.")
        if name == "REFRESH_REUSE_INTERVAL" and not (0 <= float(value) <= 300):
            raise ImproperlyConfigured(
                f"{SETTINGS_NAME}['REFRESH_REUSE_INTERVAL'] must be 0..300 seconds."
            )
        if name in SEQUENCES and not isinstance(value, list | tuple):
            # A bare string would be iterated character by character.
            raise ImproperlyConfigured(f"{SETTINGS_NAME}[{name!r}] must be a list or tuple.")
        if name in MAPPINGS and not (
            isinstance(value, dict)
            and all(isinstance(k, str) and isinstance(v, str) and k and v for k, v in value.items())
        ):
            raise ImproperlyConfigured(
                f"{SETTINGS_NAME}[{name!r}] must be a dict of non-empty strings."
            )
        return value

    def reload(self) -> None:
        for name in self._cache:
            self.__dict__.pop(name, None)
        self._cache.clear()
        self._user = None


auth_settings = AuthSettings()


# Django settings whose change invalidates what this package derived from them. Modules
# holding such state (store's client, verified_tokens' memo) connect their own receiver
# with ``on_change``; nothing here imports them.
DEPENDS_ON = frozenset({SETTINGS_NAME, "SECRET_KEY", "CACHES", "SIMPLE_JWT"})


def on_change(reset: Callable[[], None]) -> None:
    """Call ``reset()`` whenever one of ``DEPENDS_ON`` changes (``override_settings``)."""

    def receiver(*, setting: str, **kwargs: Any) -> None:
        if setting in DEPENDS_ON:
            reset()

    setting_changed.connect(receiver, weak=False)


on_change(auth_settings.reload)
