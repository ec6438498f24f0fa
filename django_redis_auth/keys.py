"""Every Redis key this package writes. The key layout lives here and nowhere else.

All keys start with ``KEY_PREFIX`` (default ``dra``). Keys that belong to one user carry the
hash tag ``{u<pk>}`` so Redis Cluster puts them in one slot and every multi-key command
(the per-request MGET, the rotation and cache-refill scripts, logout's pipeline) is single-slot.
Keys that belong to an email address (codes, cooldowns, per-email caps) carry ``{e<digest>}``,
a keyed digest of the normalised address, so the address itself never appears in Redis.
``T`` is a one-letter purpose tag (``Purpose.tag``), ``B`` a budget tag (``Purpose.budget``).

Names and fields are short on purpose: a live code costs its hash plus its address' limits
hash, and at millions of pending codes every byte of a key name is paid for twice
(docs/benchmarks.md measures it).

==============================  ==========================  =================================
key                             value                       expires
==============================  ==========================  =================================
``P:{uID}:epoch``               session epoch (random id)   refresh lifetime after the newest
                                tokens must carry           token issue (PTTL only grows);
                                                            *missing = every token refused*
``P:{uID}:fam:FAMILY``          the family's record         refresh lifetime after the last
                                (families.py: digest of     rotation; revocation keeps the
                                its live refresh jti,       TTL, so it dies with the family
                                created, last used, client
                                IP and user agent), or
                                ``!revoked``
``P:{uID}:fams``                sorted set of the user's    the longest-lived family in it
                                family ids, scored by
                                their expiry (ms): the
                                device list without SCAN
``P:{uID}:jti:JTI``             ``1`` (single token         ``EXAT`` the token's own ``exp``
                                revoked)
``P:{uID}:user``                JSON of the user row        ``USER_CACHE_TTL``
                                (never the password)
``P:{uID}:uver``                random id, replaced at      ``USER_CACHE_TTL``
                                every invalidation; a
                                refill from the database
                                only lands if it is
                                unchanged since the read
``P:{uID}:totp:new``            pending authenticator       ``TOTP_SETUP_TTL``
                                enrolment: ``s`` its secret
                                (encrypted, mfa/crypto.py),
                                ``a`` wrong codes so far
``P:{uID}:totp:step``           the newest time step a      4 TOTP steps (2 minutes): past
                                TOTP code was accepted for  the drift window (the factor's
                                (replays and older steps    ``last_used_step`` in the
                                are refused)                database outlives it)
``P:{uID}:mfa:lim``             the user's second-step      until its newest count expires
                                limits: ``t`` wrong TOTP
                                codes (sliding hour)
``P:{uID}:mfa:try:SH``          one second-step attempt     the challenge's lifetime
                                scope (a login challenge,   (``CODE_TTL``)
                                by keyed digest): ``n``
                                wrong codes, ``x`` spent
``P:{eH}:otp:T``                hash: ``d`` keyed digest    ``CODE_TTL``
                                of the code (raw bytes),
                                ``a`` attempts
``P:{eH}:lim``                  hash of the address'        until its newest count and every
                                limits: ``nB`` codes of     resend cooldown have ended
                                budget B (``Purpose.budget``)
                                over the sliding hour,
                                ``cT`` end of T's resend
                                cooldown (ms, Redis clock)
``P:{eH}:pf:IH``                failed passwords of the     ``LOGIN_FAILURE_TTL`` after the
                                address from client IP      last failure (at least the delay)
                                ``IH`` (``-``: unknown
                                client): ``n`` failures,
                                ``u`` delay end (ms)
``P:{eH}:pa``                   the address' consecutive    ``LOGIN_STEP_UP_TTL`` after the
                                failed passwords from any   last failure
                                client: ``n``
``P:{iH}:lim``                  the client IP's limits:     until its newest count expires
                                ``n`` codes, ``f`` failed
                                passwords, ``g`` wrong
                                codes, ``w`` passkey
                                sign-in options (sliding
                                hour)
``P:{gH}:gs``                   pending Google browser      10 minutes; taken once
                                sign-in, by keyed digest    (GETDEL) by the callback
                                of its OAuth ``state``:
                                JSON of the PKCE verifier,
                                ``next``, the callback URL
                                and a digest of the
                                browser's cookie
``P:{gH}:gx``                   one-time exchange code, by  60 seconds; taken once
                                keyed digest: the user id   (GETDEL) by google/exchange/
``P:{wH}:wa``                   a pending WebAuthn          ``PASSKEY_CHALLENGE_TTL``; taken
                                challenge, by keyed digest  once (GETDEL) by the answer
                                of its value: JSON of its   that carries it
                                kind, user id, binding
``P:{cH}:irl``                  token/introspect/ requests  ``INTROSPECTION_RATE_WINDOW``
                                of one client (keyed        from the window's first request
                                digest of its id) in the
                                current window
==============================  ==========================  =================================

Counts "per hour" are sliding: ``"slice:count"`` pairs of quarter-hour slices, see
``lua/limits.lib.lua``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from django.conf import settings

from django_redis_auth.codes.purposes import Purpose
from django_redis_auth.conf import auth_settings

REVOKED = "!revoked"


def _p() -> str:
    return auth_settings.KEY_PREFIX


def user_tag(user_id: object) -> str:
    return f"{_p()}:{{u{user_id}}}"


def epoch(user_id: object) -> str:
    return f"{user_tag(user_id)}:epoch"


def family(user_id: object, family_id: str) -> str:
    return f"{user_tag(user_id)}:fam:{family_id}"


def session_index(user_id: object) -> str:
    return f"{user_tag(user_id)}:fams"


def revoked_jti(user_id: object, jti: str) -> str:
    return f"{user_tag(user_id)}:jti:{jti}"


def cached_user(user_id: object) -> str:
    return f"{user_tag(user_id)}:user"


def cached_user_version(user_id: object) -> str:
    return f"{user_tag(user_id)}:uver"


def request_keys(user_id: object, family_id: str, jti: str) -> list[str]:
    """The keys the per-request check reads, in MGET order: epoch, family, revoked jti,
    cached user (the tag is built once: this runs on every authenticated request)."""
    tag = user_tag(user_id)
    return [f"{tag}:epoch", f"{tag}:fam:{family_id}", f"{tag}:jti:{jti}", f"{tag}:user"]


def user_pattern() -> str:
    """Glob matching every per-user key (for tests and admin tooling, never the hot path)."""
    return f"{_p()}:{{u*"


def _digest(kind: str, value: str) -> str:
    # Keyed, so a Redis dump cannot be joined against a list of addresses or IPs; 64 bits
    # (docs/otp.md, "What is stored", on collisions and on OTP_HMAC_KEY rotation).
    secret = auth_settings.OTP_HMAC_KEY or settings.SECRET_KEY
    if isinstance(secret, bytes):
        secret = secret.hex()
    key = hashlib.sha256(f"django_redis_auth.keys:{secret}".encode()).digest()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:16]


def email_tag(email: str) -> str:
    return f"{_p()}:{{e{_digest('email', email)}}}"


def code(email: str, purpose: str) -> str:
    return f"{email_tag(email)}:otp:{Purpose(purpose).tag}"


def limits(email: str) -> str:
    return f"{email_tag(email)}:lim"


def ip_bucket(ip: str) -> str:
    """What per-IP limits count: the address, or for IPv6 its ``IPV6_LIMIT_PREFIX`` network
    (one host usually holds a whole /64 and could otherwise take a fresh budget per address)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        prefix = int(auth_settings.IPV6_LIMIT_PREFIX)
        return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    return str(address)


