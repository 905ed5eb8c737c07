"""Training curves: one panel per group of records, one line per run.

Shared by ``blocks-log plot`` and the :class:`~blocks.extensions.plot.Plot`
extension. Needs matplotlib (``pip install 'blocks[plot]'``). The figure is
drawn without pyplot (no global state, no display needed) and written
atomically, so a viewer never sees half a file.
"""
import io
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy

from blocks.serialization.atomic import atomic_write

#: Size of one panel, in inches, and resolution: a figure of ``n`` panels
#: is ``PANEL_SIZE[0] * DPI`` pixels wide and ``n * PANEL_SIZE[1] * DPI``
#: high.
PANEL_SIZE = (8.0, 3.0)
DPI = 100

not_numeric_message = """\
the record {record!r} is not numeric: at iteration {time} it is \
{value!r} ({kind}). Plot numbers only (floats, integers, or arrays of one \
element), such as a cost or an error rate."""

#: ``{run label: {record: (iterations, values)}}``
Curves = Mapping[str, Mapping[str, tuple[Sequence[int], Sequence[float]]]]


class NotNumericError(TypeError):
    """A record to plot holds a value that is not a number."""


def panels(spec: str | Sequence[str | Sequence[str]]) -> list[list[str]]:
    """Groups of records, one group per panel.

    ``'cost+valid_cost,error_rate'`` and ``[['cost', 'valid_cost'],
    'error_rate']`` both mean two panels, the first with two records.

    Examples
    --------
    >>> panels('train_cost+valid_cost,valid_error_rate')
    [['train_cost', 'valid_cost'], ['valid_error_rate']]
    """
    if isinstance(spec, str):
        spec = [group for group in spec.split(',') if group.strip()]
    groups = []
    for group in spec:
        if isinstance(group, str):
            group = group.split('+')
        names = [name.strip() for name in group if name.strip()]
        if names:
            groups.append(names)
    if not groups:
        raise ValueError(f"no record names in {spec!r}: give at least one, "
                         f"such as 'train_cost'")
    return groups


def number(value: Any, record: str, time: int) -> float:
    """A logged value as a float, or :class:`NotNumericError`."""
    if value is None:
        return float('nan')  # SQLite stores NaN as NULL
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, numpy.ndarray) and value.size == 1 \
            and value.dtype.kind in 'biuf':
        return float(value.reshape(()))
    raise NotNumericError(not_numeric_message.format(
        record=record, time=time, value=value, kind=type(value).__name__))


def series(rows: Iterable[tuple[int, Mapping[str, Any]]],
           records: Iterable[str]) -> dict[str, tuple[list[int],
                                                      list[float]]]:
    """``{record: (iterations, values)}`` of the rows that have it.

    Records logged at different intervals each get only their own points,
    so lines have no gaps.
    """
    wanted = list(records)
    curves: dict[str, tuple[list[int], list[float]]] = {
        record: ([], []) for record in wanted}
    for time, row in rows:
        for record in wanted:
            if record in row:
                times, values = curves[record]
                times.append(time)
                values.append(number(row[record], record, time))
    return curves


def _common_name(group: Sequence[str]) -> str:
    """``'cost'`` for ``['train_cost', 'valid_cost']``."""
    if len(group) == 1:
        return group[0]
    suffix = os.path.commonprefix([name[::-1] for name in group])[::-1]
    return suffix.lstrip('_') or 'value'


def draw(path: str, curves: Curves, groups: Sequence[Sequence[str]],
         title: str | None = None) -> None:
    """Draw training curves into a PNG file, atomically.

    Parameters
    ----------
    path
        The PNG file.
    curves
        ``{run label: {record: (iterations, values)}}``.
    groups
        Records drawn together, one panel per group.
    title
        Above the first panel.
    """
    from blocks.log.reading import require
    require('matplotlib', 'plot')
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(PANEL_SIZE[0], PANEL_SIZE[1] * len(groups)),
                    dpi=DPI, layout='constrained')
    FigureCanvasAgg(figure)
    axes_list = figure.subplots(len(groups), 1, squeeze=False)[:, 0]
    several_runs = len(curves) > 1
    for axes, group in zip(axes_list, groups, strict=True):
        for run, run_curves in curves.items():
            for record in group:
                times, values = run_curves.get(record, ((), ()))
                if not len(times):
                    continue
                label = f'{record} ({run})' if several_runs else record
                axes.plot(times, values, label=label,
                          marker='.' if len(times) < 30 else None)
        axes.set_xlabel('iterations')
        axes.set_ylabel(_common_name(group))
        axes.grid(True, alpha=0.3)
        if axes.lines:
            axes.legend(fontsize='small')
    if title:
        axes_list[0].set_title(title)
    image = io.BytesIO()
    figure.savefig(image, format='png', dpi=DPI)
    with atomic_write(path) as file_:
        file_.write(image.getvalue())
