"""The what-if simulator's services: `simulate` runs a market through the engine, `runs` keeps the console's runs."""
