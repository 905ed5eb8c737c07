"""Smoke tests of the example scripts, run in-process on tiny budgets."""
import re

import numpy
import pytest

from blocks.data.config import config as data_config
from blocks.data.converters import cli, mnist as mnist_converter
from blocks.serialization import load_main_loop
from examples import mnist, sqrt
from tests.data.test_converters import write_idx

HELD_OUT = re.compile(r"Held-out cost \(squared error\): (\S+) before "
                      r"training, (\S+) after (\d+) batches")


def use_data_path(monkeypatch, path):
    """Point the data path at ``path`` through ``BLOCKS_DATA_PATH``."""
    monkeypatch.setenv('BLOCKS_DATA_PATH', str(path))
    # A value assigned in code would win over the environment variable.
    monkeypatch.delitem(data_config.config['data_path'], 'value',
                        raising=False)


def test_sqrt_learns_and_checkpoints(tmp_path, capsys):
    save_path = tmp_path / 'out' / 'sqrt.tar'
    status = sqrt.main(['--num-batches', '60', '--num-train', '200',
                        '--save-path', str(save_path), '--print-every', '100'])
    assert status == 0
    before, after, batches = HELD_OUT.search(capsys.readouterr().out).groups()
    assert int(batches) == 60
    assert float(after) < float(before) / 10
    main_loop = load_main_loop(save_path)
    assert main_loop.status['iterations_done'] == 60
    assert sqrt.held_out_costs(main_loop) == pytest.approx(
        (float(before), float(after)), abs=1e-6)


@pytest.fixture
def fake_mnist_path(tmp_path):
    """A directory holding a tiny ``mnist.hdf5`` (4x3 images, 40 training
    and 20 test examples) built by ``blocks-convert mnist``."""
    raw = tmp_path / 'raw'
    raw.mkdir()
    rng = numpy.random.RandomState(1)
    for images, labels, number in (
            (mnist_converter.TRAIN_IMAGES, mnist_converter.TRAIN_LABELS, 40),
            (mnist_converter.TEST_IMAGES, mnist_converter.TEST_LABELS, 20)):
        write_idx(raw / images, 2051, rng.randint(0, 256, (number, 4, 3)))
        write_idx(raw / labels, 2049, rng.randint(0, 10, number))
    data = tmp_path / 'data'
    data.mkdir()
    cli.main(['mnist', '-d', str(raw), '-o', str(data)])
    return data


def test_mnist_trains_an_epoch_on_a_fake_mnist(fake_mnist_path, tmp_path,
                                               monkeypatch, capsys):
    use_data_path(monkeypatch, fake_mnist_path)
    save_path = tmp_path / 'mnist.tar'
    status = mnist.main(['--num-epochs', '1', '--batch-size', '10',
                         '--hidden', '5', '--save-path', str(save_path)])
    assert status == 0
    assert 'Test error rate after 1 epochs' in capsys.readouterr().out
    main_loop = load_main_loop(save_path)
    assert main_loop.status['epochs_done'] == 1
    assert main_loop.status['iterations_done'] == 4
    row = main_loop.log.last_epoch_row
    assert 0 <= row['test_error_rate'] <= 1
    assert numpy.isfinite(row['train_final_cost'])
    assert row['train_total_gradient_norm'] > 0


@pytest.mark.parametrize('data_path', ['empty directory', 'unset'])
def test_mnist_without_the_file_says_how_to_build_it(tmp_path, monkeypatch,
                                                      capsys, data_path):
    if data_path == 'unset':
        for variable in ('BLOCKS_DATA_PATH', 'FUEL_DATA_PATH'):
            monkeypatch.delenv(variable, raising=False)
        for source in ('value', 'yaml'):
            monkeypatch.delitem(data_config.config['data_path'], source,
                                raising=False)
    else:
        use_data_path(monkeypatch, tmp_path)
    save_path = tmp_path / 'mnist.tar'
    assert (mnist.main(['--save-path', str(save_path)])
            == mnist.MISSING_DATA_STATUS)
    message = capsys.readouterr().err
    assert 'mnist.hdf5' in message
    assert 'blocks-convert mnist -d ~/mnist-raw -o ~/data' in message
    assert 'export BLOCKS_DATA_PATH=~/data' in message
    assert not save_path.exists()
