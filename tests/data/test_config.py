"""Tests of blocks.data.config."""
import os

import pytest

import blocks.config
import blocks.data.config as config_module
from blocks.data.config import (Configuration, extra_downloader_converter,
                                multiple_paths_parser)
from blocks.data.exceptions import ConfigurationError


@pytest.fixture
def conf():
    conf = Configuration()
    conf.add_config('number', type_=int, default=1, env_var='BLOCKS_TEST_NUM')
    conf.add_config('required', type_=str)
    return conf


def test_resolution_order_code_then_env_then_yaml_then_default(
        conf, monkeypatch):
    assert conf.number == 1
    conf.config['number']['yaml'] = 2
    assert conf.number == 2
    monkeypatch.setenv('BLOCKS_TEST_NUM', '3')
    assert conf.number == 3
    conf.number = '4'
    assert conf.number == 4
    del conf.number
    assert conf.number == 3


def test_unset_option_without_default_names_the_fix(conf):
    with pytest.raises(ConfigurationError,
                       match=r"not set and no default provided: required\. "
                             r"Assign it in code \(blocks\.data\.config\."
                             r"required = \.\.\.\)"):
        conf.required


def test_unknown_option_is_attribute_error(conf):
    with pytest.raises(AttributeError, match='no configuration option'):
        conf.unknown


def test_assigning_an_unregistered_name_sets_a_plain_attribute(conf):
    conf.other = 5
    assert conf.other == 5
    assert 'other' not in conf.config


def test_yaml_values_are_read_and_unknown_keys_rejected(
        conf, tmp_path, monkeypatch):
    path = tmp_path / 'fuelrc'
    path.write_text('number: 7\n')
    monkeypatch.setenv('FUEL_CONFIG', str(path))
    conf.load_yaml()
    assert conf.number == 7
    path.write_text('bogus: 1\n')
    with pytest.raises(ValueError, match='Unrecognized config in YAML: bogus'):
        conf.load_yaml()


def test_empty_yaml_file_is_ignored(conf, tmp_path, monkeypatch):
    path = tmp_path / 'fuelrc'
    path.write_text('')
    monkeypatch.setenv('FUEL_CONFIG', str(path))
    conf.load_yaml()
    assert conf.number == 1


def test_errors_are_also_those_of_blocks_config(conf, tmp_path,
                                                monkeypatch):
    assert issubclass(ConfigurationError, blocks.config.ConfigurationError)
    assert isinstance(conf, blocks.config.Configuration)
    path = tmp_path / 'fuelrc'
    path.write_text('number: many\n')
    monkeypatch.setenv('FUEL_CONFIG', str(path))
    with pytest.raises(ConfigurationError, match=f"'number'.*{path}"):
        conf.load_yaml()
    path.write_text('[1, 2]\n')
    with pytest.raises(ValueError, match='must hold a mapping'):
        conf.load_yaml()


def test_parsers_split_strings_and_pass_lists():
    assert multiple_paths_parser(f'a{os.pathsep}b') == ['a', 'b']
    assert multiple_paths_parser(['a']) == ['a']
    assert extra_downloader_converter('a b') == ['a', 'b']
    assert extra_downloader_converter(['a b']) == ['a b']


def test_data_path_prefers_blocks_variable_over_fuel(monkeypatch):
    monkeypatch.setenv('FUEL_DATA_PATH', '/fuel')
    monkeypatch.delenv('BLOCKS_DATA_PATH', raising=False)
    assert config_module.data_path == ['/fuel']
    monkeypatch.setenv('BLOCKS_DATA_PATH', f'/a{os.pathsep}/b')
    assert config_module.config.data_path == ['/a', '/b']


def test_module_reads_and_writes_options(monkeypatch):
    monkeypatch.setenv('FUEL_FLOATX', 'float16')
    assert config_module.floatX == 'float16'
    monkeypatch.setitem(config_module.config.config['default_seed'],
                        'value', 9)
    assert config_module.default_seed == 9
    config_module.default_seed = 11
    assert config_module.config.default_seed == 11
    del config_module.default_seed
    assert config_module.default_seed == 1


def test_defaults_of_the_module_config(monkeypatch):
    monkeypatch.delenv('FUEL_LOCAL_DATA_PATH', raising=False)
    monkeypatch.delenv('FUEL_EXTRA_CONVERTERS', raising=False)
    assert config_module.local_data_path == ''
    assert config_module.extra_converters == []
    monkeypatch.delenv('FUEL_FLOATX', raising=False)
    for source in ('value', 'yaml'):
        monkeypatch.delitem(config_module.config.config['floatX'], source,
                            raising=False)
    with pytest.raises(ConfigurationError, match='FUEL_FLOATX'):
        config_module.floatX
