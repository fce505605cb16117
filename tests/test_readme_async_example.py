"""The README's "Checking your own async code" example runs as printed, and without its lock
the same code is caught."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
LOCK_LINE = "        async with self.lock:  # without the lock, two writers both pass the check"


def _example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Checking your own async code") :]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found is not None
    return found.group(1)


def test_the_readme_async_example_proves_the_locked_store() -> None:
    exec(compile(_example(), "README.md", "exec"), {})  # asserts: complete, nothing found


def test_without_its_lock_the_readme_example_is_caught() -> None:
    code = _example()
    assert LOCK_LINE in code
    naive = code.replace(LOCK_LINE, "        if True:").replace(
        "assert result.complete and not result.found", "assert result.found, result"
    )
    exec(compile(naive, "README.md (without the lock)", "exec"), {})
