"""The README's main job, end to end, with a short budget."""
import os
import signal
import struct
import subprocess
import sys

import pytest

from blocks.demo import can_plot, main
from blocks.log import list_runs
from blocks.serialization import load_parameters

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_demo_trains_and_says_where_its_files_are(tmp_path, capsys):
    output = tmp_path / 'out'
    assert main(['--output-dir', str(output), '--epochs', '3',
                 '--print-every', '1']) == 0
    out = capsys.readouterr().out
    assert 'Best held-out accuracy:' in out
    accuracy = float(out.split('Best held-out accuracy: ')[1].split('%')[0])
    assert accuracy > 80
    names = ['checkpoint.tar', 'best.tar', 'log.sqlite']
    if can_plot():
        names.append('curves.png')
    else:
        assert "install the plot extra" in out
    for name in names:
        assert (output / name).exists()
        assert str(output / name) in out
    if can_plot():
        with open(output / 'curves.png', 'rb') as file_:
            header = file_.read(24)
        assert header[:8] == b'\x89PNG\r\n\x1a\n'
        assert struct.unpack('>II', header[16:24]) == (800, 600)
    runs = list_runs(str(output / 'log.sqlite'))
    assert [run.run_id for run in runs] == [out.split('(run ')[1][:32]]
    parameters = load_parameters(open(output / 'best.tar', 'rb'))
    assert '/mlp/linear_0.W' in parameters


def run_demo(args, cwd):
    return subprocess.Popen(
        [sys.executable, '-m', 'blocks.demo', *args], cwd=cwd,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, PYTHONPATH=ROOT))


@pytest.mark.skipif(sys.platform == 'win32', reason="needs POSIX signals")
def test_ctrl_c_stops_the_demo_and_blocks_continue_resumes_it(tmp_path):
    output = tmp_path / 'out'
    # Enough epochs that a slow machine cannot finish before the signal.
    process = run_demo(['--output-dir', str(output), '--epochs', '30',
                        '--print-every', '1'], tmp_path)
    for line in process.stdout:
        if 'AFTER ANOTHER EPOCH' in line:
            process.send_signal(signal.SIGINT)
            break
    rest, _ = process.communicate(timeout=120)
    assert process.returncode == 0, rest
    assert 'TRAINING HAS BEEN FINISHED' in rest
    assert 'epoch_interrupt_received' in rest
    stopped_at = int(rest.split('epochs_done: ')[1].split()[0])
    assert stopped_at < 30

    resumed = subprocess.run(
        [sys.executable, '-m', 'blocks.scripts.continue_training',
         str(output / 'checkpoint.tar')],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PYTHONPATH=ROOT))
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert 'TRAINING HAS BEEN RESUMED' in resumed.stdout
    assert 'epochs_done: 30' in resumed.stdout
