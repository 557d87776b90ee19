"""Every notebook in notebooks/ runs top to bottom in a real Jupyter kernel
(this venv's python) on the emulator, from a temporary copy (no outputs are
written back), with no error."""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: per notebook; each is meant to take well under a minute on 2 cores
TIMEOUT = 180

pytestmark = pytest.mark.notebook


def kernel_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env.pop("SWITCHLAB_SAMPLE_RUN", None)
    return env


def test_notebooks_are_stored_without_outputs():
    assert [p.name for p in NOTEBOOKS] == ["01_quickstart.ipynb", "02_load_test.ipynb",
                                           "03_failure_analysis.ipynb", "04_compare_runs.ipynb",
                                           "05_functional_tests.ipynb",
                                           "06_outbound_ivr.ipynb"]
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name
        # the one cell to change for real FreeSWITCH
        marked = [c for c in nb["cells"] if c["cell_type"] == "code"
                  and "FS_HOSTS = None" in "".join(c["source"])]
        assert len(marked) == 1, path.name
        assert "Point at real FreeSWITCH here" in "".join(marked[0]["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    work = tmp_path / "notebooks"
    work.mkdir()
    copy = work / path.name
    shutil.copy(path, copy)
    before = path.read_bytes()
    nb = nbformat.read(copy, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=TIMEOUT, kernel_name="python3", allow_errors=False,
        resources={"metadata": {"path": str(work)}})
    # the venv's python, whatever `python` is on PATH
    client.kernel_manager_class = _venv_kernel_manager()
    t0 = time.monotonic()
    client.execute(env=kernel_env(), cwd=str(work))
    elapsed = time.monotonic() - t0
    print(f"{path.name}: {elapsed:.1f} s")
    nbformat.write(nb, tmp_path / f"executed-{path.name}")   # kept for inspection
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name} drew no plot"
    assert path.read_bytes() == before            # the stored notebook is untouched


def _venv_kernel_manager():
    from jupyter_client.manager import KernelManager

    class VenvKernelManager(KernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            cmd = super().format_kernel_cmd(extra_arguments)
            if cmd and Path(cmd[0]).name.startswith("python"):
                cmd[0] = sys.executable
            return cmd

    return VenvKernelManager
