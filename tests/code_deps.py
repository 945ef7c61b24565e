"""What a workflow script imports: the mesr modules it runs, transitively, and the third-party packages.

Static analysis with ``ast`` (tests only): every ``import`` statement of a module counts, at module level
or inside a function. Names imported from a package that re-exports them lazily (``mesr.sr``'s
``__getattr__`` over a ``{name: "mesr.sr.module"}`` dict) or that import modules by name
(``mesr.sr.build`` over ``{"rdn": "mesr.sr.rdn", ...}``) are followed to the modules the strings name.
"""

import ast
import sys
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
#: The network architectures, imported by name (``mesr.sr.build``) for the model a job runs.
ARCH_MODULES = {"mesr.sr.rdn", "mesr.sr.rrdn", "mesr.sr.nesrgan_plus", "mesr.sr.realesrgan", "mesr.sr.swinir"}


def module_file(name):
    """The file of a mesr module or package, or None."""
    path = SRC.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_name(path):
    parts = list(Path(path).resolve().relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@lru_cache(maxsize=None)
def _parse(path):
    return ast.parse(Path(path).read_text(), filename=str(path))


def _mesr_strings(node):
    """Mesr module names written as string constants under an AST node."""
    return {
        n.value
        for n in ast.walk(node)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and n.value.startswith("mesr.")
        and module_file(n.value)
    }


def _exported(package, name):
    """Modules that ``from package import name`` runs when ``name`` is not a submodule."""
    path = module_file(package)
    if path is None or path.name != "__init__.py":
        return set()
    tree = _parse(path)
    dicts = {}  # module-level NAME = {...} of mesr module strings
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    dicts[target.id] = node.value
    found = set()
    for value in dicts.values():  # lazy re-export: {"name": "mesr.x.y"}
        for key, item in zip(value.keys, value.values):
            if isinstance(key, ast.Constant) and key.value == name and isinstance(item, ast.Constant):
                found |= _mesr_strings(item)
    for node in tree.body:  # a function importing modules by name through such a dict
        if isinstance(node, ast.FunctionDef) and node.name == name:
            for used in ast.walk(node):
                if isinstance(used, ast.Name) and used.id in dicts:
                    found |= _mesr_strings(dicts[used.id])
    return found


def _direct(path):
    """(mesr modules, third-party top-level names) imported by one file."""
    path = Path(path)
    package = module_name(path) if path.is_relative_to(SRC) else None
    if package is not None and path.name != "__init__.py":
        package = package.rpartition(".")[0]
    modules, third = set(), set()
    for node in ast.walk(_parse(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names = alias.name.split(".")
                if names[0] == "mesr":
                    modules |= {".".join(names[:i]) for i in range(1, len(names) + 1)}
                else:
                    third.add(names[0])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            top = source.split(".")[0]
            if top != "mesr":
                third.add(top)
                continue
            parts = source.split(".")
            modules |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                if module_file(sub):
                    modules.add(sub)
                else:
                    modules |= _exported(source, alias.name)
    third -= set(sys.stdlib_module_names) | {"__future__"}
    return {m for m in modules if module_file(m)}, third


def closure(path):
    """(mesr module files, third-party top-level import names) that running the file may import."""
    files, third, todo = set(), set(), [Path(path)]
    while todo:
        current = todo.pop()
        modules, imported = _direct(current)
        third |= imported
        for module in modules:
            file = module_file(module)
            if file not in files:
                files.add(file)
                todo.append(file)
    return files, third
