"""Lead services (SPEC §3): the lifecycle and review (lifecycle), intake and verification (intake),
categories. Every change of a lead's status goes through this package.

Locking order, everywhere: the lead row first, then its verification row (hotlead/core/locks.py).
"""
