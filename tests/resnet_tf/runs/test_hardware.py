"""Tests of what decides ``--precision auto``: the GPUs' compute capability, else the CPU's flags and oneDNN."""

from resnet_tf.runs.hardware import bfloat16_support, cpu_flags, cpuinfo_field

AMX_CPUINFO = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f amx_bf16 amx_tile\nbugs\t\t: spectre_v1\n"


def test_cpu_flags_are_read_from_cpuinfo_and_absent_without_it(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(AMX_CPUINFO)
    assert cpu_flags(str(cpuinfo)) == {"fpu", "sse2", "avx2", "avx512f", "amx_bf16", "amx_tile"}
    assert cpu_flags(str(tmp_path / "missing")) == set()


def test_a_cpuinfo_field_is_its_first_lines_value(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nprocessor\t: 1\nmodel name\t: other\n")
    assert cpuinfo_field("model name", str(cpuinfo)) == "AMD EPYC"
    assert cpuinfo_field("flags", str(cpuinfo)) is None and cpuinfo_field("model name", str(tmp_path / "x")) is None


def test_a_cpu_is_native_with_amx_or_avx512_bf16_and_onednn_on():
    amx = bfloat16_support(gpus=[], flags={"avx512f", "amx_bf16"}, onednn=True)
    assert amx.native and amx.reason == "this CPU computes bfloat16 natively (AMX-BF16)"
    both = bfloat16_support(gpus=[], flags={"avx512_bf16", "amx_bf16"}, onednn=True)
    assert both.reason == "this CPU computes bfloat16 natively (AMX-BF16, AVX512-BF16)"
    avx2 = bfloat16_support(gpus=[], flags={"avx2", "fma"}, onednn=True)
    assert not avx2.native and avx2.reason == "this CPU has neither AMX-BF16 nor AVX512-BF16"
    off = bfloat16_support(gpus=[], flags={"avx512_bf16"}, onednn=False)
    assert not off.native and "TF_ENABLE_ONEDNN_OPTS=0" in off.reason


def test_gpus_decide_when_there_are_any_and_every_one_must_be_ampere_or_later():
    cpu = {"amx_bf16"}
    ampere = bfloat16_support(gpus=[("NVIDIA A100", (8, 0)), ("NVIDIA A100", (8, 0))], flags=set(), onednn=True)
    assert ampere.native and ampere.reason == "the GPU NVIDIA A100 computes bfloat16 natively"
    mixed = bfloat16_support(gpus=[("NVIDIA A100", (8, 0)), ("Tesla T4", (7, 5))], flags=cpu, onednn=True)
    assert not mixed.native and mixed.reason == (
        "the GPU Tesla T4 (compute capability 7.5) has no native bfloat16 (compute capability 8.0+)"
    )
    assert not bfloat16_support(gpus=[("some GPU", None)], flags=cpu, onednn=True).native
