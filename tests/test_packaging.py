"""Tests of the installable project: pyproject.toml installs the packages and the console commands."""

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib

from conftest import ROOT

COMMANDS = ("resnet-tf-train", "resnet-tf-evaluate", "resnet-tf-export", "resnet-tf-predict", "resnet-tf-import-tf1",
            "resnet-tf-make-csv")


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


def test_pip_install_gives_the_commands(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "runs", "__pycache__", "*.egg-info",
                                                                "build", ".pytest_cache"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # The dependencies are this environment's (no download): a .pth file puts its site-packages on the path.
    site = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    with open(os.path.join(site, "outer_environment.pth"), "w", encoding="utf-8") as f:
        f.write(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-deps", "--no-build-isolation", "-q", str(source)],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-3000:]
    outside = tmp_path / "elsewhere"  # not the source folder: the installed modules must be found
    outside.mkdir()
    helps = {}
    for command in COMMANDS:
        done = subprocess.run([str(venv / "bin" / command), "--help"], cwd=outside, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0 and done.stdout.startswith("usage: "), (command, done.stderr[-2000:])
        helps[command] = done.stdout
    assert "--image-dir" in helps["resnet-tf-train"] and "--val-fraction" in helps["resnet-tf-make-csv"]
