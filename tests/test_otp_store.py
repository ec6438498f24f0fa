"""Guarantee 4 and 5 at the code-store level (``otp.issue_code`` / ``otp.verify_code``)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from django_redis_auth import keys, signals
from django_redis_auth.codes import otp
from django_redis_auth.codes.purposes import Purpose
from django_redis_auth.exceptions import (
    AuthUnavailable,
    InvalidCode,
    RateLimited,
    TooManyAttempts,
)
from tests.helpers import package_settings, window_count

EMAIL = "alice@example.com"
LOGIN, RESET, VERIFY = Purpose.LOGIN, Purpose.PASSWORD_RESET, Purpose.EMAIL_VERIFICATION


def no_cooldown(**changes: Any):
    return override_settings(DJANGO_REDIS_AUTH=package_settings(RESEND_COOLDOWN=0, **changes))


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


# --- single use, attempts, expiry -----------------------------------------------------------


def test_code_is_digits_of_configured_length():
    code = otp.issue_code(EMAIL, VERIFY)
    assert code is not None and code.isdigit() and len(code) == 6
    with override_settings(DJANGO_REDIS_AUTH=package_settings(CODE_LENGTH=8)):
        code = otp.issue_code("bob@example.com", VERIFY)
        assert code is not None and len(code) == 8


def test_code_works_once():
    code = otp.issue_code(EMAIL, VERIFY)
    otp.verify_code(EMAIL, VERIFY, code)
    with pytest.raises(InvalidCode) as exc:
        otp.verify_code(EMAIL, VERIFY, code)
    assert exc.value.get_codes() == "invalid_code"


def test_code_typed_with_spaces_or_dashes_is_accepted():
    code = otp.issue_code(EMAIL, VERIFY)
    otp.verify_code(EMAIL, VERIFY, f" {code[:3]} - {code[3:]} ")


def test_third_wrong_guess_destroys_the_code():
    code = otp.issue_code(EMAIL, VERIFY)
    for _ in range(2):
        with pytest.raises(InvalidCode) as exc:
            otp.verify_code(EMAIL, VERIFY, wrong(code))
        assert not isinstance(exc.value, TooManyAttempts)
    with pytest.raises(TooManyAttempts) as exc:
        otp.verify_code(EMAIL, VERIFY, wrong(code))
    assert exc.value.get_codes() == "too_many_attempts"
    with pytest.raises(InvalidCode):
        otp.verify_code(EMAIL, VERIFY, code)  # the right code is useless now


def test_right_code_after_two_wrong_guesses_still_works():
    code = otp.issue_code(EMAIL, VERIFY)
    for _ in range(2):
        with pytest.raises(InvalidCode):
            otp.verify_code(EMAIL, VERIFY, wrong(code))
    otp.verify_code(EMAIL, VERIFY, code)


def test_proving_a_code_keeps_it_and_costs_no_attempt(redis_client):
    """``consume=False`` (password reset's check before its last validators): a right code
    stays usable, however often it is proven, until one consuming call uses it up."""
    code = otp.issue_code(EMAIL, RESET)
    for _ in range(5):
        otp.verify_code(EMAIL, RESET, code, consume=False)
    assert redis_client.hget(keys.code(EMAIL, RESET), "a") == b"0"
    otp.verify_code(EMAIL, RESET, code)
    for consume in (False, True):
        with pytest.raises(InvalidCode):
            otp.verify_code(EMAIL, RESET, code, consume=consume)


def test_proving_counts_wrong_guesses_and_destroys_on_the_last():
    code = otp.issue_code(EMAIL, RESET)
    with pytest.raises(InvalidCode):
        otp.verify_code(EMAIL, RESET, wrong(code), consume=False)
    with pytest.raises(InvalidCode):
        otp.verify_code(EMAIL, RESET, wrong(code))  # both modes share one count
    with pytest.raises(TooManyAttempts):
        otp.verify_code(EMAIL, RESET, wrong(code), consume=False)
    with pytest.raises(InvalidCode):
        otp.verify_code(EMAIL, RESET, code, consume=False)  # destroyed


def test_proving_sends_no_verified_signal():
    seen = []

    def receiver(**kwargs):
        seen.append(kwargs["purpose"])

    signals.code_verified.connect(receiver, dispatch_uid="prove-signal")
    try:
        code = otp.issue_code(EMAIL, RESET)
        otp.verify_code(EMAIL, RESET, code, consume=False)
        assert seen == []
        otp.verify_code(EMAIL, RESET, code)
    finally:
        signals.code_verified.disconnect(dispatch_uid="prove-signal")
    assert seen == [RESET]


def test_max_attempts_is_configurable():
    with override_settings(DJANGO_REDIS_AUTH=package_settings(CODE_MAX_ATTEMPTS=1)):
        code = otp.issue_code(EMAIL, VERIFY)
        with pytest.raises(TooManyAttempts):
            otp.verify_code(EMAIL, VERIFY, wrong(code))


@pytest.mark.fake_only
def test_code_expires_after_code_ttl():
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = otp.issue_code(EMAIL, VERIFY)
        second = otp.issue_code(EMAIL, RESET)
        clock.shift(timedelta(seconds=599))
        otp.verify_code(EMAIL, VERIFY, first)  # still valid just before the end
        clock.shift(timedelta(seconds=2))
        with pytest.raises(InvalidCode) as exc:
            otp.verify_code(EMAIL, RESET, second)
        assert not isinstance(exc.value, TooManyAttempts)


def test_code_key_carries_the_code_ttl(redis_client):
    otp.issue_code(EMAIL, VERIFY)
    ttl = redis_client.pttl(keys.code(EMAIL, VERIFY))
    assert 599_000 < ttl <= 600_000


def test_expired_used_unknown_and_wrong_look_alike():
    code = otp.issue_code(EMAIL, VERIFY)
    answers = []
    for email, candidate in [(EMAIL, wrong(code)), ("nobody@example.com", code)]:
        with pytest.raises(InvalidCode) as exc:
            otp.verify_code(email, VERIFY, candidate)
        answers.append((type(exc.value), str(exc.value.detail), exc.value.get_codes()))
    otp.verify_code(EMAIL, VERIFY, code)
    with pytest.raises(InvalidCode) as exc:
        otp.verify_code(EMAIL, VERIFY, code)
    answers.append((type(exc.value), str(exc.value.detail), exc.value.get_codes()))
    assert len(set(answers)) == 1


# --- replacement and binding ----------------------------------------------------------------


def test_new_code_kills_the_old_one():
    with no_cooldown():
        old = otp.issue_code(EMAIL, VERIFY)
        new = otp.issue_code(EMAIL, VERIFY)
        if old == new:  # one in a million: draw again
            new = otp.issue_code(EMAIL, VERIFY)
        with pytest.raises(InvalidCode):
            otp.verify_code(EMAIL, VERIFY, old)
        otp.verify_code(EMAIL, VERIFY, new)


def test_new_code_resets_the_attempt_count():
    with no_cooldown():
        code = otp.issue_code(EMAIL, VERIFY)
        for _ in range(2):
            with pytest.raises(InvalidCode):
                otp.verify_code(EMAIL, VERIFY, wrong(code))
        code = otp.issue_code(EMAIL, VERIFY)
        for _ in range(2):
            with pytest.raises(InvalidCode):
                otp.verify_code(EMAIL, VERIFY, wrong(code))
        otp.verify_code(EMAIL, VERIFY, code)


def test_code_is_bound_to_its_purpose():
    code = otp.issue_code(EMAIL, VERIFY)
    for purpose in (LOGIN, RESET):
        with pytest.raises(InvalidCode):
            otp.verify_code(EMAIL, purpose, code)
    otp.verify_code(EMAIL, VERIFY, code)


def test_code_is_bound_to_its_email():
    code = otp.issue_code(EMAIL, VERIFY)
    with pytest.raises(InvalidCode):
        otp.verify_code("bob@example.com", VERIFY, code)
    otp.verify_code(EMAIL, VERIFY, code)


@pytest.mark.parametrize(
    ("email", "purpose"), [("bob@example.com", VERIFY), (EMAIL, RESET), (EMAIL, LOGIN)]
)
def test_digest_copied_to_another_key_does_not_verify(redis_client, email, purpose):
    """Purpose and email are inside the HMAC, not only in the key name."""
    code = otp.issue_code(EMAIL, VERIFY)
    source, target = keys.code(EMAIL, VERIFY), keys.code(email, purpose)
    redis_client.hset(target, mapping=redis_client.hgetall(source))
    with pytest.raises(InvalidCode):
        otp.verify_code(email, purpose, code)


def test_code_is_bound_to_its_binding():
    code = otp.issue_code(EMAIL, LOGIN, binding="challenge-1")
    with pytest.raises(InvalidCode):
        otp.verify_code(EMAIL, LOGIN, code)
    with pytest.raises(InvalidCode):
        otp.verify_code(EMAIL, LOGIN, code, binding="challenge-2")
    otp.verify_code(EMAIL, LOGIN, code, binding="challenge-1")


def test_codes_are_hashed_with_otp_hmac_key():
    default = otp.digest(EMAIL, VERIFY, "123456")
    with override_settings(DJANGO_REDIS_AUTH=package_settings(OTP_HMAC_KEY="k" * 32)):
        assert otp.digest(EMAIL, VERIFY, "123456") != default
        code = otp.issue_code(EMAIL, VERIFY)
    with pytest.raises(InvalidCode):  # another key: the stored digest no longer matches
        otp.verify_code(EMAIL, VERIFY, code)


def test_with_otp_hmac_key_set_rotating_secret_key_keeps_pending_codes():
    with override_settings(DJANGO_REDIS_AUTH=package_settings(OTP_HMAC_KEY="k" * 32)):
        code = otp.issue_code(EMAIL, VERIFY)
        with override_settings(SECRET_KEY="a-rotated-secret-key-" + "x" * 40):
            otp.verify_code(EMAIL, VERIFY, code)  # same digest key, same key names


def test_default_hmac_key_comes_from_secret_key():
    default = otp.digest(EMAIL, VERIFY, "123456")
    code = otp.issue_code(EMAIL, VERIFY)
    with override_settings(SECRET_KEY="a-rotated-secret-key-" + "x" * 40):
        assert otp.digest(EMAIL, VERIFY, "123456") != default
        with pytest.raises(InvalidCode):
            otp.verify_code(EMAIL, VERIFY, code)


def test_unknown_purpose_is_a_programming_error():
    with pytest.raises(ValueError):
        otp.issue_code(EMAIL, "banana")
    with pytest.raises(ValueError):
        otp.verify_code(EMAIL, "banana", "123456")


# --- nothing secret in Redis ----------------------------------------------------------------


def _everything_in_redis(client) -> list[bytes]:
    found: list[bytes] = []
    for key in client.scan_iter(match="*"):
        found.append(key)
        kind = client.type(key)
        if kind == b"string":
            found.append(client.get(key))
        elif kind == b"hash":
            for field, value in client.hgetall(key).items():
                found += [field, value]
        else:
            raise AssertionError(f"unexpected {kind!r} key {key!r}")
    return found


def test_no_plaintext_code_or_address_anywhere_in_redis(redis_client):
    # 12 digits: a random 6-digit code could occur by chance inside a timestamp or digest.
    emails = ["alice@example.com", "bob@example.org"]
    with override_settings(DJANGO_REDIS_AUTH=package_settings(CODE_LENGTH=12)):
        codes = [
            otp.issue_code(email, purpose, client_ip="203.0.113.7", binding="nonce")
            for email in emails
            for purpose in tuple(Purpose)
        ]
    assert all(codes)
    blob = b"\n".join(_everything_in_redis(redis_client))
    assert blob
    for secret in [*codes, *emails, "203.0.113.7"]:
        assert secret.encode() not in blob


def test_every_code_key_expires(redis_client):
    otp.issue_code(EMAIL, VERIFY, client_ip="203.0.113.7")
    otp.issue_code("bob@example.com", RESET, store_code=False)
    keys_found = list(redis_client.scan_iter(match="*"))
    # alice: code + limits hash, the IP's counter; bob (dry run): limits hash only
    assert len(keys_found) == 4
    for key in keys_found:
        assert redis_client.pttl(key) > 0, key


# --- cooldown and caps ----------------------------------------------------------------------


def test_resend_inside_cooldown_is_429_with_retry_after():
    otp.issue_code(EMAIL, VERIFY)
    with pytest.raises(RateLimited) as exc:
        otp.issue_code(EMAIL, VERIFY)
    assert exc.value.status_code == 429
    assert 55 <= exc.value.wait <= 60
    otp.issue_code(EMAIL, RESET)  # the cooldown is per purpose
    otp.issue_code("bob@example.com", VERIFY)  # and per email


def test_refused_issue_leaves_the_current_code_valid():
    code = otp.issue_code(EMAIL, VERIFY)
    with pytest.raises(RateLimited):
        otp.issue_code(EMAIL, VERIFY)
    otp.verify_code(EMAIL, VERIFY, code)


@pytest.mark.fake_only
def test_cooldown_ends():
    with time_machine.travel(timezone.now(), tick=False) as clock:
        otp.issue_code(EMAIL, VERIFY)
        clock.shift(timedelta(seconds=59))
        with pytest.raises(RateLimited):
            otp.issue_code(EMAIL, VERIFY)
        clock.shift(timedelta(seconds=2))
        assert otp.issue_code(EMAIL, VERIFY)


def test_hourly_cap_per_email_keeps_login_codes_apart():
    """Codes anyone may ask for in someone's name (verification, reset) share one budget;
    the password-checked login code has its own, so the former cannot use it up."""
    with no_cooldown(HOURLY_CAP_PER_EMAIL=3):
        otp.issue_code(EMAIL, VERIFY)
        otp.issue_code(EMAIL, RESET)
        last = otp.issue_code(EMAIL, RESET)
        for purpose in (VERIFY, RESET):
            with pytest.raises(RateLimited) as exc:
                otp.issue_code(EMAIL, purpose)
            assert 1 <= exc.value.wait <= 4500  # a count lasts 60 to 75 minutes
        with pytest.raises(RateLimited):
            otp.issue_code(EMAIL, RESET, store_code=False)  # dry runs count alike
        otp.verify_code(EMAIL, RESET, last)  # nothing was replaced by the refused issues
        for _ in range(3):
            assert otp.issue_code(EMAIL, LOGIN)
        with pytest.raises(RateLimited):
            otp.issue_code(EMAIL, LOGIN)
        otp.issue_code("bob@example.com", VERIFY)


def test_one_live_code_keeps_two_keys_a_code_and_its_address_limits(redis_client):
    """The memory budget per live code (docs/benchmarks.md): the cooldown and the hourly
    count are fields of one limits hash per address, not keys of their own."""
    otp.issue_code(EMAIL, VERIFY)
    otp.issue_code(EMAIL, RESET)
    assert sorted(redis_client.scan_iter(match="*")) == sorted(
        k.encode() for k in (keys.code(EMAIL, VERIFY), keys.code(EMAIL, RESET), keys.limits(EMAIL))
    )
    limits = redis_client.hgetall(keys.limits(EMAIL))
    assert set(limits) == {b"no", b"cv", b"cr"}  # one open budget, two cooldowns
    assert window_count(redis_client, keys.limits(EMAIL), "no") == 2


@pytest.mark.fake_only
def test_counts_expire_after_an_hour_in_a_hash_kept_alive_by_a_cooldown(redis_client):
    """The limits hash outlives a count when a cooldown keeps it: a count older than its
    window must not refuse later codes (another purpose of the same budget, here)."""
    start = timezone.now().replace(minute=14, second=30, microsecond=0)
    with (
        time_machine.travel(start, tick=False) as clock,
        override_settings(
            DJANGO_REDIS_AUTH=package_settings(HOURLY_CAP_PER_EMAIL=1, RESEND_COOLDOWN=7200)
        ),
    ):
        otp.issue_code(EMAIL, VERIFY)
        clock.shift(timedelta(minutes=61))  # the count's last slice is over; VERIFY's cooldown runs
        assert redis_client.exists(keys.limits(EMAIL))
        assert otp.issue_code(EMAIL, RESET)
        assert window_count(redis_client, keys.limits(EMAIL), "no") == 1


def test_hourly_cap_per_ip():
    with no_cooldown(HOURLY_CAP_PER_IP=2):
        otp.issue_code("a@example.com", VERIFY, client_ip="203.0.113.7")
        otp.issue_code("b@example.com", VERIFY, client_ip="203.0.113.7")
        with pytest.raises(RateLimited):
            otp.issue_code("c@example.com", VERIFY, client_ip="203.0.113.7")
        otp.issue_code("c@example.com", VERIFY, client_ip="198.51.100.1")


@pytest.mark.fake_only
def test_the_hour_is_sliding_the_cap_does_not_refill_at_the_full_hour():
    """A fixed clock hour let the whole cap pass at 10:59 and again at 11:00. Counted over the
    last five quarter-hour slices, a code counts until 60 to 75 minutes after it was sent."""
    start = timezone.now().replace(minute=59, second=30, microsecond=0)
    with time_machine.travel(start, tick=False) as clock, no_cooldown(HOURLY_CAP_PER_EMAIL=2):
        otp.issue_code(EMAIL, VERIFY)
        otp.issue_code(EMAIL, RESET)
        clock.shift(timedelta(seconds=31))  # the next clock hour
        with pytest.raises(RateLimited) as exc:
            otp.issue_code(EMAIL, RESET)
        # The codes' slice (:45 to :00) leaves the count 75 minutes after it began.
        assert exc.value.wait == 3600 - 1
        clock.shift(timedelta(minutes=59))
        with pytest.raises(RateLimited):
            otp.issue_code(EMAIL, RESET)  # 59.5 minutes after the first code
        clock.shift(timedelta(seconds=exc.value.wait - 59 * 60))
        assert otp.issue_code(EMAIL, RESET)
        assert otp.issue_code(EMAIL, VERIFY)


@pytest.mark.fake_only
def test_no_sixty_minutes_hold_more_than_the_cap():
    """Requests spread at random over three hours: in every 60-minute period the codes
    that were sent never exceed the cap (the bound the sliding count guarantees)."""
    import random

    rng = random.Random(7)
    start = timezone.now().replace(minute=0, second=0, microsecond=0)
    sent: list[float] = []
    with time_machine.travel(start, tick=False) as clock, no_cooldown(HOURLY_CAP_PER_EMAIL=5):
        elapsed = 0.0
        while elapsed < 3 * 3600:
            step = rng.expovariate(1 / 120)
            clock.shift(timedelta(seconds=step))
            elapsed += step
            try:
                otp.issue_code(EMAIL, VERIFY)
            except RateLimited:
                continue
            sent.append(elapsed)
    assert len(sent) >= 10
    for i, t in enumerate(sent):
        assert sum(1 for u in sent[i:] if u - t < 3600) <= 5


@pytest.mark.fake_only
def test_a_cooldown_outlives_the_counts_it_started_with(redis_client):
    """The limits hash lives as long as its longest part: a cooldown longer than the
    hourly count still holds after the count has expired."""
    start = timezone.now().replace(minute=59, second=30, microsecond=0)
    with (
        time_machine.travel(start, tick=False) as clock,
        override_settings(DJANGO_REDIS_AUTH=package_settings(RESEND_COOLDOWN=5400)),
    ):
        otp.issue_code(EMAIL, VERIFY)
        assert 5_399_000 < redis_client.pttl(keys.limits(EMAIL)) <= 5_400_000
        clock.shift(timedelta(seconds=5380))
        with pytest.raises(RateLimited) as exc:
            otp.issue_code(EMAIL, VERIFY)
        assert exc.value.wait == 20
        clock.shift(timedelta(seconds=21))
        assert otp.issue_code(EMAIL, VERIFY)


@pytest.mark.real
def test_limits_run_on_redis_clock_not_the_application_servers():
    """Workers whose clocks disagree (here: by two hours either way, against a real Redis
    whose clock does not move) can neither reset an hourly count nor skip a cooldown."""
    now = timezone.now()
    with no_cooldown(HOURLY_CAP_PER_EMAIL=2):
        for shift in (timedelta(hours=2), -timedelta(hours=2)):
            with time_machine.travel(now + shift, tick=False):
                otp.issue_code(EMAIL, VERIFY)
        for shift in (timedelta(0), timedelta(hours=2), -timedelta(hours=2)):
            with time_machine.travel(now + shift, tick=False), pytest.raises(RateLimited):
                otp.issue_code(EMAIL, VERIFY)
    otp.issue_code(EMAIL, LOGIN)
    with time_machine.travel(now + timedelta(minutes=5), tick=False), pytest.raises(RateLimited):
        otp.issue_code(EMAIL, LOGIN)  # a worker 5 minutes ahead is still inside the cooldown


def test_dry_run_stores_nothing_but_runs_the_same_limits(redis_client):
    assert otp.issue_code(EMAIL, VERIFY, store_code=False) is None
    assert not redis_client.exists(keys.code(EMAIL, VERIFY))
    with pytest.raises(RateLimited) as dry:
        otp.issue_code(EMAIL, VERIFY, store_code=False)
    otp.issue_code("bob@example.com", VERIFY)
    with pytest.raises(RateLimited) as real:
        otp.issue_code("bob@example.com", VERIFY)
    assert (dry.value.wait, dry.value.detail, dry.value.get_codes()) == (
        real.value.wait,
        real.value.detail,
        real.value.get_codes(),
    )


def test_dry_run_does_not_touch_a_pending_code():
    with no_cooldown():
        code = otp.issue_code(EMAIL, VERIFY)
        otp.issue_code(EMAIL, VERIFY, store_code=False)
    otp.verify_code(EMAIL, VERIFY, code)


# --- Redis Cluster path (IP counter in another slot) -----------------------------------------


def _ip_count(client, ip: str) -> int:
    return window_count(client, keys.ip_limits(ip), "n")


def test_cluster_issue_takes_two_round_trips_one_slot_each(
    as_if_on_cluster, round_trips, script_keys
):
    otp.issue_code("warm@example.com", VERIFY, client_ip="198.51.100.1")  # load scripts
    script_keys.clear()
    seen = script_keys
    with round_trips() as rt:
        code = otp.issue_code(EMAIL, VERIFY, client_ip="203.0.113.7")
    assert rt.count == 2
    assert all(len({k.split("}")[0] for k in slot_keys}) == 1 for slot_keys in seen)
    otp.verify_code(EMAIL, VERIFY, code)


def test_cluster_ip_cap_is_enforced(as_if_on_cluster):
    with no_cooldown(HOURLY_CAP_PER_IP=2):
        otp.issue_code("a@example.com", VERIFY, client_ip="203.0.113.7")
        otp.issue_code("b@example.com", VERIFY, client_ip="203.0.113.7")
        with pytest.raises(RateLimited) as exc:
            otp.issue_code("c@example.com", VERIFY, client_ip="203.0.113.7")
        assert 1 <= exc.value.wait <= 4500  # a count lasts 60 to 75 minutes
        otp.issue_code("c@example.com", VERIFY, client_ip="198.51.100.1")


def test_single_redis_refusal_counts_nothing(redis_client):
    otp.issue_code(EMAIL, VERIFY, client_ip="203.0.113.7")
    with pytest.raises(RateLimited):
        otp.issue_code(EMAIL, VERIFY, client_ip="203.0.113.7")
    assert _ip_count(redis_client, "203.0.113.7") == 1


# --- round trips, signals, outage -----------------------------------------------------------


def test_issue_and_verify_are_one_round_trip_each(round_trips):
    with no_cooldown():
        code = otp.issue_code(EMAIL, VERIFY, client_ip="203.0.113.7")  # scripts loaded
        otp.verify_code(EMAIL, VERIFY, code)
        with round_trips() as rt:
            code = otp.issue_code(EMAIL, VERIFY, client_ip="203.0.113.7")
        assert (rt.count, rt.commands) == (1, [b"EVALSHA"])
        with round_trips() as rt, pytest.raises(InvalidCode):
            otp.verify_code(EMAIL, VERIFY, wrong(code))
        assert (rt.count, rt.commands) == (1, [b"EVALSHA"])
        with round_trips() as rt:
            otp.verify_code(EMAIL, VERIFY, code)
        assert (rt.count, rt.commands) == (1, [b"EVALSHA"])


def test_scripts_reload_after_script_flush(redis_client):
    with no_cooldown():
        otp.issue_code(EMAIL, VERIFY)
        redis_client.script_flush()
        code = otp.issue_code(EMAIL, VERIFY)
    redis_client.script_flush()
    otp.verify_code(EMAIL, VERIFY, code)


def test_signals_never_carry_the_code():
    received: list[tuple[str, dict]] = []

    def receiver(signal, sender, **kwargs):
        received.append((signal, kwargs))

    pairs = [
        (signals.code_issued, "issued"),
        (signals.code_verified, "verified"),
        (signals.code_failed, "failed"),
    ]
    for signal, _name in pairs:
        signal.connect(receiver, weak=False)
    try:
        code = otp.issue_code(EMAIL, VERIFY)
        otp.issue_code("bob@example.com", VERIFY, store_code=False)  # dry: no signal
        for _ in range(3):
            with pytest.raises(InvalidCode):
                otp.verify_code(EMAIL, VERIFY, wrong(code))
        code = otp.issue_code(EMAIL, RESET)
        otp.verify_code(EMAIL, RESET, code)
    finally:
        for signal, _name in pairs:
            signal.disconnect(receiver)
    names = {id(signal): name for signal, name in pairs}
    summary = [
        (names[id(signal)], kwargs.get("purpose"), kwargs.get("reason"))
        for signal, kwargs in received
    ]
    assert summary == [
        ("issued", VERIFY, None),
        ("failed", VERIFY, "invalid"),
        ("failed", VERIFY, "invalid"),
        ("failed", VERIFY, "too_many_attempts"),
        ("issued", RESET, None),
        ("verified", RESET, None),
    ]
    for _signal, kwargs in received:
        assert set(kwargs) <= {"email", "purpose", "reason"}
        assert kwargs["email"] == EMAIL


def test_redis_down_raises_auth_unavailable():
    with override_settings(
        DJANGO_REDIS_AUTH=package_settings(REDIS_CLIENT_FACTORY="tests.helpers.dead_redis")
    ):
        with pytest.raises(AuthUnavailable):
            otp.issue_code(EMAIL, VERIFY, client_ip="203.0.113.7")
        with pytest.raises(AuthUnavailable):
            otp.verify_code(EMAIL, VERIFY, "123456")


# --- concurrency (real Redis) ---------------------------------------------------------------


def _race(calls: int, candidate) -> list[str]:
    """Run ``otp.code_outcome`` from ``calls`` threads released at the same moment."""
    barrier = threading.Barrier(calls)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        outcome = otp.code_outcome(EMAIL, VERIFY, candidate(i))
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.real
def test_50_concurrent_right_codes_give_exactly_one_success():
    code = otp.issue_code(EMAIL, VERIFY)
    outcomes = _race(50, lambda i: code)
    assert outcomes.count("ok") == 1
    assert outcomes.count("missing") == 49


@pytest.mark.real
def test_50_concurrent_wrong_guesses_count_at_most_the_limit():
    code = otp.issue_code(EMAIL, VERIFY)
    outcomes = _race(50, lambda i: wrong(code))
    assert outcomes.count("wrong") == 2
    assert outcomes.count("destroyed") == 1
    assert outcomes.count("missing") == 47


@pytest.mark.real
def test_50_concurrent_prove_then_consume_give_exactly_one_success():
    """Password reset proves the code, then consumes it: of concurrent confirms with the
    right code, every one may pass the proof, exactly one consumes."""
    code = otp.issue_code(EMAIL, VERIFY)
    barrier = threading.Barrier(50)
    outcomes: list[tuple[str, str]] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        proven = otp.code_outcome(EMAIL, VERIFY, code, consume=False)
        consumed = otp.code_outcome(EMAIL, VERIFY, code) if proven == "ok" else "-"
        with lock:
            outcomes.append((proven, consumed))

    threads = [threading.Thread(target=run) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [c for _, c in outcomes].count("ok") == 1
    assert {p for p, _ in outcomes} <= {"ok", "missing"}


@pytest.mark.real
def test_50_concurrent_mixed_guesses_never_exceed_the_limit():
    code = otp.issue_code(EMAIL, VERIFY)
    outcomes = _race(50, lambda i: code if i == 25 else wrong(code))
    counted = [o for o in outcomes if o != "missing"]
    assert outcomes.count("ok") <= 1
    assert len(counted) <= 3
    # Either the right code came in time, or three wrong guesses destroyed the code.
    assert outcomes.count("ok") == 1 or outcomes.count("destroyed") == 1
