"""The conda environments of envs/: one per distinct package set, each fully locked (docs/layout.md#environments).

``envs/<env>.in`` holds an env's top-level pins, ``envs/<env>.yaml`` (written by envs/lock.py) the whole
resolved set. (a) every rule that runs code names an env, every env is used, no two envs hold the same
packages, and only one holds TensorFlow; (b) each rule's env pins at top level every third-party package
its script imports, directly or through the mesr modules it runs (static analysis of the imports:
tests/code_deps.py); (c) every top-level pin, and every locked package that requirements.txt pins, has
the version of requirements.txt, which the tests run with; (d) each lock is what lock.py writes for it.

Marked ``envs`` (network to PyPI; ``-m "not envs"`` deselects them): (e) each lock is closed under its
dependencies by pip's resolver; (f) a venv built from each light env's lock alone (no TensorFlow) imports
what its rules import, so a package missing from an env cannot hide behind the driver venv.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from code_deps import closure, module_name
from workflow_runs import snakemake

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "workflow" / "rules"
ENVS = REPO / "envs"
_spec = importlib.util.spec_from_file_location("envs_lock", ENVS / "lock.py")
lock = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lock)
#: Import names whose distribution is named differently.
DISTRIBUTIONS = {
    "cv2": "opencv-contrib-python-headless",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "yaml": "PyYAML",
}
#: requirements.txt pins the CPU build for the tests; the TensorFlow env pins the same version with the GPU
#: extras (tensorflow[and-cuda]) for clusters: the same package for this comparison.
SAME_PACKAGE = {"tensorflow-cpu": "tensorflow"}


def canonical(name):
    name = lock.canonical(name)
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
    """(conda pins {name: version}, locked pip set {canonical name: version}) of an env file."""
    spec = yaml.safe_load(path.read_text())
    assert spec["channels"] == ["conda-forge", "nodefaults"], f"{path.name}: channels {spec['channels']}"
    tools, locked = {}, {}
    for item in spec["dependencies"]:
        if isinstance(item, dict):
            for requirement in item["pip"]:
                match = re.fullmatch(r"([a-z0-9-]+)==(\S+)", requirement.strip())
                assert match, f"{path.name}: pip entry {requirement!r} is not a canonical name==version"
                locked[match.group(1)] = match.group(2)
        else:
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)=(\d[\w.]*)", item.strip())
            assert match, f"{path.name}: conda dependency {item!r} is not an exact pin"
            tools[match.group(1)] = match.group(2)
    return tools, locked


def top_level(env):
    """The top-level pins {canonical name: version} of an env file, from its envs/<env>.in."""
    pins = {}
    for line in lock.read_pins(env.with_suffix(".in")):
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[\w,-]+\])?==(\S+)", line)
        assert match, f"{env.with_suffix('.in').name}: {line!r} is not an exact pin"
        pins[canonical(match.group(1))] = match.group(3)
    return pins


RULE_SPECS = parse_rules()
ENV_FILES = sorted(ENVS.glob("*.yaml"))
#: The envs without TensorFlow, which the tests can build on this machine in seconds.
LIGHT_ENVS = [env for env in ENV_FILES if "tensorflow" not in parse_env(env)[1]]


def rules_of(env):
    return sorted(rule for rule, spec in RULE_SPECS.items() if spec["conda"] == env)


def test_rules_were_found():
    assert len(RULE_SPECS) >= 20 and {"train_model", "superres_upscale", "features_extract"} <= set(RULE_SPECS)


@pytest.mark.parametrize("rule", sorted(RULE_SPECS))
def test_every_rule_that_runs_code_names_an_existing_env(rule):
    spec = RULE_SPECS[rule]
    if spec["runs"]:
        assert spec["conda"] is not None, f"rule {rule} ({spec['file']}) runs code but names no conda env"
        assert spec["conda"] in ENV_FILES, f"rule {rule}: {spec['conda']} is not one of envs/*.yaml"


def test_every_env_is_used():
    used = {spec["conda"] for spec in RULE_SPECS.values()}
    assert set(ENV_FILES) <= used, sorted(p.name for p in set(ENV_FILES) - used)


def test_every_env_has_its_pins_and_nothing_else_is_in_envs():
    assert {p.stem for p in ENVS.glob("*.in")} == {p.stem for p in ENV_FILES}
    assert {p.name for p in ENVS.iterdir() if p.suffix not in (".in", ".yaml")} <= {"lock.py", "__pycache__"}


def test_no_two_envs_hold_the_same_packages():
    locks = {env.name: tuple(sorted(parse_env(env)[1])) for env in ENV_FILES}
    pins = {env.name: tuple(sorted(top_level(env))) for env in ENV_FILES}
    assert len(set(locks.values())) == len(locks), locks
    assert len(set(pins.values())) == len(pins), pins


def test_one_tensorflow_env_with_the_gpu_build():
    heavy = [env for env in ENV_FILES if env not in LIGHT_ENVS]
    assert [env.name for env in heavy] == ["tensorflow.yaml"]
    assert "tensorflow[and-cuda]" in {re.sub(r"==.*", "", line) for line in lock.read_pins(ENVS / "tensorflow.in")}
    assert {"nvidia-cudnn-cu12", "nvidia-cublas-cu12"} <= set(parse_env(heavy[0])[1]), "the CUDA wheels are locked"
    assert rules_of(heavy[0]) == sorted(
        r for r in RULE_SPECS if r.startswith(("train_", "superres_upscale", "superres_convert", "evaluate_ststnet"))
    )


@pytest.mark.parametrize("rule", sorted(rule for rule, spec in RULE_SPECS.items() if spec["script"]))
def test_env_holds_every_package_the_rule_imports(rule):
    spec = RULE_SPECS[rule]
    _, imported = closure(spec["script"])
    needed = {canonical(DISTRIBUTIONS.get(name, name)) for name in imported}
    known = set(parse_requirements())
    assert needed <= known, f"imports without a pin in requirements.txt (or a DISTRIBUTIONS entry): {needed - known}"
    missing = needed - set(top_level(spec["conda"]))
    assert not missing, f"rule {rule}: {spec['conda'].name} lacks {sorted(missing)} (imported by {spec['script'].name})"


@pytest.mark.parametrize("env", ENV_FILES, ids=lambda path: path.name)
def test_env_pins_equal_requirements(env):
    requirements = parse_requirements()
    tools, locked = parse_env(env)
    assert tools == lock.TOOLS, f"{env.name}: conda packages {tools} (the rest comes from pip)"
    for name, version in top_level(env).items():
        assert name in requirements, f"{env.with_suffix('.in').name}: {name} is not pinned in requirements.txt"
        assert version == requirements[name], f"{env.name}: {name}=={version}, requirements.txt {requirements[name]}"
        assert locked.get(name) == version, f"{env.name}: top-level {name}=={version} locked as {locked.get(name)}"
    for name, version in locked.items():
        if name in requirements:
            assert version == requirements[name], f"{env.name}: locks {name}=={version}, requirements.txt pins it"


@pytest.mark.parametrize("env", ENV_FILES, ids=lambda path: path.name)
def test_env_file_is_what_lock_py_writes(env):
    """Generated, sorted canonical names: the file is lock.py's rendering of its own locked set."""
    assert env.read_text() == lock.render(env.stem, parse_env(env)[1])


