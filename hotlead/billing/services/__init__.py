"""Money (SPEC §5): ledger (the primitives every movement goes through), payments (staff, webhook), reconciliation."""
