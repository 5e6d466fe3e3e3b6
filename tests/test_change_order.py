# SPDX-License-Identifier: MIT
"""data:changed leaves in seq order across concurrent operations (SPEC §7), found by bench/soak.py.

Regression: each operation emitted its data:changed from its own queue, so a users:* change (whose
fan-out first looks up the roles that may read users) was overtaken by a later change of another
resource: a socket saw seq 126 before 125, and a client resuming from the last seq it applied would
skip 125 if it disconnected in between.
"""

import asyncio

import pytest  # noqa

from handlers.roles import RoleHandler

pytestmark = pytest.mark.both_backends


async def wait_for_seq(services, seq):
    async with asyncio.timeout(5):
        while (await services.changes.latest_seq()) < seq:
            await asyncio.sleep(0.005)


async def test_a_slow_fan_out_is_not_overtaken(api, services, sockets, monkeypatch):
    admin = await api.login()
    tab = await sockets(admin)
    user_id = await api.create_user(admin, "lento@seam.test", 1)
    await tab.wait_for(lambda events: len(tab.of("data:changed")) == 1)
    first = await services.changes.latest_seq()
    original = services.cache.roles_holding

    async def slow_roles_holding(permission):
        await asyncio.sleep(0.3)
        return await original(permission)

    monkeypatch.setattr(services.cache, "roles_holding", slow_roles_holding)
    update = asyncio.ensure_future(api.fetch("PUT", f"/users/{user_id}", json={"full_name": "Lento"}, token=admin))
    await wait_for_seq(services, first + 1)  # the users:update committed first
    created = await api.fetch("POST", "/roles", json={"roleName": "rapido"}, token=admin)
    assert created.status == 201 and (await update).status == 200
    await tab.wait_for(lambda events: len(tab.of("data:changed")) == 3)
    changes = tab.of("data:changed")[1:]
    assert [(c["seq"], c["operation"]) for c in changes] == [(first + 1, "users:update"), (first + 2, "roles:create")]


async def test_a_handler_failing_after_commit_does_not_hold_back_later_changes(api, services, sockets, monkeypatch):
    admin = await api.login()
    tab = await sockets(admin)
    role_id = await api.create_role(admin, "antes")
    await tab.wait_for(lambda events: len(tab.of("data:changed")) == 1)

    async def broken(self, *args, **kwargs):
        raise RuntimeError("after the commit")

    monkeypatch.setattr(RoleHandler, "ok", broken)
    failed = await api.fetch("PUT", f"/roles/{role_id}", json={"roleName": "despues"}, token=admin)
    assert failed.status == 500
    monkeypatch.undo()
    assert (await api.fetch("POST", "/roles", json={"roleName": "siguiente"}, token=admin)).status == 201
    await tab.wait_for(lambda events: len(tab.of("data:changed")) == 3)
    operations = [c["operation"] for c in tab.of("data:changed")]
    assert operations == ["roles:create", "roles:update", "roles:create"]
    seqs = [c["seq"] for c in tab.of("data:changed")]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