def ip_limits(ip: str) -> str:
    return f"{_p()}:{{i{_digest('ip', ip_bucket(ip))}}}:lim"


def login_failures(email: str, client_ip: str | None) -> str:
    """Failed passwords of one address from one client IP (same slot as the address' keys).
    Clients whose IP is unknown share the address' ``-`` record, never a global one."""
    client = _digest("ip", ip_bucket(client_ip)) if client_ip else "-"
    return f"{email_tag(email)}:pf:{client}"


def account_failures(email: str) -> str:
    """Consecutive failed passwords of one address from every client."""
    return f"{email_tag(email)}:pa"


def google_state(state: str) -> str:
    """A pending browser sign-in with Google, named by a keyed digest of its ``state``."""
    return f"{_p()}:{{g{_digest('google_state', state)}}}:gs"


def google_exchange(code: str) -> str:
    """A one-time exchange code of the browser flow, named by its keyed digest (the code
    itself is never stored)."""
    return f"{_p()}:{{g{_digest('google_exchange', code)}}}:gx"


def totp_pending(user_id: object) -> str:
    """An authenticator being enrolled (mfa/totp.py): its encrypted secret until confirmed."""
    return f"{user_tag(user_id)}:totp:new"


def totp_step(user_id: object) -> str:
    """The newest TOTP time step accepted for the user (replay refusal across workers)."""
    return f"{user_tag(user_id)}:totp:step"


def mfa_limits(user_id: object) -> str:
    """The user's second-step limits (wrong TOTP codes over the sliding hour)."""
    return f"{user_tag(user_id)}:mfa:lim"


def mfa_attempts(user_id: object, scope: str) -> str:
    """Wrong codes and the spent mark of one second-step scope (a login challenge's nonce),
    named by its keyed digest."""
    return f"{user_tag(user_id)}:mfa:try:{_digest('mfa_scope', scope)}"


def reauth_mark(user_id: object, family: str) -> str:
    """That one session (token family) of the user passed ``reauth/``: when and how, for
    ``REAUTH_WINDOW``."""
    return f"{user_tag(user_id)}:reauth:{family}"


def activity(user_id: object) -> str:
    """The user's security activity: a capped list (activity.py)."""
    return f"{user_tag(user_id)}:act"


def known_devices(user_id: object) -> str:
    """Devices the user signed in from (user agent family + network) → last seen (ms), for
    the new-device notice."""
    return f"{user_tag(user_id)}:seen"


def trusted_devices(user_id: object) -> str:
    """The user's trusted devices (mfa/trust.py): digest of each device token → expiry."""
    return f"{user_tag(user_id)}:trust"


def device_token_digest(user_id: object, token: str) -> str:
    """The keyed digest a device token is stored under (never the token)."""
    return _digest("device_token", f"{user_id}:{token}")


def introspection_client(client_id: str) -> str:
    """The request counter of one token/introspect/ client (its rate limit), by keyed
    digest of its id."""
    return f"{_p()}:{{c{_digest('introspection_client', client_id)}}}:irl"


def passkey_challenge(challenge: str) -> str:
    """A pending WebAuthn challenge (mfa/passkeys.py), named by a keyed digest of its
    base64url value: an answer finds its challenge by the value it signed, on any worker."""
    return f"{_p()}:{{w{_digest('passkey_challenge', challenge)}}}:wa"
