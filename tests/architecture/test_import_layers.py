"""Imports point one way: edges → domain → core, the domain apps in a declared order, and no circles.

Every module of the project (hotlead/, api/, admin_ext/, reports/; not migrations, not tests) is read
with ``ast``. Every ``import`` statement counts, wherever it stands: at the top, inside a function, or
under ``if TYPE_CHECKING:``. An import inside a function still ties the two modules together (it only
hides the tie from a reader), so it may neither close a circle nor run back up a layer.

An import names the module it loads: ``from hotlead.leads import services`` is an arrow to
``hotlead.leads.services``, ``from hotlead.leads.services import lead_approve`` one to the same module.
The parent packages that Python runs on the way are not arrows (a package's ``__init__`` that re-exports
its submodules would otherwise make a circle of every sibling import).

The layers (docs/architecture.md, "Layers and the import rule"): the edges (api/, admin_ext/, the portal,
the demo data, URLconfs, views, template tags, management commands, the core's middleware) may
import anything below; the domain (hotlead/<app>/, reports/) imports itself and the core; the core
(hotlead/core/, hotlead/settings/) imports nothing of ours above it. A domain app that must set off work in
an app ranked above it sends a signal of its own (<app>/signals.py) that the higher app connects in its
AppConfig.ready() (<app>/receivers.py); an app's ready() importing its own modules is an import like any other.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hotlead", "api", "admin_ext", "reports")

EDGE, DOMAIN, CORE = "edge", "domain", "core"
LAYER_RANK = {CORE: 0, DOMAIN: 1, EDGE: 2}

# The domain apps from the bottom up: an app may import only itself and the apps ranked below it.
# Derived from the real imports: every app queues jobs (ops) and sends e-mail (notifications); a provider
# is a user (accounts) who buys leads; money (billing) belongs to a provider; a provider's subscription
# to a level (levels) needs its balance; distribution sells leads through all of them; refunds undo a
# sale; the simulator replays the engine; reports read everything.
DOMAIN_ORDER = (
    "ops",
    "notifications",
    "accounts",
    "sources",
    "leads",
    "providers",
    "billing",
    "webhooks",
    "levels",
    "distribution",
    "refunds",
    "simulator",
    "reports",
)

# Edges that sit among the core's modules, and the apps that are edges as a whole. Inside any app, views,
# urls, templatetags and management commands are edges too (see place()).
EDGE_MODULES = {"hotlead.urls", "hotlead.asgi", "hotlead.wsgi", "hotlead.core.middleware"}
EDGE_APPS = {"portal", "demo"}


# --- reading the project ----------------------------------------------------------------------------


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every importable module of the project, by dotted name (migrations and tests left out)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts or "tests" in path.parts:
                continue
            found[module_name(path, root)] = path
    return found


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imported_modules(module: str, path: Path, known: Iterable[str]) -> set[str]:
    """The project modules that `module` imports anywhere in its body."""
    known = set(known)
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node)
            # `from pkg import sub` names the submodule when there is one, else a name defined in pkg
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:  # `import hotlead.x.y.Name`-like spellings: the longest module
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
    return targets


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = project_modules(root)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


# --- the rule ---------------------------------------------------------------------------------------


def place(module: str) -> tuple[str, str | None]:
    """(layer, domain app or None) of a project module."""
    parts = module.split(".")
    top = parts[0]
    if top in ("api", "admin_ext"):
        return EDGE, None
    if top == "reports":
        return DOMAIN, "reports"
    if len(parts) == 1 or module in EDGE_MODULES:
        return (EDGE if module in EDGE_MODULES else CORE), None
    app = parts[1]
    if app in ("core", "settings"):
        if "management" in parts[2:]:
            return EDGE, None
        return CORE, None
    if app in EDGE_APPS or len(parts) == 2 and app not in DOMAIN_ORDER:
        return EDGE, None
    if "views" in parts[2:] or parts[-1] == "urls" or "management" in parts[2:] or "templatetags" in parts[2:]:
        return EDGE, None
    return DOMAIN, app


def circles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan), each sorted, the list sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    for start in sorted(graph):
        if start in index:
            continue
        # iterative depth-first walk: (node, iterator over its targets)
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        work = [(start, iter(sorted(graph.get(start, ()))))]
        while work:
            node, targets = work[-1]
            advanced = False
            for target in targets:
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                    advanced = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return sorted(found)


def upward_imports(
    graph: Mapping[str, Iterable[str]],
    place: Callable[[str], tuple[str, str | None]] = place,
    domain_order: tuple[str, ...] = DOMAIN_ORDER,
) -> list[str]:
    """Every arrow from a lower layer to a higher one, or from a domain app to one ranked above it."""
    rank = {app: i for i, app in enumerate(domain_order)}
    found = []
    for source in sorted(graph):
        source_layer, source_app = place(source)
        for target in sorted(graph[source]):
            target_layer, target_app = place(target)
            if LAYER_RANK[target_layer] > LAYER_RANK[source_layer]:
                found.append(f"{source} ({source_layer}) -> {target} ({target_layer})")
            elif source_layer == target_layer == DOMAIN and source_app != target_app:
                if source_app not in rank or target_app not in rank:
                    found.append(f"{source} -> {target}: rank {source_app} and {target_app} in DOMAIN_ORDER")
                elif rank[target_app] > rank[source_app]:
                    found.append(f"{source} ({source_app}) -> {target} ({target_app}, ranked above)")
    return found


# --- the tests --------------------------------------------------------------------------------------


def test_the_reader_sees_the_whole_project():
    graph = import_graph()
    assert len(graph) > 250  # every package is read, not only one
    assert "hotlead.leads.services.lifecycle" in graph["hotlead.distribution.services.engine"]
    assert "hotlead.core.exceptions" in graph["api.errors"]


def test_every_domain_app_is_ranked():
    apps = {place(module)[1] for module in project_modules()} - {None}
    assert apps == set(DOMAIN_ORDER)


def test_the_project_has_no_import_circle():
    assert circles(import_graph()) == []


def test_no_import_runs_back_up_a_layer():
    assert upward_imports(import_graph()) == []


def test_the_checker_sees_a_circle_and_an_upward_import():
    # given: a synthetic project with one circle and two arrows that run back up
    graph = {
        "api.routers.leads": {"hotlead.leads.services"},
        "hotlead.leads.services": {"hotlead.core.services", "hotlead.accounts.services"},
        "hotlead.core.services": {"hotlead.core.models"},
        "hotlead.core.models": {"hotlead.core.services", "api.errors"},  # a circle, and core -> edge
        "hotlead.accounts.services": {"hotlead.leads.models"},  # accounts is ranked below leads
        "hotlead.leads.models": set(),
        "api.errors": set(),
    }
    # when / then
    assert circles(graph) == [["hotlead.core.models", "hotlead.core.services"]]
    assert upward_imports(graph) == [
        "hotlead.accounts.services (accounts) -> hotlead.leads.models (leads, ranked above)",
        "hotlead.core.models (core) -> api.errors (edge)",
    ]


def test_the_reader_follows_relative_and_in_function_imports(tmp_path):
    # given
    package = tmp_path / "hotlead" / "leads"
    package.mkdir(parents=True)
    for name in ("__init__.py", "models.py", "selectors.py"):
        (package / name).write_text("")
    (tmp_path / "hotlead" / "__init__.py").write_text("")
    (package / "services.py").write_text(
        "from . import models\n"
        "def f():\n"
        "    from hotlead.leads.selectors import thing\n"
        "    import hotlead.leads\n"
    )
    known = {"hotlead", "hotlead.leads", "hotlead.leads.models", "hotlead.leads.selectors", "hotlead.leads.services"}
    # when
    found = imported_modules("hotlead.leads.services", package / "services.py", known)
    # then
    assert found == {"hotlead.leads.models", "hotlead.leads.selectors", "hotlead.leads"}


def test_only_the_url_conf_builds_the_api():
    """Importing a router, a schema or a service never builds the NinjaAPI (and so never needs the
    in-function imports that dodged it): the one module that imports api.v1 is hotlead/urls.py."""
    graph = import_graph()
    importers = sorted(module for module, imported in graph.items() if "api.v1" in imported)
    assert importers == ["hotlead.urls"]
    package = ast.parse((ROOT / "api" / "__init__.py").read_text())
    assert [type(node) for node in package.body] == [ast.Expr]  # a docstring, nothing that loads the routers