@pytest.mark.envs
@pytest.mark.parametrize("env", ENV_FILES, ids=lambda path: path.name)
def test_lock_is_closed_under_dependencies(env):
    """pip's resolver, given exactly the lock's lines, installs exactly the lock: nothing added, same versions."""
    locked = parse_env(env)[1]
    assert lock.resolve([f"{name}=={version}" for name, version in sorted(locked.items())]) == locked


@pytest.fixture(scope="session")
def light_venv(tmp_path_factory):
    """A function env file -> Python of a venv built from that env's lock alone (once per test session)."""
    root, built = tmp_path_factory.mktemp("env-venvs"), {}

    def build(env):
        if env not in built:
            venv = root / env.stem
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
            requirements = root / f"{env.stem}.txt"
            requirements.write_text("".join(f"{n}=={v}\n" for n, v in sorted(parse_env(env)[1].items())))
            pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "--disable-pip-version-check"]
            for command in (["install", "--no-deps", "--no-compile", "--quiet", "-r", str(requirements)], ["check"]):
                result = subprocess.run(pip + command, capture_output=True, text=True)
                assert result.returncode == 0, (
                    f"pip {command[0]} ({env.name}):\n{result.stdout}\n{result.stderr[-4000:]}"
                )
            built[env] = venv
        return built[env]

    return build


