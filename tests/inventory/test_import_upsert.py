"""Import as an upsert (issue 9): a file imported twice, or an export imported back, changes
nothing; rows update systems by id (with a version check) or by name; imports go through the
same checks as REST; custom fields and common spellings name columns; Idempotency-Key."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx
import pytest

from shared.db import uuid7
from shared.testing import eventually

pytestmark = pytest.mark.engines

CSV = "text/csv"
IMPORT = "/v1/ai-systems/import"


async def post_import(
    stack: Any,
    org: uuid.UUID,
    body: bytes | str,
    *,
    dry_run: bool = False,
    subject: str = "tester",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return await stack.inventory.post(
        IMPORT,
        params={"dry_run": str(dry_run).lower()},
        content=content,
        headers={
            **stack.headers(org, "contributor", subject=subject),
            "Content-Type": CSV,
            **(headers or {}),
        },
    )


async def systems(stack: Any, org: uuid.UUID) -> dict[str, dict[str, Any]]:
    """The register by name (the tests give distinct names unless they say otherwise)."""
    items: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"after": after} if after else {})}
        response = await stack.inventory.get(
            "/v1/ai-systems", params=params, headers=stack.headers(org)
        )
        assert response.status_code == 200, response.text
        items.extend(response.json()["items"])
        after = response.json()["next_cursor"]
        if not after:
            return {s["name"]: s for s in items}


async def register(stack: Any, org: uuid.UUID, **body: Any) -> dict[str, Any]:
    response = await stack.inventory.post(
        "/v1/ai-systems", json=body, headers=stack.headers(org, "contributor")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def export(stack: Any, org: uuid.UUID) -> str:
    response = await stack.inventory.get(
        "/v1/ai-systems/export.csv", headers=stack.headers(org, "viewer")
    )
    assert response.status_code == 200, response.text
    return response.text.lstrip("\ufeff")


def edit(exported: str, changes: dict[str, dict[str, str]]) -> str:
    """The exported CSV with cells changed: ``{system name: {column: new text}}``."""
    rows = list(csv.DictReader(io.StringIO(exported)))
    for row in rows:
        row.update(changes.get(row["name"], {}))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


async def define(stack: Any, org: uuid.UUID, **body: Any) -> None:
    response = await stack.inventory.post(
        "/v1/custom-fields", json=body, headers=stack.headers(org, "admin")
    )
    assert response.status_code == 201, response.text


FILE = (
    "Name,Owner,Lifecycle stage,AI roles,Next review at\n"
    "CV screening,hr@example.com,deployed,customer;provider,2027-06-30\n"
    "Chatbot,,idea,,\n"
)


async def test_importing_the_same_file_twice_changes_nothing(stack: Any, org: uuid.UUID) -> None:
    first = await post_import(stack, org, FILE)
    assert first.status_code == 201, first.text
    assert first.json()["created"] == 2

    again = await post_import(stack, org, FILE)
    assert again.status_code == 200, again.text
    reply = again.json()
    assert (reply["created"], reply["updated"], reply["unchanged"]) == (0, 0, 2)
    assert reply["matched_by_name"] == 2 and "name" in reply["natural_key"]

    register_now = await systems(stack, org)
    assert sorted(register_now) == ["CV screening", "Chatbot"]
    assert {s["version"] for s in register_now.values()} == {1}


async def test_an_export_imported_back_changes_nothing(stack: Any, org: uuid.UUID) -> None:
    await define(stack, org, key="cost_centre", label="Cost centre", type="text")
    await define(stack, org, key="budget", label="Budget", type="number")
    await register(
        stack,
        org,
        name='=HYPERLINK("http://evil")',
        description='two\nlines, "quotes"; and semicolons',
        owner="-owner",
        intended_purpose="",
        affected_stakeholders=["a;b", "c"],
        data_inputs=[{"category": "CVs", "personal": True}],
        ai_roles=["producer", "partner"],
        next_review_at="2027-03-01",
        last_reviewed_at="2026-03-01",
        custom_fields={"cost_centre": "HR-42", "budget": 1200.5},
    )
    await register(stack, org, name="Plain")
    await register(stack, org, name="Plain")  # same name: the id column tells them apart
    before = await export(stack, org)

    response = await post_import(stack, org, before)
    assert response.status_code == 200, response.text
    reply = response.json()
    assert (reply["created"], reply["updated"], reply["unchanged"]) == (0, 0, 3), reply
    assert reply["matched_by_id"] == 3
    assert await export(stack, org) == before  # not even updated_at moved


async def test_an_edited_export_updates_by_id_with_events_history_and_audit(
    stack: Any, org: uuid.UUID
) -> None:
    cv = await register(stack, org, name="CV screening", owner="hr@example.com")
    bot = await register(stack, org, name="Chatbot", lifecycle_stage="deployed")
    edited = edit(
        await export(stack, org),
        {
            "CV screening": {"name": "CV ranking", "owner": ""},  # a rename and a clear
            "Chatbot": {"lifecycle_stage": "retired", "last_reviewed_at": "2026-01-15"},
        },
    )
    response = await post_import(stack, org, edited, subject="importer")
    assert response.status_code == 200, response.text
    assert (response.json()["updated"], response.json()["created"]) == (2, 0)

    after = await systems(stack, org)
    assert set(after) == {"CV ranking", "Chatbot"}
    ranking = after["CV ranking"]
    assert ranking["id"] == cv["id"] and ranking["owner"] is None
    assert ranking["version"] == 2 and ranking["updated_by"] == "importer"
    chatbot = after["Chatbot"]
    assert chatbot["lifecycle_stage"] == "retired" and chatbot["last_reviewed_at"] == "2026-01-15"

    history = await stack.inventory.get(
        f"/v1/ai-systems/{cv['id']}/history", headers=stack.headers(org)
    )
    latest = history.json()["items"][0]
    assert latest["version"] == 2 and latest["changed_by"] == "importer"
    assert latest["changes"] == {
        "name": {"from": "CV screening", "to": "CV ranking"},
        "owner": {"from": "hr@example.com", "to": None},
    }

    async def projected() -> bool:  # system.updated reached the risk service
        got = await stack.risk.get(f"/v1/systems/{cv['id']}", headers=stack.headers(org))
        return got.status_code == 200 and got.json()["name"] == "CV ranking"

    await eventually(projected)
    trail = await stack.inventory.get(
        "/v1/audit-trail", params={"entity_id": bot["id"]}, headers=stack.headers(org, "auditor")
    )
    assert trail.status_code == 200, trail.text
    actions = [e["action"] for e in trail.json()["items"]]
    assert actions == ["aims.inventory.system.registered", "aims.inventory.system.retired"]
    assert trail.json()["items"][-1]["actor"] == "importer"


async def test_a_stale_version_is_a_conflict_and_nothing_is_written(
    stack: Any, org: uuid.UUID
) -> None:
    cv = await register(stack, org, name="CV screening")
    await register(stack, org, name="Chatbot")
    exported = await export(stack, org)
    changed = await stack.inventory.patch(
        f"/v1/ai-systems/{cv['id']}",
        json={"owner": "someone@example.com"},
        headers={**stack.headers(org, "contributor"), "If-Match": '"1"'},
    )
    assert changed.status_code == 200

    edited = edit(
        exported, {"CV screening": {"owner": "me@example.com"}, "Chatbot": {"owner": "x"}}
    )
    dry = await post_import(stack, org, edited, dry_run=True)
    assert dry.status_code == 200
    [problem] = dry.json()["problems"]
    assert problem["row"] == 2 and problem["column"] == "version"
    assert "Conflict" in problem["message"] and "version 2" in problem["message"]

    real = await post_import(stack, org, edited)
    assert real.status_code == 422 and real.json()["code"] == "import-invalid"
    now = await systems(stack, org)
    assert now["CV screening"]["owner"] == "someone@example.com"  # the REST change survives
    assert now["Chatbot"]["owner"] is None  # all or nothing

    # Without the version column the id alone decides: a deliberate overwrite.
    rows = list(csv.DictReader(io.StringIO(edited)))
    plain = "id,name,owner\n" + "".join(f"{r['id']},{r['name']},{r['owner']}\n" for r in rows)
    overwrite = await post_import(stack, org, plain)
    assert overwrite.status_code == 200 and overwrite.json()["updated"] == 2


async def test_rows_without_id_match_one_system_by_name_or_are_refused(
    stack: Any, org: uuid.UUID
) -> None:
    cv = await register(stack, org, name="CV Screening", owner="a@example.com")
    await register(stack, org, name="Bot")
    await register(stack, org, name="bot")

    body = "name,owner\n  cv   SCREENING ,b@example.com\nNew one,\nNew One,\n"
    dry = await post_import(stack, org, body, dry_run=True)
    assert dry.status_code == 200
    report = dry.json()
    assert report["problems"] == [
        {
            "row": 4,
            "column": "name",
            "message": "Row 3 already creates a system named 'New One'; without an id, the name "
            "identifies a system.",
        }
    ]
    assert (report["created"], report["updated"]) == (1, 1)

    ambiguous = await post_import(stack, org, "name,owner\nBOT,x@example.com\n")
    assert ambiguous.status_code == 422
    [error] = ambiguous.json()["errors"]
    assert (
        error["column"] == "name" and "2 systems" in error["message"] and "id" in error["message"]
    )

    ok = await post_import(stack, org, "name,owner\n  cv   SCREENING ,b@example.com\n")
    assert ok.status_code == 200 and ok.json()["updated"] == 1
    updated = (await systems(stack, org))["CV Screening"]  # the stored spelling is kept
    assert updated["id"] == cv["id"] and updated["owner"] == "b@example.com"


async def test_import_refuses_vendors_rest_refuses(stack: Any, org: uuid.UUID) -> None:
    async def vendor(owner: uuid.UUID) -> str:
        response = await stack.inventory.post(
            "/v1/vendors", json={"name": "Acme AI"}, headers=stack.headers(owner, "admin")
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    mine, theirs, nobody = await vendor(org), await vendor(uuid7()), str(uuid7())
    body = f"name,vendor_id\nMine,{mine}\nTheirs,{theirs}\nNobody,{nobody}\n"
    dry = await post_import(stack, org, body, dry_run=True)
    assert [(p["row"], p["column"]) for p in dry.json()["problems"]] == [
        (3, "vendor_id"),
        (4, "vendor_id"),
    ]
    assert all("No vendor" in p["message"] for p in dry.json()["problems"])

    refused = await post_import(stack, org, body)
    assert refused.status_code == 422
    assert await systems(stack, org) == {}

    # The same rule through REST, for an update as well as a create.
    created = await register(stack, org, name="Via REST", vendor_id=mine)
    patched = await stack.inventory.patch(
        f"/v1/ai-systems/{created['id']}",
        json={"vendor_id": theirs},
        headers={**stack.headers(org, "contributor"), "If-Match": '"1"'},
    )
    assert patched.status_code == 422 and patched.json()["code"] == "unknown-vendor"
    ok = await post_import(stack, org, f"name,vendor_id\nMine,{mine}\n")
    assert ok.status_code == 201


async def test_custom_field_columns_by_key_or_label_and_common_spellings(
    stack: Any, org: uuid.UUID
) -> None:
    await define(stack, org, key="cost_centre", label="Cost centre", type="text")
    await define(stack, org, key="budget", label="Annual budget", type="number")
    await define(stack, org, key="go_live", label="Go-live", type="date")
    await define(stack, org, key="tier", label="Support tier", type="choice", choices=["gold"])
    body = (
        "System name,Owner email,Cost centre,annual-budget,cf.go_live,TIER,Colour,Last reviewed\n"
        "Ledger AI,cfo@example.com,FIN-1,1200,2027-01-15,gold,blue,2026-05-01\n"
        "Bot,,,,,,red,\n"
    )
    dry = await post_import(stack, org, body, dry_run=True)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["valid"] is True, report
    assert report["columns"] == {
        "System name": "name",
        "Owner email": "owner",
        "Cost centre": "custom_fields.cost_centre",
        "annual-budget": "custom_fields.budget",
        "cf.go_live": "custom_fields.go_live",
        "TIER": "custom_fields.tier",
        "Last reviewed": "last_reviewed_at",
    }
    assert report["unknown_columns"] == ["Colour"]
    assert [w["column"] for w in report["warnings"]] == ["Colour"]

    assert (await post_import(stack, org, body)).status_code == 201
    ledger = (await systems(stack, org))["Ledger AI"]
    assert ledger["owner"] == "cfo@example.com" and ledger["last_reviewed_at"] == "2026-05-01"
    assert ledger["custom_fields"] == {
        "cost_centre": "FIN-1",
        "budget": 1200,
        "go_live": "2027-01-15",
        "tier": "gold",
    }

    # A blank custom field cell removes the value; a bad one is a problem of its column.
    changed = await post_import(
        stack, org, "name,Cost centre,Annual budget\nLedger AI,,lots\nBot,X,\n", dry_run=True
    )
    assert changed.json()["problems"] == [
        {"row": 2, "column": "Annual budget", "message": "Not a number; got 'lots'"}
    ]
    cleared = await post_import(stack, org, "name,Cost centre,Support tier\nLedger AI,,platinum\n")
    assert cleared.status_code == 422
    [error] = cleared.json()["errors"]
    assert error["column"] == "Support tier" and "gold" in error["message"]
    cleared = await post_import(stack, org, "name,Cost centre\nLedger AI,\n")
    assert cleared.status_code == 200 and cleared.json()["updated"] == 1
    assert (await systems(stack, org))["Ledger AI"]["custom_fields"] == {
        "budget": 1200,
        "go_live": "2027-01-15",
        "tier": "gold",
    }


async def test_a_custom_field_labelled_like_a_built_in_field_is_named_in_a_warning(
    stack: Any, org: uuid.UUID
) -> None:
    """A built-in field's name wins over a custom field's label; the dry run says which custom
    field that column does not fill, and how to reach it."""
    await define(stack, org, key="boss", label="Owner", type="text")
    dry = await post_import(stack, org, "name,Owner\nLedger AI,cfo@example.com\n", dry_run=True)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["valid"] is True and report["columns"] == {"name": "name", "Owner": "owner"}
    [warning] = report["warnings"]
    assert warning["column"] == "Owner"
    assert "'boss'" in warning["message"] and "'cf.boss'" in warning["message"]
    # Named so, the column fills the custom field, and nothing is hidden.
    both = await post_import(
        stack, org, "name,Owner,cf.boss\nLedger AI,cfo@example.com,Dana\n", dry_run=True
    )
    assert both.json()["columns"]["cf.boss"] == "custom_fields.boss"
    assert [w["column"] for w in both.json()["warnings"]] == ["Owner"]
    assert (await post_import(stack, org, "name,cf.boss\nLedger AI,Dana\n")).status_code == 201
    ledger = (await systems(stack, org))["Ledger AI"]
    assert ledger["custom_fields"] == {"boss": "Dana"}


async def test_required_custom_field_and_nul_characters_are_row_problems(
    stack: Any, org: uuid.UUID
) -> None:
    await define(stack, org, key="sponsor", label="Sponsor", type="person", required=True)
    body = "name,sponsor,description\nA,cfo@example.com,fine\nB,,fine\nC,x,nul \x00 here\n"
    response = await post_import(stack, org, body)
    assert response.status_code == 422, response.text
    problems = {(e["row"], e["column"]) for e in response.json()["errors"]}
    assert problems == {(3, "sponsor"), (4, "description")}
    assert await systems(stack, org) == {}


async def test_idempotency_key_replays_the_first_import(stack: Any, org: uuid.UUID) -> None:
    key = {"Idempotency-Key": f"import-{uuid.uuid4()}"}
    first = await post_import(stack, org, FILE, headers=key)
    assert first.status_code == 201, first.text
    retry = await post_import(stack, org, FILE, headers=key)
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert len(await systems(stack, org)) == 2

    other = await post_import(stack, org, FILE + "Third,,idea,,\n", headers=key)
    assert other.status_code == 422 and other.json()["code"] == "idempotency-key-reused"
    assert len(await systems(stack, org)) == 2


async def test_a_misspelt_query_parameter_imports_nothing(stack: Any, org: uuid.UUID) -> None:
    response = await stack.inventory.post(
        IMPORT,
        params={"dryrun": "true"},
        content=FILE.encode(),
        headers={**stack.headers(org, "contributor"), "Content-Type": CSV},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown-query-parameter"
    assert "dry_run" in response.json()["allowed"]
    assert await systems(stack, org) == {}


async def test_cross_organisation_ids_never_touch_the_other_register(
    stack: Any, org: uuid.UUID
) -> None:
    theirs_org = uuid7()
    theirs = await register(stack, theirs_org, name="Secret", owner="them@example.com")
    body = f"id,name,owner\n{theirs['id']},Secret,me@example.com\n"
    response = await post_import(stack, org, body)
    assert response.status_code == 201 and response.json()["created"] == 1
    mine = (await systems(stack, org))["Secret"]
    assert mine["id"] != theirs["id"] and mine["owner"] == "me@example.com"
    untouched = (await systems(stack, theirs_org))["Secret"]
    assert untouched["owner"] == "them@example.com" and untouched["version"] == 1
