"""What the benchmarks share (bench/README.md): a failed run, and the table of figures, each
min/median/max over the runs, that every script prints."""
import statistics
import sys


class Failed(Exception):
    pass


def report_failure(what, e):
    print(f"  FAILED {what}: {e}", flush=True)


def run_sections(sections, only):
    """Runs each (name, function) whose name is in `only`; a failed one is reported and the
    next one runs."""
    for name, fn in sections:
        if name in only:
            try:
                fn()
            except Failed as e:
                report_failure(name, e)


class Table:
    width = 58  # the label column

    def __init__(self, width=58):
        Table.width = width
        print(f"{'':{width}} {'min':>10} {'median':>10} {'max':>10}")

    @staticmethod
    def row(label, values, unit, fmt="{:10.2f}"):
        v = sorted(x for x in values if x is not None)
        if not v:
            print(f"{label:{Table.width}} {'FAILED':>10}")
        else:
            cells = " ".join(fmt.format(x) for x in (v[0], statistics.median(v), v[-1]))
            note = f"  ({len(values) - len(v)} of {len(values)} runs FAILED)" if len(v) < len(values) else ""
            print(f"{label:{Table.width}} {cells} {unit}{note}")
        sys.stdout.flush()

    @staticmethod
    def ratio(label, a, b):
        pairs = [x / y for x, y in zip(a, b) if x is not None and y is not None and y > 0]
        Table.row(label, pairs, "x", "{:10.3f}")

    @staticmethod
    def median_ratio(label, a, b):
        a = [x for x in a if x is not None]
        b = [x for x in b if x is not None]
        if a and b:
            print(f"{label:{Table.width}} {statistics.median(a) / statistics.median(b):10.3f} x", flush=True)
        else:
            print(f"{label:{Table.width}} {'FAILED':>10}", flush=True)
