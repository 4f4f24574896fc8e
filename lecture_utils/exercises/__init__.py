'''Coding exercises: the student writes the slide's code, ``check`` says whether it is right.

How a notebook author writes an exercise
========================================
1. **Register it** in ``lecture_utils/exercises/nbNN.py`` (one module per notebook; see
   ``nb01.py``, the worked example)::

       SOFTMAX = Exercise(
           name="softmax",                 # [a-z0-9_], unique over all notebooks
           reference=fn.softmax,           # the correct answer, from lecture_utils
           cases=_logit_cases,             # rng -> [Case(label, args), ...]; first = reveal's
           oracle=_torch_softmax,          # optional torch computation (autograd, torch.optim)
           rtol=1e-5, atol=1e-7,
           mutants=(Mutant("np.exp(z - m)", "np.exp(z)", "overflow"),),  # (old, new, hint)
           hints={"overflow": "subtract the row's max before np.exp"},
           slide="Classification - one hot encoding and cross-entropy",
       )
       register(SOFTMAX)

   ``cases`` makes the check's own inputs: several random ones and the edge cases the
   slide warns about (huge logits, float32, a single example). Each ``Mutant(old, new,
   hint)`` is a plausible slip (a flipped sign, a missing factor, a transposed matrix, no
   max-subtraction) whose ``old`` text occurs verbatim in the notebook's solution: the
   tests apply it and fail if the check accepts it or its hint lacks ``hint``.

2. **The exercise cell** defines a function whose body is the solution, between nbgrader's
   delimiters (the student edition replaces the region by ``# YOUR CODE HERE`` and
   ``raise NotImplementedError()``, indented like ``### BEGIN SOLUTION``)::

       def softmax(z):
           """Row-wise softmax of logits z of shape (n, K), without overflow."""
           ### BEGIN SOLUTION
           m = np.max(z, axis=-1, keepdims=True)
           e = np.exp(z - m)
           return e / np.sum(e, axis=-1, keepdims=True)
           ### END SOLUTION

   A value exercise is a function of no arguments: ``def critical_step_size(): ...``.

3. **The check cell** comes right after it, and its result is what later cells use::

       softmax = check("softmax", softmax)

   It prints one line, ``softmax: correct``, ``softmax: not attempted yet`` or
   ``softmax: not yet: <hint>`` (wrong shape, transposed, wrong sign, off by a factor of 2,
   NaN or inf on huge logits, relative error 1e-03), never the expected value. When the
   answer is not correct it returns the reference and prints
   ``softmax: the cells below use the reference implementation lecture_utils...``, so the
   student edition runs top to bottom with nothing filled in. ``reveal("softmax")`` (only
   when called) prints the example, its expected value and the reference's source.

4. **No `<details>` solution blocks**: ``reveal`` replaces them; a markdown answer to a
   "Think!" prompt goes between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` lines (the
   student edition shows ``YOUR ANSWER HERE``).

5. **Run** ``make student`` (writes ``notebooks/student/``) and
   ``pytest tests/exercises/test_exercise_checks.py tests/course/test_editions.py``. The tests find
   each
   exercise cell as a code cell holding ``### BEGIN SOLUTION`` followed (next code cell) by a
   cell calling ``check("<name>", ...)``; they prove that the notebook's solution gets
   "correct", the stub "not attempted yet", every mutant "not yet", that the reference
   agrees with the oracle on the check's inputs, and that no verdict shows the value.
'''

from lecture_utils.exercises.core import (
    CHECK_CALL,
    FALLBACK_TEXT,
    NOT_ATTEMPTED,
    VERDICT_RE,
    Case,
    Exercise,
    Mutant,
    cases_of,
    check,
    diagnose,
    get,
    register,
    registry,
    reveal,
    verdicts,
)

__all__ = [
    "CHECK_CALL",
    "FALLBACK_TEXT",
    "NOT_ATTEMPTED",
    "VERDICT_RE",
    "Case",
    "Exercise",
    "Mutant",
    "cases_of",
    "check",
    "diagnose",
    "get",
    "register",
    "registry",
    "reveal",
    "verdicts",
]
