# SPDX-License-Identifier: MIT
"""Property-based fuzzing of the live server from its own OpenAPI document (schemathesis + Hypothesis).

One SEAM subprocess; every operation is driven with schema-valid and schema-invalid requests, as the
admin and as a limited user. Each response must not be a 5xx, must match the documented status codes,
envelope and headers, invalid data must be rejected, and a rejected request must leave the database
exactly as it was. Bounded: a few examples per operation and mode.
"""

import hashlib
import sqlite3

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bench.seam_process import SeamProcess

EXAMPLES = 15
MAX_PATH_ID = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
TABLES = ("users", "roles", "permissions", "permissionXRole", "sidebarItems", "roleXItem", "changes")
LIMITED_PERMISSIONS = ("GET /api/v1/users", "POST /api/v1/sidebar", "PUT /api/v1/roles/:idRole")
# Reads first, deletions last: what one operation removes cannot starve the ones before it.
ORDER = {"GET": 0, "POST": 1, "PUT": 2, "DELETE": 3}


def narrow_ids(document):
    """Aim path ids at records that exist: random 53-bit ids would only ever meet 404."""
    for item in document["paths"].values():
        for spec in item.values():
            for parameter in spec.get("parameters", ()):
                if parameter["in"] == "path":
                    parameter["schema"]["maximum"] = MAX_PATH_ID
    return document


class Fuzzer:
    def __init__(self, seam):
        self.seam = seam
        self.session = requests.Session()
        admin = seam.login()
        catalog = {p["nameUri"]: p["idPermission"] for p in seam.request("GET", "/permission", token=admin)[1]["data"]}
        status, role = seam.request("POST", "/roles", {"roleName": "fuzz-limited"}, admin)
        assert status == 201, role
        self.limited_role = role["data"]["idRole"]
        for name in LIMITED_PERMISSIONS:
            body = {"roleId": self.limited_role, "permissionId": catalog[name]}
            assert seam.request("POST", "/permission/assign", body, admin)[0] == 200
        user = {"full_name": "Fuzz Limited", "email": "limited@fuzz.test", "password": "limited-pass-1"}
        status, created = seam.request("POST", "/users", {**user, "roleId": self.limited_role}, admin)
        assert status == 201, created
        self.tokens = {"admin": admin, "limited": seam.login(user["email"], user["password"])}
        self.protected_users = {1, created["data"]["idUser"]}
        self.protected_roles = {1, self.limited_role}
        self.protected_permissions = set(catalog.values())
        # Unknown query/body fields are ignored by design; the bearer token is ours, not generated.
        config = schemathesis.Config.from_dict(
            {"generation": {"allow-extra-parameters": False, "with-security-parameters": False}}
        )
        document = requests.get(seam.base_url + "/api/v1/openapi.json", timeout=30).json()
        self.schema = schemathesis.openapi.from_dict(narrow_ids(document), config=config)
        self.base_url = seam.base_url + "/api/v1"

    def snapshot(self):
        """A digest of every table a rejected request must not touch."""
        digest = hashlib.sha256()
        with sqlite3.connect(f"file:{self.seam.db_path}?mode=ro", uri=True) as db:
            for table in TABLES:
                for row in db.execute(f"SELECT * FROM {table} ORDER BY 1"):  # noqa: S608 - fixed names
                    digest.update(repr(row).encode())
        return digest.hexdigest()

    def spares_fixtures(self, case):
        """Keep the fuzzing accounts, their roles and the catalog usable for the rest of the run."""
        params, body = case.path_parameters or {}, case.body if isinstance(case.body, dict) else {}

        def hits(value, protected):
            return isinstance(value, int) and value in protected

        path = case.operation.path
        if path.startswith("/users/{id}") and case.method != "GET" and hits(params.get("id"), self.protected_users):
            return False
        if path == "/permission/{id}" and hits(params.get("id"), self.protected_permissions):
            return False
        if path == "/permission/unassign" and hits(body.get("roleId"), self.protected_roles):
            return False
        return not (path == "/roles/{idRole}" and hits(params.get("idRole"), self.protected_roles))

    def run(self, operation, mode, who):
        token = self.tokens[who]
        checks = CHECKS + ([negative_data_rejection] if mode is schemathesis.GenerationMode.NEGATIVE else [])

        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case):
            hypothesis.assume(self.spares_fixtures(case))
            before = self.snapshot()
            response = case.call_and_validate(
                base_url=self.base_url,
                session=self.session,
                headers={"Authorization": f"Bearer {token}"},
                checks=checks,
                timeout=30,
            )
            if 400 <= response.status_code < 500:
                assert self.snapshot() == before, f"rejected with {response.status_code} but the database changed"

        fuzz()


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory):
    with SeamProcess(tmp_path_factory.mktemp("fuzz"), log_level="warning", login_max_failures=1_000_000) as seam:
        yield Fuzzer(seam)
        assert seam.popen.poll() is None, seam.output()


@pytest.mark.parametrize("who", ["limited", "admin"])
@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_fuzz_every_operation(fuzzer, mode, who):
    failures = []
    found = [result.ok() for result in fuzzer.schema.get_all_operations()]
    for operation in sorted(found, key=lambda op: (ORDER[op.method.upper()], op.path)):
        has_input = operation.path_parameters or operation.query or operation.body
        if mode is schemathesis.GenerationMode.NEGATIVE and not has_input:
            continue  # nothing to make invalid
        try:
            fuzzer.run(operation, mode, who)
        except Exception as error:  # collect every operation's first failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert not failures, "\n\n".join(failures)
