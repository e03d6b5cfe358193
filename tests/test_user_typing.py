"""Issue 12.5: the README's examples, as a user's script, pass `mypy --strict` (without the pydantic
plugin) and pyright in strict mode against the committed package."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import GENERATED, ROOT

SECTIONS = ("## Using the generated client", "## Logging a shopper in")
PRELUDE = "APP_TOKEN: str = 'app-token'\n"


def readme_examples() -> str:
    """The Python blocks of the README sections users copy first, as one script (each in a function,
    so that their names do not clash)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = []
    for heading in SECTIONS:
        section = text.split(heading, 1)[1].split("\n## ", 1)[0]
        blocks.extend(re.findall(r"```python\n(.*?)```", section, flags=re.S))
    assert len(blocks) >= 2, "the README's examples moved: update SECTIONS"
    script = [PRELUDE]
    for index, block in enumerate(blocks):
        imports = [line for line in block.splitlines() if line.startswith(("import ", "from "))]
        body = [line for line in block.splitlines() if not line.startswith(("import ", "from "))]
        script.extend(imports)
        script.append(f"\n\ndef example_{index}() -> None:")
        script.extend(f"    {line}" if line.strip() else "" for line in body)
    return "\n".join(script) + "\n"


@pytest.fixture(scope="module")
def user_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("user")
    (work / "user_script.py").write_text(readme_examples(), encoding="utf-8")
    return work


def test_readme_examples_pass_mypy_strict_without_the_pydantic_plugin(user_script: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file", "/dev/null", "user_script.py"],
        cwd=user_script,
        env={"MYPYPATH": str(GENERATED), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_examples_pass_pyright_strict(user_script: Path) -> None:
    pyright = shutil.which("pyright", path=str(Path(sys.executable).parent))
    if pyright is None:
        pytest.skip("pyright is not installed (the test extra installs it)")
    (user_script / "pyrightconfig.json").write_text(
        json.dumps({"typeCheckingMode": "strict", "extraPaths": [str(GENERATED)], "pythonVersion": "3.10"}),
        encoding="utf-8",
    )
    result = subprocess.run(
        [pyright, "--pythonpath", sys.executable, "user_script.py"],
        cwd=user_script,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout
