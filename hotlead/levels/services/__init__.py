"""Competition levels and subscriptions (SPEC §2, §4.3, §4.4, §13): levels, subscriptions, funds."""
