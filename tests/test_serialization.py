"""The checkpoint format: tar members, persistent ids, atomic writes."""
import doctest
import errno
import importlib
import io
import os
import pickle
import signal
import subprocess
import sys
import tarfile
import textwrap
import warnings

import numpy
import pytensor
import pytest
from numpy.testing import assert_array_equal

from blocks.bricks import MLP, Tanh
from blocks.model import Model
from blocks.serialization import (MAIN_MODULE_WARNING, CorruptCheckpointError,
                                  _mangle_parameter_name, _Renamer,
                                  _unmangle_parameter_name, add_to_dump,
                                  atomic_write, copy_file, dump,
                                  dump_and_add_to_dump, find_unpicklable,
                                  load, load_parameters, secure_dump)

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
floatX = pytensor.config.floatX


def shared(value, name=None):
    return pytensor.shared(numpy.asarray(value, dtype=floatX), name=name)


@pytest.fixture
def mlp_parameters():
    mlp = MLP([Tanh(), Tanh()], [3, 4, 2], name='mlp')
    return Model(mlp.apply(pytensor.tensor.matrix('x'))).parameters


def members(file_):
    file_.seek(0)
    with tarfile.open(fileobj=file_) as tar_file:
        return tar_file.getnames()


def test_dump_writes_parameters_then_pickle_with_persistent_ids(
        mlp_parameters):
    file_ = io.BytesIO()
    dump({'parameters': mlp_parameters}, file_, parameters=mlp_parameters)
    assert members(file_) == ['_parameters', '_pkl', '_checksums']
    file_.seek(0)
    with tarfile.open(fileobj=file_) as tar_file:
        pickled = tar_file.extractfile('_pkl').read()
        npz = numpy.load(tar_file.extractfile('_parameters'))
        assert sorted(npz.files) == ['|mlp|linear_0.W', '|mlp|linear_0.b',
                                     '|mlp|linear_1.W', '|mlp|linear_1.b']
    assert b'#1numpy_ndarray.None.|mlp|linear_0.W' in pickled
    # The values live in _parameters only.
    for parameter in mlp_parameters:
        assert parameter.get_value().tobytes() not in pickled


def test_load_shares_one_array_per_parameter():
    weights = shared(numpy.arange(6).reshape(2, 3), 'W')
    file_ = io.BytesIO()
    dump([weights, weights.get_value(borrow=True)], file_,
         parameters=[weights])
    loaded_weights, loaded_array = load(file_)
    assert loaded_weights.get_value(borrow=True) is loaded_array
    assert_array_equal(loaded_array, weights.get_value())


def test_load_parameters_uses_brick_paths_and_saved_dtypes(mlp_parameters):
    file_ = io.BytesIO()
    dump(None, file_, parameters=mlp_parameters)
    file_.seek(0)
    values = load_parameters(file_)
    assert sorted(values) == ['/mlp/linear_0.W', '/mlp/linear_0.b',
                              '/mlp/linear_1.W', '/mlp/linear_1.b']
    assert all(value.dtype == floatX for value in values.values())


@pytest.mark.parametrize('on_disk', [False, True])
def test_arrays_round_trip(on_disk, tmp_path):
    arrays = {
        'scalar': numpy.array(3.5),
        'fortran': numpy.asfortranarray(numpy.arange(12.).reshape(3, 4)),
        'empty': numpy.zeros((0, 5), dtype='float32'),
        'flags': numpy.array([True, False]),
        'ints': numpy.arange(10, dtype='int64')}
    parameters = [pytensor.shared(value, name=name)
                  for name, value in arrays.items()]
    if on_disk:
        file_ = open(tmp_path / 'arrays.tar', 'w+b')
    else:
        file_ = io.BytesIO()
    with file_:
        dump(None, file_, parameters=parameters)
        file_.seek(0)
        loaded = load_parameters(file_)
    for name, value in arrays.items():
        assert_array_equal(loaded[name], value)
        assert loaded[name].dtype == value.dtype
        assert loaded[name].shape == value.shape


def test_load_parameters_reads_from_the_current_position():
    file_ = io.BytesIO()
    file_.write(b'header')
    dump(None, file_, parameters=[shared([1, 2], 'x')])
    file_.seek(len(b'header'))
    assert_array_equal(load_parameters(file_)['x'], [1, 2])


