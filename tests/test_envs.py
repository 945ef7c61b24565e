"""The conda environments of envs/: one per stage, named by every rule that runs code, pinned as requirements.txt.

(a) each rule's environment holds every third-party package its script imports, directly or through the
mesr modules it runs (static analysis of the imports: tests/code_deps.py); (b) every pin of every
environment equals the pin of that package in requirements.txt, which the tests run with.
"""

import re
from pathlib import Path

import pytest
import yaml
from code_deps import closure

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "workflow" / "rules"
#: Import names whose distribution is named differently.
DISTRIBUTIONS = {
    "cv2": "opencv-python-headless",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "yaml": "PyYAML",
}
#: requirements.txt pins the CPU build for the tests; the envs pin the same version with the GPU extras
#: (tensorflow[and-cuda]) for clusters: the same package for this comparison.
SAME_PACKAGE = {"tensorflow-cpu": "tensorflow"}
#: Conda packages of every env that are tools, not imports: pinned exactly, the same in every env.
TOOLS = ("python", "pip")


def canonical(name):
    name = re.sub(r"[-_.]+", "-", name).lower()
    return SAME_PACKAGE.get(name, name)


def parse_rules():
    """{rule: {"conda": path or None, "script": path or None, "runs": bool}} from workflow/rules/*.smk."""
    rules = {}
    for smk in sorted(RULES.glob("*.smk")):
        for block in re.split(r"^(?=rule \w+:)", smk.read_text(), flags=re.M)[1:]:
            name = re.match(r"rule (\w+):", block).group(1)
            body = re.split(r"^\S", block[block.index("\n") :], maxsplit=1, flags=re.M)[0]
            values = dict(re.findall(r"^    (\w+):\n        \"([^\"]+)\"", body, flags=re.M))
            rules[name] = {
                "conda": (RULES / values["conda"]).resolve() if "conda" in values else None,
                "script": (RULES / values["script"]).resolve() if "script" in values else None,
                "runs": bool(re.search(r"^    (script|shell|run|notebook|wrapper):", body, flags=re.M)),
                "file": smk.name,
            }
    return rules


def parse_requirements():
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"requirements.txt: {line!r} is not pinned with =="
            pins[canonical(name)] = version.strip()
    return pins


def parse_env(path):
    """(tool pins {name: version}, pip pins {canonical name: version}) of an env file."""
    spec = yaml.safe_load(path.read_text())
    assert spec["channels"] == ["conda-forge", "nodefaults"], f"{path.name}: channels {spec['channels']}"
    tools, packages = {}, {}
    for item in spec["dependencies"]:
        if isinstance(item, dict):
            for requirement in item["pip"]:
                match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[\w,-]+\])?==(\S+)", requirement.strip())
                assert match, f"{path.name}: pip requirement {requirement!r} is not an exact pin"
                packages[canonical(match.group(1))] = match.group(3)
        else:
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)=(\d[\w.]*)", item.strip())
            assert match, f"{path.name}: conda dependency {item!r} is not an exact pin"
            tools[match.group(1)] = match.group(2)
    return tools, packages


RULE_SPECS = parse_rules()
ENV_FILES = sorted((REPO / "envs").glob("*.yaml"))


def test_rules_were_found():
    assert len(RULE_SPECS) >= 20 and {"train_model", "superres_upscale", "features_extract"} <= set(RULE_SPECS)


@pytest.mark.parametrize("rule", sorted(RULE_SPECS))
def test_every_rule_that_runs_code_names_an_existing_env(rule):
    spec = RULE_SPECS[rule]
    if spec["runs"]:
        assert spec["conda"] is not None, f"rule {rule} ({spec['file']}) runs code but names no conda env"
        assert spec["conda"].is_file() and spec["conda"].parent == REPO / "envs", spec["conda"]


def test_every_env_is_used():
    used = {spec["conda"] for spec in RULE_SPECS.values()}
    assert set(ENV_FILES) <= used, sorted(p.name for p in set(ENV_FILES) - used)


@pytest.mark.parametrize("rule", sorted(rule for rule, spec in RULE_SPECS.items() if spec["script"]))
def test_env_holds_every_package_the_rule_imports(rule):
    spec = RULE_SPECS[rule]
    _, imported = closure(spec["script"])
    needed = {canonical(DISTRIBUTIONS.get(name, name)) for name in imported}
    known = set(parse_requirements())
    assert needed <= known, f"imports without a pin in requirements.txt (or a DISTRIBUTIONS entry): {needed - known}"
    _, packages = parse_env(spec["conda"])
    missing = needed - set(packages)
    assert not missing, f"rule {rule}: {spec['conda'].name} lacks {sorted(missing)} (imported by {spec['script'].name})"


@pytest.mark.parametrize("env", ENV_FILES, ids=lambda path: path.name)
def test_env_pins_equal_requirements(env):
    requirements = parse_requirements()
    tools, packages = parse_env(env)
    assert set(tools) == set(TOOLS), f"{env.name}: conda packages {sorted(tools)} (the rest comes from pip)"
    for name, version in packages.items():
        assert name in requirements, f"{env.name}: {name} is not pinned in requirements.txt"
        assert version == requirements[name], f"{env.name}: {name}=={version}, requirements.txt {requirements[name]}"


def test_every_env_has_the_same_tools():
    assert len({tuple(sorted(parse_env(env)[0].items())) for env in ENV_FILES}) == 1


def test_library_imports_are_all_pinned():
    """Every third-party package that src/mesr imports anywhere has a pin in requirements.txt."""
    imported = set()
    for path in (REPO / "src" / "mesr").rglob("*.py"):
        imported |= closure(path)[1]
    known = set(parse_requirements())
    needed = {canonical(DISTRIBUTIONS.get(name, name)) for name in imported}
    assert needed <= known, sorted(needed - known)
