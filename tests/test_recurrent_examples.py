"""The recurrent examples learn their tasks, on small budgets."""
import re

from blocks.serialization import load_main_loop
from examples import delayed_copy, parity

PARITY = re.compile(r"Held-out accuracy after (\d+) batches: (\S+) on the "
                    r"parity of whole sequences, (\S+) over all steps")
COPY = re.compile(r"Held-out accuracy after (\d+) batches: (\S+)")


def test_lstm_learns_parity(tmp_path, capsys):
    save_path = tmp_path / 'parity.tar'
    assert parity.main(['--num-batches', '200', '--dim', '8',
                        '--learning-rate', '0.05',
                        '--save-path', str(save_path)]) == 0
    batches, last, every = PARITY.search(capsys.readouterr().out).groups()
    assert int(batches) == 200
    # Chance is 0.5.
    assert float(last) >= 0.95 and float(every) >= 0.95
    main_loop = load_main_loop(save_path)
    assert main_loop.status['iterations_done'] == 200
    assert parity.accuracy(main_loop) == (float(last), float(every))


def test_gated_recurrent_learns_delayed_copy(tmp_path, capsys):
    save_path = tmp_path / 'copy.tar'
    assert delayed_copy.main(['--num-batches', '150', '--dim', '16',
                              '--learning-rate', '0.05',
                              '--save-path', str(save_path)]) == 0
    batches, result = COPY.search(capsys.readouterr().out).groups()
    assert int(batches) == 150
    # Chance is 0.25.
    assert float(result) >= 0.95
    main_loop = load_main_loop(save_path)
    assert delayed_copy.accuracy(main_loop) == float(result)
