"""Demo data for `scripts/run` (`manage.py demo_seed`): an edge that uses every domain's services."""
