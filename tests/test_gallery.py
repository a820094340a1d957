"""``openued gallery``: every ``openued train`` command it issues is a valid one, at both sizes.

The gallery takes minutes even with ``--small``, so the test replaces the command runner with
one that parses and validates each ``train`` command exactly as ``openued train`` does (preset,
options, config), without training; the other commands are only recorded."""

from __future__ import annotations

import pytest

from experiments import gallery
from experiments.kinds import kinds


@pytest.mark.parametrize("small", [True, False], ids=["small", "full"])
def test_gallery_train_commands_are_valid(monkeypatch, tmp_path, small):
    issued = []

    def check(*argv):
        argv = [str(a) for a in argv]
        issued.append(argv)
        if argv[0] == "train":
            preset, rest = argv[1], argv[1:]
            kind = next(k for k in kinds().values() if preset in k.presets() and not k.group)
            _, overrides = kind.train_options(preset, rest).parse(rest)
            kind.make_config(preset, overrides)  # raises ConfigError on a bad value

    monkeypatch.setattr(gallery, "_openued", check)
    argv = [str(tmp_path / "gal"), *(["--small"] if small else [])]
    assert gallery.main(argv) == 0
    trained = [a[1] for a in issued if a[0] == "train"]
    assert {"maze-dr", "maze-robust-plr", "maze-accel", "maze-paired", "gamble-samplr"} <= set(
        trained
    )
    assert any(a[:2] == ["hades", "train"] for a in issued)
    assert any(a[:2] == ["synth", "train"] for a in issued)
    assert (tmp_path / "gal" / "index.md").exists()
