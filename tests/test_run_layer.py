"""The run layer (``ued.host``) on a fake trainer whose state is a dict of NumPy scalars: no
compilation, so every behaviour is checked in milliseconds.

The fake's state ``{"w": float32[]}`` counts the units run; its metrics are functions of the
unit number, so rows written by a resumed run can be compared byte for byte with an
uninterrupted one.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ued.host as H
from ued.host import files as host_files

# ----------------------------------------------------------------------------- the fake trainer


def _init():
    return {"w": np.zeros((), np.float32)}


def _fake_run(calls=None, fail_on_call=None, loss=None, entropy=None, trained=None, seeds=0):
    """``run(state, n)``; ``loss(u)``/``entropy(u)``/``trained(u)`` override the metrics of
    unit ``u``; ``seeds`` > 0 gives metrics with a leading seed axis (same values per seed,
    except seed 1 gets the overrides)."""
    calls = [] if calls is None else calls

    def run(state, n):
        calls.append(n)
        if fail_on_call is not None and len(calls) == fail_on_call:
            raise RuntimeError("killed")
        w0 = float(np.asarray(state["w"]))
        us = [int(w0) + i + 1 for i in range(n)]
        m = {
            "ppo/loss": np.array([loss(u) if loss else 0.25 * u for u in us], np.float32),
            "ppo/entropy": np.array([entropy(u) if entropy else 1.0 for u in us], np.float32),
            "trained": np.array([trained(u) if trained else 1 for u in us], np.int32),
            "nonfinite_loss": np.zeros(n, np.int32),
        }
        if seeds:
            base = {"ppo/loss": 0.25 * np.array(us, np.float32), "ppo/entropy": np.ones(n)}
            m = {
                k: np.stack([base.get(k, v)] + [v] * (seeds - 1)).astype(v.dtype)
                for k, v in m.items()
            }
        return {"w": np.float32(w0 + n)}, m

    return run


def _evaluate(state):
    return {"score": 2.0 * float(np.asarray(state["w"]))}


def _snapshot(state):
    w = float(np.asarray(state["w"]))
    return {
        "levels": {"x": np.arange(4, dtype=np.int32) + int(w)},
        "scores": np.full(4, w, np.float32),
        "valid": np.array([True, True, False, True]),
        "descriptors": np.arange(8, dtype=np.float32).reshape(4, 2) + w,
        "descriptor_names": ["a", "b"],
    }


def _train(run_dir, total, run=None, resume=False, **kw):
    host = H.HostConfig(
        num_updates=total,
        chunk_size=kw.pop("chunk_size", 2),
        checkpoint_every=kw.pop("checkpoint_every", 2),
        keep_checkpoints=kw.pop("keep_checkpoints", 3),
        eval_every=kw.pop("eval_every", 0),
        eval_at_start=kw.pop("eval_at_start", False),
        progress=False,
    )
    kw.setdefault("write", lambda m: None)
    return H.run_training(
        run_dir,
        _init,
        run or _fake_run(),
        host,
        config=kw.pop("config", {"name": "fake", "lr": 0.1}),
        resume=resume,
        **kw,
    )


def _tree(d):
    """{relative path: sha256} of every file under ``d`` (what a refused command must not touch)."""
    return {
        str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(d.rglob("*"))
        if p.is_file()
    }


def _rows(run_dir):
    return [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]


# ----------------------------------------------------------------------------- package layout


def test_host_is_a_package_with_one_job_per_module():
    import importlib

    for mod in ("files", "checkpoints", "config", "provenance", "loggers", "metrics", "lock",
                "snapshots", "loop", "run", "errors"):  # fmt: skip
        importlib.import_module(f"ued.host.{mod}")
    for name in H.__all__:
        assert getattr(H, name) is not None, name
    # the old flat names keep working
    from ued.host import HostConfig, load_run, run_training  # noqa: F401


# ----------------------------------------------------------------------------- atomic writes


@pytest.mark.parametrize("code,needle", [(errno.EACCES, "permission denied"),
                                         (errno.ENOSPC, "no space left")])  # fmt: skip
def test_atomic_write_failure_names_the_file_and_leaves_no_temporary(
    tmp_path, monkeypatch, code, needle
):
    target = tmp_path / "config.json"
    target.write_text("old")

    def fail(tmp, data):
        tmp.write_bytes(data[:1])  # a partial temporary exists when the error hits
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(host_files, "_write_new_file", fail)
    with pytest.raises(H.RunFileError) as e:
        H.write_json(target, {"a": 1})
    assert str(target) in str(e.value) and needle in str(e.value)
    assert e.value.errno == code and e.value.user_error == (code == errno.EACCES)
    assert "\n" not in str(e.value)
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]  # no temporary left
    assert target.read_text() == "old"
    # and the run loop reports the same error for its first file, leaving nothing behind
    with pytest.raises(H.RunFileError, match="config.json: cannot write"):
        _train(tmp_path / "run", 4)
    assert not list((tmp_path / "run").rglob("*tmp*")) and not (tmp_path / "run" / ".lock").exists()


def test_atomic_write_replaces_whole_files(tmp_path):
    p = H.atomic_write_bytes(tmp_path / "x.bin", b"abc")
    H.atomic_write_bytes(p, b"de")
    assert p.read_bytes() == b"de" and [q.name for q in tmp_path.iterdir()] == ["x.bin"]


# ----------------------------------------------------------------------------- checkpoints


def test_random_bytes_never_mention_unpickling_and_lost_checkpoints_say_how_to_start_over(tmp_path):
    _train(tmp_path, 2, chunk_size=2)
    ckpts = H.list_checkpoints(tmp_path)
    assert [u for u, _ in ckpts] == [0, 2]  # one before the first chunk
    rng = np.random.default_rng(0)
    payload = rng.bytes(300)
    forged = H.MAGIC + hashlib.sha256(payload).digest() + payload  # valid checksum, not ours
    for data, needle in ((rng.bytes(300), "not an openued checkpoint"),
                         (forged, "not valid checkpoint data")):  # fmt: skip
        ckpts[-1][1].write_bytes(data)
        with pytest.raises(H.CheckpointError) as e:
            H.read_state_dict(ckpts[-1][1])
        assert needle in str(e.value) and "pickl" not in str(e.value).lower()
    ckpts[0][1].write_bytes(b"\x80\x04garbage")  # a pickle header: still just "not ours"
    with pytest.raises(H.CheckpointError) as e:
        H.load_latest_checkpoint(tmp_path, warn=lambda m: None)
    msg = str(e.value)
    assert "no usable checkpoint" in msg and "start it over" in msg
    assert str(tmp_path / "config.json") in msg and "pickl" not in msg.lower()
    for _, p in ckpts:
        p.unlink()
    with pytest.raises(H.CheckpointError, match="no checkpoints.*start it over"):
        _train(tmp_path, 4, resume=True)


def test_abstract_templates_restore_typed_keys(tmp_path):
    state = {"k": jax.random.key(3), "x": jnp.arange(3.0)}
    H.save_checkpoint(tmp_path, 1, state)
    _, sd, path = H.load_latest_checkpoint(tmp_path)
    back = H.restore_state(jax.eval_shape(lambda: state), sd, path)
    np.testing.assert_array_equal(jax.random.key_data(back["k"]), jax.random.key_data(state["k"]))


# ----------------------------------------------------------------------------- warnings


def test_blowups_are_warned_once_and_recorded_in_the_rows(tmp_path):
    said = []
    run = _fake_run(
        loss=lambda u: 2e6 if u in (3, 5) else 1.0,
        entropy=lambda u: 0.0 if u == 2 else (1e-5 if u >= 4 else 1.0),
        trained=lambda u: 0 if u == 2 else 1,  # unit 2 did not train: its entropy is a placeholder
    )
    _train(tmp_path, 6, run=run, write=said.append)
    warned = [m for m in said if m.startswith("warning:")]
    assert len(warned) == 2, warned  # each printed once
    rows = _rows(tmp_path)
    assert (
        set(rows[2]["warnings"]) == {"loss_blowup"}
        and "update 3" in rows[2]["warnings"]["loss_blowup"]
    )
    assert set(rows[3]["warnings"]) == {"entropy_collapse"}
    assert all("warnings" not in rows[i] for i in (0, 1, 4, 5))
    run_ = H.load_run(tmp_path)
    assert [(u, n) for u, n, _ in run_.warnings] == [(3, "loss_blowup"), (4, "entropy_collapse")]
    assert "warnings" not in run_.metrics and run_.metrics["ppo/loss"].shape == (6,)
    # per seed: the message names the seed
    d = tmp_path / "seeds"
    _train(d, 2, run=_fake_run(loss=lambda u: 5e6, seeds=2), num_seeds=2)
    assert "(seed 1)" in _rows(d)[0]["warnings"]["loss_blowup"]


# ----------------------------------------------------------------------------- divergence


def test_divergence_names_an_existing_checkpoint_or_says_none_exists(tmp_path):
    run = _fake_run(loss=lambda u: np.nan if u == 1 else 0.5)
    with pytest.raises(H.TrainingDiverged) as e:
        _train(tmp_path / "a", 4, run=run)
    ck = tmp_path / "a" / "checkpoints" / "ckpt_000000000.msgpack"
    assert e.value.checkpoint == ck and ck.exists() and str(ck) in str(e.value)
    assert "update 1" in str(e.value) and "\n" not in str(e.value)
    assert _rows(tmp_path / "a")[-1]["ppo/loss"] is None

    def run_gone(state, n):
        import shutil

        shutil.rmtree(tmp_path / "b" / "checkpoints")
        return run(state, n)

    with pytest.raises(H.TrainingDiverged, match="No checkpoint exists") as e:
        _train(tmp_path / "b", 4, run=run_gone)
    assert e.value.checkpoint is None


# ----------------------------------------------------------------------------- lock


def test_lock_refuses_a_live_owner_and_takes_over_a_dead_one(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    with H.RunLock(d):
        assert json.loads((d / ".lock").read_text())["pid"] == os.getpid()
        with pytest.raises(H.RunLocked, match=f"process {os.getpid()}"):
            H.RunLock(d).acquire()
        before = _tree(d)
        with pytest.raises(H.RunLocked, match="in use"):
            _train(d, 2)
        assert _tree(d) == before  # refused before writing anything
    assert not (d / ".lock").exists()
    # a lock file whose owner lives (and holds no flock) is refused too
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (d / ".lock").write_text(json.dumps({"pid": sleeper.pid}))
        with pytest.raises(H.RunLocked, match=str(sleeper.pid)):
            H.RunLock(d).acquire()
    finally:
        sleeper.kill()
        sleeper.wait()
    # its owner is dead now: taken over with a warning
    said = []
    with H.RunLock(d, warn=said.append):
        assert json.loads((d / ".lock").read_text())["pid"] == os.getpid()
    assert str(sleeper.pid) in said[0] and "no longer running" in said[0]


# ----------------------------------------------------------------------------- snapshots


def test_level_snapshots_at_each_evaluation_survive_checkpoint_pruning(tmp_path):
    _train(tmp_path, 6, eval_every=2, keep_checkpoints=1, snapshot=_snapshot, evaluate=_evaluate)
    assert [u for u, _ in H.list_checkpoints(tmp_path)] == [6]
    run = H.load_run(tmp_path)
    assert [u for u, _ in run.snapshots] == [2, 4, 6]
    hist = run.level_history()
    assert [int(s["levels"]["x"][0]) for _, s in hist] == [2, 4, 6]
    assert hist[0][1]["descriptor_names"] == ["a", "b"] and hist[0][1]["descriptors"].shape == (
        4,
        2,
    )
    assert run.levels_source == "snapshot 6"
    np.testing.assert_array_equal(run.buffer_valid, [True, True, False, True])
    assert [r.get("eval/score") for r in _rows(tmp_path)] == [None, 4.0, None, 8.0, None, 12.0]


def test_load_run_asks_the_curriculum_for_its_levels(tmp_path):
    import curricula as C
    from ued import LevelSpace

    space = LevelSpace(
        name="bits4",
        placeholder=jnp.zeros(4, jnp.int32),
        sample=lambda k: jax.random.bernoulli(k, 0.5, (4,)).astype(jnp.int32),
    )
    cur = C.make_plr(space, 2, C.PLRConfig(buffer=C.LevelSamplerConfig(capacity=3)))
    assert C.make_dr(space, 2).levels is None  # DR holds no levels
    cs = jax.vmap(cur.init)(jax.random.split(jax.random.key(0), 2))  # two seeds
    buf = cs.buffer
    cs = cs.replace(
        buffer=buf.replace(
            levels=buf.levels.at[:, 1].set(1),
            filled=buf.filled.at[:, 1].set(True),
            scores=buf.scores.at[:, 1].set(0.5),
        )
    )
    H.write_json(tmp_path / "config.json", {})
    H.save_checkpoint(tmp_path, 7, {"curriculum": cs, "student": {"params": {"w": jnp.ones(2)}}})
    run = H.load_run(tmp_path, curriculum=cur)  # raw checkpoint, no template: init gives it
    assert run.levels_source == "curriculum" and run.update == 7
    assert run.buffer_levels.shape == (2, 3, 4)
    np.testing.assert_array_equal(run.buffer_valid, [[False, True, False]] * 2)
    np.testing.assert_array_equal(run.buffer_levels[:, 1], 1)
    assert run.buffer_scores[0, 1] == 0.5 and np.isnan(run.buffer_scores[0, 0])
    assert H.load_run(tmp_path).buffer_levels is None  # no snapshot, no curriculum: no guessing


# ----------------------------------------------------------------------------- metrics file


def test_bad_metrics_lines_are_warned_and_good_rows_kept(tmp_path):
    H.write_json(tmp_path / "config.json", {})
    (tmp_path / "metrics.jsonl").write_text('{"update": 1}\nnot json\n[1]\n{"update": 2}\n')
    said = []
    assert [r["update"] for r in H.read_metrics(tmp_path, warn=said.append)] == [1, 2]
    assert len(said) == 1 and "line 2, 3" in said[0] and "metrics.jsonl" in said[0]
    run = H.load_run(tmp_path, warn=said.append)
    np.testing.assert_array_equal(run.metrics["update"], [1, 2])


def test_resume_removes_only_its_own_rows_past_the_checkpoint(tmp_path):
    _train(tmp_path, 4, chunk_size=4, checkpoint_every=4)
    m = tmp_path / "metrics.jsonl"
    rows_before = m.read_text()
    # a crashed continuation wrote rows 5-6 and tore a seventh; a person added two lines
    extra = '{"note": "kept"}\nhand-written, not json\n'
    m.write_text(rows_before + extra + '{"update": 5}\n{"update": 6}\n{"upda')
    _train(tmp_path, 4, resume=True)
    assert m.read_text() == rows_before + extra
    _train(tmp_path, 6, resume=True, write=lambda s: None)
    rows = H.read_metrics(tmp_path, warn=lambda s: None)
    assert [r.get("update") for r in rows] == [1, 2, 3, 4, None, 5, 6]


# ----------------------------------------------------------------------------- schedule


def test_interrupted_and_resumed_run_writes_the_same_bytes(tmp_path):
    kw = dict(
        eval_every=4, chunk_size=2, checkpoint_every=2, evaluate=_evaluate, snapshot=_snapshot
    )
    _train(tmp_path / "a", 6, **kw)
    with pytest.raises(RuntimeError, match="killed"):
        _train(tmp_path / "b", 6, run=_fake_run(fail_on_call=2), **kw)
    assert [u for u, _ in H.list_checkpoints(tmp_path / "b")] == [0, 2]
    _train(tmp_path / "b", 6, resume=True, **kw)  # starts at 2, not a multiple of 4
    a, b = (tmp_path / d / "metrics.jsonl" for d in "ab")
    assert b.read_bytes() == a.read_bytes()
    assert [r.get("eval/score") is not None for r in _rows(tmp_path / "a")] == [
        False, False, False, True, False, True]  # fmt: skip
    assert [u for u, _ in H.list_level_snapshots(tmp_path / "b")] == [4, 6]


def test_eval_at_start_writes_the_untrained_baseline_row_once(tmp_path):
    d = tmp_path / "run"
    _train(d, 3, eval_every=2, evaluate=_evaluate, eval_at_start=True)
    rows = _rows(d)
    assert [r["update"] for r in rows] == [0, 1, 2, 3]
    assert rows[0] == {"update": 0, "eval/score": 0.0}  # the initial state, evaluated
    assert rows[2]["eval/score"] == 4.0 and rows[3]["eval/score"] == 6.0
    # a resume keeps the baseline row and does not evaluate the start again
    _train(d, 5, eval_every=2, evaluate=_evaluate, eval_at_start=True, resume=True)
    assert [r["update"] for r in _rows(d)] == [0, 1, 2, 3, 4, 5]


def test_plan_chunks_end_on_every_evaluation_with_one_length():
    assert H.plan_chunks(0, 30, 25) == [15, 15]  # one compiled length
    assert H.plan_chunks(0, 12, 4, stops=range(0, 13, 6)) == [3, 3, 3, 3]
    assert H.plan_chunks(3, 6, 6, stops=range(0, 7, 2)) == [1, 1, 1]
    assert H.plan_chunks(0, 1001, 25, stops=range(0, 1002, 250)) == [25] * 40 + [1]
    assert H.plan_chunks(5, 5, 3) == []


# ----------------------------------------------------------------------------- resume rule


def test_resume_rule_names_the_field_and_refuses_before_writing(tmp_path):
    H.check_resume({"lr": 0.1, "num_updates": 4}, {"lr": 0.1, "num_updates": 8}, {"num_updates"})
    with pytest.raises(H.ResumeError) as e:
        H.check_resume({"lr": 0.1, "n": 1}, {"lr": 0.2, "n": 1}, {"n"}, describe=lambda k: f"--{k}")
    assert str(e.value).startswith("cannot change --lr when resuming") and "0.1" in str(e.value)
    _train(tmp_path, 4, chunk_size=4, checkpoint_every=4)
    before = _tree(tmp_path)
    with pytest.raises(H.ResumeError, match="cannot change lr"):
        _train(tmp_path, 6, resume=True, config={"name": "fake", "lr": 0.5}, may_change={"x"})
    with pytest.raises(H.ResumeError, match="at least 4 updates"):
        _train(tmp_path, 3, resume=True)
    with pytest.raises(H.RunExists, match="already holds a run"):
        _train(tmp_path, 4)
    assert _tree(tmp_path) == before
    # an allowed change is stored
    _train(tmp_path, 4, resume=True, config={"name": "fake", "lr": 0.1, "x": 1}, may_change={"x"})
    assert H.read_config(tmp_path)["x"] == 1


def test_config_file_errors_name_the_file(tmp_path):
    for text, needle in (
        ("", "empty file"),
        ("{oops", "not valid JSON (line 1"),
        ("[1]", "expected a JSON object"),
    ):
        (tmp_path / "config.json").write_text(text)
        with pytest.raises(H.ConfigFileError, match="config.json: " + needle.replace("(", r"\(")):
            H.read_config(tmp_path)
    with pytest.raises(H.ConfigFileError, match="not a run directory"):
        H.read_config(tmp_path / "nope")
