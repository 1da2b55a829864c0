"""Screenshots of TensorBoard's tabs for a folder of runs, taken with headless Chromium, for the README.

    python docs/make_screenshots.py --logdir runs --out docs/screenshots

Starts ``tensorboard`` (the one beside this interpreter) on a free port of 127.0.0.1, opens each tab
(Time Series, Scalars, Images, Text, HParams) in Chromium without a display, writes one PNG per tab, and
stops TensorBoard. Needs Chromium (``apt-get install chromium``); nothing else beyond the project's
requirements. The README's screenshots come from ``python train.py --demo --logdir runs/demo``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

TABS = {"timeseries": "timeseries", "scalars": "scalars", "images": "images", "text": "text", "hparams": "hparams"}
# Chromium as a tool: no first-run pages, no connections of its own, no sandbox (run as root in CI).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_tensorboard(logdir: str, port: int) -> subprocess.Popen:
    """TensorBoard on ``logdir``, once it answers."""
    tensorboard = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    proc = subprocess.Popen(
        [tensorboard, "--logdir", logdir, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/data/runs", timeout=5).read()
            time.sleep(3)  # let it read the event files
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("tensorboard did not start")


def screenshot(url: str, path: str, size: tuple[int, int], chromium: str) -> None:
    """One PNG of the page at ``url``, once its scripts have run for a while."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={size[0]},{size[1]}",
                "--virtual-time-budget=20000",
                f"--screenshot={path}",
                url,
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )


def main() -> int:
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logdir", required=True, help="the folder of runs TensorBoard shows")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "screenshots"))
    parser.add_argument("--size", default="1400x1000", help="the browser window, WIDTHxHEIGHT")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        parser.error("needs Chromium: apt-get install chromium")
    size = tuple(int(v) for v in args.size.split("x"))
    os.makedirs(args.out, exist_ok=True)
    port = free_port()
    proc = start_tensorboard(args.logdir, port)
    try:
        for name, tab in TABS.items():
            path = os.path.join(args.out, f"{name}.png")
            screenshot(f"http://127.0.0.1:{port}/#{tab}", path, size, chromium)
            print("wrote", path)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
