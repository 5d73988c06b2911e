"""The HTTP API (SPEC §8): routers, schemas, auth and the error mapping.

The NinjaAPI itself is built in `api/v1.py`, which only `hotlead/urls.py` imports: importing `api.*`
while apps load builds nothing, so routers and schemas import the services they call at the top.
"""