def test_parameters_member_is_a_numpy_archive(tmp_path):
    parameters = [shared(numpy.ones((2, 2)), 'W'), shared([1, 2], 'b')]
    path = tmp_path / 'checkpoint.tar'
    secure_dump(None, path, parameters=parameters)
    with tarfile.open(path) as tar_file:
        tar_file.extract('_parameters', tmp_path, filter='data')
    with numpy.load(tmp_path / '_parameters') as npz:
        assert_array_equal(npz['W'], numpy.ones((2, 2)))
        assert_array_equal(npz['b'], [1, 2])


@pytest.mark.parametrize('tar_format',
                         [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_files_in_the_original_layout_stay_readable(tar_format, tmp_path):
    # The original wrote each member to a temporary file, then added it.
    weights = numpy.arange(4, dtype=floatX)
    path = tmp_path / 'original.tar'
    with tarfile.TarFile(path, mode='w', format=tar_format) as tar_file:
        npz = tmp_path / 'parameters.npz'
        numpy.savez(npz, **{'|mlp|linear_0.W': weights})
        tar_file.add(npz, arcname='_parameters')
        pkl = tmp_path / 'pkl'
        pkl.write_bytes(pickle.dumps({'epochs': 3}))
        tar_file.add(pkl, arcname='_pkl')
    with open(path, 'rb') as file_:
        assert_array_equal(load_parameters(file_)['/mlp/linear_0.W'],
                           weights)
        assert load(file_) == {'epochs': 3}


def test_load_parameters_never_unpickles(tmp_path):
    marker = tmp_path / 'code_ran'

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), 'w'))

    path = tmp_path / 'evil.tar'
    with tarfile.TarFile(path, mode='w') as tar_file:
        npz = io.BytesIO()
        numpy.savez(npz, W=numpy.array([Exploit()], dtype=object))
        info = tarfile.TarInfo('_parameters')
        info.size = len(npz.getvalue())
        tar_file.addfile(info, io.BytesIO(npz.getvalue()))
    with open(path, 'rb') as file_, pytest.raises(
            ValueError, match='allow_pickle=False'):
        load_parameters(file_)
    assert not marker.exists()


def test_renamer_names():
    renamer = _Renamer()
    tagged = shared(0, 'ignored')
    tagged.tag.name = 'tagged'
    assert [renamer(shared(0, 'W')), renamer(shared(0, 'W')),
            renamer(shared(0, 'W')), renamer(shared(0)), renamer(shared(0)),
            renamer(tagged)] == ['W', 'W_2', 'W_3', 'parameter',
                                 'parameter_2', 'tagged']


def test_persistent_ids():
    parameter = shared([1.])
    assert (_mangle_parameter_name(parameter, '|mlp|linear.W')
            == '#1numpy_ndarray.None.|mlp|linear.W')
    assert _unmangle_parameter_name(
        b'#1numpy_ndarray.None.|mlp|linear.W')[1:] == ('|mlp|linear.W',
                                                       'None')
    assert _unmangle_parameter_name('#numpy_ndarray.W.x')[1:] == ('W.x',
                                                                  None)
    with pytest.raises(ValueError, match='Do not recognize'):
        _unmangle_parameter_name('numpy_ndarray.W')
    parameter.context_name = 'gpu.0'
    with pytest.raises(ValueError, match='must not contain a dot'):
        _mangle_parameter_name(parameter, 'W')


def test_protocol_0_persistent_ids_round_trip():
    weights = shared([1, 2], 'W')
    file_ = io.BytesIO()
    dump(weights, file_, parameters=[weights], protocol=0)
    assert_array_equal(load(file_).get_value(), [1, 2])


