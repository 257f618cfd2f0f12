"""The architecture of docs/ARCHITECTURE.md, enforced on the source itself.

Rules: imports run one way, down the layers; no import cycle between modules
(function-local imports count: they run too, only later); the pure-torch core
``adanet_spark/adanet`` uses nothing of the project, of Spark or of pandas; no
file in ``adanet_spark/`` over 300 lines and no function over 60 (anywhere in
adanet_spark, udfs, jobs, benchmarks); no private name imported across modules;
``tests/`` mirrors the package.

The first half of this file is the rule engine: plain functions over a root
folder, unit-tested at the end on a tiny synthetic package.
"""
from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("adanet_spark", "udfs", "jobs", "benchmarks")

# Top to bottom: a module may import its own layer and the layers below, never above.
# A name covers the module and everything under it; "=name" covers that module alone
# (the package root), so a new top-level module must be placed here explicitly.
LAYERS = (
    ("jobs+benchmarks", ("jobs", "benchmarks")),
    ("pipeline+cli", ("adanet_spark.pipeline", "adanet_spark.cli")),
    ("baselines/results/scoring/udfs", ("adanet_spark.baselines", "adanet_spark.results",
                                        "adanet_spark.scoring", "udfs")),
    ("execution", ("adanet_spark.execution",)),
    ("data", ("adanet_spark.data",)),
    ("config/session/catalog/errors/hadoop_fs/sql/paths",
     ("=adanet_spark", "adanet_spark.config", "adanet_spark.session", "adanet_spark.catalog",
      "adanet_spark.errors", "adanet_spark.hadoop_fs", "adanet_spark.sql", "adanet_spark.paths")),
    ("adanet", ("adanet_spark.adanet",)),
)
CORE = "adanet_spark.adanet"
CORE_THIRD_PARTY = {"torch", "numpy", "safetensors"}
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 60


# ---------------------------------------------------------------- the rule engine
@dataclass(frozen=True)
class Import:
    """One import statement's edge: ``source`` module imports ``target`` (a dotted name
    as written, resolved to a project module when it is one)."""

    source: str
    target: str
    names: tuple[str, ...]  # the names of a ``from target import a, b``; () for ``import target``
    path: str  # the source file, relative to the root
    line: int
    module: Optional[str] = None  # the project module ``target`` resolves to, if any


