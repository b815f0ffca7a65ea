"""The differential program fuzzer: random programs through srcgrad's oracles.

``fuzz_statements.programs()`` draws a program (its grammar is described in
``fuzz_grammar``), ``admissible`` rejects argument draws too close to a kink or
out of range, and ``fuzz_oracles.check`` compares srcgrad's value, gradient,
jvp, vjp, Hessian-vector product and unoptimized derivative against the
program itself and against finite differences. ``tests/test_fuzz.py`` runs it
under pytest (failures shrink to a small program); run this file to count
outcomes over many programs without stopping at the first failure::

    .venv/bin/python tests/fuzz_programs.py --count 2000 --seed 1
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, assume, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from fuzz_grammar import Program  # noqa: E402
from fuzz_oracles import Outcome, check, kink_margin, load, worst  # noqa: E402
from fuzz_statements import programs  # noqa: E402

MARGIN = 1e-2  # no comparison or max/min within this of a tie (differences use 1e-3)
LIMIT = 1e6  # values beyond this are out of the moderate range
HVP_EVERY = 4  # one program in HVP_EVERY also checks the Hessian-vector product


def admissible(program: Program, f) -> bool:
    """Whether ``f`` is defined, moderate and away from kinks at the program's arguments."""
    try:
        with np.errstate(all="raise"), warnings.catch_warnings():
            warnings.simplefilter("error")
            value = f(np.copy(program.x), np.copy(program.y))
            margin = kink_margin(program.source, program.x, program.y)
    except (FloatingPointError, RuntimeWarning):
        return False
    return bool(np.isfinite(value) and abs(value) < LIMIT and margin > MARGIN)


def run(program: Program, hvp: bool) -> list[Outcome] | None:
    """The oracles' outcomes, or None if the arguments are not admissible."""
    f = load(program.source)
    if not admissible(program, f):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return check(f, program.x, program.y, hvp=hvp)


def failure_class(outcome: Outcome) -> str:
    """The outcome without its numbers and names, to group failures by cause."""
    text = re.sub(r"fuzz_program_\w+", "<module>", outcome.detail.split("\n")[0])
    text = re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "#", text)
    text = re.sub(r"\b[A-Za-z]+\d+\b", "<name>", text)
    return f"{outcome.kind} in {outcome.oracle}: {text[:160]}"


def survey(count: int, seed_value: int) -> tuple[Counter, dict[str, str]]:
    """Run ``count`` admissible programs; counts by kind (and refusal message), and
    the shortest program for each failure class."""
    counts: Counter = Counter()
    examples: dict[str, str] = {}

    @seed(seed_value)
    @settings(max_examples=count, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(programs(), st.integers(0, HVP_EVERY - 1))
    def one(program: Program, which: int) -> None:
        outcomes = run(program, hvp=which == 0)
        assume(outcomes is not None)
        counts["programs"] += 1
        if counts["programs"] % 100 == 0:
            print(f"... {counts['programs']} programs", file=sys.stderr, flush=True)
        verdict = worst(outcomes)
        counts[verdict.kind] += 1
        for o in outcomes:
            if o.kind == "refused":
                counts[f"refused: {failure_class(o)}"] += 1
            elif o.kind != "ok":
                key = failure_class(o)
                repro = f"{program.source}# x = {program.x!r}\n# y = {program.y!r}\n"
                if key not in examples or len(repro) < len(examples[key]):
                    examples[key] = repro

    try:
        one()
    except KeyboardInterrupt:  # report what ran so far
        print("interrupted", file=sys.stderr)
    return counts, examples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200, help="programs to run")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    counts, examples = survey(args.count, args.seed)
    print(f"{counts['programs']} programs in {time.perf_counter() - start:.0f} s: "
          f"{counts['ok']} ok, {counts['refused']} refused, {counts['wrong']} wrong, "
          f"{counts['crash']} crashed")
    for key, n in sorted((k, v) for k, v in counts.items() if k.startswith("refused: ")):
        print(f"  {n:5d}  {key}")
    for key, source in sorted(examples.items()):
        print(f"\n=== {key}\n{source}")
    return 1 if counts["wrong"] or counts["crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
