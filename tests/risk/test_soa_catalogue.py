"""The Annex A catalogue and its crosswalks, as the pure module builds them from the reference."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

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


def test_eu_ai_act_crosswalk_is_the_editorial_one_both_ways() -> None:
    cat = catalogue()
    stated = load_reference("eu_ai_act_iso42001_crosswalk")
    assert stated["status"].startswith("editorial")
    pairs = {
        (control, m["article"].removeprefix("Art. "))
        for m in stated["mappings"]
        for control in m["annex_a"]
    }
    forward = {(c.id, a) for c in cat.controls for a in c.eu_ai_act_articles}
    backward = {(cid, a) for a, cids in cat.by_eu_article.items() for cid in cids}
    assert forward == backward == pairs
    assert cat.by_id["A.6.2.8"].eu_ai_act_articles == ("12", "19", "26")
    assert [link.citation for link in cat.eu_links_of_control("A.5.4")] == ["Art. 27"]
    assert cat.eu_by_article["27"].clauses == ("6.1.4", "8.4")
    # Articles without a counterpart are known (so they can be asked about) but map to nothing.
    for article in ("5", "22", "43", "49"):
        assert article in cat.eu_ai_act_articles and cat.by_eu_article[article] == ()
        assert cat.no_counterpart_of(article) is not None
    assert {"9", "26", "27", "50"} <= set(cat.eu_ai_act_articles)


def test_nist_clause_pairs_are_kept() -> None:
    cat = catalogue()
    mappings = load_reference("nist_ai_rmf")["crosswalk_iso42001"]["mappings"]
    assert len(cat.nist_pairs) == len(mappings) == 280
    clause_pairs = {(p.subcategory, p.clause_id) for p in cat.nist_pairs if p.clause_id}
    stated = {(m["nist"], m["iso_ref"]) for m in mappings if m["iso_ref_type"] == "clause"}
    assert clause_pairs == stated and len(stated) == 79
    assert ("GOVERN 1.1", "4.1") in clause_pairs
    assert all(p.clause_id in cat.clauses for p in cat.nist_pairs if p.clause_id)


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


def test_deployers_that_operate_keep_operation_and_logs_and_suppliers_keep_a_10_3() -> None:
    cat = catalogue()

    def applicable(ctx: Context) -> set[str]:
        return {p.control_id for p in propose(cat, ctx) if p.applicable}

    operating = applicable(Context(frozenset({"customer"}), False, operates_systems=True))
    assert {"A.6.2.6", "A.6.2.8"} <= operating
    assert "A.6.2.2" not in operating and "A.6.2.7" not in operating
    idle = applicable(Context(frozenset({"customer"}), False, operates_systems=False))
    assert not {"A.6.2.6", "A.6.2.8"} & idle
    # Operating systems without being their deployer changes nothing for a partner.
    assert "A.6.2.6" not in applicable(Context(frozenset({"partner"}), False, True))

    assert "A.10.3" in applicable(Context(frozenset({"producer"}), False, has_suppliers=True))
    assert "A.10.3" not in applicable(Context(frozenset({"producer"}), False, has_suppliers=False))


ROLE_SETS = st.frozensets(st.sampled_from(["producer", "provider", "customer", "partner"]))


@given(
    roles=ROLE_SETS,
    more=ROLE_SETS,
    facts=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    more_facts=st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_more_roles_or_facts_never_exclude_a_control(
    roles: frozenset[str],
    more: frozenset[str],
    facts: tuple[bool, bool, bool],
    more_facts: tuple[bool, bool, bool],
) -> None:
    """Monotonic: holding another role, or one more fact being true, only adds controls."""
    cat = catalogue()
    bigger = tuple(a or b for a, b in zip(facts, more_facts, strict=True))
    small = Context(roles, *facts)
    large = Context(roles | more, *bigger)
    before = {p.control_id for p in propose(cat, small) if p.applicable}
    after = {p.control_id for p in propose(cat, large) if p.applicable}
    assert before <= after
    assert all(p.reason for p in propose(cat, small))
