"""Hypothesis state machines driving the real REST API through random sequences of steps.

Each machine keeps a small model of what the API has promised and checks invariants after every
step, against what the API answers:

* scope versions — an approved version never changes; at most one is approved (the current one);
* SoA versions — the same, with decisions made between snapshots;
* impact assessments — a step from a state that does not allow it is refused; an approved
  assessment never changes; at most one approved per system;
* corrective actions — a nonconformity never closes while an action is not verified effective,
  and an action is never verified before it is implemented;
* evidence under retention and legal hold — a delete is refused while retention or a hold
  applies, succeeds otherwise, and a deleted item stays gone.

Every run starts in an organisation of its own. CI runs a few short runs;
``AIMS_STATE_MACHINE_EXAMPLES`` (runs per machine, default 8) and ``AIMS_STATE_MACHINE_STEPS``
(steps per run, default 12) run it longer.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from shared.db import uuid7
from tests.conftest import Stack

pytestmark = pytest.mark.engines

EXAMPLES = int(os.environ.get("AIMS_STATE_MACHINE_EXAMPLES", "8"))
STEPS = int(os.environ.get("AIMS_STATE_MACHINE_STEPS", "12"))
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=24).map(
    lambda s: s.strip() or "x"
)
STEPS_TAKEN: Counter[str] = Counter()


class Api:
    """Synchronous calls (from Hypothesis' thread) into the session loop's in-process clients."""

    def __init__(self, stack: Stack, loop: asyncio.AbstractEventLoop) -> None:
        self.stack = stack
        self.loop = loop

    def call(
        self,
        app: str,
        method: str,
        path: str,
        org: uuid.UUID,
        role: str = "admin",
        *,
        subject: str = "tester",
        json: Any = None,
        if_match: str | None = None,
    ) -> httpx.Response:
        headers = self.stack.headers(org, role, subject=subject)
        if if_match is not None:
            headers["If-Match"] = if_match
        coroutine = self.stack.clients[app].request(method, path, json=json, headers=headers)
        response = asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)
        assert response.status_code < 500, (method, path, response.status_code, response.text)
        return response

    def etag(self, app: str, path: str, org: uuid.UUID) -> str:
        response = self.call(app, "GET", path, org)
        assert response.status_code == 200, response.text
        return response.headers["etag"]

    def wait_for(self, app: str, path: str, org: uuid.UUID) -> None:
        """Until ``path`` answers 200 (an event projected into another service)."""
        for _ in range(300):
            if self.call(app, "GET", path, org).status_code == 200:
                return
            time.sleep(0.05)  # polling an eventually consistent projection, not asserting time
        raise AssertionError(f"{app} {path} never appeared")


class ApiMachine(RuleBasedStateMachine):
    api: ClassVar[Api]
    name: ClassVar[str] = "machine"

    def __init__(self) -> None:
        super().__init__()
        self.org = uuid7()

    def step(self, what: str) -> None:
        STEPS_TAKEN[f"{self.name}.{what}"] += 1


def _frozen(body: dict[str, Any], *fields: str) -> dict[str, Any]:
    return {field: body.get(field) for field in fields}


# --- Scope versions ------------------------------------------------------------------------------

SCOPE_CONTENT = ("number", "statement", "activities", "locations", "departments", "systems")


class ScopeVersions(ApiMachine):
    name = "scope"

    def __init__(self) -> None:
        super().__init__()
        self.versions: list[str] = []
        self.approved: dict[str, dict[str, Any]] = {}  # id → content when approved
        self.current: str | None = None

    def _path(self, version_id: str) -> str:
        return f"/v1/scope-versions/{version_id}"

    @rule(statement=WORDS)
    def start_draft(self, statement: str) -> None:
        self.step("start_draft")
        response = self.api.call(
            "inventory",
            "POST",
            "/v1/scope-versions",
            self.org,
            "contributor",
            json={"statement": statement},
        )
        assert response.status_code in {201, 409}, response.text
        if response.status_code == 201:
            self.versions.append(response.json()["id"])

    @precondition(lambda self: bool(self.versions))
    @rule(data=st.data(), statement=WORDS)
    def edit(self, data: st.DataObject, statement: str) -> None:
        self.step("edit")
        version_id = data.draw(st.sampled_from(self.versions))
        path = self._path(version_id)
        etag = self.api.etag("inventory", path, self.org)
        response = self.api.call(
            "inventory",
            "PATCH",
            path,
            self.org,
            "contributor",
            json={"statement": statement},
            if_match=etag,
        )
        if version_id in self.approved:
            assert response.status_code == 409, ("an approved version changed", response.text)
        else:
            assert response.status_code == 200, response.text

    @precondition(lambda self: bool(self.versions))
    @rule(data=st.data())
    def approve(self, data: st.DataObject) -> None:
        self.step("approve")
        version_id = data.draw(st.sampled_from(self.versions))
        response = self.api.call(
            "inventory", "POST", f"{self._path(version_id)}/approve", self.org, "manager"
        )
        if version_id in self.approved:
            assert response.status_code == 409, ("approved twice", response.text)
            return
        assert response.status_code in {200, 409, 422}, response.text
        if response.status_code == 200:
            body = self.api.call("inventory", "GET", self._path(version_id), self.org).json()
            self.approved[version_id] = _frozen(body, *SCOPE_CONTENT)
            self.current = version_id

    @invariant()
    def approved_versions_never_change_and_one_is_current(self) -> None:
        listed = self.api.call("inventory", "GET", "/v1/scope-versions", self.org).json()
        items = listed["items"] if isinstance(listed, dict) else listed
        approved = [v["id"] for v in items if v["status"] == "approved"]
        assert len(approved) <= 1, approved
        assert approved == ([self.current] if self.current else [])
        by_id = {v["id"]: v for v in items}
        for version_id, content in self.approved.items():
            assert _frozen(by_id[version_id], *SCOPE_CONTENT) == content


# --- SoA versions --------------------------------------------------------------------------------

CONTROLS = ("A.2.2", "A.5.2", "A.6.2.4", "A.9.2")


class SoAVersions(ApiMachine):
    name = "soa"

    def __init__(self) -> None:
        super().__init__()
        self.versions: list[str] = []
        self.approved: dict[str, Any] = {}  # id → entries when approved
        self.current: str | None = None

    @rule(control=st.sampled_from(CONTROLS), applicable=st.booleans(), why=WORDS)
    def decide(self, control: str, applicable: bool, why: str) -> None:
        self.step("decide")
        path = f"/v1/soa/entries/{control}"
        etag = self.api.etag("risk", path, self.org)
        body = {"applicable": applicable, "justification": f"Because {why}"}
        response = self.api.call("risk", "PATCH", path, self.org, json=body, if_match=etag)
        assert response.status_code in {200, 409, 422}, response.text

    @rule()
    def snapshot(self) -> None:
        self.step("snapshot")
        response = self.api.call("risk", "POST", "/v1/soa/versions", self.org, "manager", json={})
        assert response.status_code in {201, 409}, response.text
        if response.status_code == 201:
            self.versions.append(response.json()["id"])

    @precondition(lambda self: bool(self.versions))
    @rule(data=st.data())
    def approve(self, data: st.DataObject) -> None:
        self.step("approve")
        version_id = data.draw(st.sampled_from(self.versions))
        path = f"/v1/soa/versions/{version_id}"
        response = self.api.call("risk", "POST", f"{path}/approve", self.org, "manager")
        if version_id in self.approved:
            assert response.status_code == 409, ("approved twice", response.text)
            return
        assert response.status_code in {200, 409, 422}, response.text
        if response.status_code == 200:
            self.approved[version_id] = self.api.call("risk", "GET", path, self.org).json()[
                "entries"
            ]
            self.current = version_id

    @invariant()
    def approved_versions_never_change_and_one_is_current(self) -> None:
        items = self.api.call("risk", "GET", "/v1/soa/versions", self.org).json()["items"]
        approved = [v["id"] for v in items if v["status"] == "approved"]
        assert len(approved) <= 1, approved
        assert approved == ([self.current] if self.current else [])
        for version_id, entries in self.approved.items():
            now = self.api.call("risk", "GET", f"/v1/soa/versions/{version_id}", self.org)
            assert now.json()["entries"] == entries


# --- Impact assessments --------------------------------------------------------------------------

REVIEW = (datetime.now(UTC).date() + timedelta(days=180)).isoformat()
COMPLETE: dict[str, Any] = {
    "purpose": "Rank job applications for recruiter review",
    "stakeholders": [{"name": "Applicants", "how_affected": "Ranked; may be filtered out"}],
    "legal_context": "GDPR Art. 22",
    "social_context": "Many career changers",
    "impacts_on_individuals": [
        {
            "description": "Qualified applicants rejected",
            "severity": "high",
            "likelihood": "possible",
        }
    ],
    "impacts_on_groups": [{"description": "Older applicants ranked lower", "severity": "high"}],
    "impacts_on_society": [{"description": "Homogenised workforce", "severity": "medium"}],
    "fairness_and_bias": "Disparate impact tested each quarter",
    "mitigation_measures": ["Recruiter reviews every rejection"],
    "human_oversight": "A recruiter decides",
    "monitoring": "Monthly selection-rate dashboard",
    "next_review_at": REVIEW,
}
IMPACT_CONTENT = ("purpose", "monitoring", "approved_by", "approved_at", "system_id")
# Which states each step may start from.
IMPACT_STEPS: dict[str, tuple[set[str], str, str, Any]] = {
    # step: (allowed from, role, subject, body)
    "submit": ({"draft"}, "risk_owner", "alice", None),
    "approve": ({"in_review"}, "manager", "bob", None),
    "send-back": ({"in_review"}, "manager", "bob", {"reason": "Cite the works council."}),
    "reject": ({"in_review"}, "manager", "bob", {"reason": "Out of date."}),
    "withdraw": ({"draft", "in_review"}, "risk_owner", "alice", {"reason": "Replaced."}),
    "reopen": ({"rejected", "withdrawn"}, "risk_owner", "alice", None),
}


class ImpactAssessments(ApiMachine):
    name = "impact"

    def __init__(self) -> None:
        super().__init__()
        self.assessments: list[str] = []
        self.approved: dict[str, dict[str, Any]] = {}

    @initialize()
    def register_system(self) -> None:
        created = self.api.call(
            "inventory", "POST", "/v1/ai-systems", self.org, json={"name": "CV ranker"}
        )
        assert created.status_code == 201, created.text
        self.system_id = created.json()["id"]
        self.api.wait_for("risk", f"/v1/systems/{self.system_id}", self.org)

    def _read(self, assessment_id: str) -> dict[str, Any]:
        response = self.api.call("risk", "GET", f"/v1/impact-assessments/{assessment_id}", self.org)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    @rule()
    def start(self) -> None:
        self.step("start")
        response = self.api.call(
            "risk",
            "POST",
            "/v1/impact-assessments",
            self.org,
            "risk_owner",
            subject="alice",
            json={"system_id": self.system_id, **COMPLETE},
        )
        assert response.status_code in {201, 409}, response.text
        if response.status_code == 201:
            self.assessments.append(response.json()["id"])

    @precondition(lambda self: bool(self.assessments))
    @rule(data=st.data(), step=st.sampled_from(sorted(IMPACT_STEPS)))
    def transition(self, data: st.DataObject, step: str) -> None:
        self.step(step)
        assessment_id = data.draw(st.sampled_from(self.assessments))
        before = self._read(assessment_id)["status"]
        allowed_from, role, subject, body = IMPACT_STEPS[step]
        response = self.api.call(
            "risk",
            "POST",
            f"/v1/impact-assessments/{assessment_id}/{step}",
            self.org,
            role,
            subject=subject,
            json=body,
        )
        if before not in allowed_from:
            assert response.status_code in {409, 422}, (step, before, response.text)
        if response.status_code == 200 and step == "approve":
            self.approved[assessment_id] = _frozen(self._read(assessment_id), *IMPACT_CONTENT)

    @precondition(lambda self: bool(self.assessments))
    @rule(data=st.data(), purpose=WORDS)
    def edit(self, data: st.DataObject, purpose: str) -> None:
        self.step("edit")
        assessment_id = data.draw(st.sampled_from(self.assessments))
        path = f"/v1/impact-assessments/{assessment_id}"
        before = self._read(assessment_id)["status"]
        response = self.api.call(
            "risk",
            "PATCH",
            path,
            self.org,
            "risk_owner",
            subject="alice",
            json={"purpose": purpose},
            if_match=self.api.etag("risk", path, self.org),
        )
        if before != "draft":
            assert response.status_code == 409, (before, response.text)

    @invariant()
    def approved_never_change_and_one_per_system(self) -> None:
        items = self.api.call(
            "risk", "GET", f"/v1/impact-assessments?system_id={self.system_id}", self.org
        ).json()["items"]
        assert sum(1 for a in items if a["status"] == "approved") <= 1
        for assessment_id, content in self.approved.items():
            now = self._read(assessment_id)
            assert _frozen(now, *IMPACT_CONTENT) == content
            assert now["status"] in {"approved", "superseded"}


# --- Corrective actions --------------------------------------------------------------------------

TODAY = datetime.now(UTC).date()


class CorrectiveActions(ApiMachine):
    name = "corrective"

    def __init__(self) -> None:
        super().__init__()
        self.actions: dict[str, str] = {}  # id → modelled status
        self.effective: set[str] = set()
        self.recorded = False
        self.closed = False

    @initialize()
    def raise_nonconformity(self) -> None:
        created = self.api.call(
            "evidence",
            "POST",
            "/v1/nonconformities",
            self.org,
            "contributor",
            json={"title": "Model shipped without an impact assessment", "severity": "major"},
        )
        assert created.status_code == 201, created.text
        self.nc_path = f"/v1/nonconformities/{created.json()['id']}"

    @rule()
    def record_correction_and_cause(self) -> None:
        self.step("record")
        response = self.api.call(
            "evidence",
            "PATCH",
            self.nc_path,
            self.org,
            "contributor",
            json={
                "correction": "Assessed the model.",
                "correction_done_on": TODAY.isoformat(),
                "root_cause_whys": ["No gate", "Checklist old", "No owner"],
                "root_cause": "Release procedure not aligned with 8.4.",
            },
            if_match=self.api.etag("evidence", self.nc_path, self.org),
        )
        if self.closed:
            assert response.status_code in {409, 422}, response.text
        elif response.status_code == 200:
            self.recorded = True

    @rule()
    def plan_action(self) -> None:
        self.step("plan")
        response = self.api.call(
            "evidence",
            "POST",
            f"{self.nc_path}/actions",
            self.org,
            "contributor",
            subject="ann",
            json={
                "description": "Add a gate to the release checklist.",
                "owner": "ann",
                "due_date": (TODAY + timedelta(days=30)).isoformat(),
            },
        )
        if self.closed:
            assert response.status_code == 409, response.text
            return
        assert response.status_code == 201, response.text
        self.actions[response.json()["id"]] = "planned"

    @precondition(lambda self: bool(self.actions))
    @rule(data=st.data())
    def implement(self, data: st.DataObject) -> None:
        self.step("implement")
        action_id = data.draw(st.sampled_from(sorted(self.actions)))
        response = self.api.call(
            "evidence",
            "POST",
            f"/v1/corrective-actions/{action_id}/implement",
            self.org,
            "contributor",
            subject="ann",
            json={},
        )
        if response.status_code == 200:
            self.actions[action_id] = "implemented"
            self.effective.discard(action_id)

    @precondition(lambda self: bool(self.actions))
    @rule(data=st.data(), effective=st.booleans())
    def verify(self, data: st.DataObject, effective: bool) -> None:
        self.step("verify")
        action_id = data.draw(st.sampled_from(sorted(self.actions)))
        response = self.api.call(
            "evidence",
            "POST",
            f"/v1/corrective-actions/{action_id}/verify",
            self.org,
            "auditor",
            subject="vera",
            json={
                "result": "effective" if effective else "ineffective",
                "method": "record_review",
            },
        )
        if self.actions[action_id] != "implemented":
            assert response.status_code in {409, 422}, (
                "verified before implemented",
                response.text,
            )
            return
        if response.status_code == 200:
            self.actions[action_id] = "verified" if effective else "planned"
            if effective:
                self.effective.add(action_id)

    @rule()
    def close(self) -> None:
        self.step("close")
        response = self.api.call("evidence", "POST", f"{self.nc_path}/close", self.org, "manager")
        unverified = set(self.actions) - self.effective
        if not self.closed and (unverified or not self.actions or not self.recorded):
            assert response.status_code == 409, ("closed without verification", response.text)
        if response.status_code == 200:
            self.closed = True

    @invariant()
    def closed_only_when_every_action_is_verified_effective(self) -> None:
        nc = self.api.call("evidence", "GET", self.nc_path, self.org).json()
        if nc["status"] == "closed":
            assert self.actions and set(self.actions) <= self.effective


# --- Evidence under retention and legal hold -----------------------------------------------------


def _today() -> date:
    """The date the evidence service decides retention by (UTC), read when it is needed: a run
    may cross midnight."""
    return datetime.now(UTC).date()


class EvidenceRetention(ApiMachine):
    name = "evidence"

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, dict[str, Any]] = {}  # id → {"until": date, "held": bool}
        self.deleted: set[str] = set()

    @rule(offset=st.sampled_from([-30, -1, 0, 1, 365]))
    def create(self, offset: int) -> None:
        self.step("create")
        until = _today() + timedelta(days=offset)
        response = self.api.call(
            "evidence",
            "POST",
            "/v1/evidence",
            self.org,
            "contributor",
            json={"title": "Retained record", "retention_until": until.isoformat()},
        )
        assert response.status_code == 201, response.text
        self.items[response.json()["id"]] = {"until": until, "held": False}

    def _live(self) -> list[str]:
        return sorted(set(self.items) - self.deleted)

    @precondition(lambda self: bool(self._live()))
    @rule(data=st.data(), hold=st.booleans())
    def hold_or_lift(self, data: st.DataObject, hold: bool) -> None:
        self.step("hold" if hold else "lift")
        item_id = data.draw(st.sampled_from(self._live()))
        path = f"/v1/evidence/{item_id}/legal-hold"
        if hold:
            response = self.api.call(
                "evidence", "PUT", path, self.org, "manager", json={"reason": "Litigation"}
            )
        else:
            response = self.api.call("evidence", "DELETE", path, self.org, "manager")
        assert response.status_code in {200, 409}, response.text
        if response.status_code == 200:
            self.items[item_id]["held"] = hold

    @precondition(lambda self: bool(self._live()))
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        self.step("delete")
        item_id = data.draw(st.sampled_from(self._live()))
        path = f"/v1/evidence/{item_id}"
        model = self.items[item_id]

        def protected(day: date) -> bool:
            # Retention applies up to and including its last day (UTC).
            return bool(model["held"]) or model["until"] >= day

        before = protected(_today())
        response = self.api.call(
            "evidence",
            "DELETE",
            path,
            self.org,
            "manager",
            if_match=self.api.etag("evidence", path, self.org),
        )
        after = protected(_today())
        if before and after:
            assert response.status_code == 409, ("deleted while protected", model, response.text)
        elif not before and not after:
            assert response.status_code in {200, 204}, response.text
        else:  # the last day of retention ended during the request: either answer is right
            assert response.status_code in {200, 204, 409}, response.text
        if response.status_code in {200, 204}:
            self.deleted.add(item_id)

    @invariant()
    def protected_items_are_there_and_deleted_ones_gone(self) -> None:
        for item_id in self.items:
            status = self.api.call("evidence", "GET", f"/v1/evidence/{item_id}", self.org)
            assert status.status_code == (404 if item_id in self.deleted else 200)


MACHINES = [ScopeVersions, SoAVersions, ImpactAssessments, CorrectiveActions, EvidenceRetention]


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
async def test_state_machine(stack: Stack, machine: type[ApiMachine]) -> None:
    machine.api = Api(stack, asyncio.get_running_loop())
    before = sum(n for k, n in STEPS_TAKEN.items() if k.startswith(f"{machine.name}."))
    await asyncio.to_thread(
        run_state_machine_as_test,
        machine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    taken = sum(n for k, n in STEPS_TAKEN.items() if k.startswith(f"{machine.name}.")) - before
    kinds = sorted(k.split(".", 1)[1] for k in STEPS_TAKEN if k.startswith(f"{machine.name}."))
    print(f"\nstate machine {machine.name}: {EXAMPLES} runs, {taken} steps ({', '.join(kinds)})")
