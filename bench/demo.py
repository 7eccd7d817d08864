"""Loading the demo company: the default demo (25 offices, two months) into a fresh SQLite file, with
its finished history written in bulk (as `kesu demo` does) and, with --step-by-step, every complaint
written step by step (the same rows, as before the backfill). Each round runs in a new process; prints
the wall and CPU seconds of each round and their medians; asserts nothing. Other processes on the
machine make these numbers noisy: compare runs made back to back.

    .venv/bin/python bench/demo.py [--rounds 3] [--step-by-step]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def one(bulk: bool) -> dict:
    """Inside a child process with its own KESU_HOME."""
    sys.path.insert(0, ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kesu.settings")
    import time

    import django

    django.setup()
    from django.core.management import call_command

    from kesu.demo.generate import generate

    call_command("migrate", interactive=False, verbosity=0)
    wall, cpu = time.perf_counter(), time.process_time()
    summary = generate(bulk_history=bulk)
    return {
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "complaints": summary.complaints,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--step-by-step", action="store_true", help="write every complaint step by step")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    bulk = not args.step_by_step
    if args.child:
        sys.stdout.write(json.dumps(one(bulk)))
        return
    how = "step by step" if args.step_by_step else "finished history in bulk"
    print(f"demo company ({how}), SQLite, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    rounds = []
    for i in range(args.rounds):
        env = {**os.environ, "KESU_HOME": tempfile.mkdtemp(prefix="kesu-bench-demo-")}
        env.pop("KESU_DATABASE_URL", None)
        cmd = [sys.executable, __file__, "--child", *(["--step-by-step"] if args.step_by_step else [])]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        r = json.loads(done.stdout)
        rounds.append(r)
        print(f"  round {i + 1}: {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU, {r['complaints']} complaints")
    print(
        f"  median: {statistics.median(r['wall'] for r in rounds):.1f} s wall, "
        f"{statistics.median(r['cpu'] for r in rounds):.1f} s CPU"
    )


if __name__ == "__main__":
    main()
