"""Benchmark registry for ``manage.py run_benchmarks`` (``make bench``).

Each app registers callables with ``@benchmark("name")``; a benchmark returns a JSON-serialisable
dict whose ``rows`` (a list of flat dicts) are printed as a table. Results are written to
``bench-results/<name>.json`` together with a description of the machine.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BenchmarkResult = dict[str, Any]
BenchmarkFn = Callable[[], BenchmarkResult]
REGISTRY: dict[str, BenchmarkFn] = {}


class BenchmarkDataMissing(Exception):
    """A benchmark's dataset is missing or cannot be read (``supportai.datasets``):
    ``run_benchmarks`` says so in one line and goes on with the other benchmarks."""


def benchmark(name: str) -> Callable[[BenchmarkFn], BenchmarkFn]:
    def register(fn: BenchmarkFn) -> BenchmarkFn:
        REGISTRY[name] = fn
        return fn

    return register


# The CPU features that decide how fast the local model runs: AVX2 and AVX-512 for fp32 products,
# AVX512-BF16 and AMX for bf16 passages (knowledge/providers/local.py), VNNI for int8.
MODEL_CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")
CPUINFO = Path("/proc/cpuinfo")


def cpu_description(cpuinfo: Path = CPUINFO) -> dict[str, Any]:
    """The CPU's model name and which of ``MODEL_CPU_FLAGS`` it has, read from ``cpuinfo`` (Linux);
    empty where there is no such file. The development machine changes between sessions, so every
    figure records what it was measured on."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        fields.setdefault(name.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    return {"cpu_model": fields.get("model name", ""), "cpu_flags": [flag for flag in MODEL_CPU_FLAGS if flag in flags]}


def machine_info() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        **cpu_description(),
    }


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``samples`` (fraction in 0..1): the smallest sample with at least
    ``fraction`` of them at or below it, the ``ceil(fraction * n)``-th in order."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def time_calls(fn: Callable[[], object], *, repeat: int, warmup: int = 5) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(percentile(samples, 0.5), 3),
        "p95_ms": round(percentile(samples, 0.95), 3),
        "mean_ms": round(statistics.fmean(samples), 3),
        "n": repeat,
    }


@benchmark("healthz")
def healthz_benchmark() -> BenchmarkResult:
    """Latency of the health endpoint in-process (database, cache, channel layer, broker round trips)."""
    from django.test import Client

    client = Client(HTTP_HOST="localhost")

    def probe() -> None:
        response = client.get("/healthz")
        if response.status_code != 200:
            raise RuntimeError(f"/healthz answered {response.status_code}: {response.content[:200]!r}")

    figures = time_calls(probe, repeat=200)
    return {"rows": [{"endpoint": "/healthz", **figures}]}
