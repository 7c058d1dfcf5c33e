"""Models and training: trunks, the MC-dropout head, GRAD, loss prediction, fit and devices."""

import copy
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torchvision
from torch import nn
from torch.nn import functional as F

from alstudio.engine import training
from alstudio.engine.config import TrainingConfig, validate
from alstudio.engine.models import ActiveModel, build_model, heads, reverse_gradient
from alstudio.engine.models.loss_prediction import ranking_loss
from alstudio.engine.models.trunks import SmallCNN, SmallResNet18

ARCHITECTURES = ["cnn", "resnet18"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _config(strategy="bald", architecture="cnn", **training_values):
    return validate({"model": {"architecture": architecture}, "active": {"strategy": strategy},
                     "training": training_values})


def _images(n, size=16, seed=0):
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def _trunk_grads(model):
    return {name: p.grad.clone() for name, p in model.trunk.named_parameters()}


# ------------------------------------------------------------------------------- trunks


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_trunk_maps_a_batch_to_features_and_feature_maps(architecture, monkeypatch):
    def no_download(*args, **kwargs):
        raise AssertionError("a trunk tried to download weights")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_download)
    if hasattr(torchvision.models, "_api"):
        monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", no_download, raising=False)
    model = ActiveModel(architecture, n_classes=3, n_groups=2, dropout=0.5).eval()
    x = _images(2, size=32)
    with torch.no_grad():
        features, maps = model.features(x)
    assert features.shape == (2, model.trunk.feature_dim)
    assert maps, "the trunk must return its intermediate feature maps"
    assert all(m.dim() == 4 and m.shape[0] == 2 for m in maps)
    assert [m.shape[1] for m in maps] == model.trunk.map_channels
    # the pooled features are the global average of the last map
    assert torch.allclose(features, maps[-1].mean(dim=(2, 3)))
    with torch.no_grad():
        assert model(x).shape == (2, 3)


def test_resnet18_has_a_small_image_stem_without_max_pool():
    trunk = SmallResNet18().eval()
    conv = trunk.stem[0]
    assert isinstance(conv, nn.Conv2d)
    assert conv.kernel_size == (3, 3) and conv.stride == (1, 1) and conv.padding == (1, 1)
    assert not any(isinstance(m, nn.MaxPool2d) for m in trunk.modules())
    x = _images(2, size=32)
    with torch.no_grad():
        assert trunk.stem(x).shape == (2, 64, 32, 32)
        _, maps = trunk(x)
    assert [tuple(m.shape[2:]) for m in maps] == [(32, 32), (16, 16), (8, 8), (4, 4)]
    assert trunk.feature_dim == 512


def test_resnet18_is_randomly_initialised():
    # weights=None: two trunks built under different seeds differ (pretrained ones would be equal)
    torch.manual_seed(0)
    a = SmallResNet18()
    torch.manual_seed(1)
    b = SmallResNet18()
    assert not torch.equal(a.layers[0][0].conv1.weight, b.layers[0][0].conv1.weight)


# ------------------------------------------------------------------------------ dropout


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_dropout_lives_only_in_the_head(architecture):
    model = ActiveModel(architecture, n_classes=3, n_groups=2, dropout=0.5)
    dropout_types = (nn.modules.dropout._DropoutNd,)
    assert not any(isinstance(m, dropout_types) for m in model.trunk.modules())
    x = _images(4)
    with torch.no_grad():
        model.eval()
        first, first_maps = model.trunk(x)
        second, second_maps = model.trunk(x)
        assert torch.equal(first, second)
        assert all(torch.equal(a, b) for a, b in zip(first_maps, second_maps))
        # even in training mode (batch statistics) the trunk draws no random masks
        model.train()
        assert torch.equal(model.trunk(x)[0], model.trunk(x)[0])


def test_head_samples_masks_only_with_mc():
    model = ActiveModel("cnn", n_classes=3, n_groups=2, dropout=0.5).eval()
    features = torch.randn(6, model.trunk.feature_dim)
    with torch.no_grad():
        assert torch.equal(model.classifier(features, mc=False), model.classifier(features, mc=False))
        assert not torch.allclose(model.classifier(features, mc=True), model.classifier(features, mc=True))
        x = _images(4)
        assert torch.equal(model(x), model(x))
        assert not torch.allclose(model(x, mc=True), model(x, mc=True))


