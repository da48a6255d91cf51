import mxnet as mx
import pytest

from d2lhelpers import settings


def test_book_settings_are_the_books():
    s = settings.training_settings('resnet', 'book')
    assert (s.lr, s.num_epochs, s.batch_size, s.image_size) == (0.05, 5, 256, 96)
    s = settings.training_settings('googlenet', 'book')
    assert (s.lr, s.batch_size, s.image_size) == (0.1, 128, 96)
    s = settings.training_settings('batchnorm', 'book')
    assert (s.image_size, s.resize) == (28, None)  # 28 is Fashion-MNIST's own size


def test_mode_follows_the_notebooks_device(monkeypatch):
    monkeypatch.delenv('D2L_MODE', raising=False)
    assert settings.current_mode(mx.cpu()) == 'quick'
    assert settings.current_mode(mx.gpu(0)) == 'book'
    assert settings.current_mode([mx.gpu(0), mx.gpu(1)]) == 'book'
    # A learner who passes the CPU on a GPU machine gets the CPU settings.
    assert settings.training_settings('resnet', ctx=mx.cpu()).mode == 'quick'
    assert settings.training_settings('resnet', ctx=mx.gpu(0)).mode == 'book'
    assert settings.current_mode() == 'quick'  # no GPU on this machine
    monkeypatch.setenv('D2L_MODE', 'smoke')
    assert settings.current_mode(mx.gpu(0)) == 'smoke'
    assert 'D2L_MODE' in settings.describe_mode(mx.cpu())


def test_smoke_is_small_and_keeps_quick_lr():
    for section in settings.SECTIONS:
        quick = settings.training_settings(section, 'quick')
        smoke = settings.training_settings(section, 'smoke')
        assert smoke.lr == quick.lr and smoke.image_size == quick.image_size
        assert smoke.train_subset <= 2 * smoke.batch_size
        assert smoke.num_epochs == 1


def test_experiment_sizes_come_from_the_mode_table():
    quick = settings.experiment('depth', 'quick')
    smoke = settings.experiment('depth', 'smoke')
    assert smoke.num_steps < quick.num_steps
    assert vars(settings.experiment('depth', 'book')) == vars(quick)
    assert settings.experiment('throughput', ctx=mx.cpu()).steps >= 1
    with pytest.raises(ValueError, match='没有 .vgg. 这个实验'):
        settings.experiment('vgg')


@pytest.mark.parametrize('call, words', [
    (lambda: settings.training_settings('vgg'), '没有 .vgg. 这一节'),
    (lambda: settings.training_settings('resnet', 'fast'), '没有 .fast. 这种模式'),
])
def test_bad_names_get_sentences(call, words):
    with pytest.raises(ValueError, match=words):
        call()


@pytest.mark.parametrize('name, value, call', [
    ('D2L_MODE', 'turbo', lambda: settings.current_mode()),
    ('D2L_DEVICE', 'gpu7', settings.cpu_forced),
    ('D2L_OFFLINE', 'maybe', settings.offline),
    ('D2L_NO_SYSTEM_DATA', '2', settings.skip_system_data),
])
def test_bad_env_values_get_a_sentence_naming_the_variable(monkeypatch, name, value, call):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match='环境变量 %s=.%s.' % (name, value)):
        call()


@pytest.mark.parametrize('value, expected', [
    ('1', True), ('TRUE', True), (' yes ', True), ('on', True),
    ('0', False), ('false', False), ('', False), ('Off', False)])
def test_one_boolean_convention(monkeypatch, value, expected):
    monkeypatch.setenv('D2L_OFFLINE', value)
    assert settings.offline() is expected


@pytest.mark.parametrize('value, threads, problem', [
    ('4', 4, False), ('4,2', 4, False), (' 3 ', 3, False),
    ('abc', None, True), ('-3', None, True), ('0', None, True), ('', None, False)])
def test_omp_threads(monkeypatch, value, threads, problem):
    monkeypatch.setenv('OMP_NUM_THREADS', value)
    got, why = settings.omp_threads()
    assert got == threads and bool(why) == problem
    if problem:
        assert 'OMP_NUM_THREADS' in why and '正整数' in why


def test_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv('D2L_DATA_DIR', raising=False)
    assert settings.data_dir() is None
    monkeypatch.setenv('D2L_DATA_DIR', str(tmp_path))
    assert settings.data_dir() == tmp_path


def test_describe_is_one_chinese_line():
    s = settings.training_settings('densenet', 'quick')
    line = s.describe()
    size = s.image_size
    assert '快速设置' in line and 'densenet' in line and '%d×%d' % (size, size) in line
    assert '学习率 %g' % s.lr in line and '\n' not in line
    assert '共训练 %s 张图像' % format(s.train_images, ',') in line
    assert '余弦学习率' in line and '权重衰减 %g' % s.weight_decay in line
    book = settings.training_settings('densenet', 'book').describe()
    assert '5 个迭代周期' in book and '余弦' not in book


def test_settings_table_has_chinese_columns():
    table = settings.settings_table()
    assert {'学习率', '批量大小', '输入高宽'} <= set(table.columns)
    assert table.loc[('densenet', 'quick'), '输入高宽'] == settings.QUICK['densenet']['image_size']
    assert table.loc[('densenet', 'quick'), '学习率调度'] == '余弦'
    assert table.loc[('densenet', 'book'), '训练图像总数'] == '—'
    assert table.loc[('resnet', 'book'), '训练集大小'] == '全部'
