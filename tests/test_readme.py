"""The README's notebook example runs as written, and its two opening commands stay in sync with CI."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_readme_opens_with_two_commands_matching_ci():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S).group(1).strip().splitlines()
    assert len(block) == 2, "the README must open with exactly two commands"
    assert "openued train" in block[0]
    test_cmd = block[1].split("&&")[-1].strip().replace(".venv/bin/", "")
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_cmd in ci, f"CI must run the README's test command: {test_cmd!r}"


def test_readme_notebook_example_runs(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 2, "the README shows a level space, then an env of one's own"
    monkeypatch.chdir(tmp_path)  # the second block writes runs/gap
    ns: dict = {}
    for code in blocks:
        exec(compile(code, "README.md", "exec"), ns)
    rows = (tmp_path / "runs" / "gap" / "metrics.jsonl").read_text().splitlines()
    assert len(rows) == 2 and (tmp_path / "runs" / "gap" / "checkpoints").is_dir()
    # the run written from Python is evaluated and plotted by the command line
    import json

    from experiments import cli

    assert cli.main(["eval", "runs/gap"]) == 0
    res = json.loads((tmp_path / "runs" / "gap" / "eval.json").read_text())
    assert len(res["eval/widths_solve_rate"]) == 2 and res["update"] == 2  # per seed
    assert cli.main(["plot", "runs/gap"]) == 0
    assert (tmp_path / "runs" / "gap" / "plots" / "learning_curves.png").stat().st_size > 1000
    metrics, seeds = ns["metrics"], ns["seeds"]
    assert metrics["update"].shape == (2,)
    import jax

    leaves = jax.tree.leaves(seeds[1])
    assert all(x.shape[0] == 2 for x in leaves)
