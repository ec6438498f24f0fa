import pytest
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import AccessToken

pytestmark = pytest.mark.django_db


def test_user_admin_lists_and_searches(client, make_user):
    admin = make_user(email="admin@example.com", is_staff=True, is_superuser=True)
    make_user(email="bob@example.com")
    client.force_login(admin)
    response = client.get("/admin/django_redis_auth/user/", {"q": "bob"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "bob@example.com" in body
    assert "admin@example.com" not in body.split("result_list")[-1]
    for column in ("email_verified", "otp_required", "is_active"):
        assert f"column-{column}" in body


def test_user_admin_add_form(client, make_user):
    admin = make_user(email="admin@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get("/admin/django_redis_auth/user/add/").status_code == 200
    assert client.get(f"/admin/django_redis_auth/user/{admin.pk}/change/").status_code == 200


def test_manager_normalises_and_requires_email(db):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    user = User.objects.create_user("  Bob@Example.COM ", "pw-long-enough-1")
    assert user.email == "bob@example.com"
    assert User.objects.get_by_natural_key("BOB@example.com") == user
    with pytest.raises(ValueError):
        User.objects.create_user("", "x")
    su = User.objects.create_superuser("root@example.com", "pw-long-enough-1")
    assert su.is_staff and su.is_superuser and su.email_verified


def test_change_page_lists_live_sessions_and_signs_one_out(client, make_user, login, bearer):
    admin_user = make_user(email="admin@example.com", is_staff=True, is_superuser=True)
    make_user(email="bob@example.com")
    laptop = login(email="bob@example.com")
    phone = login(email="bob@example.com")
    client.force_login(admin_user)
    bob = get_user_model().objects.get(email="bob@example.com")
    page = client.get(f"/admin/django_redis_auth/user/{bob.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Signed-in sessions" in body and body.count('value="Sign out"') == 2
    family = AccessToken(laptop["access"])["fam"]
    url = f"/admin/django_redis_auth/user/{bob.pk}/sessions/{family}/revoke/"
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302
    assert bearer(laptop["access"]).get("/auth/me/").status_code == 401
    assert bearer(phone["access"]).get("/auth/me/").status_code == 200
    page = client.get(f"/admin/django_redis_auth/user/{bob.pk}/change/")
    assert page.content.decode().count('value="Sign out"') == 1


def test_sign_out_everywhere_action(client, make_user, login, bearer):
    admin_user = make_user(email="admin@example.com", is_staff=True, is_superuser=True)
    make_user(email="bob@example.com")
    make_user(email="carol@example.com")
    bob, carol = login(email="bob@example.com"), login(email="carol@example.com")
    admin_pair = login(email="admin@example.com")
    client.force_login(admin_user)
    User = get_user_model()
    chosen = User.objects.filter(email__in=["bob@example.com", "carol@example.com"])
    response = client.post(
        "/admin/django_redis_auth/user/",
        {"action": "sign_out_everywhere", "_selected_action": [u.pk for u in chosen]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Signed 2 users out of every device." in response.content.decode()
    for pair in (bob, carol):
        assert bearer(pair["access"]).get("/auth/me/").status_code == 401
    assert bearer(admin_pair["access"]).get("/auth/me/").status_code == 200


def test_reset_factors_action(client, make_user, bearer, django_capture_on_commit_callbacks):
    """Support resets the factors of a user who lost them: gone, signed out, mailed,
    recorded in the admin history; the other actions are still there."""
    from django.contrib.admin.models import LogEntry
    from django.core import mail

    from django_redis_auth.mfa.models import RecoveryCode, TOTPFactor
    from tests.mfa_helpers import enrol

    admin_user = make_user(email="admin@example.com", is_staff=True, is_superuser=True)
    bob = make_user(email="bob@example.com")
    enrolled = enrol("bob@example.com")
    client.force_login(admin_user)
    page = client.get("/admin/django_redis_auth/user/").content.decode()
    assert 'value="reset_factors"' in page and 'value="sign_out_everywhere"' in page
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/django_redis_auth/user/",
            {"action": "reset_factors", "_selected_action": [bob.pk]},
            follow=True,
        )
    assert "Reset the factors of 1 user." in response.content.decode()
    assert not TOTPFactor.objects.filter(user=bob).exists()
    assert not RecoveryCode.objects.filter(user=bob).exists()
    assert bearer(enrolled["access"]).get("/auth/me/").status_code == 401
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]
    assert "Support reset the sign-in methods" in mail.outbox[0].body
    entry = LogEntry.objects.get(object_id=str(bob.pk))
    assert entry.user == admin_user and "Reset the sign-in factors" in entry.get_change_message()


def test_change_page_shows_the_security_activity_read_only(client, make_user, login):
    admin_user = make_user(email="admin@example.com", is_staff=True, is_superuser=True)
    bob = make_user(email="bob@example.com")
    login(email="bob@example.com")
    client.post(
        "/auth/login/",
        {"email": "bob@example.com", "password": "nope"},
        content_type="application/json",
    )
    client.force_login(admin_user)
    page = client.get(f"/admin/django_redis_auth/user/{bob.pk}/change/").content.decode()
    section = page[page.index('id="security-activity"') :]
    assert "sign_in_failed" in section and "sign_in" in section
    assert "<form" not in section.split("</div>", 1)[0]  # nothing to act on: read-only


def test_passkeys_are_listed_read_only(client, make_user):
    from django_redis_auth.mfa.models import Passkey

    admin_user = make_user(email="admin@example.com", is_staff=True, is_superuser=True)
    bob = make_user(email="bob@example.com")
    key = Passkey.objects.create(
        user=bob, name="Bob's phone", credential_id="abc", public_key=b"k", user_handle="h"
    )
    client.force_login(admin_user)
    listing = client.get("/admin/django_redis_auth/passkey/")
    assert listing.status_code == 200 and "Bob&#x27;s phone" in listing.content.decode()
    page = client.get(f"/admin/django_redis_auth/passkey/{key.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(f"/admin/django_redis_auth/passkey/{key.pk}/delete/").status_code == 403
    assert Passkey.objects.filter(pk=key.pk).exists()
