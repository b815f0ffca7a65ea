import os
import sys

from hypothesis import settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
if EXAMPLES not in sys.path:  # last: examples/distributed.py must not hide dask's package
    sys.path.append(EXAMPLES)

# Every derivative a test builds is checked by the storage verifier (verify_storage).
os.environ.setdefault("SRCGRAD_VERIFY", "1")

# The numba backend's tests check numbers, not speed: LLVM's optimizer off halves
# their compile time (read when numba is first imported; unoptimized code computes
# the same numbers: numba never reorders floating-point arithmetic, fastmath is off).
# `make test-compiled` runs the sweeps with numba's default, as users get it.
os.environ.setdefault("NUMBA_OPT", "0")

# Modest by default so `make test` stays quick; `-m slow` tests ask for more.
#
# `make test` runs the tests in parallel workers (pytest-xdist, `-n`), each its own
# process, which loads this file. What they share is safe: files go to tmp_path (a
# folder per worker) or a TemporaryDirectory, nothing writes into the repository,
# and hypothesis's example database (.hypothesis/, gitignored) stores each test's
# examples under that test's key, with atomic renames, and a test runs in one worker.
# The default profile draws the same examples every run (CI must not fail by chance:
# a rule row once drew a point where its finite differences lose 6 digits); the slow
# profile draws new ones.
settings.register_profile("default", max_examples=15, deadline=None, derandomize=True)
settings.register_profile("slow", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
