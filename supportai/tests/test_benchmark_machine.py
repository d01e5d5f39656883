"""Benchmark results say which CPU measured them (supportai/benchmarks.py)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from supportai.benchmarks import REGISTRY, cpu_description, machine_info

ZEN3 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13
flags\t\t: fpu sse2 avx fma avx2 bmi2 sha_ni

processor\t: 1
model name\t: AMD EPYC 7B13
flags\t\t: fpu sse2 avx fma avx2 bmi2 sha_ni
"""
SAPPHIRE_RAPIDS_FLAGS = "avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8"


def test_the_model_name_and_the_model_relevant_flags_are_read(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(ZEN3)
    assert cpu_description(cpuinfo) == {"cpu_model": "AMD EPYC 7B13", "cpu_flags": ["avx2"]}


def test_bf16_and_amx_units_are_listed_in_a_fixed_order(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"model name\t: Intel(R) Xeon(R) Platinum 8481C\nflags\t\t: {SAPPHIRE_RAPIDS_FLAGS}\n")
    assert cpu_description(cpuinfo)["cpu_flags"] == [
        "avx2",
        "avx512f",
        "avx512_vnni",
        "avx512_bf16",
        "amx_tile",
        "amx_bf16",
    ]


def test_no_cpuinfo_describes_nothing(tmp_path):
    assert cpu_description(tmp_path / "missing") == {}


def test_the_machine_description_names_this_cpu():
    machine = machine_info()
    assert machine["cpus"] >= 1
    assert machine["cpu_model"]  # CI and development run on Linux, which has /proc/cpuinfo


def test_run_benchmarks_refuses_an_output_folder_it_cannot_create_before_running(tmp_path, monkeypatch):
    # given a file where the results folder should be
    runs: list[str] = []

    def tiny() -> dict[str, list[str]]:
        runs.append("tiny")
        return {"rows": []}

    monkeypatch.setitem(REGISTRY, "tiny", tiny)
    (tmp_path / "results").write_text("not a folder")
    # when / then
    with pytest.raises(CommandError, match=r"--out: the folder .*results could not be created"):
        call_command("run_benchmarks", "--only", "tiny", "--out", str(tmp_path / "results"))
    assert runs == []
