"""The demo trains under ``BLOCKS_BACKEND=jax`` as in the default mode."""
import pytest

from blocks.config import config
from blocks.demo import build_main_loop


def train(directory, backend):
    config.backend = backend
    try:
        main_loop = build_main_loop(str(directory), epochs=2,
                                    print_every=100)
        main_loop.run()
    finally:
        del config.backend
    log = main_loop.log
    return log.status['best_valid_error_rate'], log.current_row['valid_cost']


def test_demo_trains_to_the_same_accuracy_under_jax(tmp_path):
    pytest.importorskip('jax', reason='the jax extra is not installed')
    default_error, default_cost = train(tmp_path / 'default', 'default')
    jax_error, jax_cost = train(tmp_path / 'jax', 'jax')
    assert default_error < 0.2
    assert jax_error == pytest.approx(default_error, abs=1e-6)
    assert float(jax_cost) == pytest.approx(float(default_cost), rel=1e-5)
