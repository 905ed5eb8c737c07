"""``blocks-log``: list, read, follow, export and plot the runs of a log.

Works on the database of the SQLite log (``config.sqlite_database``, or the
``database`` given to :class:`~blocks.log.SQLiteLog`) and never writes to
it, so it can watch a run while it trains::

    blocks-log runs blocks-demo/log.sqlite
    blocks-log show blocks-demo/log.sqlite --records train_cost --last 5
    blocks-log follow blocks-demo/log.sqlite
    blocks-log export blocks-demo/log.sqlite --format csv -o log.csv
    blocks-log plot blocks-demo/log.sqlite --records train_cost+valid_cost

A run is named by its run id (the first column of ``runs``), any UUID of
it, or a unique prefix; by default the run written last.
"""
import argparse
import csv
import datetime
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import numpy

from blocks.log import plotting
from blocks.log.reading import (LogDatabase, NotALogError,
                                UnknownRecordError, columns, follow_rows)
from blocks.log.sqlite import PickledValueError, UnknownRunError

#: Errors reported as one line, without a traceback.
USER_ERRORS = (NotALogError, FileNotFoundError, UnknownRunError,
               UnknownRecordError, PickledValueError,
               plotting.NotNumericError, ImportError, ValueError)

_SHORT_STRING = 40


def format_value(value: Any) -> str:
    """A value as a short table cell."""
    if value is None:
        return ''
    if isinstance(value, numpy.ndarray) and value.size == 1 \
            and value.dtype.kind in 'biuf':
        value = value.reshape(()).item()
    elif isinstance(value, numpy.generic):
        value = value.item()
    if isinstance(value, float):
        return f'{value:.6g}'
    if isinstance(value, numpy.ndarray):
        if value.size <= 4 and value.ndim == 1:
            return '[' + ' '.join(format_value(item) for item in value) + ']'
        shape = 'x'.join(str(size) for size in value.shape)
        return f'<array {shape} {value.dtype}>'
    if isinstance(value, bytes):
        return f'<{len(value)} bytes>'
    text = ' '.join(str(value).split())
    if len(text) > _SHORT_STRING:
        text = text[:_SHORT_STRING - 3] + '...'
    return text


def _table(header: Sequence[str], rows: Sequence[Sequence[str]],
           out: TextIO) -> None:
    widths = [max([len(title)] + [len(row[index]) for row in rows])
              for index, title in enumerate(header)]
    for line in [header, ['-' * width for width in widths], *rows]:
        out.write('  '.join(cell.rjust(width) if index else cell.ljust(width)
                            for index, (cell, width) in
                            enumerate(zip(line, widths, strict=True)))
                  .rstrip() + '\n')


def _when(seconds: float | None) -> str:
    if seconds is None:
        return '-'
    return datetime.datetime.fromtimestamp(seconds).strftime(
        '%Y-%m-%d %H:%M:%S')


def _records(spec: str | None) -> list[str] | None:
    if spec is None:
        return None
    return [name for group in plotting.panels(spec) for name in group]


def runs(args: argparse.Namespace, out: TextIO) -> None:
    with LogDatabase(args.database) as database:
        listed = [database.run(run_id) for run_id in database.run_ids()]
    if not listed:
        out.write(f"{args.database} holds no runs yet\n")
        return
    _table(['run', 'started', 'updated', 'iterations', 'epochs', 'state',
            'resumed'],
           [[run.run_id, _when(run.started), _when(run.updated),
             str(run.iterations_done), str(run.epochs_done), run.state,
             str(run.resumptions)] for run in listed], out)


def show(args: argparse.Namespace, out: TextIO) -> None:
    with LogDatabase(args.database) as database:
        run_id = database.resolve(args.run)
        rows = list(database.rows(run_id, _records(args.records),
                                  args.allow_pickle, placeholder=True))
    if args.every:
        rows = [row for row in rows if row['iteration'] % args.every == 0]
    if args.last:
        rows = rows[-args.last:]
    header = columns(rows)
    out.write(f"run {run_id}: {len(rows)} rows\n")
    _table(header, [[format_value(row.get(column)) if column != 'iteration'
                     else str(row[column]) for column in header]
                    for row in rows], out)


def follow(args: argparse.Namespace, out: TextIO) -> None:
    try:
        for row in follow_rows(args.database, args.run,
                               _records(args.records),
                               interval=args.interval,
                               allow_pickle=args.allow_pickle):
            items = ', '.join(f'{key}={format_value(value)}'
                              for key, value in row.items()
                              if key != 'iteration')
            out.write(f"{row['iteration']}: {items}\n")
            out.flush()
    except KeyboardInterrupt:
        pass


