import pytest

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
