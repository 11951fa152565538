"""Examples in the README and docs run, and the documented commands exist."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path: Path, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


PY_BLOCKS = [(p, i, code) for p in DOCS for i, code in enumerate(blocks(p, "python"))]


@pytest.mark.parametrize("path,index,code", PY_BLOCKS, ids=[f"{p.name}#{i}" for p, i, _ in PY_BLOCKS])
def test_python_examples_run(path, index, code, monkeypatch):
    monkeypatch.chdir(ROOT)
    exec(compile(code, f"{path.name}#{index}", "exec"), {"__name__": "__doc_example__"})


def test_readme_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    first, second = blocks(ROOT / "README.md", "bash")[:2]
    assert text.index(first) < text.index("## ")
    assert first.strip().startswith("bash scripts/setup.sh && .venv/bin/loyaltysim ")
    assert second.strip() == "bash scripts/setup.sh --test && .venv/bin/python -m pytest -q"
    ci = (ROOT / ".ci" / "run").read_text()
    assert second.strip() in ci


def test_documented_cli_commands_parse():
    """Every `.venv/bin/loyaltysim ...` line in the docs names a real command with real options."""
    exe = Path(sys.executable).with_name("loyaltysim")
    seen = set()
    for path in DOCS:
        for block in blocks(path, "bash"):
            for line in block.splitlines():
                m = re.search(r"\.venv/bin/loyaltysim (\w+)", line)
                if not m or m.group(1) in seen:
                    continue
                seen.add(m.group(1))
                proc = subprocess.run([str(exe), m.group(1), "--help"], capture_output=True, text=True, timeout=120)
                assert proc.returncode == 0, (path.name, line, proc.stderr)
                options = [t.split("=")[0] for t in shlex.split(line.split("#")[0]) if t.startswith("--")]
                for opt in options:
                    assert opt in proc.stdout, (path.name, opt)
    assert "run" in seen


def test_model_doc_parameter_table_is_current():
    from loyaltysim.cli import parameter_markdown
    from loyaltysim.scenario import parameter_table

    text = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    table = text.split("<!-- params:begin -->", 1)[1].split("<!-- params:end -->", 1)[0].strip()
    assert table == parameter_markdown(parameter_table()), "regenerate with: loyaltysim params --markdown"
