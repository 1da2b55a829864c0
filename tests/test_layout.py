"""Tests of the layout: every folder states its purpose, modules and functions short enough to read at once,
and imports run only from a higher layer to a lower one."""

import ast
import os
import re

import pytest

from tests.helpers import ROOT

# Rooms from the lowest layer up; a module imports only from its own room and from rooms of lower layers.
# The network is the modules at the top of resnet_tf; data_utils is one room with its images.
LAYERS = [
    ("resnet_tf.console",),
    ("network", "data_utils"),
    ("resnet_tf.weights", "resnet_tf.lifelong"),
    ("resnet_tf.runs",),
    ("resnet_tf.evaluation",),
    ("resnet_tf.training", "resnet_tf.serving"),
    ("resnet_tf.commands",),
]
MAX_FUNCTION_LINES, MAX_MODULE_LINES = 50, 300
LONG_MODULE_REASON = "Longer than 300 lines because"
# Lines a reader reads: blank lines and the lines ruff's format leaves holding only closing brackets are not counted
UNREAD_LINE = re.compile(r"^\s*[)\]}]*[,:]?\s*$")


def read_lines(lines: list[str]) -> int:
    """How many of ``lines`` hold something to read (see ``UNREAD_LINE``)."""
    return sum(1 for line in lines if not UNREAD_LINE.match(line))


def modules() -> dict[str, str]:
    """Every module of the two packages: dotted name -> file."""
    found = {}
    for package in ("resnet_tf", "data_utils"):
        for folder, _, files in os.walk(os.path.join(ROOT, package)):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    dotted = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                    found[dotted.removesuffix(".__init__")] = path
    return found


def room(module: str) -> str:
    """The room (as named in LAYERS) a module belongs to."""
    inside = [r for rooms in LAYERS for r in rooms if module == r or module.startswith(r + ".")]
    return max(inside, key=len) if inside else "network"  # resnet_tf.model, .ops, .specs, .losses


def layer(module: str) -> int:
    return next(i for i, rooms in enumerate(LAYERS) if room(module) in rooms)


def imported(path: str) -> set[str]:
    """The project modules a file imports (at any depth of the file)."""
    names = set()
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n.split(".")[0] in ("resnet_tf", "data_utils") and n not in ("resnet_tf", "data_utils")}


def test_every_folder_states_its_one_purpose():
    folders = {os.path.dirname(path) for path in modules().values()}
    for folder in folders:
        assert os.path.isfile(os.path.join(folder, "__init__.py")), f"{folder}: a package with its docstring"
    for name, path in modules().items():
        if path.endswith("__init__.py"):
            doc = ast.get_docstring(ast.parse(open(path, encoding="utf-8").read()))
            assert doc and doc.startswith(f"{name}:"), f"{path}: the docstring names the package and its purpose"


@pytest.mark.parametrize("name", sorted(modules()))
def test_imports_run_from_a_higher_layer_to_a_lower_one(name):
    known = modules()
    for target in imported(known[name]):
        while target not in known:  # `from package import name`: the module is the package
            target = target.rsplit(".", 1)[0]
        if target in ("resnet_tf", "data_utils"):
            continue  # the packages' public names (resnet_tf.ResNet), loaded on first use
        assert room(target) == room(name) or layer(target) < layer(name), f"{name} imports {target}"


@pytest.mark.parametrize("name", sorted(modules()))
def test_modules_and_functions_are_short_enough_to_read_at_once(name):
    path = modules()[name]
    source = open(path, encoding="utf-8").read()
    tree = ast.parse(source)
    lines = source.splitlines()
    if read_lines(lines) > MAX_MODULE_LINES:
        assert LONG_MODULE_REASON in (ast.get_docstring(tree) or ""), f"{path}: over {MAX_MODULE_LINES} lines"
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = read_lines(lines[node.lineno - 1 : node.end_lineno])
            assert length <= MAX_FUNCTION_LINES, f"{path}:{node.lineno} {node.name} has {length} lines"
