"""Write log records as TensorBoard scalars while training runs."""
import os
import struct
from collections.abc import Iterator, Sequence
from time import time as wall_time
from typing import Any
from uuid import uuid4

from blocks.extensions import SimpleExtension
from blocks.log.log import NewRecords
from blocks.log.plotting import NotNumericError, number
from blocks.log.reading import require
from blocks.serialization.atomic import atomic_write


class TensorBoard(SimpleExtension):
    """Write chosen log records as TensorBoard scalars.

    Every record becomes a scalar of the same name, at the step of its
    iteration. Files go to ``logdir`` (view them with ``tensorboard
    --logdir <logdir>``), one per process, with the run id in their name;
    each call writes and flushes its scalars before returning. Written
    with tensorboardX (``pip install 'blocks[tensorboard]'``); TensorBoard
    itself is needed only to view them.

    Resuming never duplicates a step: when training resumes from a
    checkpoint, the scalars that this run wrote after that checkpoint are
    removed from its event files before training goes on (the resumed run
    writes them again). The extension's own position is part of the
    checkpoint.

    Parameters
    ----------
    logdir : str
        The directory of the event files (created if needed).
    records : list of str, optional
        The records to write. By default every numeric record (others are
        skipped); a chosen record that is not numeric is an error.
    \\*\\*kwargs
        Conditions, as for any :class:`SimpleExtension`; by default after
        every epoch and when training ends. Records are written at their
        own iteration whenever the extension runs.

    Raises
    ------
    ImportError
        At construction, if tensorboardX is not installed.
    """

    def __init__(self, logdir: str, records: Sequence[str] | None = None,
                 **kwargs: Any):
        require('tensorboardX', 'tensorboard')
        kwargs.setdefault('after_epoch', True)
        kwargs.setdefault('after_training', True)
        super().__init__(**kwargs)
        self.logdir = os.fspath(logdir)
        self.records = None if records is None else list(records)
        self._new = NewRecords(self.records)
        self._writer: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state['_writer'] = None  # files and threads do not pickle
        return state

    def do(self, which_callback: str, *args: Any) -> None:
        from tensorboardX.proto.event_pb2 import Event
        from tensorboardX.summary import scalar

        writer = self._open()
        now = wall_time()
        for time, values in self._new.read(self.main_loop.log):
            for name, value in values.items():
                try:
                    number_ = number(value, name, time)
                except NotNumericError:
                    if self.records is None:
                        continue
                    raise
                writer.write_event(Event(wall_time=now, step=time,
                                         summary=scalar(name, number_)))
        # Written synchronously (tensorboardX's SummaryWriter queues events
        # for a thread): a checkpoint taken next describes the files.
        writer.flush()

    def _open(self) -> Any:
        if self._writer is None:
            require('tensorboardX', 'tensorboard')
            from tensorboardX.event_file_writer import EventsWriter
            os.makedirs(self.logdir, exist_ok=True)
            mark = f'.blocks-{self.main_loop.log.run_id}.'
            self._forget_later_steps(mark)
            # Unique: tensorboardX names files by the second, and truncates.
            self._writer = EventsWriter(os.path.join(self.logdir, 'events'),
                                        f'{mark}{uuid4().hex[:8]}')
        return self._writer

    def _forget_later_steps(self, mark: str) -> None:
        """Remove this run's scalars that come after the resumed state."""
        from tensorboardX.proto.event_pb2 import Event
        last, taken = self._new.last_time, self._new.taken
        for name in sorted(os.listdir(self.logdir)):
            if mark not in name:
                continue
            path = os.path.join(self.logdir, name)
            with open(path, 'rb') as file_:
                records = list(read_records(file_.read()))
            kept = []
            for record, data in records:
                event = Event.FromString(data)
                if event.HasField('summary') and event.summary.value and (
                        event.step > last or event.step == last and
                        event.summary.value[0].tag not in taken):
                    continue
                kept.append(record)
            if len(kept) < len(records):
                with atomic_write(path) as file_:
                    file_.write(b''.join(kept))


def read_records(content: bytes) -> Iterator[tuple[bytes, bytes]]:
    """``(record, data)`` of each record of a TFRecord (event) file.

    A record is a length (8 bytes), its checksum (4), the data and the
    data's checksum (4). A record cut short by a killed writer ends the
    file.
    """
    offset = 0
    while offset + 12 <= len(content):
        length, = struct.unpack('<Q', content[offset:offset + 8])
        end = offset + 12 + length + 4
        if end > len(content):
            return
        yield content[offset:end], content[offset + 12:end - 4]
        offset = end
