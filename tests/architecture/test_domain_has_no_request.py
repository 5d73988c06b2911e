"""The domain never receives a request: no function under hotlead/<domain>/ or reports/ takes a `request`,
reads `.META` or imports HttpRequest. Request facts reach it as an Origin (hotlead/core/origin.py)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The edges receive the request and hand the domain plain values; settings hold the console's callbacks.
EDGES = {"hotlead/portal", "hotlead/settings", "hotlead/urls.py", "hotlead/core/middleware.py",
         "hotlead/ops/views.py", "hotlead/leads/views.py"}
BANNED_IMPORTS = {"django.http.HttpRequest", "django.http.request", "django.http.request.HttpRequest"}


def domain_modules() -> list[Path]:
    paths = [*ROOT.glob("hotlead/*/**/*.py"), *ROOT.glob("reports/**/*.py")]
    return sorted(
        path for path in paths
        if "migrations" not in path.parts
        and not any(str(path.relative_to(ROOT)).startswith(edge) for edge in EDGES)
    )


def request_violations(source: str, filename: str) -> list[str]:
    """Where a module receives or reads a request: a `request` parameter, `.META`, an HttpRequest import."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            args = node.args
            names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg) if a]
            if "request" in names:
                found.append(f"{filename}:{node.lineno}: {getattr(node, 'name', 'lambda')}() takes a request")
        elif isinstance(node, ast.Attribute) and node.attr == "META":
            found.append(f"{filename}:{node.lineno}: reads .META")
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if f"{node.module}.{alias.name}" in BANNED_IMPORTS or node.module in BANNED_IMPORTS:
                    found.append(f"{filename}:{node.lineno}: imports {node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            found += [f"{filename}:{node.lineno}: imports {alias.name}" for alias in node.names
                      if alias.name in BANNED_IMPORTS]
    return found


def test_the_walk_covers_the_domain_and_skips_the_edges():
    modules = {str(path.relative_to(ROOT)) for path in domain_modules()}
    assert {"hotlead/core/services.py", "hotlead/accounts/services/login.py", "reports/services.py"} <= modules
    assert not {"hotlead/core/middleware.py", "hotlead/portal/views_leads.py", "hotlead/leads/views.py"} & modules
    assert not any("/migrations/" in module for module in modules)


def test_the_domain_never_receives_a_request():
    violations = [v for path in domain_modules()
                  for v in request_violations(path.read_text(), str(path.relative_to(ROOT)))]
    assert violations == []


@pytest.mark.parametrize("snippet", [
    "def lead_approve(*, lead_id: int, actor, request=None):\n    pass\n",
    "def client_ip(request):\n    return 1\n",
    "async def handler(self, request):\n    pass\n",
    "callback = lambda request: None\n",
    "def ip(meta):\n    return meta.request.META['REMOTE_ADDR']\n",
    "from django.http import HttpRequest\n",
    "from django.http.request import HttpRequest\n",
    "import django.http.request\n",
])
def test_the_check_catches_a_request_in_the_domain(snippet):
    assert request_violations(snippet, "bad.py")


def test_the_check_catches_a_bad_module_on_disk(tmp_path):
    # given: a service that takes the request again
    bad = tmp_path / "services.py"
    bad.write_text("def audit(*, action: str, request=None):\n    return request.META.get('REMOTE_ADDR')\n")
    # when / then
    assert request_violations(bad.read_text(), "services.py") == [
        "services.py:1: audit() takes a request",
        "services.py:2: reads .META",
    ]


def test_the_check_leaves_plain_domain_code_alone():
    source = ("from hotlead.core.origin import current_origin\n"
              "def rate_key(*, scope: str) -> str:\n    return current_origin().client_ip or 'unknown'\n")
    assert request_violations(source, "good.py") == []
