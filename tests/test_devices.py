"""Runs over several devices (``ued.host.devices``): the one sharding rule and its refusals
(default suite, one device), and sharded runs against unsharded ones on 4 forced host devices
(marker ``multidevice``: its own CI step, in a subprocess so that the forced device count
never leaks into the rest of the suite)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ued.host import DevicePlan, describe_sharding, plan_devices, resolve_devices
from ued.options import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_auto_takes_the_most_devices_that_divide_the_axis():
    assert resolve_devices(None, 8, "--num-seeds", available=4) == 4
    assert resolve_devices(None, 6, "--num-seeds", available=4) == 3
    assert resolve_devices(None, 5, "--num-seeds", available=4) == 1
    assert resolve_devices(None, 1, "--num-seeds", available=8) == 1
    assert resolve_devices(None, 3, "--num-seeds", available=1) == 1


def test_a_count_that_does_not_divide_names_both_numbers():
    with pytest.raises(ConfigError, match=r"--devices 4 does not divide --num-seeds 6"):
        resolve_devices(4, 6, "--num-seeds", available=4)
    with pytest.raises(ConfigError, match=r"--devices 2 does not divide --population 5"):
        resolve_devices(2, 5, "--population", available=4)
    with pytest.raises(ConfigError, match=r"--devices: 8 requested but this process sees 4"):
        resolve_devices(8, 8, "--num-seeds", available=4)
    with pytest.raises(ConfigError, match=r"--devices: must be >= 1, got 0"):
        resolve_devices(0, 8, "--num-seeds", available=4)


def test_the_rule_shards_seeds_first_then_the_population():
    # one local device here: the plan is always one device, but the axis it would shard is named
    assert plan_devices(None, 4, population=64) == DevicePlan(1, "", 4)
    assert plan_devices(None, 1, population=64) == DevicePlan(1, "", 64)
    assert plan_devices(1, 1) == DevicePlan(1, "", 1)
    with pytest.raises(ConfigError, match="--devices 2 does not divide --num-seeds 1"):
        resolve_devices(2, 1, "--num-seeds", available=2)
    assert "nothing sharded" in describe_sharding(DevicePlan(1, "", 1))
    line = describe_sharding(DevicePlan(4, "seeds", 8))
    assert "4" in line and "8 seeds, 2 per device" in line


def test_cli_refuses_more_devices_than_the_process_sees(tmp_path, capsys):
    import jax

    from experiments import cli

    n = jax.local_device_count() + 1
    rc = cli.main(["train", "maze-dr", "--num-seeds", str(n), "--devices", str(n),
                   "--num-updates", "1", "--out", str(tmp_path / "run"), "--progress", "false"])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2, err
    assert f"--devices: {n} requested but this process sees {n - 1}" in err
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


@pytest.fixture(scope="module")
def four_devices(tmp_path_factory):
    """The comparisons of ``tests/_multidevice.py``, run once on 4 forced host devices."""
    root = tmp_path_factory.mktemp("multidevice")
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "_multidevice.py"), str(root)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


@pytest.mark.multidevice
def test_seed_sharded_run_spans_four_devices(four_devices):
    assert four_devices["devices"] == 4
    assert four_devices["spans_state"] == 4
    assert four_devices["spans_metrics"] == 4
    assert four_devices["one_device_run_spans"] == 1


@pytest.mark.multidevice
def test_seed_sharded_run_matches_the_unsharded_one(four_devices):
    rows, state = four_devices["seeds_rows"], four_devices["seeds_state"]
    assert rows["exact_keys_differ"] == [], rows  # branches, updates, env steps
    assert rows["allclose"], rows
    assert state["ints_equal"], state  # levels, buffer slots, counters
    assert state["allclose"], state


@pytest.mark.multidevice
def test_save_on_four_devices_resume_on_one_or_four(four_devices):
    same = four_devices["resume_on_4_state"]
    assert same["bitwise"], same
    assert four_devices["resume_on_4_rows"]["equal"]
    other = four_devices["resume_on_1_state"]
    assert other["ints_equal"] and other["allclose"], other
    assert four_devices["resume_on_1_rows"]["allclose"]
    assert four_devices["resume_on_1_rows"]["exact_keys_differ"] == []


@pytest.mark.multidevice
def test_population_sharded_es_matches_one_device(four_devices):
    rows, state = four_devices["population_rows"], four_devices["population_state"]
    assert rows["allclose"] and rows["exact_keys_differ"] == [], rows
    assert state["ints_equal"] and state["allclose"], state
