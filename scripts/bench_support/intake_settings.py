"""Settings of `scripts/bench intake`'s server: the production settings plus one bench-only URL (the baseline)."""
from hotlead.settings.base import *  # noqa: F401,F403

ROOT_URLCONF = "scripts.bench_support.intake_urls"