def discover(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Every project module: dotted name -> file (``pkg/__init__.py`` is ``pkg``)."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _resolve(target: str, name: Optional[str], source: str, path: Path, modules: dict) -> Optional[str]:
    """The project module an import loads: ``from pkg import sub`` loads module ``pkg.sub``
    when there is one, else ``pkg``. A script in a folder without ``__init__.py``
    (benchmarks) imports its siblings by bare name, so there a sibling is tried last
    (in a package, ``import horovod`` is the library, never a sibling module)."""
    candidates = ([f"{target}.{name}"] if name else []) + [target]
    folder = source.rpartition(".")[0]
    if folder and not (path.parent / "__init__.py").exists():
        candidates += ([f"{folder}.{target}.{name}"] if name else []) + [f"{folder}.{target}"]
    return next((c for c in candidates if c in modules), None)


def _literal_import_module(node: ast.AST) -> Optional[str]:
    """``importlib.import_module("a.b")`` with a literal name: an import too."""
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
            and isinstance(node.args[0].value, str):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "import_module":
            return node.args[0].value
    return None


def parse_imports(root: Path, modules: dict[str, Path]) -> list[Import]:
    """Every import of every module, function-local ones included, relative ones resolved."""
    found = []
    for module, path in modules.items():
        rel = str(path.relative_to(root))
        for node in ast.walk(ast.parse(path.read_text(), rel)):
            edges: list[tuple[str, tuple]] = []
            if isinstance(node, ast.Import):
                edges = [(a.name, ()) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = _package_of(module, path).split(".")
                    package = package[:len(package) - node.level + 1]
                    base = ".".join(package + ([base] if base else []))
                edges = [(base, tuple(a.name for a in node.names))]
            elif literal := _literal_import_module(node):
                edges = [(literal, ())]
            for target, names in edges:
                for name in names or (None,):
                    resolved = _resolve(target, name if name != "*" else None, module, path, modules)
                    found.append(Import(module, target, names, rel, node.lineno, resolved))
    return found


def layer_of(module: str, layers=LAYERS) -> Optional[int]:
    """Index of the module's layer (0 = top), by the longest matching name."""
    best, best_len = None, -1
    for index, (_, names) in enumerate(layers):
        for name in names:
            exact = name.startswith("=")
            name = name.lstrip("=")
            covers = module == name or (not exact and module.startswith(name + "."))
            if covers and len(name) > best_len:
                best, best_len = index, len(name)
    return best


def is_project(name: str, packages: Iterable[str] = PACKAGES) -> bool:
    return name.split(".")[0] in packages


def unassigned_modules(modules: dict[str, Path], root: Path, layers=LAYERS) -> list[str]:
    return [f"{p.relative_to(root)}: module {m} is in no layer of the table in ARCHITECTURE.md"
            for m, p in modules.items() if layer_of(m, layers) is None]


def missing_targets(imports: list[Import], packages: Iterable[str] = PACKAGES) -> list[str]:
    """Imports of project modules that do not exist (left behind by a move or rename)."""
    return sorted({f"{i.path}:{i.line}: imports {i.target} ({', '.join(i.names) or 'module'}), "
                   f"which is no module of the project" for i in imports
                   if i.module is None and is_project(i.target, packages)})


def upward_imports(imports: list[Import], layers=LAYERS) -> list[str]:
    out = []
    for i in imports:
        if i.module is None:
            continue
        src, dst = layer_of(i.source, layers), layer_of(i.module, layers)
        if src is not None and dst is not None and dst < src:
            out.append(f"{i.path}:{i.line}: {i.source} (layer '{layers[src][0]}') imports {i.module} "
                       f"(layer '{layers[dst][0]}', above it)")
    return sorted(set(out))


def import_graph(imports: list[Import]) -> dict[str, dict[str, Import]]:
    """module -> {imported module: the first import that makes the edge}."""
    graph: dict[str, dict[str, Import]] = {}
    for i in imports:
        if i.module is not None and i.module != i.source:
            graph.setdefault(i.source, {}).setdefault(i.module, i)
    return graph


def strongly_connected(graph: dict[str, dict]) -> list[list[str]]:
    """Tarjan's algorithm; components of more than one module only, each sorted."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def _cycle_through(graph: dict[str, dict], component: list[str]) -> list[str]:
    """One concrete cycle inside a component (breadth-first from its first module back to it)."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph.get(v, {})):
            if w == start:
                return paths[v] + [start]
            if w in members and w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    return component  # unreachable for a real component


def import_cycles(imports: list[Import]) -> list[str]:
    graph = import_graph(imports)
    out = []
    for component in strongly_connected(graph):
        cycle = _cycle_through(graph, component)
        steps = [f"{a} -> {b} ({graph[a][b].path}:{graph[a][b].line})" for a, b in zip(cycle, cycle[1:])]
        out.append(f"cycle of {len(component)} modules {component}: " + "; ".join(steps))
    return out


def core_imports(imports: list[Import], core: str = CORE, allowed=CORE_THIRD_PARTY,
                 packages: Iterable[str] = PACKAGES) -> list[str]:
    """What the pure core may use: the standard library, torch, numpy, safetensors and itself."""
    out = []
    for i in imports:
        if not (i.source == core or i.source.startswith(core + ".")):
            continue
        top = i.target.split(".")[0]
        if i.module is not None or is_project(i.target, packages):
            # (a core module that does not exist is missing_targets' report, not this one's)
            name = i.module or i.target
            ok = name == core or name.startswith(core + ".")
        else:
            ok = top in sys.stdlib_module_names or top in allowed or top == "__future__"
        if not ok:
            out.append(f"{i.path}:{i.line}: the core {i.source} imports {i.module or i.target}")
    return sorted(set(out))


def private_imports(imports: list[Import], packages: Iterable[str] = PACKAGES) -> list[str]:
    return sorted({f"{i.path}:{i.line}: {i.source} imports private name {n} from {i.target}"
                   for i in imports if is_project(i.target, packages)
                   for n in i.names if n.startswith("_") and not n.startswith("__")})


def long_files(root: Path, modules: dict[str, Path], package: str = "adanet_spark",
               limit: int = MAX_FILE_LINES) -> list[str]:
    out = []
    for m, p in modules.items():
        n = len(p.read_text().splitlines())
        if m.split(".")[0] == package and n > limit:
            out.append(f"{p.relative_to(root)}: {n} lines (limit {limit})")
    return out


def long_functions(root: Path, modules: dict[str, Path], limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """Functions and methods (nested ones too) from ``def`` to their last line, decorators excluded."""
    out = []
    for p in modules.values():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    out.append(f"{p.relative_to(root)}:{node.lineno}: function {node.name} has {n} lines "
                               f"(limit {limit})")
    return out


def _mirror_dir(root: Path, test_dir: Path) -> Path:
    """tests/<dir> <-> adanet_spark/<dir>; tests/jobs, tests/udfs, tests/benchmarks <-> the
    top-level folders of those names; tests/ itself <-> adanet_spark/."""
    parts = test_dir.relative_to(root / "tests").parts
    if parts and parts[0] in ("jobs", "udfs", "benchmarks"):
        return root.joinpath(*parts)
    return root.joinpath("adanet_spark", *parts)


def _mirrors(stem: str, folder: Path) -> bool:
    """``test_<module>`` or ``test_<module>_<aspect>`` for a module (or subpackage) in ``folder``."""
    name = stem[len("test_"):]
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    modules |= {p.parent.name for p in folder.glob("*/__init__.py")}
    return any(name == m or name.startswith(m + "_") for m in modules)


def unmirrored_tests(root: Path, exempt: Iterable[str] = ("tests/test_layout.py",)) -> list[str]:
    out = []
    tests = root / "tests"
    for path in sorted(tests.rglob("test_*.py")):
        rel = str(path.relative_to(root))
        if "__pycache__" in path.parts or rel in exempt:
            continue
        folder = _mirror_dir(root, path.parent)
        if not _mirrors(path.stem, folder):
            out.append(f"{rel}: names no module of {folder.relative_to(root)}/ "
                       f"(want test_<module>.py or test_<module>_<aspect>.py)")
    for folder in sorted({p.parent for p in tests.rglob("*.py")} | {tests}):
        if "__pycache__" not in folder.parts and not (folder / "__init__.py").exists():
            out.append(f"{folder.relative_to(root)}/: no __init__.py")
    return out


def check(violations: list[str], title: str) -> None:
    """Fail with one line per violation (file:line first), not with a repr of the list."""
    if violations:
        pytest.fail(f"{len(violations)} {title} (see docs/ARCHITECTURE.md):\n  " + "\n  ".join(violations),
                    pytrace=False)


# ---------------------------------------------------------------- the rules, on this repository
@dataclass(frozen=True)
class Project:
    modules: dict[str, Path]
    imports: list[Import]


@pytest.fixture(scope="module")
def project() -> Project:
    modules = discover(ROOT)
    return Project(modules, parse_imports(ROOT, modules))


def test_every_module_has_a_layer_and_every_project_import_exists(project):
    problems = unassigned_modules(project.modules, ROOT) + missing_targets(project.imports)
    check(problems, "modules outside the layer table or imports of missing modules")


def test_imports_only_run_down_the_layers(project):
    check(upward_imports(project.imports), "upward imports")


def test_no_import_cycles(project):
    check(import_cycles(project.imports), "import cycles")


def test_the_core_imports_only_itself_torch_numpy_safetensors_and_the_standard_library(project):
    check(core_imports(project.imports), "imports out of adanet_spark/adanet")


def test_no_private_name_is_imported_across_modules(project):
    check(private_imports(project.imports), "imports of private names")


def test_files_and_functions_stay_small(project):
    check(long_files(ROOT, project.modules) + long_functions(ROOT, project.modules), "files or functions too long")


def test_tests_mirror_the_package():
    check(unmirrored_tests(ROOT), "test files or folders out of the mirror")


def test_the_core_tests_use_nothing_of_the_project_but_the_core(project):
    """tests/adanet tests the core as other layers use it: through its protocol alone."""
    tests = discover(ROOT, ("tests",))
    imports = parse_imports(ROOT, {**project.modules, **tests})
    found = sorted({f"{i.path}:{i.line}: {i.source} imports {i.target}" for i in imports
                    if i.source.startswith("tests.adanet.") and is_project(i.target)
                    and not (i.target == CORE or i.target.startswith(CORE + "."))})
    check(found, "imports of other layers in the core's tests")


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True,
                          text=True, timeout=180)


def test_importing_every_core_module_loads_neither_pyspark_nor_pandas(project):
    core = sorted(m for m in project.modules if m == CORE or m.startswith(CORE + "."))
    out = _run(f"""
        import importlib, sys
        import adanet_spark.adanet as a
        for name in {core!r}:
            importlib.import_module(name)
        a.AdaNetSearch, a.Ensemble, a.train_candidate, a.roc_auc, a.InProcessExecutor
        loaded = sorted(m for m in ('pyspark', 'pandas') if m in sys.modules)
        print('loaded:', loaded)
        """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "loaded: []", out.stdout
    assert len(core) >= 15  # the discovery really found the core's modules


def test_loading_a_config_file_imports_neither_torch_nor_pyspark():
    out = _run(f"""
        import sys
        from adanet_spark.config import load_config
        cfg = load_config({str(ROOT / 'conf' / 'adult.yaml')!r}, ['adanet.generator=simple'])
        assert cfg.adanet.search_params()['generator'] == 'simple'
        print('loaded:', sorted(m for m in ('torch', 'pyspark') if m in sys.modules))
        """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "loaded: []", out.stdout


# ---------------------------------------------------------------- the engine, on a synthetic package
def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


TOY_LAYERS = (("top", ("toy.top",)), ("bottom", ("toy.bottom",)))


def _toy(tmp_path: Path, files: dict[str, str]):
    _write(tmp_path, {"toy/__init__.py": "", "toy/top/__init__.py": "", "toy/bottom/__init__.py": "",
                      **files})
    modules = discover(tmp_path, ("toy",))
    return modules, parse_imports(tmp_path, modules)


def test_engine_passes_a_clean_package(tmp_path):
    modules, imports = _toy(tmp_path, {
        "toy/top/app.py": "from toy.bottom import core\nfrom ..bottom.core import run\n",
        "toy/bottom/core.py": "import os\n\ndef run():\n    from . import util\n    return util\n",
        "toy/bottom/util.py": "import math\n",
    })
    assert {i.module for i in imports} >= {"toy.bottom.core", "toy.bottom.util"}
    assert upward_imports(imports, TOY_LAYERS) == []
    assert import_cycles(imports) == []
    assert missing_targets(imports, ("toy",)) == []
    assert private_imports(imports, ("toy",)) == []
    assert core_imports(imports, core="toy.bottom", allowed=set(), packages=("toy",)) == []
    assert long_functions(tmp_path, modules, limit=3) == []


def test_engine_resolves_bare_names_as_siblings_only_in_script_folders(tmp_path):
    _write(tmp_path, {"toy/__init__.py": "", "toy/json.py": "", "toy/core.py": "import json\n",
                      "scripts/run.py": "from helper import main\n", "scripts/helper.py": "main = 1\n"})
    modules = discover(tmp_path, ("toy", "scripts"))
    resolved = {i.source: i.module for i in parse_imports(tmp_path, modules)}
    assert resolved == {"toy.core": None, "scripts.run": "scripts.helper"}  # json: the standard library


def test_engine_reports_an_upward_import_a_cycle_and_the_rest(tmp_path):
    modules, imports = _toy(tmp_path, {
        "toy/top/app.py": "from toy.bottom.core import run\n",
        # function-local and relative: both must count
        "toy/bottom/core.py": "def run():\n    from ..top import app\n    import pandas\n    return app\n",
        "toy/bottom/a.py": "from toy.bottom import b\nfrom toy.bottom.b import _hidden\n",
        "toy/bottom/b.py": "import toy.bottom.a\nimport toy.bottom.gone\n_hidden = 1\n",
    })
    up = upward_imports(imports, TOY_LAYERS)
    assert len(up) == 1 and up[0].startswith("toy/bottom/core.py:2: toy.bottom.core (layer 'bottom') "
                                             "imports toy.top.app (layer 'top'")
    cycles = import_cycles(imports)
    assert len(cycles) == 2
    assert "['toy.bottom.a', 'toy.bottom.b']" in cycles[0]
    assert "toy.bottom.a -> toy.bottom.b (toy/bottom/a.py:1)" in cycles[0]
    assert "['toy.bottom.core', 'toy.top.app']" in cycles[1]
    assert private_imports(imports, ("toy",)) == ["toy/bottom/a.py:2: toy.bottom.a imports private name _hidden "
                                        "from toy.bottom.b"]
    assert missing_targets(imports, ("toy",)) == ["toy/bottom/b.py:2: imports toy.bottom.gone (module), "
                                        "which is no module of the project"]
    assert sorted(core_imports(imports, core="toy.bottom", allowed=set(), packages=("toy",))) == [
        "toy/bottom/core.py:2: the core toy.bottom.core imports toy.top.app",
        "toy/bottom/core.py:3: the core toy.bottom.core imports pandas"]
    assert long_functions(tmp_path, modules, limit=3) == [
        "toy/bottom/core.py:1: function run has 4 lines (limit 3)"]
    assert unassigned_modules({"toy.other": tmp_path / "toy/other.py"}, tmp_path, TOY_LAYERS)


def test_engine_checks_the_test_mirror_and_maps_layers(tmp_path):
    _write(tmp_path, {"adanet_spark/__init__.py": "", "adanet_spark/catalog.py": "",
                      "adanet_spark/data/__init__.py": "", "adanet_spark/data/tensors.py": "",
                      "jobs/tune.py": "",
                      "tests/__init__.py": "", "tests/test_catalog.py": "", "tests/test_layout.py": "",
                      "tests/data/__init__.py": "", "tests/data/test_tensors_parquet.py": "",
                      "tests/data/test_data.py": "", "tests/data/helpers.py": "",
                      "tests/jobs/test_tune.py": "", "tests/jobs/test_score.py": ""})
    assert unmirrored_tests(tmp_path) == [
        "tests/data/test_data.py: names no module of adanet_spark/data/ "
        "(want test_<module>.py or test_<module>_<aspect>.py)",
        "tests/jobs/test_score.py: names no module of jobs/ (want test_<module>.py or "
        "test_<module>_<aspect>.py)",
        "tests/jobs/: no __init__.py"]
    assert layer_of("adanet_spark.adanet.search") == len(LAYERS) - 1
    assert layer_of("adanet_spark.pipeline.tune") == 1 and layer_of("adanet_spark") == 5
    # names match whole dotted components, and the package root only itself
    assert layer_of("adanet_spark.adanetx") is None and layer_of("numpy") is None