# ------------------------------------------------------------------- MC on features once


def _recording_dropout(record):
    real = F.dropout

    def dropout(input, p=0.5, training=True, inplace=False):
        # dropout(x) is x * noise; dropout(ones) is the noise, drawn from the same RNG stream.
        noise = real(torch.ones_like(input), p, training=training)
        record.append(noise)
        return input * noise

    return dropout


def _replaying_dropout(masks, rows):
    calls = []

    def dropout(input, p=0.5, training=True, inplace=False):
        mask = masks[len(calls) % len(masks)]
        calls.append(None)
        assert mask.shape[1] == input.shape[1]
        return input * mask[rows]

    return dropout


def test_mc_probabilities_equal_t_full_passes_with_the_same_masks(monkeypatch):
    """Computing the trunk once and sampling only the head gives exactly the probabilities of T
    full forward passes through the network under the same dropout masks."""
    torch.manual_seed(0)
    model = ActiveModel("cnn", n_classes=3, n_groups=2, dropout=0.5).eval()
    x = _images(5)
    batch, samples, seed = len(x), 6, 11

    got = training.mc_probabilities(model, training.predict_features(model, x), samples, seed)
    assert got.shape == (batch, 3, samples)

    # The masks mc_probabilities drew: the same seed and the same shapes give the same draws.
    masks = []
    monkeypatch.setattr(heads, "F", SimpleNamespace(dropout=_recording_dropout(masks), relu=F.relu))
    recorded = training.mc_probabilities(model, training.predict_features(model, x), samples, seed)
    np.testing.assert_array_equal(recorded, got)  # recording did not change the computation
    assert [tuple(m.shape) for m in masks] == [(samples * batch, model.trunk.feature_dim), (samples * batch, 128)]

    # T full passes (trunk included), pass t reusing the masks of rows t*B..(t+1)*B.
    passes = []
    for t in range(samples):
        rows = slice(t * batch, (t + 1) * batch)
        monkeypatch.setattr(heads, "F", SimpleNamespace(dropout=_replaying_dropout(masks, rows), relu=F.relu))
        with torch.no_grad():
            passes.append(F.softmax(model(x, mc=True), dim=1))
    expected = torch.stack(passes, dim=2).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)

    # the T samples really are different masks, and a different seed gives different samples
    assert not np.allclose(got[:, :, 0], got[:, :, 1])
    monkeypatch.undo()
    other = training.mc_probabilities(model, training.predict_features(model, x), samples, seed + 1)
    assert not np.allclose(other, got)
    again = training.mc_probabilities(model, training.predict_features(model, x), samples, seed)
    np.testing.assert_array_equal(again, got)


def test_mc_probabilities_chunks_rows_like_one_call(monkeypatch):
    # with fewer rows per chunk the layout [N, C, T] is kept (sample t of point i at [i, :, t])
    torch.manual_seed(0)
    model = ActiveModel("cnn", n_classes=2, n_groups=2, dropout=0.0).eval()
    features = training.predict_features(model, _images(7))
    whole = training.mc_probabilities(model, features, 4, 0)
    monkeypatch.setattr(training, "PREDICT_BATCH", 1)  # rows = 8 // 4 = 2 per chunk
    chunked = training.mc_probabilities(model, features, 4, 0)
    np.testing.assert_allclose(chunked, whole, rtol=1e-6, atol=1e-7)
    deterministic = F.softmax(model.classifier(features), dim=1).detach().numpy()
    np.testing.assert_allclose(whole, np.repeat(deterministic[:, :, None], 4, axis=2), rtol=1e-6, atol=1e-7)


