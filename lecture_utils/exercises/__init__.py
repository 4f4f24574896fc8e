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

5. **Graded help**: ``graded_hints=("first hint", "second hint")`` on the Exercise; the
   notebook says "Stuck? ``hint("softmax")`` gives a hint (call it again for the next);
   ``reveal("softmax")`` shows the answer". Each call of ``hint`` prints the next one, the
   last call points to ``reveal``.

6. **Run** ``make student`` (writes ``notebooks/student/``) and
   ``pytest tests/exercises/test_exercise_checks.py tests/course/test_editions.py``. The tests find
   each
   exercise cell as a code cell holding ``### BEGIN SOLUTION`` followed (next code cell) by a
   cell calling ``check("<name>", ...)``; they prove that the notebook's solution gets
   "correct", the stub "not attempted yet", every mutant "not yet", that the reference
   agrees with the oracle on the check's inputs, and that no verdict shows the value.

What every check does, whatever the exercise (``exercises.core``)
=================================================================
An exercise module need not ask for any of this; the options below only tune it.

- **Arguments stay as they were.** The student's function gets deep copies of the check's
  inputs, compared bit for bit after each call: a change is ``not yet: your function changed
  its argument `theta` on the input '...'``, naming the parameter (``hints["changed"]``
  replaces the generic advice). The same holds inside ``verify`` (it is handed the watched
  function); a random generator argument may be used up.
- **The kind of value is checked** against the reference's: an array where it returns an
  array (a list, a tuple or a generator is ``not yet``, saying what came back), a number
  where it returns a number (a Python float for a numpy scalar is fine; an array is not), a
  tuple of the same length where it returns a tuple (each part then checked, named by
  ``outputs=("θ", "m", "v")``: ``not yet: m (returned value 2 of 3): wrong sign``). Torch
  tensors are accepted where arrays or numbers are asked (converted).
- **Any correct style passes.** An answer worked out in float32 (a float32 result, a float32
  input, or float64 values that are float32 numbers) is held to float32's tolerance
  (``FLOAT32_RTOL``, or ``tolerances={"float32": (rtol, atol)}``) and gets ``correct: up to
  float32 rounding (...)``; it is never called off by a factor or a constant. No tolerance is
  below ``MIN_RTOL`` (a few ulps), even with ``rtol=0``. ``alternatives=(f, ...)`` lists other
  functions whose values are also right; ``digits=3`` accepts a number rounded to 3 significant
  digits where the prompt asks for a rounded number.
- **An exception is shown with its message**: ``your function raised ValueError: <message> on
  the input '...'``.
- **The same verdict twice.** After ``not yet`` the name points at the reference; run again,
  the check cell repeats its verdict (with a line saying why) instead of checking the reference.
- **nbgrader.** Under ``nbgrader autograde``/``validate`` (which set ``NBGRADER_EXECUTION``),
  a verdict other than "correct" raises :class:`CheckFailed` after printing, so the check cell
  is the exercise's autograded test cell (``points=`` on the Exercise, default 1); elsewhere
  it never raises, and the untouched student edition runs top to bottom.
  ``lecture_utils.course.editions`` writes the nbgrader cell metadata.
'''

from lecture_utils.exercises.core import (
    CHECK_CALL,
    FALLBACK_TEXT,
    FLOAT32_RTOL,
    MIN_RTOL,
    NOT_ATTEMPTED,
    VERDICT_RE,
    Case,
    CheckFailed,
    Exercise,
    Mutant,
    cases_of,
    check,
    diagnose,
    get,
    hint,
    register,
    registry,
    reveal,
    verdicts,
)

__all__ = [
    "CHECK_CALL",
    "FALLBACK_TEXT",
    "FLOAT32_RTOL",
    "MIN_RTOL",
    "NOT_ATTEMPTED",
    "VERDICT_RE",
    "Case",
    "CheckFailed",
    "Exercise",
    "Mutant",
    "cases_of",
    "check",
    "diagnose",
    "get",
    "hint",
    "register",
    "registry",
    "reveal",
    "verdicts",
]
