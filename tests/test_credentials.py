# SPDX-License-Identifier: MIT
"""SPEC §10 credentials: one form per email and nothing invisible in it, passwords bcrypt can keep whole,
and bcrypt's cost the same for every login."""

import unicodedata

import bcrypt
import pytest

import messages as msg
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, assert_error
from tests.support.database import sql

pytestmark = pytest.mark.both_backends

USER_ROLE = 2
NFC = unicodedata.normalize("NFC", "josé@seam.test")
NFD = unicodedata.normalize("NFD", "josé@seam.test")


def new_user(email="ana@seam.test", password=PASSWORD):
    return {"full_name": "Ana Pérez", "email": email, "password": password, "roleId": USER_ROLE}


def stored_users(config):
    return sql(config, "SELECT idUser, email, password, tokenVersion FROM users ORDER BY idUser")


async def test_emails_are_one_normal_form(api, config):
    admin = await api.login()
    assert NFC != NFD
    created = await api.fetch("POST", "/users", json=new_user(NFD), token=admin)
    assert created.status == 201 and created.data["email"] == NFC
    assert stored_users(config)[-1][1] == NFC
    assert_error(await api.fetch("POST", "/users", json=new_user(NFC), token=admin), 409, msg.EMAIL_IN_USE)
    for spelling in (NFC, NFD, NFD.upper()):
        assert (await api.fetch("POST", "/auth/login", json={"email": spelling, "password": PASSWORD})).status == 200


async def test_an_account_stored_decomposed_is_still_found(api, config):
    """Rows from before normalization may hold NFD: lookups and uniqueness compare canonically."""
    admin = await api.login()
    sql(
        config,
        "INSERT INTO users (full_name, email, password, roleId) VALUES ('Old', ?, ?, 2)",
        (NFD, bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()),
    )
    assert (await api.fetch("POST", "/auth/login", json={"email": NFC, "password": PASSWORD})).status == 200
    assert_error(await api.fetch("POST", "/users", json=new_user(NFC), token=admin), 409, msg.EMAIL_IN_USE)


@pytest.mark.parametrize(
    "invisible",
    ["\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u0007", "\x7f", "\ud800"],
    ids=["zwsp", "zwj", "word-joiner", "bom", "soft-hyphen", "rtl-override", "bell", "del", "surrogate"],
)
async def test_emails_with_invisible_characters_are_refused(api, config, invisible):
    admin = await api.login()
    user_id = await api.create_user(admin, "real@seam.test", USER_ROLE)
    before = stored_users(config)
    look_alike = f"adm{invisible}in@seam.test"
    message = msg.FIELD_FORMAT.format(field="email")
    assert_error(await api.fetch("POST", "/users", json=new_user(look_alike), token=admin), 400, message)
    assert_error(await api.fetch("PUT", f"/users/{user_id}", json={"email": look_alike}, token=admin), 400, message)
    login = await api.fetch("POST", "/auth/login", json={"email": ADMIN_EMAIL + invisible, "password": ADMIN_PASSWORD})
    assert_error(login, 400, message)
    assert stored_users(config) == before


async def test_new_passwords_fit_bcrypt_and_are_not_blank(api, config):
    admin = await api.login()
    user_id = await api.create_user(admin, "pw@seam.test", USER_ROLE)
    before = stored_users(config)
    too_long = "ñ" * 37  # 37 characters, 74 bytes: bcrypt would silently ignore the last two
    fits = "ñ" * 36
    over = msg.FIELD_MAX_BYTES.format(field="password", n=72)
    blank = msg.FIELD_BLANK.format(field="password")
    assert_error(await api.fetch("POST", "/users", json=new_user(password=too_long), token=admin), 400, over)
    assert_error(await api.fetch("POST", "/users", json=new_user(password=" " * 12), token=admin), 400, blank)
    assert_error(await api.fetch("PUT", f"/users/{user_id}", json={"password": "x" * 73}, token=admin), 400, over)
    assert_error(await api.fetch("PUT", f"/users/{user_id}", json={"password": "\t" * 9}, token=admin), 400, blank)
    token = await api.login("pw@seam.test", PASSWORD)
    change = {"currentPassword": PASSWORD, "newPassword": too_long}
    assert_error(
        await api.fetch("PUT", "/auth/password", json=change, token=token),
        400,
        msg.FIELD_MAX_BYTES.format(field="newPassword", n=72),
    )
    assert stored_users(config) == before
    assert (await api.fetch("PUT", f"/users/{user_id}", json={"password": fits}, token=admin)).status == 200
    assert (await api.fetch("POST", "/auth/login", json={"email": "pw@seam.test", "password": fits})).status == 200
    wrong = await api.fetch("POST", "/auth/login", json={"email": "pw@seam.test", "password": fits[:-1] + "n"})
    assert_error(wrong, 401, msg.BAD_CREDENTIALS)


async def test_a_password_may_not_be_the_email(api, config):
    admin = await api.login()
    user_id = await api.create_user(admin, "mine@seam.test", USER_ROLE)
    before = stored_users(config)
    same = msg.FIELD_EQUALS_EMAIL.format(field="password")
    body = new_user("Twin@Seam.test", password="twin@seam.test")
    assert_error(await api.fetch("POST", "/users", json=body, token=admin), 400, same)
    assert_error(await api.fetch("POST", "/auth/register", json=body, token=admin), 400, same)
    assert_error(
        await api.fetch("PUT", f"/users/{user_id}", json={"password": "MINE@seam.test"}, token=admin), 400, same
    )
    moved = {"email": "moved@seam.test", "password": "moved@seam.test"}
    assert_error(await api.fetch("PUT", f"/users/{user_id}", json=moved, token=admin), 400, same)
    token = await api.login("mine@seam.test", PASSWORD)
    change = {"currentPassword": PASSWORD, "newPassword": "mine@seam.test"}
    assert_error(
        await api.fetch("PUT", "/auth/password", json=change, token=token),
        400,
        msg.FIELD_EQUALS_EMAIL.format(field="newPassword"),
    )
    assert stored_users(config) == before


@pytest.mark.parametrize("overrides", [{"bcrypt_rounds": 5}])
async def test_unknown_emails_cost_the_current_bcrypt_cost(api, services, overrides):
    wrong = await api.fetch("POST", "/auth/login", json={"email": "nobody@seam.test", "password": "whatever-1"})
    assert_error(wrong, 401, msg.BAD_CREDENTIALS)
    assert services.passwords.dummy.startswith("$2b$05$")


@pytest.mark.parametrize("overrides", [{"bcrypt_rounds": 5}])
async def test_a_login_rehashes_a_hash_of_another_cost(api, config, overrides):
    """After raising bcrypt_rounds, known emails answered faster than unknown ones until their next login."""
    admin = await api.login()
    user_id = await api.create_user(admin, "old@seam.test", USER_ROLE)
    old_hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    sql(config, "UPDATE users SET password = ? WHERE idUser = ?", (old_hash, user_id))
    updated_at = sql(config, "SELECT updatedAt FROM users WHERE idUser = ?", (user_id,))[0][0]
    token = await api.login("old@seam.test", PASSWORD)
    [(digest, version, still)] = sql(
        config, "SELECT password, tokenVersion, updatedAt FROM users WHERE idUser = ?", (user_id,)
    )
    assert digest.startswith("$2b$05$") and bcrypt.checkpw(PASSWORD.encode(), digest.encode())
    assert (version, still) == (0, updated_at)  # not an edit: tokens stay valid, no updatedAt
    assert (await api.fetch("GET", "/auth/me", token=token)).status == 200
    assert await api.login("old@seam.test", PASSWORD)
