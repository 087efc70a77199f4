"""The device report a run prints when it starts, and the warning when a GPU/TPU build of JAX runs on CPU."""

from __future__ import annotations

import importlib.metadata
from types import SimpleNamespace

import numpy as np
import pytest

from jaxgan import sharding


def _fake(platform: str, kind: str, process: int = 0) -> SimpleNamespace:
    return SimpleNamespace(platform=platform, device_kind=kind, process_index=process)


def test_describe_devices_of_the_simulated_cpus() -> None:
    assert sharding.describe_devices(sharding.make_mesh()) == (
        "Devices: 8 (8 x cpu) in 1 process, the batch split over mesh axis 'data'")


def test_describe_devices_counts_kinds_and_processes() -> None:
    devices = [_fake("tpu", "TPU v4", p) for p in (0, 0, 1, 1)] + [_fake("gpu", "NVIDIA H200", 2)]
    mesh = SimpleNamespace(devices=np.asarray(devices, dtype=object))
    assert sharding.describe_devices(mesh) == (
        "Devices: 5 (4 x TPU v4 (tpu), 1 x NVIDIA H200 (gpu)) in 3 processes, the batch split over "
        "mesh axis 'data'")


CPUS = [_fake("cpu", "cpu")] * 2


@pytest.mark.parametrize("devices, platforms, packages, expected", [
    (CPUS, "", ["jax-cuda12-plugin", "jax-cuda12-pjrt"], "jax-cuda12-plugin, jax-cuda12-pjrt installed"),
    (CPUS, "cuda,cpu", [], "JAX_PLATFORMS=cuda,cpu"),
    (CPUS, "tpu,cpu", ["libtpu"], "libtpu installed; JAX_PLATFORMS=tpu,cpu"),
    (CPUS, "", [], None),  # A CPU build of JAX on a CPU: nothing to warn about.
    (CPUS, "cpu", ["jax-cuda12-plugin"], None),  # CPU asked for on purpose.
    ([_fake("gpu", "NVIDIA H200")], "", ["jax-cuda12-plugin"], None),  # The GPU was found.
])
def test_accelerator_fallback_warning(devices, platforms, packages, expected) -> None:
    warning = sharding.accelerator_fallback_warning(devices, platforms=platforms, packages=packages)
    if expected is None:
        assert warning is None
    else:
        assert f"({expected}) but found none, and runs on 2 CPU devices" in warning


def test_warning_reads_the_environment_and_installed_packages(monkeypatch) -> None:
    names = ["numpy", "jax_cuda12_plugin", "jax", "libtpu"]  # As some installers spell them.
    dists = [SimpleNamespace(metadata={"Name": n}) for n in names]
    monkeypatch.setattr(importlib.metadata, "distributions", lambda: dists)
    assert sharding.accelerator_packages() == ["jax-cuda12-plugin", "libtpu"]
    monkeypatch.setenv("JAX_PLATFORMS", "cuda,cpu")
    warning = sharding.accelerator_fallback_warning()  # The 8 simulated CPU devices.
    assert "(jax-cuda12-plugin, libtpu installed; JAX_PLATFORMS=cuda,cpu)" in warning
    assert "runs on 8 CPU devices" in warning
    monkeypatch.setenv("JAX_PLATFORMS", "cpu")
    assert sharding.accelerator_fallback_warning() is None


def test_main_reports_devices_and_the_warning(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sharding, "accelerator_packages", lambda: ["jax-cuda12-plugin"])
    monkeypatch.delenv("JAX_PLATFORMS", raising=False)
    sharding.report_devices()
    out, err = capsys.readouterr()
    assert out == "Devices: 8 (8 x cpu) in 1 process, the batch split over mesh axis 'data'\n"
    assert err.startswith("warning: JAX was set up for a GPU or TPU (jax-cuda12-plugin installed)")
    monkeypatch.setattr(sharding, "accelerator_packages", lambda: [])
    sharding.report_devices()
    assert capsys.readouterr().err == ""
