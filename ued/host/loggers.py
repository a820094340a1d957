"""Where a run's messages and scalars go: the warning channel and the optional loggers
(TensorBoard, Weights & Biases). Host only.

:class:`WarningChannel` is the run layer's one way to warn: a warning (by name) is printed once
and kept until the host loop records it in the metrics row of the unit it belongs to, under
``"warnings": {name: message}``, so a notebook sees it next to the numbers.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


class WarningChannel:
    """Print each named warning once; hand pending ones to the next metrics row.

    ``warn(name, message)`` prints ``warning: message`` through ``write`` the first time
    ``name`` is seen (later calls with the same name are ignored) and returns whether it did.
    ``take()`` returns and clears the ``{name: message}`` not yet recorded; ``mark_seen``
    silences names already recorded (e.g. in the rows a resumed run keeps).
    """

    def __init__(self, write: Callable[[str], None] | None = None):
        self._write = write or _stderr
        self._seen: set[str] = set()
        self._pending: dict[str, str] = {}

    def warn(self, name: str, message: str) -> bool:
        if name in self._seen:
            return False
        self._seen.add(name)
        self._pending[name] = message
        self._write(f"warning: {message}")
        return True

    def mark_seen(self, names: Iterable[str]) -> None:
        self._seen.update(names)

    def take(self) -> dict[str, str]:
        out, self._pending = self._pending, {}
        return out

    def __call__(self, message: str) -> None:
        """A one-off warning (its text is its name), for APIs that take ``warn(message)``."""
        self.warn(message, message)


def _scalars(row: dict, unit: str) -> dict[str, float]:
    out = {}
    for k, v in row.items():
        if k == unit:
            continue
        if isinstance(v, list):
            nums = [x for x in v if x is not None]  # None: a seed's NaN/inf
            if not nums or not all(isinstance(x, int | float) for x in nums):
                continue
            v = float(np.mean(nums))
        if isinstance(v, int | float) and not isinstance(v, bool):
            out[k] = float(v)
    return out


class Loggers:
    """The optional scalar loggers named in ``backends`` (``"tensorboard"``, ``"wandb"``).

    A backend that is not installed is an error naming the package to install.
    """

    def __init__(
        self, run_dir: Path, backends: tuple[str, ...], config: dict, unit: str = "update"
    ):
        self.tb = None
        self.wandb = None
        self.unit = unit
        for b in backends:
            if b == "tensorboard":
                try:
                    from tensorboardX import SummaryWriter
                except ImportError:
                    try:
                        from torch.utils.tensorboard import SummaryWriter
                    except ImportError:
                        raise RuntimeError(
                            "--log tensorboard needs tensorboardX (pip install tensorboardX) "
                            "or torch"
                        ) from None
                self.tb = SummaryWriter(str(run_dir / "tensorboard"))
            elif b == "wandb":
                try:
                    import wandb
                except ImportError:
                    raise RuntimeError("--log wandb needs wandb (pip install wandb)") from None
                self.wandb = wandb.init(config=config, dir=str(run_dir), name=run_dir.name)
            elif b:
                raise ValueError(f"unknown log backend {b!r}; allowed: tensorboard, wandb")

    def log(self, row: dict) -> None:
        """Send the numeric entries of a metrics row (per-seed lists averaged)."""
        if self.tb is None and self.wandb is None:
            return
        step = row[self.unit]
        scalars = _scalars(row, self.unit)
        if self.tb is not None:
            for k, v in scalars.items():
                self.tb.add_scalar(k, v, step)
        if self.wandb is not None:
            self.wandb.log(scalars, step=step)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()
        if self.wandb is not None:
            self.wandb.finish()


__all__ = ["Loggers", "WarningChannel"]