def test_pickling_a_main_module_function_warns_once(monkeypatch):
    def function():
        pass
    function.__module__ = '__main__'
    function.__qualname__ = 'checkpoint_test_function'
    monkeypatch.setattr(sys.modules['__main__'], 'checkpoint_test_function',
                        function, raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        dump([function, function], io.BytesIO())
        assert len(caught) == 1
        assert '__main__' in str(caught[0].message)
        assert str(caught[0].message) == MAIN_MODULE_WARNING.format(
            'checkpoint_test_function')
        dump(function, io.BytesIO(), use_cpickle=True)
        assert len(caught) == 1


def test_add_to_dump_appends_members_referring_to_parameters():
    weights = shared([1, 2], 'W')
    file_ = io.BytesIO()
    dump_and_add_to_dump({'w': weights}, file_, parameters=[weights],
                         to_add={'log': {'row': 1}, 'model': [weights]})
    assert members(file_) == ['_parameters', '_pkl', 'log', 'model',
                             '_checksums']
    assert load(file_, 'log') == {'row': 1}
    loaded_weights, = load(file_, 'model')
    assert_array_equal(loaded_weights.get_value(), [1, 2])
    file_.seek(0)
    with tarfile.open(fileobj=file_) as tar_file:
        pickled = tar_file.extractfile('model').read()
    assert b'#1numpy_ndarray.None.W' in pickled
    assert weights.get_value().tobytes() not in pickled


def test_add_to_dump_errors():
    weights = shared([1, 2], 'W')
    file_ = io.BytesIO()
    dump(None, file_)
    with pytest.raises(ValueError, match='reserved names'):
        add_to_dump(1, file_, '_pkl')
    with pytest.raises(ValueError, match='no parameters in the archive'):
        add_to_dump(1, file_, 'x', parameters=[weights])
    # Upstream quirk: an empty list also demands _parameters.
    with pytest.raises(ValueError, match='no parameters in the archive'):
        add_to_dump(1, file_, 'x', parameters=[])
    file_ = io.BytesIO()
    dump(None, file_, parameters=[weights])
    with pytest.raises(ValueError, match=r"\['b'\] are not in it"):
        add_to_dump(1, file_, 'x', parameters=[shared([1], 'b')])


def test_secure_dump_replaces_the_file_atomically(tmp_path):
    path = tmp_path / 'checkpoint.tar'
    secure_dump({'version': 1}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask

    def failing_dump(object_, file_, **kwargs):
        file_.write(b'partial data')
        raise RuntimeError('disk on fire')

    with pytest.raises(RuntimeError, match='disk on fire'):
        secure_dump({'version': 2}, path, dump_function=failing_dump)
    with open(path, 'rb') as file_:
        assert load(file_) == {'version': 1}
    assert os.listdir(tmp_path) == ['checkpoint.tar']


def test_secure_dump_writes_its_temporary_file_next_to_the_target(tmp_path):
    seen = []

    def recording_dump(object_, file_, **kwargs):
        seen.append(os.path.dirname(file_.name))
        dump(object_, file_, **kwargs)

    secure_dump(1, tmp_path / 'checkpoint.tar', dump_function=recording_dump)
    assert seen == [str(tmp_path)]


def test_copy_file(tmp_path):
    source = tmp_path / 'source'
    source.write_bytes(os.urandom(100000))
    copy_file(source, tmp_path / 'copy')
    assert (tmp_path / 'copy').read_bytes() == source.read_bytes()
    assert sorted(os.listdir(tmp_path)) == ['copy', 'source']


def test_atomic_write_into_a_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        with atomic_write(tmp_path / 'missing' / 'file'):
            pass


KILL_DURING_WRITE = textwrap.dedent('''
    import sys, time
    import numpy, pytensor
    from blocks.serialization import dump, secure_dump

    class PausingFile:
        """Stops for good once half of the parameters are written."""
        def __init__(self, file_):
            self.file_, self.written = file_, 0
        def write(self, data):
            n = self.file_.write(data)
            self.written += n
            if self.written > 4000000:
                self.file_.flush()
                print('paused', flush=True)
                time.sleep(600)
            return n
        def __getattr__(self, name):
            return getattr(self.file_, name)

    weights = pytensor.shared(numpy.full(1000000, 2.), name='W')
    secure_dump(weights, sys.argv[1], parameters=[weights],
                dump_function=lambda o, f, **k: dump(o, PausingFile(f), **k))
''')


def test_checkpoint_survives_kill_during_write(tmp_path):
    path = tmp_path / 'checkpoint.tar'
    previous = shared(numpy.ones(10), 'W')
    secure_dump(previous, path, parameters=[previous])
    before = path.read_bytes()
    writer = subprocess.Popen(
        [sys.executable, '-c', KILL_DURING_WRITE, str(path)],
        stdout=subprocess.PIPE, cwd=REPOSITORY,
        env=dict(os.environ, PYTHONPATH=REPOSITORY))
    try:
        assert writer.stdout.readline() == b'paused\n'
        temporary, = [name for name in os.listdir(tmp_path)
                      if name != 'checkpoint.tar']
        assert temporary.startswith('.checkpoint.tar.')
        assert os.path.getsize(tmp_path / temporary) > 4000000
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
    assert path.read_bytes() == before
    with open(path, 'rb') as file_:
        assert_array_equal(load(file_).get_value(), numpy.ones(10))
        file_.seek(0)
        assert_array_equal(load_parameters(file_)['W'], numpy.ones(10))


@pytest.fixture
def checkpoint_bytes():
    weights = shared(numpy.arange(1000), 'W')
    file_ = io.BytesIO()
    dump_and_add_to_dump({'weights': weights, 'text': 'x' * 5000}, file_,
                         parameters=[weights], to_add={'log': [1] * 3000})
    return file_.getvalue()


def test_truncated_checkpoints_name_the_file_and_what_is_missing(
        checkpoint_bytes, tmp_path):
    with tarfile.open(fileobj=io.BytesIO(checkpoint_bytes)) as tar_file:
        offsets = {info.name: (info.offset, info.offset_data, info.size)
                   for info in tar_file.getmembers()}
    path = tmp_path / 'checkpoint.tar'
    cuts = {
        # Inside the array data of _parameters.
        offsets['_parameters'][1] + 2000: (CorruptCheckpointError,
                                           'truncated or corrupt'),
        # Between members: _pkl and log are gone.
        offsets['_pkl'][0]: (KeyError, "no member '_pkl'.*'_parameters'"),
        # Inside the pickle.
        offsets['_pkl'][1] + 100: (CorruptCheckpointError,
                                   'truncated or corrupt'),
    }
    for cut, (error, message) in cuts.items():
        path.write_bytes(checkpoint_bytes[:cut])
        with open(path, 'rb') as file_:
            with pytest.raises(error, match=message) as info:
                load(file_)
                file_.seek(0)
                load_parameters(file_)
        assert 'checkpoint.tar' in str(info.value)


def test_a_corrupt_array_fails_its_checksum(checkpoint_bytes, tmp_path):
    with tarfile.open(fileobj=io.BytesIO(checkpoint_bytes)) as tar_file:
        start = tar_file.getmember('_parameters').offset_data
    data = bytearray(checkpoint_bytes)
    data[start + 2000] ^= 0xFF
    path = tmp_path / 'checkpoint.tar'
    path.write_bytes(bytes(data))
    with open(path, 'rb') as file_, pytest.raises(
            CorruptCheckpointError,
            match="checkpoint.tar.* the member '_parameters' does not match"):
        load_parameters(file_)


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / 'notes.txt'
    path.write_text('not a tar file ' * 100)
    with open(path, 'rb') as file_, pytest.raises(
            tarfile.ReadError, match="notes.txt.* is not a checkpoint"):
        load(file_)


def test_missing_parameters_member_is_a_key_error():
    file_ = io.BytesIO()
    dump({'a': 1}, file_)
    file_.seek(0)
    with pytest.raises(KeyError, match="no member '_parameters'"):
        load_parameters(file_)


def test_unpicklable_object_is_named_by_its_path():
    class Holder:
        pass
    holder = Holder()
    holder.callbacks = [print, lambda: None]
    with pytest.raises(Exception, match=r"holder\.callbacks\[1\]") as info:
        dump(holder, io.BytesIO(), use_cpickle=True)
    assert info.value.unpicklable_path == 'holder.callbacks[1]'
    assert info.value.checkpoint_member == '_pkl'
    with open(os.devnull, 'w') as opened:
        path, obj, error = find_unpicklable({'files': (1, opened)}, 'config')
    assert path == "config['files'][1]"
    assert find_unpicklable({'fine': [1, 2]}) is None


@pytest.mark.parametrize('name', [
    'blocks.serialization.atomic', 'blocks.serialization.core',
    'blocks.serialization.names', 'blocks.serialization.npz',
    'blocks.serialization.pickling', 'blocks.serialization.tar',
    'blocks.serialization.training_state', 'blocks.serialization.writer',
    'blocks.serialization.checksums', 'blocks.serialization.functions',
    'blocks.extensions.saveload'])
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_checkpoint_guide_examples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = doctest.testfile(
        os.path.join(REPOSITORY, 'docs', 'checkpoints.rst'),
        module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted >= 10


def test_the_reference_names_are_exported():
    import blocks.serialization as serialization
    from blocks.bricks.base import BRICK_DELIMITER
    names = ['BRICK_DELIMITER', 'DEFAULT_PROTOCOL', 'MAIN_MODULE_WARNING',
             'SERIALIZATION_BRICK_DELIMITER', 'add_to_dump',
             'continue_training', 'dump', 'dump_and_add_to_dump', 'load',
             'load_parameters', 'secure_dump', '_ARRAY_TYPE_MAP',
             '_INVERSE_ARRAY_TYPE_MAP', '_PersistentID', '_PersistentLoad',
             '_PicklerWithWarning', '_Renamer', '_SaveObject',
             '_load_parameters_npzfile', '_mangle_parameter_name',
             '_recreate_numpy_ndarray', '_taradd',
             '_unmangle_parameter_name']
    missing = [name for name in names if not hasattr(serialization, name)]
    assert missing == []
    assert serialization.BRICK_DELIMITER == BRICK_DELIMITER == '/'
    assert serialization.SERIALIZATION_BRICK_DELIMITER == '|'
    assert serialization.DEFAULT_PROTOCOL == pickle.DEFAULT_PROTOCOL


@pytest.mark.parametrize('use_cpickle', [False, True])
def test_unpicklable_objects_raise_pickling_error(tmp_path, use_cpickle):
    class Holder:
        pass
    holder = Holder()
    path = tmp_path / 'model.tar'
    with open(os.devnull, 'w') as opened:
        holder.log_file = opened
        with pytest.raises(pickle.PicklingError,
                           match=r"holder\.log_file \(a TextIOWrapper\)"
                           ) as info:
            dump(holder, io.BytesIO(), use_cpickle=use_cpickle)
        # Still what the pickler raised (callers catching TypeError), and
        # itself picklable (to be sent between processes).
        assert isinstance(info.value, TypeError)
        assert type(pickle.loads(pickle.dumps(info.value))) is type(
            info.value)
        with pytest.raises(pickle.PicklingError, match='holder.log_file'):
            secure_dump(holder, path, use_cpickle=use_cpickle)
    holder.log_file = lambda: None
    with pytest.raises(pickle.PicklingError, match='holder.log_file'):
        secure_dump(holder, path, use_cpickle=use_cpickle)
    assert os.listdir(tmp_path) == []


def test_compiled_functions_are_rebuilt_not_pickled():
    from blocks.compilation import function
    x = pytensor.tensor.vector('x')
    weights = shared([1, 2, 3], 'W')
    train = function([x], (x * weights).sum(),
                     updates=[(weights, weights + x)])
    file_ = io.BytesIO()
    dump({'train': train, 'weights': weights}, file_, parameters=[weights])
    file_.seek(0)
    with tarfile.open(fileobj=file_) as tar_file:
        pickled = tar_file.extractfile('_pkl').read()
    # PyTensor's own pickle of the function holds its optimized graph.
    assert len(pickled) < len(pickle.dumps(train)) / 2
    assert b'FunctionGraph' not in pickled and b'trace' not in pickled
    loaded = load(file_)
    assert loaded['train'](numpy.ones(3, dtype=floatX)) == 6
    # The rebuilt function updates the loaded shared variable.
    assert_array_equal(loaded['weights'].get_value(), [2, 3, 4])
    assert_array_equal(weights.get_value(), [1, 2, 3])


def flipped(data, position, bit=0):
    data = bytearray(data)
    data[position] ^= 1 << bit
    return bytes(data)


def read_member(path, name):
    with open(path, 'rb') as file_:
        if name == '_parameters':
            return load_parameters(file_)
        return load(file_, '_pkl' if name == '_checksums' else name)


def test_a_flipped_bit_anywhere_is_a_corrupt_checkpoint(checkpoint_bytes,
                                                        tmp_path):
    with tarfile.open(fileobj=io.BytesIO(checkpoint_bytes)) as tar_file:
        members = tar_file.getmembers()
    assert [m.name for m in members] == ['_parameters', '_pkl', 'log',
                                        '_checksums']
    path = tmp_path / 'checkpoint.tar'
    for member in members:
        header = [member.offset + i for i in (0, 100, 124, 148, 257, 511)]
        data = [member.offset_data + i for i in
                (0, 1, member.size // 3, member.size // 2, member.size - 1)]
        padding = member.offset_data + member.size
        positions = header + data
        if padding % tarfile.BLOCKSIZE:
            positions.append(padding)
        for position in positions:
            for bit in (0, 7):
                path.write_bytes(flipped(checkpoint_bytes, position, bit))
                with pytest.raises(CorruptCheckpointError) as info:
                    read_member(path, member.name)
                message = str(info.value)
                assert 'checkpoint.tar' in message, (member.name, position)
                if position in data:
                    assert f"member {member.name!r}" in message, (
                        member.name, position, message)
    # The end-of-archive blocks.
    path.write_bytes(flipped(checkpoint_bytes, len(checkpoint_bytes) - 1))
    with pytest.raises(CorruptCheckpointError, match='_checksums'):
        read_member(path, '_pkl')


@pytest.fixture
def small_file_system(tmp_path):
    """A 256 KiB tmpfs, mounted for the test (needs root)."""
    mount_point = tmp_path / 'small'
    mount_point.mkdir()
    result = subprocess.run(
        ['mount', '-t', 'tmpfs', '-o', 'size=256k', 'tmpfs',
         str(mount_point)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill up (needs root and "
                    f"mount): {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(['umount', str(mount_point)], check=False)


def test_a_full_disk_leaves_nothing_behind(small_file_system):
    path = small_file_system / 'checkpoint.tar'
    small = shared(numpy.ones(100), 'W')
    secure_dump(small, path, parameters=[small])
    before = path.read_bytes()
    big = shared(numpy.ones(100000), 'W')
    with pytest.raises(OSError, match=r"No space left on device while "
                       r"writing '.*checkpoint\.tar'") as info:
        secure_dump(big, path, parameters=[big])
    assert info.value.errno == errno.ENOSPC
    assert os.listdir(small_file_system) == ['checkpoint.tar']
    assert path.read_bytes() == before
    # Nothing was left taking space: the same small checkpoint fits again.
    secure_dump(small, path, parameters=[small])


def test_stale_temporaries_of_killed_writers_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    stale = tmp_path / f'.checkpoint.tar.{dead.pid}.abc123.tmp'
    live = tmp_path / f'.checkpoint.tar.{os.getppid()}.def456.tmp'
    other = tmp_path / f'.other.tar.{dead.pid}.ghi789.tmp'
    for name in (stale, live, other):
        name.write_bytes(b'partial')
    weights = shared([1, 2], 'W')
    secure_dump(weights, tmp_path / 'checkpoint.tar', parameters=[weights])
    assert sorted(os.listdir(tmp_path)) == sorted(
        ['checkpoint.tar', live.name, other.name])


def test_caches_of_ops_from_graphs_are_left_out():
    from pytensor.tensor.special import softmax
    x = pytensor.tensor.matrix('x')
    y = softmax(x, axis=1)
    op = y.owner.op
    # Compiles the op's inner graph, kept on the op.
    inner = op.fn
    file_ = io.BytesIO()
    dump(y, file_)
    file_.seek(0)
    with tarfile.open(fileobj=file_) as tar_file:
        pickled = tar_file.extractfile('_pkl').read()
    # The compiled function is in PyTensor's pickle, not in the checkpoint.
    assert b'pytensor.compile.executor' in pickle.dumps(y)
    assert b'pytensor.compile.executor' not in pickled
    loaded = load(file_)
    assert loaded.owner.op._fn is None
    assert loaded.owner.op == op
    assert loaded.owner.op.fn is not inner
    value = numpy.arange(6, dtype=floatX).reshape(2, 3)
    assert numpy.allclose(loaded.eval({loaded.owner.inputs[0]: value}),
                          y.eval({x: value}))