#: Imports the modules named on the command line; prints sys.path, the stdlib's folders and every module file.
IMPORT_ALL = textwrap.dedent(
    """
    import importlib, json, sys, sysconfig
    for name in sys.argv[1:]:
        importlib.import_module(name)
    files = sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())} - {""})
    stdlib = [sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")]
    print(json.dumps({"path": sys.path, "stdlib": stdlib, "files": files}))
    """
)


@pytest.mark.envs
@pytest.mark.parametrize("env", LIGHT_ENVS, ids=lambda path: path.name)
def test_light_env_alone_imports_what_its_rules_import(env, light_venv, tmp_path):
    modules, third = set(), set()
    for rule in rules_of(env):
        if RULE_SPECS[rule]["script"]:
            files, imported = closure(RULE_SPECS[rule]["script"])
            modules |= {module_name(file) for file in files}
            third |= imported
    assert modules and third, f"{env.name}: its rules import nothing?"
    venv, src = light_venv(env), REPO / "src"
    environment = {"PATH": os.environ["PATH"], "PYTHONPATH": str(src), "PYTHONNOUSERSITE": "1"}
    environment |= {"HOME": str(tmp_path), "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(tmp_path)}
    command = [str(venv / "bin" / "python"), "-P", "-c", IMPORT_ALL, *sorted(third), *sorted(modules)]
    result = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=tmp_path)
    assert result.returncode == 0, f"{env.name} lacks what {rules_of(env)} import:\n{result.stderr[-4000:]}"
    seen = json.loads(result.stdout)
    stdlib = [Path(path) for path in seen["stdlib"]]
    inside = (venv.resolve(), src)
    for entry in map(Path, seen["path"]):  # no site-packages but the venv's: not the driver's, not the base's
        in_stdlib = entry in stdlib or entry.parent in stdlib or entry.name == "python311.zip"  # lib-dynload, zip
        assert in_stdlib or any(entry.resolve().is_relative_to(root) for root in inside), f"{env.name}: {entry}"
    for file in map(Path, seen["files"]):
        assert any(file.resolve().is_relative_to(root) for root in inside) or (
            any(file.is_relative_to(root) for root in stdlib) and "site-packages" not in file.parts
        ), f"{env.name}: {file} was imported from outside the env"


@pytest.mark.parametrize("flag", [["--sdm", "conda"], ["--use-conda"]], ids=["sdm", "use-conda"])
def test_dry_run_lists_one_conda_env_per_package_set(tmp_path, monkeypatch, flag):
    """``snakemake -n --sdm conda`` (with a stub conda) would create each env of envs/ once, and no other; so would
    ``--use-conda``, the spelling of the README's cluster users, which Snakemake 9 still takes."""
    stub = tmp_path / "bin" / "conda"
    stub.parent.mkdir()
    stub.write_text(
        textwrap.dedent(
            """\
            #!/bin/sh
            case "$*" in
              --version) echo "conda 24.7.1";;
              "info --json") echo '{"conda_prefix": "/nonexistent/conda", "platform": "linux-64"}';;
              "config --get channel_priority --json") echo '{"get": {"channel_priority": "strict"}}';;
              *) echo "stub conda: unexpected call: conda $*" >&2; exit 1;;
            esac
            """
        )
    )
    stub.chmod(0o755)
    monkeypatch.setenv("PATH", f"{stub.parent}{os.pathsep}{os.environ['PATH']}")
    result = snakemake(tmp_path / "run", "-n", *flag, "--configfile", str(REPO / "config" / "demo.yaml"))
    created = re.findall(r"^Conda environment (\S+) will be created\.$", result.stdout + result.stderr, flags=re.M)
    assert sorted(Path(path).resolve() for path in created) == ENV_FILES, created


def test_gpu_requirements_are_the_requirements_with_tensorflows_cuda_build():
    """requirements-gpu.txt (the GPU install without conda) pins what requirements.txt pins, TensorFlow's CUDA build
    in place of tensorflow-cpu at the same version."""
    cpu = {line.split("#")[0].strip() for line in (REPO / "requirements.txt").read_text().splitlines()} - {""}
    gpu = {line.split("#")[0].strip() for line in (REPO / "requirements-gpu.txt").read_text().splitlines()} - {""}
    (version,) = [line.split("==")[1] for line in cpu if line.startswith("tensorflow-cpu==")]
    assert gpu == cpu - {f"tensorflow-cpu=={version}"} | {f"tensorflow[and-cuda]=={version}"}
