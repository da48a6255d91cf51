import pytest

from d2lhelpers import settings


def test_book_settings_are_the_books():
    s = settings.training_settings('resnet', 'book')
    assert (s.lr, s.num_epochs, s.batch_size, s.resize) == (0.05, 5, 256, 96)
    s = settings.training_settings('googlenet', 'book')
    assert (s.lr, s.batch_size, s.resize) == (0.1, 128, 96)


def test_mode_follows_device_and_env(monkeypatch):
    monkeypatch.delenv('D2L_MODE', raising=False)
    assert settings.current_mode() == 'quick'  # no GPU here
    monkeypatch.setattr(settings, 'try_gpu', lambda: __import__('mxnet').gpu(0))
    assert settings.current_mode() == 'book'
    monkeypatch.setenv('D2L_MODE', 'smoke')
    assert settings.current_mode() == 'smoke'


def test_smoke_is_small_and_keeps_quick_lr(monkeypatch):
    for section in settings.SECTIONS:
        quick = settings.training_settings(section, 'quick')
        smoke = settings.training_settings(section, 'smoke')
        assert smoke.lr == quick.lr and smoke.resize == quick.resize
        assert smoke.train_subset <= 2 * smoke.batch_size
        assert smoke.num_epochs == 1


@pytest.mark.parametrize('call, words', [
    (lambda: settings.training_settings('vgg'), 'Unknown section'),
    (lambda: settings.training_settings('resnet', 'fast'), 'Unknown mode'),
])
def test_bad_names_get_sentences(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_bad_env_mode(monkeypatch):
    monkeypatch.setenv('D2L_MODE', 'turbo')
    with pytest.raises(ValueError, match='D2L_MODE=.turbo. is not a training mode'):
        settings.current_mode()


def test_describe_mentions_everything():
    line = settings.training_settings('densenet', 'quick').describe()
    assert 'quick' in line and 'densenet' in line and '48x48' in line
