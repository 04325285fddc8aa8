"""The crash suite (bench/crash_suite.py), bounded for CI: a few hundred changes, short outages.

Run it at full size with ``python -m bench.crash_suite`` (2,000 changes, NATS down 30 s).
It starts its own PostgreSQL and NATS from the wheels, since it stops and restarts them.
"""

from __future__ import annotations

import pytest

from bench.crash_suite import run

# Not marked `engines`: it brings its own engines, so CI's second pass (system PostgreSQL and
# NATS) would only run the same thing again.
pytestmark = [pytest.mark.e2e]


async def test_no_change_is_lost_or_applied_twice_through_kills_and_outages() -> None:
    report = await run(changes=160, nats_outage=3, rate=8, settle_timeout=180)
    assert report["changes"] == 160
    # Five faults, and what each kill left unpublished.
    assert len(report["faults"]) == 7, report["faults"]
    assert report["unpublished"] == 0, report
    assert report["lost"] == 0, report["consumers"]
    assert report["applied_twice"] == 0, report["consumers"]
    assert report["webhook_messages"] > 0
    assert report["webhooks_missing"] == 0, report
