"""What an executed student notebook must show: it ran, nothing was attempted, nothing leaked.

``assert_student_outputs(executed_nb, path)`` is called after running each student notebook
top to bottom (``test_student_env.py`` in the student-only venv, ``test_editions.py`` on the
fixture). Check cells are found as ``lecture_utils.exercises`` defines them
(``CHECK_CALL``: ``softmax = check("softmax", softmax)``).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from lecture_utils.exercises import CHECK_CALL, FALLBACK_TEXT, get, verdicts

TEXT_MIME = ("text/plain", "text/html", "text/markdown", "text/latex")


def output_text(output: nbformat.NotebookNode) -> str:
    """The text of one output (stream, display data, result or error); images left out."""
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return "\n".join([f"{output.ename}: {output.evalue}", *output.traceback])
    data = output.get("data", {})
    return "\n".join(str(data[m]) for m in TEXT_MIME if m in data)


def checked_exercises(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """``(cell index, exercise name)`` of every check cell, in order."""
    return [(i, name) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for name in CHECK_CALL.findall(cell.source)]


def assert_student_outputs(executed_nb: nbformat.NotebookNode, path: str | Path) -> None:
    """Fail unless the executed student notebook at ``path`` shows what a new student sees.

    No error output; every exercise's check printed ``<name>: not attempted yet`` and the
    fallback line (the cells below use the reference); no output holds an expected value
    of the notebook's exercises (as :func:`lecture_utils.exercises.reveal` would print it).
    """
    name = Path(path).name
    problems = []
    texts = []
    for i, cell in enumerate(executed_nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.output_type == "error":
                problems.append(f"cell {i + 1} raised {output.ename}: {output.evalue}")
            texts.append((i, output_text(output)))
    cell_text = {i: "" for i, _ in texts}
    for i, text in texts:
        cell_text[i] += text
    exercises = checked_exercises(executed_nb)
    for i, ex_name in exercises:
        out = cell_text.get(i, "")
        verdict = verdicts(out).get(ex_name)
        if verdict != "not attempted yet":
            problems.append(f"cell {i + 1}: check {ex_name!r} reported {verdict!r}, "
                            "expected 'not attempted yet'")
        if f"{ex_name}: {FALLBACK_TEXT}" not in out:
            problems.append(f"cell {i + 1}: no line saying the cells below use the reference "
                            f"for {ex_name!r}")
    for ex_name in sorted({n for _, n in exercises}):
        for leak in sorted(get(ex_name).leak_strings()):
            for i, text in texts:
                if leak in text:
                    problems.append(f"cell {i + 1} shows the expected value of {ex_name!r} "
                                    f"({leak!r})")
    assert not problems, f"{name}, executed student edition:\n  " + "\n  ".join(problems)
