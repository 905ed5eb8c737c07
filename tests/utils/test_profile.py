"""Tests of the profile used by the main loop."""
import io

from blocks.utils.profile import Profile, Timer


def test_timer_records_nested_sections():
    profile = Profile()
    with Timer('training', profile):
        with Timer('epoch', profile):
            pass
    assert set(profile.total) == {('training',), ('training', 'epoch')}
    assert list(profile.order) == [('training',), ('training', 'epoch')]
    assert profile.current == []


def test_report_layout():
    profile = Profile()
    profile.total[('training',)] = 4.0
    profile.total[('training', 'read_data')] = 1.0
    profile.order[('training',)] = None
    profile.order[('training', 'read_data')] = None
    out = io.StringIO()
    profile.report(out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ['Section', 'Time', '%', 'of', 'total']
    assert lines[1] == '-' * 60
    assert lines[2].split() == ['Training', '4.00', '100.00%']
    assert lines[3].startswith('  Read data')
    assert lines[3].split()[-2:] == ['1.00', '25.00%']
    assert lines[4].startswith('  Other')
    assert lines[4].split()[-2:] == ['3.00', '75.00%']


def test_empty_report():
    out = io.StringIO()
    Profile().report(out)
    assert 'No profile information collected.' in out.getvalue()