def export(args: argparse.Namespace, out: TextIO) -> None:
    with LogDatabase(args.database) as database:
        run_id = database.resolve(args.run)
        rows = list(database.rows(run_id, _records(args.records),
                                  args.allow_pickle, placeholder=True))
    target = out if args.output in (None, '-') else open(
        args.output, 'w', newline='', encoding='utf-8')
    try:
        if args.format == 'json':
            json.dump({'run_id': run_id, 'rows': rows}, target,
                      default=_jsonable, indent=1)
            target.write('\n')
        else:
            writer = csv.DictWriter(target, columns(rows))
            writer.writeheader()
            for row in rows:
                writer.writerow({key: _csv_cell(value)
                                 for key, value in row.items()})
    finally:
        if target is not out:
            target.close()
    if target is not out:
        out.write(f"wrote {len(rows)} rows of run {run_id} to "
                  f"{args.output}\n")


def plot(args: argparse.Namespace, out: TextIO) -> None:
    groups = plotting.panels(args.records)
    names = [name for group in groups for name in group]
    curves = {}
    with LogDatabase(args.database) as database:
        run_ids = [database.resolve(run) for run in args.run or [None]]
        logged: set[str] = set()
        for run_id in run_ids:
            present = set(database.records(database.chain(run_id)))
            logged |= present
            mine = [name for name in names if name in present]
            rows = database.rows(run_id, mine, args.allow_pickle) \
                if mine else iter(())
            curves[run_id[:8]] = plotting.series(
                ((row['iteration'], row) for row in rows), mine)
        # A record that some of the runs logged is enough.
        missing = [name for name in names if name not in logged]
        if missing:
            database.check_records(run_ids[0],
                                   database.chain(run_ids[0]), missing)
    plotting.draw(args.output, curves, groups)
    out.write(f"wrote {args.output}\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, (numpy.ndarray, numpy.generic)):
        return value.tolist()
    if isinstance(value, bytes):
        return value.decode('latin-1')
    return repr(value)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, (numpy.ndarray, numpy.generic, list, tuple, dict)):
        return json.dumps(value, default=_jsonable)
    return value


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(
        prog='blocks-log', description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = main_parser.add_subparsers(dest='command', required=True)

    def command(name: str, help_: str,
                run: str | None = '?') -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_, description=help_)
        sub.add_argument('database', help="the SQLite log database")
        if run == '?':
            sub.add_argument('run', nargs='?', help="run id, UUID or prefix "
                             "(default: the run written last)")
        elif run == '*':
            sub.add_argument('run', nargs='*', help="run ids, UUIDs or "
                             "prefixes (default: the run written last)")
        if name != 'runs':
            sub.add_argument('--allow-pickle', action='store_true',
                             help="unpickle stored objects (runs code "
                                  "from the file: only for files you "
                                  "trust)")
        return sub

    command('runs', "one line per run, newest first", run=None)
    sub = command('show', "a table of a run's records by iteration")
    sub.add_argument('--records', help="comma-separated record names "
                                       "(default: all)")
    sub.add_argument('--last', type=int, help="only the last N rows")
    sub.add_argument('--every', type=int,
                     help="only iterations that are multiples of K")
    sub = command('follow', "print rows as a running training writes "
                            "them (until it finishes or Ctrl+C)")
    sub.add_argument('--records', help="comma-separated record names")
    sub.add_argument('--interval', type=float, default=1.0,
                     help="seconds between checks (default: 1)")
    sub = command('export', "write a run's rows as CSV or JSON")
    sub.add_argument('--format', choices=['csv', 'json'], default='csv')
    sub.add_argument('--records', help="comma-separated record names")
    sub.add_argument('-o', '--output',
                     help="the file (default: standard output)")
    sub = command('plot', "draw training curves of one or more runs "
                          "into a PNG", run='*')
    sub.add_argument('--records', required=True,
                     help="comma-separated records, one panel each; join "
                          "records with + to draw them in one panel "
                          "(train_cost+valid_cost,valid_error_rate)")
    sub.add_argument('-o', '--output', default='curves.png',
                     help="the PNG file (default: %(default)s)")
    return main_parser


COMMANDS = {'runs': runs, 'show': show, 'follow': follow, 'export': export,
            'plot': plot}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        COMMANDS[args.command](args, sys.stdout)
    except USER_ERRORS as exc:
        sys.stderr.write(f"blocks-log: error: {exc}\n")
        return 2
    except BrokenPipeError:
        # The reader went away (``blocks-log show ... | head``).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == '__main__':
    sys.exit(main())
