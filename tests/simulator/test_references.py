"""Simulated leads carry references that never collide (a random HL- reference collides about twice
in a 10,000-lead batch, which aborted a whole simulation) and never look like a real lead's."""
from hotlead.simulator.market import _reference


def test_a_big_market_gets_distinct_references_unlike_real_ones():
    references = [_reference("sim42", i) for i in range(50_000)]

    assert len(set(references)) == len(references)
    assert all(len(ref) <= 12 and not ref.startswith("HL-") for ref in references)
    assert _reference("sim42", 7) == _reference("sim42", 7)  # deterministic for a seed
    assert _reference("sim42", 7) != _reference("sim43", 7)
