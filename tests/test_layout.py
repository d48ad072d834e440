"""The package's architecture, checked on its sources by walking their syntax trees.

Imports run one way, from the faces down to the math: app -> network -> training -> nn,
with data used by app and network only, and the leaf modules (errors, and atomic on it)
used by all. ``nn/`` imports nothing of scratchnet but its error family, and nothing outside
the standard library but NumPy. ``interop/`` (the optional extras) builds on the
network; the network reaches it only inside a method, when a user asks for an extra's
feature (``NeuralNet.to_onnx``), so importing scratchnet never imports an extra. No
module reaches into another's private names.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import scratchnet

PACKAGE = Path(scratchnet.__file__).parent
EVERYTHING = {
    "errors", "atomic", "archive", "validation", "nn", "training", "data", "serialization",
    "network", "metrics", "app", "interop",
}  # fmt: skip

# unit of the package -> the units it may import
ALLOWED = {
    "errors": set(),
    "atomic": {"errors"},  # refuse_special raises InvalidArgumentError
    "archive": {"errors", "atomic"},
    "nn": {"errors"},
    "validation": {"errors", "nn"},
    "training": {"errors", "atomic", "archive", "nn", "validation", "metrics"},  # percent
    "data": {"errors", "atomic", "validation"},
    "serialization": {"errors", "archive", "validation", "nn"},
    "metrics": {"errors", "validation"},
    "network": {
        "errors",
        "atomic",
        "archive",
        "validation",
        "nn",
        "training",
        "data",
        "serialization",
        "metrics",  # r_squared: metrics needs only errors and validation
    },
    "__init__": EVERYTHING - {"app", "interop"},
    "__main__": {"app"},
    "app": EVERYTHING | {"__init__"},
    "interop": EVERYTHING - {"app"} | {"__init__"},  # __version__, the ONNX producer's
}
# unit -> units it may import only inside a function, when the feature is used
LAZY = {"network": {"interop"}}
NN_THIRD_PARTY = {"numpy"}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def unit_of(path: Path) -> str:
    """The top-level unit a source file belongs to: 'nn', 'network', '__init__', ..."""
    first = path.relative_to(PACKAGE).parts[0]
    return first.removesuffix(".py")


def imported_names(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute dotted module) for every import in the file (or in ``source``,
    read as if it stood at ``path``)."""
    tree = ast.parse(path.read_text() if source is None else source, str(path))
    package = ["scratchnet", *path.relative_to(PACKAGE).parent.parts]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
                if node.module is None:  # from . import x: x is a module or a package attribute
                    found += [
                        (node.lineno, _module_or_package(target, alias.name))
                        for alias in node.names
                    ]
                    continue
            else:
                target = node.module
            found.append((node.lineno, target))
    return found


def lines_inside_functions(path: Path, source: str | None = None) -> set[int]:
    """Line numbers of the import statements that sit inside a function body."""
    tree = ast.parse(path.read_text() if source is None else source, str(path))
    functions = [
        n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    return {
        node.lineno
        for function in functions
        for node in ast.walk(function)
        if isinstance(node, (ast.Import, ast.ImportFrom))
    }


def _module_or_package(package: str, name: str) -> str:
    folder = PACKAGE.joinpath(*package.split(".")[1:])
    is_module = (folder / name).is_dir() or (folder / f"{name}.py").is_file()
    return f"{package}.{name}" if is_module else package


def internal_unit(module: str) -> str | None:
    """'nn' for 'scratchnet.nn.losses'; None for modules outside scratchnet."""
    parts = module.split(".")
    if parts[0] != "scratchnet":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_go_downward(path):
    assert wrong_imports(path) == []


def wrong_imports(path: Path, source: str | None = None) -> list[str]:
    """Imports of units the file's unit may not import (at module level, or at all)."""
    unit = unit_of(path)
    allowed, lazy = ALLOWED[unit] | {unit}, LAZY.get(unit, set())
    inside = lines_inside_functions(path, source)
    return [
        f"line {line}: {module}"
        for line, module in imported_names(path, source)
        if (target := internal_unit(module)) is not None
        and target not in allowed
        and not (target in lazy and line in inside)
    ]


@pytest.mark.parametrize("path", sorted((PACKAGE / "nn").rglob("*.py")), ids=lambda p: p.name)
def test_the_math_needs_only_numpy_and_the_standard_library(path):
    outside = [
        f"line {line}: {module}"
        for line, module in imported_names(path)
        if internal_unit(module) is None
        and module.split(".")[0] not in sys.stdlib_module_names | NN_THIRD_PARTY
    ]
    assert not outside, outside


def private_uses(path: Path, source: str | None = None) -> list[str]:
    """Accesses to ``obj._name`` where obj is not self or cls, and imports of _names."""
    tree = ast.parse(path.read_text() if source is None else source, str(path))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            found.append(f"line {node.lineno}: .{node.attr}")
        if isinstance(node, ast.ImportFrom):
            found += [
                f"line {node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__")
            ]
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_touches_private_members_of_another(path):
    assert private_uses(path) == []


