"""The vision examples reach the held-out accuracy their docstrings state."""
import re

from examples import batch_normalization, lenet

ACCURACY = re.compile(r"Held-out accuracy.* after (\d+) epochs: (\S+)%")


def _accuracy(capsys):
    epochs, percent = ACCURACY.search(capsys.readouterr().out).groups()
    return int(epochs), float(percent) / 100


def test_lenet_reaches_95_percent_on_the_digits(capsys):
    assert lenet.main([]) == 0
    epochs, accuracy = _accuracy(capsys)
    assert epochs == 6
    assert accuracy >= 0.95


def test_batch_normalized_mlp_reaches_95_percent_in_inference_mode(capsys):
    assert batch_normalization.main([]) == 0
    epochs, accuracy = _accuracy(capsys)
    assert epochs == 5
    assert accuracy >= 0.95


def test_lenet_without_mnist_says_how_to_build_it(tmp_path, monkeypatch,
                                                  capsys):
    monkeypatch.setenv('BLOCKS_DATA_PATH', str(tmp_path))
    from blocks.data.config import config as data_config
    monkeypatch.delitem(data_config.config['data_path'], 'value',
                        raising=False)
    assert lenet.main(['--dataset', 'mnist']) == 2
    assert 'blocks-convert mnist' in capsys.readouterr().err