def test_batched_results_are_the_per_batch_results_joined_exactly(monkeypatch):
    """Each batch's result is written into one tensor made once (it keeps the heap from fragmenting):
    the same values, bit for bit, as joining a list of the batches' results, an uneven last batch included."""
    monkeypatch.setattr(training, "PREDICT_BATCH", 4)  # 11 images: batches of 4, 4 and 3
    torch.manual_seed(0)
    model = build_model(_config("learning_loss"), 2, 2).eval()
    x = training.to_tensor(_uint8_images(11), torch.device("cpu"))
    with torch.no_grad():
        parts = [model.features(x[i:i + 4].floats()) for i in range(0, 11, 4)]
    features = training.predict_features(model, x)
    assert torch.equal(features, torch.cat([f for f, _ in parts]))
    expected_losses = torch.cat([model.loss_module(maps) for _, maps in parts]).detach().numpy()
    assert np.array_equal(training.predicted_losses(model, x), expected_losses)
    samples, seed = 5, 9  # 4 * 8 // 5 = 6 rows per chunk: 6 and 5
    training.seed_everything(seed)
    with torch.no_grad():
        chunks = [F.softmax(model.classifier(features[i:i + 6].repeat(samples, 1), mc=True), dim=1)
                  .view(samples, len(features[i:i + 6]), -1).permute(1, 2, 0) for i in range(0, 11, 6)]
    assert np.array_equal(training.mc_probabilities(model, features, samples, seed), torch.cat(chunks).numpy())


def test_no_images_give_empty_results_of_the_right_width():
    model = build_model(_config(), 3, 2).eval()
    none = training.to_tensor(_uint8_images(0), torch.device("cpu"))
    features = training.predict_features(model, none)
    assert features.shape == (0, model.trunk.feature_dim)
    assert training.mc_probabilities(model, features, 4, 0).shape == (0, 3, 4)


