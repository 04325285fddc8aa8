"""The Annex A catalogue and its crosswalks, as the pure module builds them from the reference."""

from __future__ import annotations

from services.risk.reference import load_reference
from services.risk.soa.catalogue import catalogue, control_sort_key
from services.risk.soa.rules import Context, propose


def test_exactly_38_controls_with_unique_ids_in_9_domains() -> None:
    cat = catalogue()
    ids = [c.id for c in cat.controls]
    assert len(ids) == 38
    assert len(set(ids)) == 38
    assert ids == sorted(ids, key=control_sort_key)
    assert {c.domain_id for c in cat.controls} == {f"A.{n}" for n in range(2, 11)}
    assert len(cat.domains) == 9
    assert all(c.summary and c.objective and c.title for c in cat.controls)


def test_wording_is_the_reference_paraphrase() -> None:
    raw = {c["id"]: c for c in load_reference("iso42001_annex_a")["controls"]}
    for control in catalogue().controls:
        assert control.summary == raw[control.id]["summary"]


def test_nist_crosswalk_is_symmetric_and_matches_the_reference() -> None:
    cat = catalogue()
    forward = {(c.id, s) for c in cat.controls for s in c.nist_subcategories}
    backward = {(cid, s) for s, cids in cat.by_nist.items() for cid in cids}
    assert forward == backward
    assert forward  # the reference reaches every control
    assert all(c.nist_subcategories for c in cat.controls)
    stated = load_reference("nist_ai_rmf")["crosswalk_iso42001"]["by_annex_a_control"]
    assert {cid: set(subs) for cid, subs in stated.items()} == {
        c.id: set(c.nist_subcategories) for c in cat.controls
    }
    assert len(cat.nist_subcategories) == 72


def test_eu_ai_act_crosswalk_states_only_what_the_reference_states() -> None:
    cat = catalogue()
    # eu_ai_act.json maps no article to an Annex A control: nothing is invented.
    assert all(c.eu_ai_act_articles == () for c in cat.controls)
    assert all(v == () for v in cat.by_eu_article.values())
    assert {"9", "26", "27", "50"} <= set(cat.eu_ai_act_articles)


def test_rule_table_from_roles() -> None:
    cat = catalogue()
    customer = {p.control_id: p for p in propose(cat, Context(frozenset({"customer"}), False))}
    assert customer["A.10.3"].applicable  # suppliers of third-party AI
    assert customer["A.9.2"].applicable
    assert not customer["A.6.2.2"].applicable  # no life cycle of its own
    assert "customer" in customer["A.6.2.2"].reason
    assert not customer["A.7.4"].applicable  # no data recorded, no models produced
    assert all(customer[c.id].applicable for c in cat.controls if c.domain_id in {"A.2", "A.5"})

    producer = {p.control_id: p for p in propose(cat, Context(frozenset({"producer"}), False))}
    assert all(producer[c.id].applicable for c in cat.controls if c.domain_id == "A.6")
    assert producer["A.7.2"].applicable
    assert producer["A.10.4"].applicable
    assert not producer["A.10.3"].applicable
    assert not producer["A.9.4"].applicable

    relied = {p.control_id: p for p in propose(cat, Context(frozenset(), False), {"A.6.2.8": [1]})}
    assert relied["A.6.2.8"].applicable
    assert all(p.reason for p in relied.values())
