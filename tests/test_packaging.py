"""Tests of the installable project: pyproject.toml installs the packages and the console commands."""

import os
import shutil
import subprocess
import sys
import sysconfig

import pytest
import tomllib

from tests.helpers import ROOT

COMMANDS = (
    "resnet-tf-train",
    "resnet-tf-evaluate",
    "resnet-tf-export",
    "resnet-tf-predict",
    "resnet-tf-import-tf1",
    "resnet-tf-make-csv",
)


def requirement_lines(section: str) -> list[str]:
    """The requirements of one ``# Section`` of requirements.txt, comments dropped."""
    lines, current = [], None
    with open(os.path.join(ROOT, "requirements.txt"), encoding="utf-8") as f:
        for raw in f:
            text = raw.strip()
            if text.startswith("# ") and text[2:].split()[0] in ("Runtime", "Tests"):
                current = text[2:].split()[0]
            elif text and not text.startswith("#") and current == section:
                lines.append(text.split("#")[0].strip())
    return lines


def test_pyproject_asks_for_what_requirements_txt_installs():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    assert project["dependencies"] == requirement_lines("Runtime")
    assert project["optional-dependencies"]["test"] == requirement_lines("Tests")
    with open(os.path.join(ROOT, "requirements-profile.txt"), encoding="utf-8") as f:
        profile = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    assert project["optional-dependencies"]["profile"] == profile
    assert set(project["scripts"]) == set(COMMANDS)


SKIPPED_AT_ROOT = {".venv", ".git", "runs", "exports", "build", ".pytest_cache"}


def source_copy(target) -> None:
    """The project's files as a fresh clone has them (no virtualenv, run folders or build output)."""

    def ignored(folder, names):
        at_root = os.path.abspath(folder) == os.path.abspath(ROOT)
        return {n for n in names if n == "__pycache__" or n.endswith(".egg-info") or (at_root and n in SKIPPED_AT_ROOT)}

    shutil.copytree(ROOT, target, ignore=ignored)


def fresh_venv(folder) -> tuple[str, str]:
    """A new virtual environment whose dependencies are this environment's (a .pth file puts its
    site-packages on the path: nothing is downloaded for them); returns its bin folder and site-packages."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    python = os.path.join(folder, "bin", "python")
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with open(os.path.join(site, "outer_environment.pth"), "w", encoding="utf-8") as f:
        f.write(sysconfig.get_paths()["purelib"] + "\n")
    return os.path.join(folder, "bin"), site


def installed_top_level(site: str, distribution: str) -> set[str]:
    """The top-level names a distribution put into ``site`` (from its RECORD)."""
    record = next(
        os.path.join(site, d, "RECORD")
        for d in os.listdir(site)
        if d.startswith(distribution + "-") and d.endswith(".dist-info")
    )
    with open(record, encoding="utf-8") as f:
        paths = [line.split(",")[0] for line in f]
    return {p.split("/")[0] for p in paths if not p.startswith("..") and ".dist-info" not in p.split("/")[0]}


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """The project installed from a copy of its source into a fresh virtual environment, beside Hugging
    Face's ``evaluate`` (from PyPI, without its dependencies): ``(bin folder, site-packages)``."""
    folder = tmp_path_factory.mktemp("installed")
    source_copy(folder / "source")
    bin_folder, site = fresh_venv(folder / "venv")
    pip = [os.path.join(bin_folder, "pip"), "install", "--no-deps", "-q"]
    hugging_face = subprocess.run([*pip, "evaluate"], capture_output=True, text=True, timeout=300)
    assert hugging_face.returncode == 0, hugging_face.stderr[-3000:]
    ours = subprocess.run(
        [*pip, "--no-build-isolation", str(folder / "source")], capture_output=True, text=True, timeout=300
    )
    assert ours.returncode == 0, ours.stderr[-3000:]
    return bin_folder, site


@pytest.mark.slow
def test_installed_beside_a_package_named_evaluate_both_work_and_only_two_names_are_taken(installed, tmp_path):
    bin_folder, site = installed
    assert installed_top_level(site, "resnet_tf") == {"resnet_tf", "data_utils"}
    python = os.path.join(bin_folder, "python")
    found = subprocess.run(
        [python, "-c", "import importlib.util; print(importlib.util.find_spec('evaluate').origin)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert found == os.path.join(site, "evaluate", "__init__.py")  # Hugging Face's package, not a module of ours
    with open(found, encoding="utf-8") as f:
        assert "EvaluationModule" in f.read()
    helps = {}
    for command in COMMANDS:  # run from another folder than the source: the installed modules must be found
        done = subprocess.run(
            [os.path.join(bin_folder, command), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0 and done.stdout.startswith("usage: "), (command, done.stderr[-2000:])
        helps[command] = done.stdout
    assert "--image-dir" in helps["resnet-tf-train"] and "--val-fraction" in helps["resnet-tf-make-csv"]
    assert "--csv" in helps["resnet-tf-evaluate"]


# A user's mistake for each entry point: its three spellings must answer it alike.
MISTAKES = {
    "train": ["--train-csv", "missing.csv", "--val-csv", "missing.csv", "--logdir", "{tmp}/run"],
    "evaluate": ["--logdir", "{tmp}/no_run", "--csv", "val.csv"],
    "export": ["--logdir", "{tmp}/no_run", "--out", "{tmp}/out"],
    "predict": ["--logdir", "{tmp}/no_run", "photo.jpg"],
    "import_tf1": [
        "--checkpoint",
        "{tmp}/nothing",
        "--logdir",
        "{tmp}/imported",
        "--image-size",
        "40",
        "--num-classes",
        "5",
    ],
    "make_csv": ["{tmp}/no_folder", "--out", "{tmp}/csv"],
}


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(MISTAKES))
def test_every_entry_point_answers_alike_however_it_is_started(installed, script, tmp_path):
    bin_folder, _ = installed
    args = [a.format(tmp=tmp_path) for a in MISTAKES[script]]
    module = "data_utils.make_csv" if script == "make_csv" else f"resnet_tf.commands.{script}"
    ways = {
        "installed": [os.path.join(bin_folder, "resnet-tf-" + script.replace("_", "-"))],
        "module": [sys.executable, "-m", module],
    }
    if script != "make_csv":
        ways["script"] = [sys.executable, os.path.join(ROOT, f"{script}.py")]
    answers = {}
    for way, command in ways.items():
        done = subprocess.run(
            [*command, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"},
        )
        answers[way] = (done.returncode, done.stdout, done.stderr)
    first = next(iter(answers.values()))
    assert first[0] == 2 and first[2].startswith("error: "), first
    assert all(answer == first for answer in answers.values()), answers