def test_the_walkers_see_violations():
    """The checks above can fail: a module of nn/ importing the network and calling a
    private method of another object is caught."""
    fake = PACKAGE / "nn" / "fake.py"
    source = "from ..network import NeuralNet\nfrom .losses import _softmax_\nnet._fitted()\n"
    modules_imported = [module for _, module in imported_names(fake, source)]
    assert modules_imported == ["scratchnet.network", "scratchnet.nn.losses"]
    assert "network" not in ALLOWED[unit_of(fake)]
    assert private_uses(fake, source) == ["line 2: import _softmax_", "line 3: ._fitted"]
    assert wrong_imports(fake, source) == ["line 1: scratchnet.network"]


def test_the_network_reaches_the_extras_only_inside_a_method():
    network = PACKAGE / "network.py"
    lazy = "def to_onnx(self):\n    from .interop.onnx import export\n"
    eager = "from .interop.onnx import export\n"
    assert wrong_imports(network, lazy) == []
    assert wrong_imports(network, eager) == ["line 1: scratchnet.interop.onnx"]


# -- the package's public names, imported on first use -----------------------------------


def type_checking_imports() -> dict[str, str]:
    """name -> module (relative to the package) of the imports that ``__init__.py`` gives
    editors and type checkers under ``if TYPE_CHECKING:``."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    (block,) = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
    ]
    return {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_type_checkers_see_every_public_name():
    assert sorted(type_checking_imports()) == sorted(set(scratchnet.__all__) - {"__version__"})


@pytest.mark.parametrize("name", sorted(type_checking_imports()))
def test_every_public_name_is_the_object_type_checkers_see(name):
    module = importlib.import_module(f"scratchnet.{type_checking_imports()[name]}")
    assert getattr(scratchnet, name) is getattr(module, name)
    assert name in dir(scratchnet)


def fresh_interpreter_prints(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


@pytest.mark.parametrize("name", ["NeuralNetwork", "__main__", "app.cli", ".nn"])
def test_a_name_that_is_not_public_nor_a_submodule_is_an_attribute_error(name):
    """__main__ too: importing it would run the command line (and exit)."""
    assert not hasattr(scratchnet, name)
    with pytest.raises(AttributeError, match=f"has no attribute '{re.escape(name)}'"):
        getattr(scratchnet, name)


def test_a_subpackage_not_yet_imported_is_imported_when_used():
    code = "import scratchnet; print(scratchnet.interop.__name__)"
    assert fresh_interpreter_prints(code) == "scratchnet.interop\n"


@pytest.mark.parametrize("module", ["scratchnet", "scratchnet.app.entry"])
def test_importing_the_package_or_the_command_does_not_import_numpy(module):
    heavy = "('numpy', 'scratchnet.network')"
    code = f"import sys, {module}; print([m for m in {heavy} if m in sys.modules])"
    assert fresh_interpreter_prints(code) == "[]\n"


def test_training_without_bars_leaves_out_the_progress_bar_and_download_libraries():
    """tqdm (with asyncio) and urllib (with ssl) took 7 MiB of a plain run's memory;
    they are imported only when a bar is shown or a file downloaded."""
    code = (
        "import sys, numpy as np, scratchnet as sn, scratchnet.data.mnist\n"
        "X = np.eye(4); y = np.array([0, 1, 0, 1])\n"
        "sn.NeuralNet([3, 1], random_state=0).fit(X, y, n_iterations=2,\n"
        "    callbacks=[sn.ProgressBar(bar=False)])\n"
        "print([m for m in ('tqdm', 'asyncio', 'urllib.request', 'ssl') if m in sys.modules])"
    )
    printed = fresh_interpreter_prints(code).splitlines()
    assert printed[0].startswith("iteration 0: cost ")  # the records, printed without tqdm
    assert printed[-1] == "[]"