def test_probabilities_average_the_mc_samples():
    torch.manual_seed(0)
    model = ActiveModel("cnn", n_classes=3, n_groups=2, dropout=0.5)
    x = _images(6)
    single = training.probabilities(model, x)
    with torch.no_grad():
        np.testing.assert_allclose(single, F.softmax(model.eval()(x), dim=1).numpy(), rtol=1e-6, atol=1e-7)
    averaged = training.probabilities(model, x, mc_samples=5, seed=3)
    mc = training.mc_probabilities(model, training.predict_features(model, x), 5, 3)
    np.testing.assert_allclose(averaged, mc.mean(axis=2), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(averaged.sum(axis=1), 1.0, rtol=1e-6)


# ------------------------------------------------------------------------------- GRAD


@pytest.mark.parametrize("scale", [1.0, 0.25, 3.0])
def test_reverse_gradient_is_identity_forward_and_minus_scale_backward(scale):
    x = torch.randn(3, 4, requires_grad=True)
    y = reverse_gradient(x, scale)
    assert torch.equal(y, x)
    y.sum().backward()
    assert torch.equal(x.grad, torch.full_like(x, -scale))


def test_grad_lambda_zero_builds_no_adversary():
    assert build_model(_config(grad_lambda=0.0), n_classes=2, n_groups=2).adversary is None
    model = build_model(_config(grad_lambda=0.5), n_classes=2, n_groups=3)
    assert model.adversary is not None
    assert model.adversary(torch.randn(4, model.trunk.feature_dim)).shape == (4, 3)


def test_a_step_on_the_adversary_loss_makes_the_trunk_hide_the_group():
    torch.manual_seed(0)
    model = build_model(_config(grad_lambda=1.0), n_classes=2, n_groups=2).double().eval()
    frozen = copy.deepcopy(model.adversary.net)  # the adversary, fixed, without the reversal
    for p in frozen.parameters():
        p.requires_grad_(False)
    x = _images(8).double()
    g = torch.tensor([0, 1] * 4)

    def group_loss(trunk_features):
        return F.cross_entropy(frozen(trunk_features), g)

    def trunk_step(loss_fn, lr=1e-3):
        trunk = copy.deepcopy(model.trunk)
        adversary = copy.deepcopy(model.adversary)
        loss_fn(trunk, adversary).backward()
        with torch.no_grad():
            before = {n: p.clone() for n, p in trunk.named_parameters()}
            for p in trunk.parameters():
                p -= lr * p.grad
            delta = {n: p - before[n] for n, p in trunk.named_parameters()}
            return group_loss(trunk(x)[0]).item(), delta

    with torch.no_grad():
        before = group_loss(model.trunk(x)[0]).item()
    # the trunk's gradient of the group loss (no reversal): the reversed step must go along it
    trunk = copy.deepcopy(model.trunk)
    group_loss(trunk(x)[0]).backward()
    ascent = {n: p.grad.clone() for n, p in trunk.named_parameters()}

    after, delta = trunk_step(lambda t, a: F.cross_entropy(a(t(x)[0]), g))
    assert after > before  # the trunk moved to make the group harder to predict
    for name, d in delta.items():
        torch.testing.assert_close(d, 1e-3 * ascent[name], rtol=1e-9, atol=1e-15, msg=name)

    # control: without the reversal the same step would make the group easier to predict
    plain_after, _ = trunk_step(lambda t, a: F.cross_entropy(a.net(t(x)[0]), g))
    assert plain_after < before

    # while the adversary itself still learns to predict the group
    adversary = copy.deepcopy(model.adversary)
    features = model.trunk(x)[0].detach()
    F.cross_entropy(adversary(features), g).backward()
    with torch.no_grad():
        for p in adversary.parameters():
            p -= 1e-3 * p.grad
        assert F.cross_entropy(adversary(features), g).item() < before


def test_batch_loss_adds_the_reversed_adversary_gradient_scaled_by_lambda():
    torch.manual_seed(0)
    lam = 0.7
    model = build_model(_config(grad_lambda=lam), n_classes=2, n_groups=2).double().train()
    x, y, g = _images(8).double(), torch.tensor([0, 1] * 4), torch.tensor([0, 0, 1, 1] * 2)

    def trunk_grads(grad_lambda):
        model.zero_grad(set_to_none=True)
        torch.manual_seed(5)  # the same dropout masks in the classifier
        training._batch_loss(model, x, y, g, TrainingConfig(grad_lambda=grad_lambda), detach_maps=False).backward()
        return _trunk_grads(model), model.adversary.net[0].weight.grad

    with_adversary, adversary_grad = trunk_grads(lam)
    without, no_adversary_grad = trunk_grads(0.0)
    assert adversary_grad is not None and no_adversary_grad is None

    model.zero_grad(set_to_none=True)
    F.cross_entropy(model.adversary.net(model.trunk(x)[0]), g).backward()
    plain = _trunk_grads(model)
    for name in plain:
        torch.testing.assert_close(with_adversary[name] - without[name], -lam * plain[name], msg=name)


# ------------------------------------------------------------------------ loss prediction


def test_ranking_loss_is_zero_for_well_ordered_pairs_with_enough_margin():
    target = torch.tensor([4.0, 3.0, 1.0, 0.0])  # pairs (0, 3) and (1, 2)
    assert ranking_loss(torch.tensor([3.0, 2.0, 0.0, -1.0]), target).item() == 0.0
    # a gap of exactly the margin (1.0) is enough
    assert ranking_loss(torch.tensor([2.0, 1.0, 0.0, 1.0]), target).item() == 0.0


def test_ranking_loss_is_positive_when_the_order_is_swapped_or_the_gap_is_small():
    target = torch.tensor([4.0, 3.0, 1.0, 0.0])
    # swapped: pair (0, 3) 1 - (-1 - 3) = 5, pair (1, 2) 1 - (0 - 2) = 3; mean 4
    assert ranking_loss(torch.tensor([-1.0, 0.0, 2.0, 3.0]), target).item() == pytest.approx(4.0)
    # right order but a gap of 0.5 < margin on both pairs
    assert ranking_loss(torch.tensor([0.5, 0.5, 0.0, 0.0]), target).item() == pytest.approx(0.5)
    # the margin is a parameter
    assert ranking_loss(torch.tensor([3.0, 2.0, 0.0, -1.0]), target, margin=3.0).item() == pytest.approx(0.5)


def test_ranking_loss_detaches_the_true_loss():
    predicted = torch.tensor([0.1, 0.2, 0.3, 0.4], requires_grad=True)
    source = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    target = source * 2.0  # a non-leaf true loss with a graph behind it
    loss = ranking_loss(predicted, target)
    assert loss.item() > 0
    loss.backward()
    assert source.grad is None  # no gradient (not even zeros) flowed into the true loss
    assert predicted.grad is not None and predicted.grad.abs().sum() > 0


def test_ranking_loss_of_fewer_than_two_samples_is_zero():
    predicted = torch.tensor([0.3], requires_grad=True)
    loss = ranking_loss(predicted, torch.tensor([1.0]))
    assert loss.item() == 0.0
    loss.backward()  # still part of the graph


def test_loss_module_maps_feature_maps_to_one_value_per_sample():
    model = build_model(_config(strategy="learning_loss"), n_classes=2, n_groups=2)
    assert model.loss_module is not None
    assert build_model(_config(strategy="bald"), n_classes=2, n_groups=2).loss_module is None
    predicted = training.predicted_losses(model, _images(5))
    assert predicted.shape == (5,) and np.all(np.isfinite(predicted))


def _loss_stop_grads(model, x, y, g, weight, detach):
    cfg = TrainingConfig(loss_prediction_weight=weight, loss_prediction_stop=0.5)
    model.zero_grad(set_to_none=True)
    torch.manual_seed(3)  # the same dropout masks in the classifier every time
    training._batch_loss(model, x, y, g, cfg, detach_maps=detach).backward()
    trunk = _trunk_grads(model)
    module = {n: p.grad.clone() for n, p in model.loss_module.named_parameters()}
    return trunk, module


def test_loss_prediction_reaches_the_trunk_only_before_the_stop():
    torch.manual_seed(0)
    config = _config(strategy="learning_loss", loss_prediction_stop=0.5)
    model = build_model(config, n_classes=2, n_groups=2).train()
    x, y, g = _images(8), torch.tensor([0, 1] * 4), torch.zeros(8, dtype=torch.long)
    with torch.no_grad():
        features, maps = model.features(x)
        per_sample = F.cross_entropy(model.classifier(features), y, reduction="none")
        assert ranking_loss(model.loss_module(maps), per_sample).item() > 0  # the term is not trivially 0

    # before the stop: the ranking term changes the trunk's gradient
    trunk_w0, _ = _loss_stop_grads(model, x, y, g, 0.0, detach=False)
    trunk_w1, _ = _loss_stop_grads(model, x, y, g, 1.0, detach=False)
    assert any(not torch.allclose(trunk_w0[n], trunk_w1[n]) for n in trunk_w0)

    # after it: the trunk's gradient is the classification loss's alone, the module still learns
    trunk_w0, module_w0 = _loss_stop_grads(model, x, y, g, 0.0, detach=True)
    trunk_w1, module_w1 = _loss_stop_grads(model, x, y, g, 1.0, detach=True)
    for n in trunk_w0:
        assert torch.equal(trunk_w0[n], trunk_w1[n]), n
    assert all(v.abs().sum() == 0 for v in module_w0.values())
    # every weight of the module learns (its output bias cannot: the ranking loss sees only differences)
    assert all(v.abs().sum() > 0 for n, v in module_w1.items() if n != "out.bias")


def test_fit_detaches_the_maps_from_the_stop_epoch_on(monkeypatch):
    torch.manual_seed(0)
    config = _config(strategy="learning_loss", epochs=4, batch_size=8, loss_prediction_stop=0.5)
    model = build_model(config, n_classes=2, n_groups=2)
    seen = []
    real = training._batch_loss

    def recording(*args, detach_maps, **kwargs):
        seen.append(detach_maps)
        return real(*args, detach_maps=detach_maps, **kwargs)

    monkeypatch.setattr(training, "_batch_loss", recording)
    x, y = _images(8), torch.tensor([0, 1] * 4)
    training.fit_to_end(model, x, y, torch.zeros(8, dtype=torch.long), config.training, seed=0)
    assert seen == [False, False, True, True]  # one batch per epoch; stop after 0.5 x 4 epochs


# -------------------------------------------------------------------------------- fit


def _fit_setup(epochs=2, **values):
    torch.manual_seed(0)
    config = _config(epochs=epochs, batch_size=8, **values)
    model = build_model(config, n_classes=2, n_groups=2)
    x, y, g = _images(16, size=8), torch.tensor([0, 1] * 8), torch.tensor([0, 0, 1, 1] * 4)
    return model, config.training, x, y, g


def _same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_fit_is_deterministic_given_the_seed():
    model, cfg, x, y, g = _fit_setup(grad_lambda=0.5)
    initial = copy.deepcopy(model)
    first, second, other = copy.deepcopy(model), copy.deepcopy(model), copy.deepcopy(model)
    stats = training.fit_to_end(first, x, y, g, cfg, seed=7)
    torch.manual_seed(123)  # whatever the global RNG did in between
    training.fit_to_end(second, x, y, g, cfg, seed=7)
    training.fit_to_end(other, x, y, g, cfg, seed=8)
    assert isinstance(stats, training.FitStats) and math.isfinite(stats.final_loss)
    assert _same_weights(first, second)
    assert not _same_weights(first, initial)  # it trained
    assert not _same_weights(first, other)  # and the seed matters


def test_the_seed_fixes_the_batch_order():
    # without dropout (and with the same initial weights) only the batch order can differ between seeds
    model, cfg, x, y, g = _fit_setup()
    model.classifier.dropout = 0.0
    runs = [copy.deepcopy(model) for _ in range(3)]
    for run, seed in zip(runs, [4, 4, 5]):
        training.fit_to_end(run, x, y, g, cfg, seed=seed)
    assert _same_weights(runs[0], runs[1])
    assert not _same_weights(runs[0], runs[2])


def test_fit_yields_once_per_epoch_and_returns_stats():
    model, cfg, x, y, g = _fit_setup(epochs=3)
    progress = training.fit(model, x, y, g, cfg, seed=0)
    yielded = []
    with pytest.raises(StopIteration) as done:
        while True:
            yielded.append(next(progress))
    assert yielded == [(1, 3), (2, 3), (3, 3)]
    stats = done.value.value
    assert isinstance(stats, training.FitStats)
    assert stats.images_per_second > 0 and math.isfinite(stats.final_loss)


def test_a_raising_checkpoint_stops_training():
    model, cfg, x, y, g = _fit_setup(epochs=3)
    reference = copy.deepcopy(model)
    calls = []

    def checkpoint():
        calls.append(None)
        if len(calls) == 3:  # the first batch of the second epoch (two batches per epoch)
            raise training.Stopped

    progress = training.fit(model, x, y, g, cfg, seed=1, checkpoint=checkpoint)
    assert next(progress) == (1, 3)
    with pytest.raises(training.Stopped):
        next(progress)
    assert len(calls) == 3
    # exactly one epoch was trained: the same as a one-epoch run with the same seed
    one_epoch = cfg.model_copy(update={"epochs": 1})
    training.fit_to_end(reference, x, y, g, one_epoch, seed=1)
    assert _same_weights(model, reference)


def test_fit_skips_a_trailing_single_image_batch():
    model, cfg, x, y, g = _fit_setup(epochs=1)
    calls = []
    training.fit_to_end(model, x[:9], y[:9], g[:9], cfg, seed=0, checkpoint=lambda: calls.append(None))
    assert len(calls) == 1  # batches of 8 and 1: batch norm cannot train on the single image


# ------------------------------------------------------------------------------ devices


def test_pick_device_auto_falls_back_to_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    if getattr(torch.backends, "mps", None) is not None:
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert training.pick_device("auto") == torch.device("cpu")
    assert training.pick_device("cpu") == torch.device("cpu")


def test_pick_device_auto_on_this_machine():
    has_mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if torch.cuda.is_available() or has_mps:
        pytest.skip("this machine has an accelerator")
    assert training.pick_device("auto").type == "cpu"
    assert training.pick_device().type == "cpu"


def test_pick_device_cuda_without_cuda_names_the_setting(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(training.DeviceUnavailable, match=r"training\.device is 'cuda'.*this machine has: .*cpu"):
        training.pick_device("cuda")


def test_pick_device_cuda_on_this_machine():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available")
    with pytest.raises(training.DeviceUnavailable, match=r"training\.device"):
        training.pick_device("cuda")


def test_to_tensor_permutes_and_scales():
    images = np.zeros((2, 4, 5, 3), dtype=np.uint8)
    images[0, 1, 2] = [0, 255, 127]
    x = training.to_tensor(images, torch.device("cpu")).floats()
    assert x.shape == (2, 3, 4, 5) and x.dtype == torch.float32
    assert x[0, 0, 1, 2].item() == pytest.approx(-2.0)
    assert x[0, 1, 1, 2].item() == pytest.approx(2.0)
    assert x[0, 2, 1, 2].item() == pytest.approx((127 / 255 - 0.5) / 0.25)


def _uint8_images(n, size=16, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def _float_copy(images):
    """The float copy of the whole set that to_tensor made before Pixels (the reference for bit-identity)."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    return ((x / 255.0) - 0.5) / 0.25


def test_pixels_keep_uint8_and_share_the_datasets_memory_on_the_cpu():
    images = _uint8_images(6)
    pixels = training.to_tensor(images, torch.device("cpu"))
    assert pixels.store.dtype == torch.uint8 and pixels.store.data_ptr() == images.ctypes.data
    assert len(pixels) == 6 and pixels.shape == (6, 3, 16, 16) and pixels.device.type == "cpu"
    chosen = pixels[torch.tensor([4, 1, 3])]
    assert chosen.store is pixels.store and len(chosen) == 3  # rows, not pixels, were copied


@pytest.mark.parametrize("select", [
    lambda x: x,
    lambda x: x[2:7],
    lambda x: x[torch.tensor([5, 0, 3, 3])],
    lambda x: x[np.array([6, 2, 1])][torch.tensor([2, 0])],
    lambda x: x[[7, 1, 4, 0]][1:3],
    lambda x: x[3:9][torch.tensor([4, 0])],
], ids=["all", "slice", "rows", "rows of rows", "slice of rows", "rows of a slice"])
def test_pixels_give_the_old_float_copy_bit_for_bit_with_its_memory_layout(select):
    images = _uint8_images(10)
    expected = select(_float_copy(images))
    got = select(training.to_tensor(images, torch.device("cpu"))).floats()
    assert torch.equal(got, expected)
    # The layout decides which convolution kernel runs, and so the last bits of every result.
    assert got.stride() == expected.stride() and got.is_contiguous(memory_format=torch.channels_last)


def test_pixels_refuse_what_a_float_tensor_would_read_otherwise():
    pixels = training.to_tensor(_uint8_images(3), torch.device("cpu"))
    with pytest.raises(TypeError, match="slice or a 1-D array"):
        pixels[1]
    with pytest.raises(ValueError, match="uint8"):
        training.Pixels(torch.zeros(2, 4, 4, 3))


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_training_and_scoring_on_pixels_match_the_old_float_copy_exactly(architecture):
    """Every result of the engine stays bit-identical to the float copy it replaced (cf. tests/test_loop.py)."""
    images, labels = _uint8_images(40, size=8), torch.from_numpy(np.arange(40) % 2)
    config = _config("learning_loss", architecture, epochs=2, batch_size=16)
    results = []
    for x in (_float_copy(images), training.to_tensor(images, torch.device("cpu"))):
        torch.manual_seed(3)
        model = build_model(config, 2, 2)
        chosen = torch.arange(0, 40, 2)
        stats = training.fit_to_end(model, x[chosen], labels[chosen], labels[chosen], config.training, seed=5)
        features = training.predict_features(model, x)
        results.append((stats.final_loss, model.state_dict(), features,
                        training.mc_probabilities(model, features, 4, seed=1),
                        training.probabilities(model, x[torch.tensor([3, 9, 1])], mc_samples=3, seed=2),
                        training.predicted_losses(model, x)))
    (loss_a, state_a, *arrays_a), (loss_b, state_b, *arrays_b) = results
    assert loss_a == loss_b and not math.isnan(loss_a)
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    for a, b in zip(arrays_a, arrays_b):
        assert (torch.equal(a, b) if isinstance(a, torch.Tensor) else np.array_equal(a, b))


def test_to_device_leaves_a_cpu_tensor_where_it_is():
    t = torch.arange(5)
    assert training.to_device(t, torch.device("cpu")) is t


def test_small_cnn_feature_maps_follow_its_widths():
    trunk = SmallCNN(widths=(4, 8, 12)).eval()
    with torch.no_grad():
        features, maps = trunk(_images(2, size=8))
    assert features.shape == (2, 12)
    assert [tuple(m.shape[1:]) for m in maps] == [(4, 4, 4), (8, 2, 2), (12, 2, 2)]
