"""What the machine computes natively, for ``--precision auto``: whether its GPUs, or else its CPU, compute
bfloat16 in hardware.

- GPUs (when TensorFlow sees any): bfloat16 is native from compute capability 8.0 (Ampere) on, on every GPU.
- CPU: native with AMX-BF16 or AVX512-BF16 (the ``amx_bf16`` / ``avx512_bf16`` flags of ``/proc/cpuinfo``)
  and TensorFlow's oneDNN kernels on (``TF_ENABLE_ONEDNN_OPTS`` not 0); TensorFlow's own CPU kernels emulate
  bfloat16, slower than float32.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import tensorflow as tf

from resnet_tf.convolutions import onednn_enabled

BF16_CPU_FLAGS = {"amx_bf16": "AMX-BF16", "avx512_bf16": "AVX512-BF16"}
MIN_BF16_COMPUTE_CAPABILITY = (8, 0)
CPUINFO = "/proc/cpuinfo"


@dataclasses.dataclass(frozen=True)
class Bfloat16Support:
    """Whether bfloat16 is computed natively, and why (a phrase for the run's first lines)."""

    native: bool
    reason: str


def cpuinfo_field(name: str, cpuinfo: str = CPUINFO) -> str | None:
    """The first ``name: value`` line's value in ``cpuinfo`` (None where there is none, or no such file: not
    Linux on x86)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == name:
                    return value.strip()
    except OSError:
        pass
    return None


def cpu_flags(cpuinfo: str = CPUINFO) -> set[str]:
    """The CPU's feature flags from ``cpuinfo`` (empty where the file does not exist: not Linux on x86)."""
    return set((cpuinfo_field("flags", cpuinfo) or "").split())


def gpu_capabilities() -> list[tuple[str, tuple[int, int] | None]]:
    """``(name, compute capability)`` of each GPU TensorFlow sees (capability None when not reported)."""
    found = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        found.append((details.get("device_name", device.name), details.get("compute_capability")))
    return found


def bfloat16_support(
    gpus: Sequence[tuple[str, tuple[int, int] | None]] | None = None,
    flags: set[str] | None = None,
    onednn: bool | None = None,
) -> Bfloat16Support:
    """Whether this machine computes bfloat16 natively: its GPUs decide when it has any, else its CPU. Each
    argument defaults to what this machine reports (given, they describe another machine)."""
    gpus = gpu_capabilities() if gpus is None else gpus
    if gpus:
        slow = [
            f"{name} (compute capability {'.'.join(map(str, cc)) if cc else 'unknown'})"
            for name, cc in gpus
            if cc is None or tuple(cc) < MIN_BF16_COMPUTE_CAPABILITY
        ]
        if slow:
            return Bfloat16Support(False, f"the GPU {slow[0]} has no native bfloat16 (compute capability 8.0+)")
        return Bfloat16Support(True, f"the GPU {gpus[0][0]} computes bfloat16 natively")
    flags = cpu_flags() if flags is None else flags
    native = [label for flag, label in BF16_CPU_FLAGS.items() if flag in flags]
    if not native:
        return Bfloat16Support(False, "this CPU has neither AMX-BF16 nor AVX512-BF16")
    if not (onednn_enabled() if onednn is None else onednn):
        return Bfloat16Support(
            False, f"this CPU has {native[0]} but TensorFlow's oneDNN kernels are off (TF_ENABLE_ONEDNN_OPTS=0)"
        )
    return Bfloat16Support(True, f"this CPU computes bfloat16 natively ({', '.join(native)})")
